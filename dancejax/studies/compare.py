"""Method comparisons as the paper's tables, every number the mean ± std over seeds.

``compare_recognition`` (Tables II–III) and ``compare_prediction`` (Tables IV–VI) train each
learned method for every seed — the seeds of one method as one vmapped program
(``dancejax.train.loop.fit``) — evaluate it, and print and save the tables (CSV, JSON, plots).
Every printed number states its units, protocol and data.  The experiment scripts and the
``dancejax`` command call these.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from dancejax.errors import DataError
from dancejax.io.tables import write_csv
from dancejax.maths.metrics import horizons_ms, pck_table
from dancejax.skeleton import LSP14, LSP14_GROUPS
from dancejax.tasks import prediction as P
from dancejax.tasks import recognition as R
from dancejax.train.loop import fit, selected_variables

GROUPS = list(LSP14_GROUPS) + ["mean"]


def check_seeds(seeds) -> list[int]:
    seeds = list(seeds)
    if len(seeds) < 1:
        raise DataError("seeds: give at least one seed (got none)")
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in seeds):
        raise DataError(f"seeds: expected integers, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise DataError(f"seeds: repeated seeds in {seeds}")
    return [int(s) for s in seeds]


def ms(values) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    a = np.asarray([v for v in values], float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def fmt(pair, width=13, digits=1) -> str:
    m, s = pair
    return f"{f'{m:.{digits}f}±{s:.{digits}f}':>{width}}"


def train_seeds(task, cfgs, data, workdir=None, log=print):
    """Train the configurations (the seeds of one method) as one program; returns per seed the
    evaluated variables (final or best by ``cfg.select``), the prepared config and the history."""
    res = fit(task, cfgs, data, workdir=workdir, log=log)
    out = []
    for j, c in enumerate(cfgs):
        c = task.prepare(c, data)
        out.append((c, selected_variables(res, c, j), res.histories[j]))
    return out, res.seconds


# ---------------------------------------------------------------- recognition


def compare_recognition(
    methods,
    preset: str = "quick",
    seeds=(0,),
    out: Path | None = None,
    dataset=None,
    overrides: dict | None = None,
    log=print,
    workdir=None,
    sim_only: bool = False,
) -> dict:
    """Tables II–III: the raw detector, tuned Savitzky–Golay and One-Euro filters, and every
    learned method in ``methods``, on every evaluation set, mean ± std over ``seeds``."""
    from dancejax.data import load_dataset

    seeds = check_seeds(seeds)
    t0 = time.perf_counter()
    ds = dataset or load_dataset()
    overrides = dict(overrides or {})
    probe = R.make_config(
        methods[0] if methods else "mkff_stgcn", preset, num_styles=len(ds.styles), sim_only=sim_only, **overrides
    )
    data = R.load_data(ds, probe)
    select = probe.select_on
    log(
        f"recognition data: {len(data.train3d.positions)} simulated training windows of {probe.window} frames "
        f"(25 fps, LSP-14)"
        + (f", {len(data.real_train['x'])} real AIST++ training windows" if data.real_train else "")
        + f"; styles {data.styles}; eval windows: "
        + ", ".join(f"{k} {len(v['x'])}" for k, v in data.sets.items())
    )
    preds: dict[str, dict] = {"raw": {n: [R.raw_prediction(s)] for n, s in data.sets.items()}}
    logits: dict[str, dict] = {}
    info: dict[str, dict] = {}
    for kind in ("savgol", "one_euro"):
        params, sc = R.tune_filter(kind, data.sets[select])
        info[kind] = {"params": params, f"{select}_pck@0.05": sc}
        log(f"  {kind}: tuned on {select} -> {params} ({select} PCK@0.05 {sc:.1f} %)")
        preds[kind] = {n: [R.filter_predictions(kind, s, params)] for n, s in data.sets.items()}
    for method in methods:
        cfgs = [
            R.make_config(
                method, preset, num_styles=len(ds.styles), sim_only=sim_only, seed=s, data_seed=seeds[0], **overrides
            )
            for s in seeds
        ]
        runs, secs = train_seeds(R, cfgs, data, None if workdir is None else Path(workdir) / method, log)
        info[method] = {
            "epochs": cfgs[0].epochs,
            "seconds_all_seeds": round(secs, 1),
            "histories": [h for _, _, h in runs],
        }
        log(f"  {method}: {len(seeds)} seed(s) trained in {secs:.0f}s (one program)")
        for c, v, _ in runs:
            for n, s in data.sets.items():
                p, lg = R.predict_set(c, v, s)
                preds.setdefault(method, {}).setdefault(n, []).append(p)
                logits.setdefault(method, {}).setdefault(n, []).append(lg)
    results = {
        "preset": preset,
        "seeds": seeds,
        "styles": data.styles,
        "select_on": select,
        "normalizer": "bbox (GT max side)",
        "units": "percent of visible GT joints",
        "methods": {},
    }
    rows = []
    for method in preds:
        results["methods"][method] = {"info": info.get(method, {})}
        for name, s in data.sets.items():
            evs = [
                R.evaluate_set(p, s, lg, len(data.styles))
                for p, lg in zip(
                    preds[method][name], logits.get(method, {}).get(name, [None] * len(preds[method][name]))
                )
            ]
            entry = {f"pck{a}_{g}": ms([e["pck"][a][g] for e in evs]) for a in (0.2, 0.1, 0.05) for g in GROUPS}
            if "style_acc" in evs[0]:
                entry["style_acc"] = ms([e["style_acc"] for e in evs])
                entry["balanced_acc"] = ms([e["balanced_acc"] for e in evs])
                entry["per_class_acc"] = [
                    ms([e["per_class_acc"][k] for e in evs]) if evs[0]["per_class_acc"][k] is not None else None
                    for k in range(len(data.styles))
                ]
                entry["confusion_seed0"] = evs[0]["confusion"]
            curve = pck_table(
                preds[method][name][0], s["gt"], s["visible"], tuple(np.round(np.linspace(0.01, 0.3, 30), 3))
            )
            entry["curve_seed0"] = {str(a): v["mean"] for a, v in curve.items()}
            results["methods"][method][name] = entry
            rows.append(
                {
                    "method": method,
                    "set": name,
                    "seeds": len(evs),
                    **{k: round(v[0], 2) for k, v in entry.items() if isinstance(v, tuple)},
                    **{f"{k}_std": round(v[1], 2) for k, v in entry.items() if isinstance(v, tuple)},
                }
            )
    n = len(seeds)
    desc = {
        "sim_val": "validation takes, virtual cameras + simulated detector noise",
        "sim_test": "held-out takes (test split), virtual cameras + simulated detector noise",
        "real_val": "AIST++ real detector keypoints, last 20 % of the train-split sequences' frames, 9 views",
        "aist_real": "AIST++ real detector keypoints, held-out sequences, 9 views, vs projected 3D GT",
    }
    for name in data.sets:
        if name == "sim_val":
            continue
        res = {m: results["methods"][m][name] for m in preds}
        log(
            f"\nTable II — PCK@0.2 (%) per joint group, mean±std over {n} seed(s) (filters and raw: deterministic); "
            f"data: {desc[name]}; normaliser: GT bbox max side; visible GT joints; preset {preset}"
        )
        log(f"{'method':<24}" + "".join(f"{g:>13}" for g in GROUPS))
        for m, e in res.items():
            log(f"{m:<24}" + "".join(fmt(e[f"pck0.2_{g}"]) for g in GROUPS))
        log(f"\nTable II — PCK@0.05 (%) per joint group; data: {name}")
        log(f"{'method':<24}" + "".join(f"{g:>13}" for g in GROUPS))
        for m, e in res.items():
            log(f"{m:<24}" + "".join(fmt(e[f"pck0.05_{g}"]) for g in GROUPS))
        log(
            f"\nTable III — mean PCK (%) and style accuracy (% of windows; balanced = mean per-class recall over the "
            f"styles present); data: {name}"
        )
        log(f"{'method':<24}{'PCK@0.2':>13}{'PCK@0.1':>13}{'PCK@0.05':>13}{'style acc':>13}{'balanced':>13}")
        for m, e in res.items():
            acc = fmt(e["style_acc"]) + fmt(e["balanced_acc"]) if "style_acc" in e else f"{'—':>13}{'—':>13}"
            log(f"{m:<24}" + fmt(e["pck0.2_mean"]) + fmt(e["pck0.1_mean"]) + fmt(e["pck0.05_mean"]) + acc)
    log("\nHRNet (paper Tables II–III) is an image model and cannot run on keypoints: no row.")
    one_take = [st for st in data.styles if len([t for t in ds.list_takes("train", st)]) == 1]
    if one_take:
        log(f"Styles with a single training take: {', '.join(one_take)} (style accuracy on them measures little).")
    for m in methods:
        if "style_acc" in results["methods"][m].get("aist_real", {}):
            pc = results["methods"][m]["aist_real"]["per_class_acc"]
            log(
                f"Per-class style recall (%), {m}, aist_real: "
                + ", ".join(f"{st} {fmt(v, 0)}" for st, v in zip(data.styles, pc) if v is not None)
            )
    results["seconds"] = time.perf_counter() - t0
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        write_csv(out / "recognition.csv", rows)
        (out / "recognition.json").write_text(json.dumps(results, indent=1, default=_jsonable))
        plot_pck_curves(results, list(data.sets), out / "recognition_pck_curve.png")
        log(
            f"\nsaved {out / 'recognition.csv'}, {out / 'recognition.json'}, {out / 'recognition_pck_curve.png'} "
            f"({results['seconds']:.0f}s in all)"
        )
    return results


def _jsonable(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def plot_pck_curves(results, sets, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sets), figsize=(4 * len(sets), 4.2), sharey=True, squeeze=False)
    for ax, name in zip(axes[0], sets):
        for method, r in results["methods"].items():
            c = r[name]["curve_seed0"]
            ax.plot([float(a) for a in c], list(c.values()), label=method)
        ax.set_title(name)
        ax.set_xlabel("PCK threshold (× GT bbox max side)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("mean PCK (%), seed 0")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---------------------------------------------------------------- prediction


def compare_prediction(
    methods,
    preset: str = "quick",
    seeds=(0,),
    out: Path | None = None,
    obs: int = 10,
    pred: int = 10,
    per_style: int | None = 64,
    eval_seed: int = 0,
    styles=None,
    dataset=None,
    overrides: dict | None = None,
    log=print,
    workdir=None,
) -> dict:
    """Tables IV–VI: every method in ``methods`` with ``preset`` (a name, or a dict method ->
    preset), per style and overall, MAE and MPJPE in mm (root-relative) and global MPJPE, mean ±
    std over ``seeds``."""
    from dancejax.data import load_dataset

    seeds = check_seeds(seeds)
    t0 = time.perf_counter()
    ds = dataset or load_dataset()
    presets = preset if isinstance(preset, dict) else {m: preset for m in methods}
    overrides = dict(overrides or {})
    results = {"presets": presets, "seeds": seeds, "units": "mm", "per_style": {}, "overall": {}, "info": {}}
    per_seed: dict[str, list[dict]] = {}
    example = None
    for method in methods:
        cfgs = [
            P.make_config(method, presets[method], obs, pred, seed=s, data_seed=seeds[0], **overrides) for s in seeds
        ]
        data = P.load_data(ds, cfgs[0], per_style=per_style, seed=eval_seed, styles=styles)
        results["protocol"] = data.protocol
        results["horizons_ms"] = horizons_ms(pred)
        if not P.trainable(cfgs[0]):
            cfgs = cfgs[:1]
        runs, secs = train_seeds(P, cfgs, data, None if workdir is None else Path(workdir) / method, log)
        evs = [P.evaluate(c, v, data) for c, v, _ in runs]
        per_seed[method] = evs
        results["info"][method] = {
            "preset": presets[method],
            "seconds_all_seeds": round(secs, 1),
            "seeds": len(runs),
            "train_windows": len(data.train),
            "steps": (cfgs[0].iterations or cfgs[0].epochs * P.steps_per_epoch(data, cfgs[0]))
            if P.trainable(cfgs[0])
            else 0,
        }
        log(f"  {method} ({presets[method]}): {len(runs)} seed(s) in {secs:.0f}s; protocol: {data.protocol}")
        if method == "stga_net" or example is None:
            example = (method, data, evs[0])
    hz = results["horizons_ms"]
    groups = sorted({st for evs in per_seed.values() for st in evs[0]["per_style"]}) + ["overall"]
    rows = []
    for g in groups:
        for m, evs in per_seed.items():
            src = [e["overall"] if g == "overall" else e["per_style"][g] for e in evs]
            entry = {metric: {h: ms([s[metric][h] for s in src]) for h in hz} for metric in src[0]}
            (results["overall"] if g == "overall" else results["per_style"].setdefault(g, {}))[m] = entry
            for metric, vals in entry.items():
                rows.append(
                    {
                        "style": g,
                        "method": m,
                        "metric": metric,
                        "seeds": len(src),
                        **{f"{h}ms": round(v[0], 2) for h, v in vals.items()},
                        **{f"{h}ms_std": round(v[1], 2) for h, v in vals.items()},
                    }
                )

    def table(title, g, metric):
        log(f"\n{title}")
        log(f"{'method':<20}" + "".join(f"{str(h) + ' ms':>14}" for h in hz))
        src = results["overall"] if g == "overall" else results["per_style"][g]
        for m in per_seed:
            log(f"{m:<20}" + "".join(fmt(src[m][metric][h], 14) for h in hz))

    n = len(seeds)
    for g in groups[:-1]:
        table(
            f"Tables IV–VI — {g}: MAE (mm, root-relative), mean±std over {n} seed(s); {results['protocol']}",
            g,
            "mae_rel",
        )
        table(f"{g}: MPJPE (mm, root-relative)", g, "mpjpe_rel")
    table(
        f"Overall (all styles): MAE (mm, root-relative), mean±std over {n} seed(s); {results['protocol']}",
        "overall",
        "mae_rel",
    )
    table("Overall: MPJPE (mm, root-relative)", "overall", "mpjpe_rel")
    table(
        "Overall: MPJPE (mm, global, with the trajectory; root-relative models hold the root at its last "
        "observed position)",
        "overall",
        "mpjpe_global",
    )
    if "stga_net" in per_seed:
        st = results["overall"]["stga_net"]["mpjpe_rel"]
        for m in per_seed:
            if m == "stga_net":
                continue
            o = results["overall"][m]["mpjpe_rel"]
            log(
                f"STGA-Net vs {m}, overall MPJPE (root-relative, mm): "
                + ", ".join(
                    f"{h} ms {'wins' if st[h][0] < o[h][0] else 'loses'} ({st[h][0]:.1f} vs {o[h][0]:.1f})" for h in hz
                )
            )
    results["seconds"] = time.perf_counter() - t0
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        write_csv(out / "prediction.csv", rows)
        (out / "prediction.json").write_text(json.dumps(results, indent=1, default=_jsonable))
        plot_horizons(results, list(per_seed), out / "prediction_horizons.png")
        m, data, ev = example
        allw = np.concatenate([data.eval_sets[s] for s in data.eval_sets])
        allp = np.concatenate([ev["predictions"][s] for s in data.eval_sets])
        style_of = np.concatenate([[s] * len(data.eval_sets[s]) for s in data.eval_sets])
        k = int(np.argmax(np.linalg.norm(allw[:, -1] - allw[:, obs - 1], axis=-1).mean(-1)))
        animate(allw[k], allp[k], obs, out / "prediction_example.gif", f"{m} vs real ({style_of[k]})")
        log(
            f"\nsaved {out / 'prediction.csv'}, {out / 'prediction.json'}, {out / 'prediction_horizons.png'}, "
            f"{out / 'prediction_example.gif'} ({results['seconds']:.0f}s in all)"
        )
    return results


def plot_horizons(results, methods, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(results["per_style"]) + ["overall"]
    fig, axes = plt.subplots(1, len(groups), figsize=(3.2 * len(groups), 3.6), sharey=True, squeeze=False)
    for ax, g in zip(axes[0], groups):
        src = results["overall"] if g == "overall" else results["per_style"][g]
        for m in methods:
            mean = [src[m]["mpjpe_rel"][h][0] for h in results["horizons_ms"]]
            sd = [src[m]["mpjpe_rel"][h][1] for h in results["horizons_ms"]]
            ax.errorbar(results["horizons_ms"], mean, yerr=sd, fmt="o-", label=m, ms=3, capsize=2)
        ax.set_title(g)
        ax.set_xlabel("horizon (ms)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("MPJPE (mm, root-relative)")
    axes[0][-1].legend(fontsize=7)
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
                ax.plot(
                    [pose[a, 0], pose[b, 0]], [pose[a, 2], pose[b, 2]], [pose[a, 1], pose[b, 1]], color=color, lw=1.5
                )
        ax.set_title(f"{title}\nframe {t + 1} ({'observed' if t < obs else 'predicted: red'})", fontsize=8)

    anim = FuncAnimation(fig, draw, frames=len(real), interval=80)
    anim.save(path, writer=PillowWriter(fps=12))
    plt.close(fig)


__all__ = ["check_seeds", "compare_prediction", "compare_recognition", "train_seeds"]


def compare_task(task, methods=None, preset: str = "quick", seeds=(0,), out: Path | None = None, sim_only=False):
    """The comparison of ``task`` (its every method unless ``methods``); ``sim_only`` is for
    recognition (simulated detections only)."""
    methods = methods or list(task.METHODS)
    runs = {
        R.NAME: lambda: compare_recognition(methods, preset, seeds, out, sim_only=sim_only),
        P.NAME: lambda: compare_prediction(methods, preset, seeds, out),
    }
    return runs[task.NAME]()
