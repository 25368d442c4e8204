"""The refinement benchmark: accuracy and jitter of every refiner on real AIST++ detections.

``benchmark`` runs one protocol for every method and prints and saves one table:

* **data**: the real detector keypoints of the held-out sequences, every view a sequence
  (the shipped dataset: 2 sequences × 9 views × 240 frames at 25 fps), against the projected
  3D ground truth; the filters are tuned, and the learned methods selected, on the real
  validation detections (the last 20 % of the training sequences' frames);
* **methods** (``dancejax.studies.sequences``): the raw detector (its keypoints as given);
  Savitzky–Golay, Gaussian and One-Euro, each tuned on real validation by PCK@0.05; HBRNN,
  ST-GCN and MKFF-ST-GCN (``dancejax.tasks.recognition``) offline and causal; SmoothNet
  (``dancejax.tasks.refinement``, its ``original`` recipe or a shortened one) offline and causal;
* **metrics** (``dancejax.maths.metrics.refinement_table``): look-ahead (frames of future
  input), PCK@0.05 / 0.1 / 0.2, acceleration error (px / frame² and % of the box) and 2D MPJPE
  (px and % of the box), per joint group and in the mean; learned rows are mean ± std over
  the seeds (sample std), the others deterministic.

Results in ``out``: ``refinement.json`` (per method: ``lookahead`` and mean/std of ``pck05``,
``pck10``, ``pck20``, ``accel``, ``accel_norm``, ``mpjpe2d``, ``mpjpe2d_norm``, and the same per
joint group), ``refinement.csv`` and ``refinement_accel_pck.png`` (acceleration error against
PCK@0.05, one point per method).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from dancejax.errors import DataError
from dancejax.io.tables import write_csv
from dancejax.maths.metrics import REFINEMENT_METRICS, REFINEMENT_UNITS, refinement_table
from dancejax.studies.compare import check_seeds, ms, train_seeds
from dancejax.studies.sequences import filter_lookahead, filter_sequence, learned_lookahead, refine_recognition
from dancejax.tasks import recognition as R
from dancejax.tasks import refinement as F

LEARNED = ("hbrnn", "stgcn", "mkff_stgcn")
FILTER_GRID = {
    "savgol": [dict(window=w, order=o) for w in (5, 7, 9, 11, 15) for o in (1, 2, 3) if w > o + 1],
    "gaussian": [dict(window=w, sigma=s) for w in (1, 3, 5, 7) for s in (0.5, 1.0, 1.5, 2.0, 3.0)],
    "one_euro": [dict(min_cutoff=m, beta=b) for m in (0.5, 1.0, 2.0, 4.0, 8.0) for b in (0.0, 0.3, 1.0, 3.0)],
}
LABELS = {
    "raw": "raw detector",
    "savgol": "Savitzky–Golay",
    "gaussian": "Gaussian",
    "one_euro": "One-Euro",
    "hbrnn": "HBRNN",
    "stgcn": "ST-GCN",
    "mkff_stgcn": "MKFF-ST-GCN",
    "smoothnet": "SmoothNet",
}
# Recognition-config fields the benchmark trains the learned refiners with, beside their preset.
# Chosen on the real validation detections by experiments/refinement_levers.py: of the levers
# tried there, keeping the detector's uncertain keypoints with a 10× acceleration term lowered
# the acceleration error most and raised PCK@0.05 most; every learned refiner gets the same.
RECIPE: dict = {"keep_uncertain": True, "accel_weight": 10.0}
SMOOTHNET_PRESET = {"test": "test", "quick": "quick"}  # every other preset: SmoothNet's original recipe


def sequences(ds) -> tuple[dict, dict]:
    """(real validation, held-out) sequences of ``ds``, every view one (see
    ``dancejax.tasks.refinement.detection_sequences``)."""
    val, test = F.detection_sequences(ds, "train", "val"), F.detection_sequences(ds, "test", "test")
    if test is None:
        raise DataError(f"{ds.path}: no real detections of held-out (test-split) sequences to benchmark on")
    if val is None:
        raise DataError(f"{ds.path}: no real validation frames (train-split sequences) to tune the filters on")
    return val, test


def table_of(preds: list[np.ndarray], seqs: dict) -> dict:
    """``refinement_table`` pooled over sequences of any lengths (every frame and joint entry
    weighs the same)."""
    tabs = [refinement_table(p[None], g[None]) for p, g in zip(preds, seqs["gt"])]
    n_pos = np.array([len(g) for g in seqs["gt"]], float)
    n_acc = np.maximum(n_pos - 2, 0)
    out = {}
    for m in REFINEMENT_METRICS:
        w = n_acc if m.startswith("accel") else n_pos
        out[m] = {g: float(np.average([t[m][g] for t in tabs], weights=w)) for g in tabs[0][m]}
    return out


def tune_filter(kind: str, val: dict, log=print) -> dict:
    """The grid's parameters with the best mean PCK@0.05 on the real validation sequences."""
    best, best_score = None, -1.0
    for params in FILTER_GRID[kind]:
        preds = [filter_sequence(kind, x, c, params) for x, c in zip(val["x"], val["conf"])]
        sc = table_of(preds, val)["pck05"]["mean"]
        if sc > best_score:
            best, best_score = params, sc
    log(f"  {kind}: tuned on real validation -> {best} (PCK@0.05 {best_score:.2f} %)")
    return best


