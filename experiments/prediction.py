"""Prediction: every method trained and compared as the paper's Tables IV–VI, per dance style.

    python experiments/prediction.py --preset quick                      # the main job's part, ~13 min on 2 cores
    python experiments/prediction.py --preset original --seeds 0 1 2     # the README table (hours on 2 cores)

Methods: zero- and constant-velocity, LTD ("T-GCN" in the paper), DMGNN, siMLPe and STGA-Net,
trained on the training takes of the shipped dataset.  ``--preset original`` trains each
baseline with its authors' recipe (see each model's ``recipe``) and STGA-Net with dancejax's
default.  Errors are MAE and MPJPE in millimetres, root-relative (each frame's mid-hip removed),
at 80/160/320/400 ms, plus global MPJPE; mean ± std over the seeds, which train as one vmapped
program per method.  Results: <out>/prediction.{csv,json}, prediction_horizons.png,
prediction_example.gif.
"""

import argparse
from pathlib import Path

from dancejax.runtime import enable_compilation_cache, keep_freed_memory
from dancejax.studies.compare import compare_prediction
from dancejax.tasks.prediction import METHODS, PRESETS

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=PRESETS, default="quick")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--obs", type=int, default=10)
    ap.add_argument("--pred", type=int, default=10)
    ap.add_argument("--per-style", type=int, default=64, help="evaluation windows per style (0 = all at stride 1)")
    ap.add_argument("--styles", nargs="+", default=None, help="restrict training and evaluation to these styles")
    ap.add_argument("--out", default="results")
    a = ap.parse_args()
    keep_freed_memory()
    enable_compilation_cache()
    compare_prediction(a.methods, a.preset, a.seeds, Path(a.out), a.obs, a.pred, a.per_style or None, styles=a.styles)
