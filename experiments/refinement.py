"""The refinement benchmark on real AIST++ detections (``dancejax.studies.refinement``).

    python experiments/refinement.py --preset quick --seeds 0 1 2 --out results/refinement
    python experiments/refinement.py --aistpp /data/aistpp/annotation --preset quick    # your AIST++ folder

The same as ``dancejax refinement``: one table — look-ahead, PCK@0.05/0.1/0.2, acceleration
error and MPJPE-2D — for the raw detector, the Savitzky–Golay, Gaussian and One-Euro filters,
HBRNN, ST-GCN and MKFF-ST-GCN offline and causal, and SmoothNet, on the held-out sequences'
real detections (every view), mean ± std over the seeds.  Results: <out>/refinement.json,
refinement.csv, refinement_accel_pck.png.  ``--workdir DIR`` keeps every training's
checkpoints in ``DIR/<method>`` (SmoothNet: ``DIR/smoothnet``); a rerun resumes from them, and
a finished training is not repeated.
"""

import argparse
from pathlib import Path

from dancejax.data.user import open_dataset
from dancejax.runtime import enable_compilation_cache, keep_freed_memory
from dancejax.studies.refinement import LEARNED, benchmark

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--methods", nargs="+", default=list(LEARNED))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--aistpp", default=None, help="an official AIST++ annotation folder (default: the shipped data)")
    ap.add_argument("--no-smoothnet", action="store_true")
    ap.add_argument("--out", default="results/refinement")
    ap.add_argument(
        "--workdir", default=None, help="checkpoints of every training here (<workdir>/<method>); a rerun resumes"
    )
    a = ap.parse_args()
    keep_freed_memory()
    enable_compilation_cache()
    ds = open_dataset(aistpp=a.aistpp) if a.aistpp else None
    benchmark(a.preset, a.seeds, Path(a.out), ds, a.methods, smoothnet=not a.no_smoothnet, workdir=a.workdir)