def recognition_runs(ds, methods, preset, seeds, recipe, workdir, log):
    """Train every recognition method for every seed (one vmapped program per method); yields
    (method, [(config, variables), ...])."""
    probe = R.make_config(methods[0], preset, num_styles=len(ds.styles), **recipe)
    data = R.load_data(ds, probe)
    for method in methods:
        cfgs = [
            R.make_config(method, preset, num_styles=len(ds.styles), seed=s, data_seed=seeds[0], **recipe)
            for s in seeds
        ]
        runs, secs = train_seeds(R, cfgs, data, None if workdir is None else Path(workdir) / method, log)
        log(f"  {method}: {len(seeds)} seed(s) trained in {secs:.0f}s (one program)")
        yield method, [(c, v) for c, v, _ in runs], secs


def smoothnet_runs(ds, preset, seeds, workdir, log):
    from dancejax.train.loop import fit, selected_variables

    sp = SMOOTHNET_PRESET.get(preset, "original")
    cfgs = [F.make_config("smoothnet", sp, seed=s, data_seed=seeds[0]) for s in seeds]
    data = F.load_data(ds, cfgs[0])
    res = fit(F, cfgs, data, workdir=None if workdir is None else Path(workdir) / "smoothnet", log=log)
    log(f"  smoothnet ({sp} recipe): {len(seeds)} seed(s) trained in {res.seconds:.0f}s (one program)")
    return [(c, selected_variables(res, c, j)) for j, c in enumerate(cfgs)], res.seconds, sp


def summarise(tabs: list[dict]) -> dict:
    """Mean and std over seeds of every metric, mean and per group."""
    out = {}
    for m in REFINEMENT_METRICS:
        out[m] = ms([t[m]["mean"] for t in tabs])
        out[f"{m}_groups"] = {g: ms([t[m][g] for t in tabs]) for g in tabs[0][m]}
    return out


