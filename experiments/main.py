"""The main job on the data shipped in the package.

    python experiments/main.py --quick

Prints the dataset summary (styles, splits, real detector error).  Results go
to ``results/`` as CSV and JSON.
"""

import argparse

from dancejax.data import load_dataset
from dancejax.data.summary import print_summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the CPU-sized presets (minutes on 2 cores)")
    ap.add_argument("--out", default="results")
    a = ap.parse_args(argv)
    print_summary(load_dataset(), a.out)


if __name__ == "__main__":
    main()
