"""Run a hyper-parameter study as vmapped programs (dancejax.studies.study).

    python experiments/study.py --config experiments/configs/study_recognition16.json   # ~6 min on 2 cores
    python experiments/study.py --config experiments/configs/study_prediction.json --out results/study

The config names the task, the method, the preset, the number of epochs, the grid, and
optionally ``chunk_size`` (settings per program; 'auto' measures), ``patience`` (per-setting early
stopping) and ``overrides`` (configuration fields).  Prints progress and a ranked table, saves
CSV/JSON and two plots, and writes the best setting as a saved model.  Same as ``dancejax study``.
"""

import sys

from dancejax.cli import main

if __name__ == "__main__":
    sys.exit(main(["study"] + sys.argv[1:]))
