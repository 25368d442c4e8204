"""Recognition: every refinement/style method compared as the paper's Tables II–III on real dance data.

    python experiments/recognition.py --preset quick                          # the main job's part
    python experiments/recognition.py --preset quick --seeds 0 1 2            # the README table
    python experiments/recognition.py --preset paper --methods mkff_stgcn     # SGD 0.01×0.95/epoch, batch 16, 80 epochs

Methods: the raw detector, Savitzky–Golay and One-Euro filters (tuned on the selection set),
HBRNN, plain ST-GCN, MKFF-ST-GCN and its ablations.  HRNet is an image model: no row.  By
default the learned methods train on simulated detections plus real AIST++ training detections
(three quarters of each batch, class-balanced) with a gated residual, and are selected on real
validation detections (``--sim-only``: the simulated-only setting of round 1).
Results: <out>/recognition.{csv,json}, recognition_pck_curve.png.
"""

import argparse
from pathlib import Path

from dancejax.runtime import enable_compilation_cache, keep_freed_memory
from dancejax.studies.compare import compare_recognition
from dancejax.tasks.recognition import METHODS, PRESETS

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=PRESETS, default="quick")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--sim-only", action="store_true", help="train on simulated detections only, select on sim_val")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--out", default="results")
    a = ap.parse_args()
    keep_freed_memory()
    enable_compilation_cache()
    over = {} if a.epochs is None else {"epochs": a.epochs}
    compare_recognition(a.methods, a.preset, a.seeds, Path(a.out), overrides=over, sim_only=a.sim_only)
