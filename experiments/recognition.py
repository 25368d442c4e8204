"""Recognition: train every method and print the paper's Tables II–III on real dance data.

    python experiments/recognition.py --quick            # CPU preset, a few minutes on 2 cores
    python experiments/recognition.py --preset paper     # SGD 0.01×0.95/epoch, batch 16, 80 epochs, ST-GCN-10

Methods: raw detector input, Savitzky–Golay and One-Euro filters (tuned on validation),
HBRNN, plain ST-GCN, MKFF-ST-GCN and its ablations (velocity only, acceleration only,
no top-k term).  HRNet (the paper's other baseline) is an image model: it cannot run
on keypoints, so it has no row here.

Two test sets: held-out takes with simulated detector noise (``sim_test``), and the
real AIST++ detector keypoints of the held-out sequences, 9 views, against projected
3D ground truth (``aist_real``).  PCK uses the ground-truth bounding box's larger side
as normaliser, on visible ground-truth joints.  Results: <out>/recognition.{csv,json},
<out>/recognition_pck_curve.png.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from dancejax.data import load_dataset
from dancejax.recognition import (METHODS, RecognitionConfig, evaluate, filter_predictions, load_data, predict_set,
                                  raw_prediction, train_method, tune_filter)
from dancejax.metrics import pck_table
from dancejax.report import write_csv
from dancejax.skeleton import LSP14_GROUPS

SETS = {
    "sim_test": "held-out takes (test split), virtual cameras + simulated detector noise",
    "aist_real": "AIST++ real detector keypoints, held-out sequences, 9 views, vs projected 3D GT",
}
GROUPS = list(LSP14_GROUPS) + ["mean"]


def run(preset: str, out: Path, methods, epochs=None, seed=0, log_every=20):
    t0 = time.perf_counter()
    ds = load_dataset()
    data = load_data(ds, seed=seed)
    print(f"recognition data: {len(data.train3d.positions)} train windows of 32 frames (25 fps, LSP-14), "
          f"styles {data.styles}; eval windows: " + ", ".join(f"{k} {len(v['x'])}" for k, v in data.sets.items()))
    preds: dict[str, dict] = {}
    logits: dict[str, dict] = {}
    info: dict[str, dict] = {}
    for name, s in data.sets.items():
        preds.setdefault("raw", {})[name] = raw_prediction(s)
    for kind in ("savgol", "one_euro"):
        params, score = tune_filter(kind, data.sets["sim_val"])
        info[kind] = {"params": params, "val_pck@0.05": score}
        print(f"  {kind}: tuned on sim_val -> {params} (val PCK@0.05 {score:.1f} %)")
        for name, s in data.sets.items():
            preds.setdefault(kind, {})[name] = filter_predictions(kind, s, params)
    for method in methods:
        cfg = (RecognitionConfig.quick if preset == "quick" else RecognitionConfig.paper)(method, seed=seed)
        if epochs:
            cfg = RecognitionConfig(**{**cfg.__dict__, "epochs": epochs})
        variables, history, secs = train_method(cfg, data, workdir=None, log_every=log_every)
        info[method] = {"epochs": cfg.epochs, "seconds": round(secs, 1), "history": history}
        print(f"  {method}: trained {cfg.epochs} epochs in {secs:.0f}s, final loss {history[-1]['loss']:.4f}, "
              f"val PCK@0.05 {history[-1]['val']:.1f} %")
        for name, s in data.sets.items():
            p, lg = predict_set(cfg, variables, s)
            preds.setdefault(method, {})[name] = p
            logits.setdefault(method, {})[name] = lg

    results = {"preset": preset, "styles": data.styles, "sets": SETS, "normalizer": "bbox (GT max side)",
               "units": "percent of visible GT joints", "methods": {}}
    rows = []
    for method in preds:
        results["methods"][method] = {"info": info.get(method, {})}
        for name, s in data.sets.items():
            ev = evaluate(preds[method][name], s, logits.get(method, {}).get(name), len(data.styles))
            curve = pck_table(preds[method][name], s["gt"], s["visible"], tuple(np.round(np.linspace(0.01, 0.3, 30), 3)))
            ev["curve"] = {str(a): v["mean"] for a, v in curve.items()}
            results["methods"][method][name] = ev
            row = {"method": method, "set": name}
            row.update({f"pck0.2_{g}": round(ev["pck"][0.2][g], 2) for g in GROUPS})
            row.update({"pck0.1_mean": round(ev["pck"][0.1]["mean"], 2), "pck0.05_mean": round(ev["pck"][0.05]["mean"], 2)})
            row["style_acc"] = round(ev["style_acc"], 2) if "style_acc" in ev else ""
            rows.append(row)

    for name, desc in SETS.items():
        print(f"\nTable II shape — PCK@0.2 (%) per joint group; data: {desc}; normaliser: GT bbox max side; "
              f"visible GT joints only; preset {preset}")
        print(f"{'method':<24}" + "".join(f"{g:>9}" for g in GROUPS))
        for r in rows:
            if r["set"] == name:
                print(f"{r['method']:<24}" + "".join(f"{r[f'pck0.2_{g}']:>9.1f}" for g in GROUPS))
        print(f"\nTable III shape — mean PCK (%) at stricter thresholds, and style accuracy (% of windows); data: {name}")
        print(f"{'method':<24}{'PCK@0.1':>9}{'PCK@0.05':>10}{'style acc':>11}")
        for r in rows:
            if r["set"] == name:
                acc = f"{r['style_acc']:>11.1f}" if r["style_acc"] != "" else f"{'—':>11}"
                print(f"{r['method']:<24}{r['pck0.1_mean']:>9.1f}{r['pck0.05_mean']:>10.1f}{acc}")
    print("\nHRNet (paper Tables II–III) is an image model and cannot run on keypoints: no row.")
    main = "mkff_stgcn" if "mkff_stgcn" in logits else None
    if main:
        for name in SETS:
            print(f"\nStyle confusion matrix, {main}, {name} (rows = true, cols = predicted): {data.styles}")
            for st, row in zip(data.styles, results["methods"][main][name]["confusion"]):
                print(f"  {st:<14}" + "".join(f"{v:>6}" for v in row))

    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "recognition.csv", rows)
    (out / "recognition.json").write_text(json.dumps(results, indent=1, default=float))
    plot_curves(results, out / "recognition_pck_curve.png")
    print(f"\nsaved {out / 'recognition.csv'}, {out / 'recognition.json'}, {out / 'recognition_pck_curve.png'} "
          f"({time.perf_counter() - t0:.0f}s in all)")
    return results


def plot_curves(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(SETS), figsize=(12, 4.5), sharey=True)
    for ax, name in zip(axes, SETS):
        for method, r in results["methods"].items():
            c = r[name]["curve"]
            ax.plot([float(a) for a in c], list(c.values()), label=method)
        ax.set_title(name)
        ax.set_xlabel("PCK threshold (fraction of GT bbox max side)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean PCK (%)")
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="same as --preset quick")
    ap.add_argument("--preset", choices=("quick", "paper"), default="quick")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--epochs", type=int, default=None, help="override the preset's epochs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results")
    a = ap.parse_args()
    run("quick" if a.quick else a.preset, Path(a.out), a.methods, a.epochs, a.seed)
