"""The levers of the refinement recipe, each measured on real validation detections.

    python experiments/refinement_levers.py --method mkff_stgcn --levers base keep keep_accel keep_accel_causal

Trains ``--method`` at ``--preset`` (one seed) once per lever — a named set of
``RecognitionConfig`` overrides (``LEVERS``) — and prints, for the **real validation**
sequences (the last 20 % of the training sequences' frames, every view, the set the filters
are tuned and the models selected on), the refinement metrics of the raw detector, the One-Euro
filter tuned there, and each trained model offline and causal (``dancejax.studies.sequences``).
The held-out sequences are not looked at.  Results: <out>/levers.json.
"""

import argparse
import json
from pathlib import Path

from dancejax.data import load_dataset
from dancejax.runtime import enable_compilation_cache, keep_freed_memory
from dancejax.studies.compare import train_seeds
from dancejax.studies.refinement import table_of, tune_filter
from dancejax.studies.sequences import filter_sequence, refine_recognition
from dancejax.tasks import recognition as R
from dancejax.tasks import refinement as F

LEVERS = {
    "base": {},
    "keep": {"keep_uncertain": True},
    "accel": {"accel_weight": 1.0},
    "keep_accel": {"keep_uncertain": True, "accel_weight": 1.0},
    "keep_vel_accel": {"keep_uncertain": True, "vel_weight": 1.0, "accel_weight": 1.0},
    "keep_accel_causal": {"keep_uncertain": True, "accel_weight": 1.0, "causal_weight": 1.0},
    "keep_accel_real": {"keep_uncertain": True, "accel_weight": 1.0, "real_fraction": 0.875},
    "keep_accel3": {"keep_uncertain": True, "accel_weight": 3.0},
    "keep_accel10": {"keep_uncertain": True, "accel_weight": 10.0},
    "keep_accel10_causal": {"keep_uncertain": True, "accel_weight": 10.0, "causal_weight": 1.0},
}
SHOW = ("pck05", "pck10", "accel", "mpjpe2d")


def line(name, tab):
    return f"{name:<30}" + "".join(f"{tab[k]['mean']:>10.2f}" for k in SHOW) + f"{tab['pck05']['wrist']:>10.2f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--method", default="mkff_stgcn")
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--levers", nargs="+", default=list(LEVERS), choices=list(LEVERS))
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/refinement_levers")
    a = ap.parse_args()
    keep_freed_memory()
    enable_compilation_cache()
    ds = load_dataset()
    val, _ = F.detection_sequences(ds, "train", "val"), None
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "levers.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    head = f"{'real validation':<30}" + "".join(f"{k:>10}" for k in SHOW) + f"{'wrist05':>10}"
    raw = table_of(list(val["x"]), val)
    oe = tune_filter("one_euro", val)
    one_euro = table_of([filter_sequence("one_euro", x, c, oe) for x, c in zip(val["x"], val["conf"])], val)
    for name in a.levers:
        key = f"{a.method}/{a.preset}/{name}" + (f"/{a.epochs}ep" if a.epochs else "") + f"/seed{a.seed}"
        if key in results:
            continue
        over = dict(LEVERS[name], **({"epochs": a.epochs} if a.epochs else {}))
        cfg = R.make_config(a.method, a.preset, num_styles=len(ds.styles), seed=a.seed, **over)
        data = R.load_data(ds, cfg)
        (run,), secs = train_seeds(R, [cfg], data, None, print)
        ref = R.Refiner(run[0], run[1])
        results[key] = {"overrides": over, "train_seconds": round(secs, 1)}
        for mode in ("offline", "causal"):
            preds = [refine_recognition(ref, x, c, mode) for x, c in zip(val["x"], val["conf"])]
            results[key][mode] = table_of(preds, val)
        path.write_text(json.dumps(results, indent=1))
        print(f"{key}: trained in {secs:.0f}s")
    print("\n" + head)
    print(line("raw", raw))
    print(line(f"one_euro {oe}", one_euro))
    for key, r in results.items():
        for mode in ("offline", "causal"):
            print(line(f"{key.split('/')[2]} {mode}", r[mode]))
    print(f"saved {path}")


if __name__ == "__main__":
    main()
