"""The main job on the data shipped in the package.

    python experiments/main.py --quick

1. the dataset summary (styles, splits, the real detector's per-joint error and the simulator's
   statistics beside it);
2. recognition: every refinement/style method compared (Tables II–III), on simulated-noise
   held-out takes and on real AIST++ detections (learned methods train on simulated plus real
   detections and are selected on real validation detections);
3. prediction: every motion-prediction method compared (Tables IV–VI), per dance style.

Single seed for time (the README's tables are means over 3 seeds, with the commands that print
them).  Everything is printed and saved under ``--out`` (CSV, JSON, plots).  ``--quick`` is the
CPU preset (about 25 minutes on 2 cores); without it the paper/original presets run (hours).
``--quick`` leaves DMGNN out of the prediction table: its full model (about 47 M parameters)
compiles for minutes and trains at about 0.1 steps/s on 2 CPU cores (an hour for the quick
preset alone); ``python experiments/prediction.py --methods dmgnn --preset quick`` runs it.
"""

import argparse
from pathlib import Path

from dancejax.data import load_dataset
from dancejax.data.summary import print_summary
from dancejax.runtime import enable_compilation_cache, keep_freed_memory
from dancejax.studies.compare import compare_prediction, compare_recognition
from dancejax.tasks.prediction import METHODS as PREDICTION_METHODS

MAIN_RECOGNITION = ["hbrnn", "stgcn", "mkff_stgcn"]  # the ablations: experiments/recognition.py
QUICK_SKIP = {"dmgnn": "DMGNN (47 M parameters) needs about an hour on 2 CPU cores even at the quick preset"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the CPU-sized presets")
    ap.add_argument("--out", default="results")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--skip", nargs="*", default=[], choices=["summary", "recognition", "prediction"])
    a = ap.parse_args(argv)
    keep_freed_memory()
    enable_compilation_cache()
    out = Path(a.out)
    ds = load_dataset()
    if "summary" not in a.skip:
        print("=" * 100 + "\n1. Dataset\n" + "=" * 100)
        print_summary(ds, out)
    if "recognition" not in a.skip:
        print("\n" + "=" * 100 + "\n2. Recognition: refinement + style (MKFF-ST-GCN vs baselines)\n" + "=" * 100)
        compare_recognition(MAIN_RECOGNITION, "quick" if a.quick else "original", a.seeds, out, ds)
    if "prediction" not in a.skip:
        print("\n" + "=" * 100 + "\n3. Prediction (STGA-Net vs baselines)\n" + "=" * 100)
        methods = list(PREDICTION_METHODS)
        if a.quick:
            for m, why in QUICK_SKIP.items():
                print(f"  {m}: left out of --quick: {why}; run it with experiments/prediction.py --methods {m}")
            methods = [m for m in methods if m not in QUICK_SKIP]
        compare_prediction(methods, "quick" if a.quick else "original", a.seeds, out, dataset=ds)


if __name__ == "__main__":
    main()
