"""Prediction: train every method and print the paper's Tables IV–VI per dance style.

    python experiments/prediction.py --quick                 # CPU preset, a few minutes on 2 cores
    python experiments/prediction.py --preset default --pred 25 --per-style 256

Methods: zero-velocity, constant-velocity, LTD ("T-GCN" in the paper), DMGNN
(simplified, see dancejax/models/predictors.py), siMLPe and STGA-Net, all trained on
the training takes of the shipped dataset.  Errors are MAE (mean absolute coordinate
error, the paper's metric) and MPJPE (mean per-joint L2), in millimetres, root-relative
(each frame's mid-hip removed); global MPJPE (with the trajectory) is in the overall
table.  Results: <out>/prediction.{csv,json}, <out>/prediction_horizons.png,
<out>/prediction_example.gif.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from dancejax.data import load_dataset
from dancejax.report import write_csv
from dancejax.prediction import (BASELINES, LEARNED, PredictionConfig, Predictor, baseline_predict, errors_by_horizon,
                                 horizons_ms, load_data, train_method)
from dancejax.skeleton import LSP14


def run(preset: str, out: Path, methods=None, obs: int = 10, pred: int = 10, per_style: int = 64, seed: int = 0,
        epochs=None):
    t0 = time.perf_counter()
    methods = list(methods or (BASELINES + LEARNED))
    ds = load_dataset()
    data = load_data(ds, obs, pred, per_style=per_style, seed=seed)
    hz = horizons_ms(pred)
    print(f"prediction data: {len(data.train)} training windows ({obs}+{pred} frames, 25 fps, LSP-14, metres); "
          f"protocol: {data.protocol}")
    allw = np.concatenate([data.eval_sets[s] for s in data.eval_sets])
    style_of = np.concatenate([[s] * len(data.eval_sets[s]) for s in data.eval_sets])
    preds, info = {}, {}
    for m in methods:
        if m in BASELINES:
            preds[m] = np.asarray(baseline_predict(m, allw[:, :obs], pred))
            continue
        cfg = (PredictionConfig.quick if preset == "quick" else PredictionConfig.default)(m, obs, pred, seed=seed)
        if epochs:
            cfg = PredictionConfig(**{**cfg.__dict__, "epochs": epochs})
        variables, history, secs = train_method(cfg, data)
        info[m] = {"epochs": cfg.epochs, "seconds": round(secs, 1), "history": history}
        print(f"  {m}: trained {cfg.epochs} epochs in {secs:.0f}s, final train loss {history[-1]['loss'] * 1000:.1f} mm")
        preds[m] = np.asarray(Predictor(cfg.model, variables)(allw[:, :obs]))

    results = {"preset": preset, "protocol": data.protocol, "units": "mm", "horizons_ms": hz, "per_style": {},
               "overall": {}, "info": info}
    groups = {s: style_of == s for s in data.eval_sets}
    groups["overall"] = np.ones(len(allw), bool)
    rows = []
    for g, mask in groups.items():
        for m in methods:
            e = errors_by_horizon(preds[m][mask], allw[mask, obs:], hz)
            (results["overall"] if g == "overall" else results["per_style"].setdefault(g, {}))[m] = e
            for metric, vals in e.items():
                rows.append({"style": g, "method": m, "metric": metric, **{f"{h}ms": round(v, 2) for h, v in vals.items()}})

    def table(title, g, metric):
        print(f"\n{title}")
        print(f"{'method':<20}" + "".join(f"{str(h) + ' ms':>10}" for h in hz))
        src = results["overall"] if g == "overall" else results["per_style"][g]
        for m in methods:
            print(f"{m:<20}" + "".join(f"{src[m][metric][h]:>10.1f}" for h in hz))

    for g in data.eval_sets:
        n = int(groups[g].sum())
        table(f"Tables IV–VI shape — {g}: MAE (mm, root-relative), {n} windows; {data.protocol}", g, "mae_rel")
        table(f"{g}: MPJPE (mm, root-relative)", g, "mpjpe_rel")
    table(f"Overall ({len(allw)} windows, all styles): MAE (mm, root-relative); {data.protocol}", "overall", "mae_rel")
    table("Overall: MPJPE (mm, root-relative)", "overall", "mpjpe_rel")
    table("Overall: MPJPE (mm, global, with the trajectory)", "overall", "mpjpe_global")
    if "stga_net" in preds:
        zv = results["overall"]["zero_velocity"]["mpjpe_rel"]
        st = results["overall"]["stga_net"]["mpjpe_rel"]
        verdict = ", ".join(f"{h} ms: {'wins' if st[h] < zv[h] else 'loses'} ({st[h]:.1f} vs {zv[h]:.1f})" for h in hz)
        print(f"\nSTGA-Net vs zero-velocity, overall MPJPE (root-relative, mm): {verdict}")

    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "prediction.csv", rows, ["style", "method", "metric"] + [f"{h}ms" for h in hz])
    (out / "prediction.json").write_text(json.dumps(results, indent=1, default=float))
    plot_horizons(results, methods, out / "prediction_horizons.png")
    best = "stga_net" if "stga_net" in preds else methods[-1]
    k = int(np.argmax(np.linalg.norm(allw[:, -1] - allw[:, obs - 1], axis=-1).mean(-1)))  # the most moving window
    animate(allw[k], preds[best][k], obs, out / "prediction_example.gif", f"{best} vs real ({style_of[k]})")
    print(f"\nsaved {out / 'prediction.csv'}, {out / 'prediction.json'}, {out / 'prediction_horizons.png'}, "
          f"{out / 'prediction_example.gif'} ({time.perf_counter() - t0:.0f}s in all)")
    return results


def plot_horizons(results, methods, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(results["per_style"]) + ["overall"]
    fig, axes = plt.subplots(1, len(groups), figsize=(3.2 * len(groups), 3.6), sharey=True)
    for ax, g in zip(axes, groups):
        src = results["overall"] if g == "overall" else results["per_style"][g]
        for m in methods:
            ax.plot(results["horizons_ms"], [src[m]["mpjpe_rel"][h] for h in results["horizons_ms"]], "o-", label=m, ms=3)
        ax.set_title(g)
        ax.set_xlabel("horizon (ms)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("MPJPE (mm, root-relative)")
    axes[-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def animate(real, predicted, obs, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    full_pred = np.concatenate([real[:obs], predicted], 0)
    fig = plt.figure(figsize=(4, 4))
    ax = fig.add_subplot(projection="3d")
    lo, hi = real.reshape(-1, 3).min(0), real.reshape(-1, 3).max(0)
    span = (hi - lo).max() / 2 + 0.1
    mid = (hi + lo) / 2

    def draw(t):
        ax.cla()
        ax.set_xlim(mid[0] - span, mid[0] + span)
        ax.set_ylim(mid[2] - span, mid[2] + span)
        ax.set_zlim(mid[1] - span, mid[1] + span)
        for pose, color in ((real[t], "k"), (full_pred[t], "tab:red" if t >= obs else "k")):
            for a, b in LSP14.edges:
                ax.plot([pose[a, 0], pose[b, 0]], [pose[a, 2], pose[b, 2]], [pose[a, 1], pose[b, 1]], color=color, lw=1.5)
        ax.set_title(f"{title}\nframe {t + 1} ({'observed' if t < obs else 'predicted: red'})", fontsize=8)

    anim = FuncAnimation(fig, draw, frames=len(real), interval=80)
    anim.save(path, writer=PillowWriter(fps=12))
    plt.close(fig)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="same as --preset quick")
    ap.add_argument("--preset", choices=("quick", "default"), default="quick")
    ap.add_argument("--methods", nargs="+", default=None, choices=BASELINES + LEARNED)
    ap.add_argument("--obs", type=int, default=10)
    ap.add_argument("--pred", type=int, default=10)
    ap.add_argument("--per-style", type=int, default=64, help="evaluation windows per style")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results")
    a = ap.parse_args()
    run("quick" if a.quick else a.preset, Path(a.out), a.methods, a.obs, a.pred, a.per_style, a.seed, a.epochs)