def benchmark(
    preset: str = "quick",
    seeds=(0, 1, 2),
    out: Path | None = None,
    dataset=None,
    methods=LEARNED,
    smoothnet: bool = True,
    recipe: dict | None = None,
    workdir=None,
    log=print,
) -> dict:
    """The refinement table (see the module docstring); returns the results dictionary that is
    saved as ``refinement.json``."""
    from dancejax.data import load_dataset

    seeds = check_seeds(seeds)
    t0 = time.perf_counter()
    ds = dataset or load_dataset()
    val, test = sequences(ds)
    recipe = dict(RECIPE if recipe is None else recipe)
    log(
        f"refinement benchmark: {len(test['x'])} held-out view sequences "
        f"({sum(len(x) for x in test['x'])} frames at 25 fps) and {len(val['x'])} real validation ones; "
        f"preset {preset}; seeds {seeds}; recipe {recipe or 'the preset'}"
    )
    rows: dict[str, dict] = {}

    def add(key, preds_per_seed, lookahead, info=None):
        tabs = [table_of(p, test) for p in preds_per_seed]
        rows[key] = {"lookahead": lookahead, "seeds": len(tabs), **summarise(tabs), "info": info or {}}

    add("raw", [list(test["x"])], 0)
    for kind in ("savgol", "gaussian", "one_euro"):
        params = tune_filter(kind, val, log)
        preds = [filter_sequence(kind, x, c, params) for x, c in zip(test["x"], test["conf"])]
        add(kind, [preds], filter_lookahead(kind, params), {"params": params})
    for method, runs, secs in recognition_runs(ds, list(methods), preset, seeds, recipe, workdir, log):
        for mode in ("offline", "causal"):
            preds = []
            for c, v in runs:
                ref = R.Refiner(c, v)
                preds.append([refine_recognition(ref, x, cf, mode) for x, cf in zip(test["x"], test["conf"])])
            key = method if mode == "offline" else f"{method}_causal"
            add(key, preds, learned_lookahead(runs[0][0].window, mode), {"train_seconds_all_seeds": round(secs, 1)})
    if smoothnet:
        runs, secs, sp = smoothnet_runs(ds, preset, seeds, workdir, log)
        for mode in ("offline", "causal"):
            preds = [F.predict_sequences(c, v, test, mode) for c, v in runs]
            key = "smoothnet" if mode == "offline" else "smoothnet_causal"
            info = {"recipe": sp, "epochs": runs[0][0].epochs, "train_seconds_all_seeds": round(secs, 1)}
            add(key, preds, learned_lookahead(runs[0][0].window, mode), info)
    results = {
        "preset": preset,
        "seeds": seeds,
        "recipe": recipe,
        "data": (
            f"{ds.path}: real AIST++ detector keypoints of the held-out sequences, "
            f"{len(test['x'])} view sequences, {sum(len(x) for x in test['x'])} frames at 25 fps, "
            "against the projected 3D ground truth (LSP-14)"
        ),
        "units": {**REFINEMENT_UNITS, "lookahead": "frames of future input (25 fps)"},
        "methods": rows,
        "claim": claim(rows),
    }
    print_table(results, log)
    results["seconds"] = round(time.perf_counter() - t0, 1)
    if out is not None:
        save(results, Path(out), log)
    return results


def claim(rows: dict) -> dict:
    """The refinement claim for MKFF-ST-GCN, measured: offline acceleration error −80 % against
    raw with PCK@0.05 above raw by more than the seed spread; causal better than One-Euro on
    both; wrists not below raw at PCK@0.05 (offline)."""
    if "mkff_stgcn" not in rows:
        return {}
    raw, m = rows["raw"], rows["mkff_stgcn"]
    out = {
        "offline_accel_change_pct": 100.0 * (m["accel"][0] / raw["accel"][0] - 1.0),
        "offline_pck05_gain": m["pck05"][0] - raw["pck05"][0],
        "offline_pck05_seed_std": m["pck05"][1],
        "wrist_pck05_gain": m["pck05_groups"]["wrist"][0] - raw["pck05_groups"]["wrist"][0],
    }
    out["offline_met"] = bool(
        out["offline_accel_change_pct"] <= -80.0 and out["offline_pck05_gain"] > out["offline_pck05_seed_std"]
    )
    out["wrist_met"] = bool(out["wrist_pck05_gain"] >= 0.0)
    if "mkff_stgcn_causal" in rows and "one_euro" in rows:
        c, oe = rows["mkff_stgcn_causal"], rows["one_euro"]
        out["causal_accel_vs_one_euro"] = c["accel"][0] - oe["accel"][0]
        out["causal_pck05_vs_one_euro"] = c["pck05"][0] - oe["pck05"][0]
        out["causal_met"] = bool(out["causal_accel_vs_one_euro"] < 0 and out["causal_pck05_vs_one_euro"] > 0)
    return out


def _fmt(pair, digits=1, width=13) -> str:
    m, s = pair
    return f"{f'{m:.{digits}f}±{s:.{digits}f}':>{width}}"


