"""Saving result tables: one CSV writer for every script."""

from __future__ import annotations

import csv
from pathlib import Path


def write_csv(path, rows: list[dict], keys: list[str] | None = None) -> Path:
    """Rows of dicts to CSV (columns ``keys``, default the first row's), parent folders made."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = list(rows[0]) if keys is None else keys
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(keys)
        for r in rows:
            w.writerow([r.get(k, "") for k in keys])
    return path
