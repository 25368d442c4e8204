"""What every subcommand shares: argument types, the run and model folders, the dataset."""

from __future__ import annotations

import argparse
from pathlib import Path

from dancejax.errors import DataError


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0.0 <= v < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {v}")
    return v


def run_folder(path) -> Path:
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise DataError(f"{p}: the run folder is a file, not a folder")
    return p


def dataset_from(args, log=print):
    """The dataset the arguments name (``dancejax.data.user.open_dataset``)."""
    from dancejax.data.user import open_dataset

    return open_dataset(
        getattr(args, "data", None),
        getattr(args, "manifest", None),
        getattr(args, "aistpp", None),
        log,
        joint_map=getattr(args, "joint_map", None),
    )


def add_data_args(p):
    p.add_argument("--data", default=None, help="a folder of your own takes (BVH, ASF/AMC, NPZ, JSON, NTU)")
    p.add_argument("--manifest", default=None, help="CSV/JSON listing file, style, ... (default DATA/manifest.csv)")
    p.add_argument("--aistpp", default=None, help="an official AIST++ annotation folder")
    p.add_argument(
        "--joint-map",
        default=None,
        help="BVH takes: LSP-14 name -> joint name (JSON or two-column CSV), for the takes whose manifest row "
        "gives none; the naming rules find the rest",
    )


def model_folder(path) -> Path:
    """A run folder's saved model (its ``model/``), or the saved-model folder itself."""
    p = Path(path)
    return p / "model" if (p / "model").is_dir() else p
