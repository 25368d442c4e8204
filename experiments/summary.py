"""Print the shipped dataset's summary: takes/frames/seconds per style and split, and the
real AIST++ detector's per-joint pixel error beside the calibrated noise simulator's.

    python experiments/summary.py --out results
"""

import argparse

from dancejax.data import load_dataset
from dancejax.data.summary import print_summary

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results", help="folder for dataset_summary.{json,csv}")
    print_summary(load_dataset(), ap.parse_args().out)
