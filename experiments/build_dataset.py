"""Rebuild the dataset shipped in the package from the raw sources.

    python experiments/build_dataset.py --raw ../shared/data/raw

Writes dancejax/data/dance_lsp14.npz and dancejax/data/splits.json.
"""

import argparse
from pathlib import Path

from dancejax.data.build import build

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "data" / "raw"))
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "dancejax" / "data" / "dance_lsp14.npz"))
    a = ap.parse_args()
    info = build(a.raw, a.out)
    print(f"wrote {a.out}: {info['takes']} takes, {info['frames']} frames at 25 fps, {info['bytes'] / 1e6:.2f} MB")