def print_table(results: dict, log=print) -> None:
    rows = results["methods"]
    log(
        f"\nRefinement on real detections — {results['data']}; mean±std over {len(results['seeds'])} seed(s) "
        f"(raw and filters deterministic); PCK in % (0.05/0.1/0.2 × GT box larger side); acceleration error "
        f"in px/frame² (SmoothNet's definition); MPJPE-2D in px; look-ahead in frames; preset {results['preset']}"
    )
    head = ["look-ahead", "PCK@0.05", "PCK@0.1", "PCK@0.2", "accel px/f²", "accel %box", "MPJPE px", "MPJPE %box"]
    log(f"{'method':<24}" + "".join(f"{h:>13}" for h in head))
    for key, r in rows.items():
        name = LABELS.get(key.removesuffix("_causal"), key) + (", causal" if key.endswith("_causal") else "")
        cells = [f"{r['lookahead']:>13d}"] + [
            _fmt(r[m], 2 if m in ("accel", "accel_norm") else 1)
            for m in ("pck05", "pck10", "pck20", "accel", "accel_norm", "mpjpe2d", "mpjpe2d_norm")
        ]
        log(f"{name:<24}" + "".join(cells))
    for metric, title in (("pck05", "PCK@0.05 (%)"), ("accel", "acceleration error (px/frame²)")):
        groups = list(next(iter(rows.values()))[f"{metric}_groups"])
        log(f"\n{title} per joint group")
        log(f"{'method':<24}" + "".join(f"{g:>13}" for g in groups))
        for key, r in rows.items():
            log(f"{key:<24}" + "".join(_fmt(r[f"{metric}_groups"][g], 2 if metric == "accel" else 1) for g in groups))
    c = results["claim"]
    if c:
        log(
            f"\nMKFF-ST-GCN offline: acceleration error {c['offline_accel_change_pct']:+.1f} % against raw (claim: "
            f"≤ −80 %), PCK@0.05 {c['offline_pck05_gain']:+.2f} against raw (claim: > seed std "
            f"{c['offline_pck05_seed_std']:.2f}) -> {'met' if c['offline_met'] else 'not met'}; wrists PCK@0.05 "
            f"{c['wrist_pck05_gain']:+.2f} against raw -> {'met' if c['wrist_met'] else 'not met'}"
        )
        if "causal_met" in c:
            log(
                f"MKFF-ST-GCN causal against One-Euro: acceleration error {c['causal_accel_vs_one_euro']:+.2f} "
                f"px/frame², PCK@0.05 {c['causal_pck05_vs_one_euro']:+.2f} -> "
                f"{'met' if c['causal_met'] else 'not met'}"
            )


def save(results: dict, out: Path, log=print) -> None:
    out.mkdir(parents=True, exist_ok=True)
    json_rows = {}
    csv_rows = []
    for key, r in results["methods"].items():
        entry = {"lookahead": r["lookahead"], "seeds": r["seeds"], "info": r["info"]}
        for m in REFINEMENT_METRICS:
            entry[m] = {"mean": r[m][0], "std": r[m][1]}
            entry[f"{m}_groups"] = {g: {"mean": v[0], "std": v[1]} for g, v in r[f"{m}_groups"].items()}
        json_rows[key] = entry
        csv_rows.append(
            {
                "method": key,
                "lookahead": r["lookahead"],
                "seeds": r["seeds"],
                **{m: round(r[m][0], 3) for m in REFINEMENT_METRICS},
                **{f"{m}_std": round(r[m][1], 3) for m in REFINEMENT_METRICS},
            }
        )
    (out / "refinement.json").write_text(json.dumps({**results, "methods": json_rows}, indent=1, default=float))
    write_csv(out / "refinement.csv", csv_rows)
    plot(results, out / "refinement_accel_pck.png")
    log(f"\nsaved {out / 'refinement.json'}, {out / 'refinement.csv'}, {out / 'refinement_accel_pck.png'}")


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for key, r in results["methods"].items():
        (x, xs), (y, ys) = r["accel"], r["pck05"]
        ax.errorbar(x, y, xerr=xs, yerr=ys, fmt="s" if key.endswith("_causal") else "o", capsize=2, ms=5)
        ax.annotate(key, (x, y), textcoords="offset points", xytext=(4, 3), fontsize=7)
    ax.set_xlabel("acceleration error (px / frame², lower is smoother)")
    ax.set_ylabel("PCK@0.05 (%)")
    ax.set_title("Refiners on real AIST++ detections (held-out sequences)", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
