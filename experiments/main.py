"""The main job on the data shipped in the package.

    python experiments/main.py --quick

1. the dataset summary (styles, splits, the real detector's per-joint error);
2. recognition: every refinement/style method trained and compared (Tables II–III shape),
   on simulated-noise held-out takes and on real AIST++ detections;
3. prediction: every motion-prediction method trained and compared (Tables IV–VI shape),
   per dance style, on held-out 3D takes.

Everything is printed and saved under ``--out`` (CSV, JSON, plots).  ``--quick`` is the
CPU preset (about 15 minutes on 2 cores); without it the paper presets run.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import prediction  # noqa: E402
import recognition  # noqa: E402

from dancejax.data import load_dataset  # noqa: E402
from dancejax.data.summary import print_summary  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the CPU-sized presets")
    ap.add_argument("--out", default="results")
    ap.add_argument("--skip", nargs="*", default=[], choices=["summary", "recognition", "prediction"])
    a = ap.parse_args(argv)
    out = Path(a.out)
    preset = "quick" if a.quick else "paper"
    if "summary" not in a.skip:
        print("=" * 100 + "\n1. Dataset\n" + "=" * 100)
        print_summary(load_dataset(), out)
    if "recognition" not in a.skip:
        print("\n" + "=" * 100 + "\n2. Recognition: refinement + style (MKFF-ST-GCN vs baselines)\n" + "=" * 100)
        recognition.run(preset, out, list(recognition.METHODS))
    if "prediction" not in a.skip:
        print("\n" + "=" * 100 + "\n3. Prediction (STGA-Net vs baselines)\n" + "=" * 100)
        prediction.run("quick" if a.quick else "default", out)


if __name__ == "__main__":
    main()
