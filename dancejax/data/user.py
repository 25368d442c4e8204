"""Your own data: datasets from sequences, from a folder with a manifest, and any reader by suffix.

``read_sequence(path)`` reads one file with the reader its suffix names:

=============================  ============================================================
``.bvh``                       BVH (CMU joint names; ``scale`` or automatic units, below)
``.amc``                       ASF/AMC: the skeleton is the manifest's ``skeleton`` column, or
                               the ``.asf`` of the subject (``05_02.amc`` -> ``05.asf``); AMC
                               carries no frame rate, so ``fps`` is required
``.npz`` / ``.npy``            dancejax NPZ (``write_npz``), or a bare (T, J, 3) array (``.npy``,
                               with ``fps`` and ``layout``)
``.json``                      dancejax frame JSON, or COCO keypoints (with ``fps``)
``.skeleton``                  NTU RGB+D (``dancejax.io.ntu``)
=============================  ============================================================

Units of 3D files without a declared unit: the standing height at the first frame picks metres,
centimetres, millimetres, inches or the CMU Acclaim unit (the one that puts it between 1.2
and 2.3 m); the choice is printed, and a manifest ``scale`` column (metres per file unit)
overrides it.

A **manifest** (CSV with a header row, or JSON: a list of objects) has one row per take:

* ``file`` (required): path relative to the manifest's folder;
* ``style`` (required): the label the recognition task classifies;
* ``performer``, ``take`` (default: the file's stem), ``group`` (takes that must stay on the
  same side of the split; default: the take), ``split`` (train/val/test; default: assigned by
  group, 70/15/15 per style with ``seed``), ``fps``, ``scale``, ``skeleton``.

Unknown columns, missing files and empty folders are errors that name the file and the field.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from dancejax.data.dataset import SPLITS, DanceDataset, Take
from dancejax.errors import DataError, where
from dancejax.sequence import PoseSequence, canonical

COLUMNS = ("file", "style", "performer", "take", "group", "split", "fps", "scale", "skeleton")
REQUIRED = ("file", "style")
SUFFIXES = (".bvh", ".amc", ".npz", ".npy", ".json", ".skeleton")
UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254, "cmu": 0.0254 / 0.45}


def guess_scale(positions: np.ndarray, source) -> tuple[float, str]:
    """Metres per file unit from the standing height (vertical extent, Y up) at the first frame."""
    h = float(np.ptp(positions[0, :, 1]))
    fits = [(name, s) for name, s in UNITS.items() if 1.2 <= h * s <= 2.3]
    if not fits:
        raise DataError(
            f"{where(source, 'units')}a first-frame height of {h:.4g} file units fits no known unit "
            f"({', '.join(UNITS)}); give a scale (metres per file unit)"
        )
    name, s = fits[0]
    return s, name


def read_sequence(
    path, fps: float | None = None, scale: float | None = None, skeleton=None, layout: str = "lsp14", log=None
) -> PoseSequence:
    """One file, read by the reader its suffix names (see the module docstring)."""
    from dancejax.io import read_asf_amc, read_bvh, read_coco_keypoints, read_frames_json, read_npz

    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        seq = read_bvh(path, scale=1.0)
        units = "m"
        if scale is None:
            scale, units = guess_scale(seq.positions, path)
        seq.positions = seq.positions * np.float32(scale)
        seq.labels["units"] = "m"
        if log:
            log(f"  {path.name}: BVH in {units if units in UNITS else 'given units'} (× {scale:.6g} to metres)")
        return seq
    if suffix == ".amc":
        if fps is None:
            raise DataError(f"{where(path, 'fps')}AMC files carry no frame rate; give fps (CMU: 120, salsa 60)")
        asf = Path(skeleton) if skeleton else path.with_name(path.stem.split("_")[0] + ".asf")
        if not asf.exists():
            raise DataError(f"{where(path, 'skeleton')}no ASF skeleton found (looked for {asf}); give its path")
        return read_asf_amc(asf, path, float(fps))
    if suffix == ".npz":
        return read_npz(path)
    if suffix == ".npy":
        from dancejax.io.jsonfmt import read_npy

        return read_npy(path, fps=fps, layout=layout, scale=scale)
    if suffix == ".json":
        try:
            head = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise DataError(f"{path}: not valid JSON ({e})") from None
        if isinstance(head, dict) and head.get("format") == "dancejax-frames":
            return read_frames_json(path)
        if fps is None:
            raise DataError(f"{where(path, 'fps')}COCO keypoint files carry no frame rate; give fps")
        return read_coco_keypoints(path, float(fps))
    if suffix == ".skeleton":
        from dancejax.io.ntu import read_ntu_skeleton

        return read_ntu_skeleton(path, fps=fps or 30.0)
    raise DataError(f"{path}: unsupported file type {suffix!r}; supported: {', '.join(SUFFIXES)}")


def read_manifest(path) -> list[dict]:
    """Rows of a CSV or JSON manifest, checked: known columns, required values, files present."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: manifest not found")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read the manifest ({e})") from None
    if path.suffix.lower() == ".json":
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: not valid JSON ({e})") from None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise DataError(f"{path}: expected a list of objects, one per take")
    else:
        reader = csv.DictReader(text.splitlines())
        if reader.fieldnames is None:
            raise DataError(f"{path}: empty manifest (no header row)")
        rows = [dict(r) for r in reader]
        if any(None in r for r in rows):
            raise DataError(f"{path}: a row has more values than the header has columns")
    if not rows:
        raise DataError(f"{path}: the manifest lists no takes")
    out = []
    for i, r in enumerate(rows, start=1):
        unknown = sorted(set(r) - set(COLUMNS))
        if unknown:
            raise DataError(f"{path}: row {i}: unknown column(s) {unknown}; columns are {', '.join(COLUMNS)}")
        for col in REQUIRED:
            if not isinstance(r.get(col), str) or not r[col].strip():
                raise DataError(f"{path}: row {i}: field {col!r} is required (a non-empty string)")
        row = {k: v for k, v in r.items() if v not in (None, "")}
        for col in ("fps", "scale"):
            if col in row:
                try:
                    row[col] = float(row[col])
                except (TypeError, ValueError):
                    raise DataError(f"{path}: row {i}: field {col!r}: expected a number, got {row[col]!r}") from None
                if not np.isfinite(row[col]) or row[col] <= 0:
                    raise DataError(f"{path}: row {i}: field {col!r}: expected a positive number, got {row[col]!r}")
        if "split" in row and row["split"] not in SPLITS:
            raise DataError(f"{path}: row {i}: field 'split': expected one of {SPLITS}, got {row['split']!r}")
        f = (path.parent / row["file"]).resolve()
        if not f.exists():
            raise DataError(f"{path}: row {i}: field 'file': {row['file']!r} does not exist ({f})")
        row["file"] = f
        if "skeleton" in row:
            row["skeleton"] = (path.parent / row["skeleton"]).resolve()
        out.append(row)
    return out


def from_sequences(
    seqs: list[PoseSequence],
    styles: list[str],
    takes: list[str] | None = None,
    performers: list[str] | None = None,
    groups: list[str] | None = None,
    splits: list[str | None] | None = None,
    seed: int = 20261125,
    source: str = "user data",
    min_frames: int = 2,
) -> DanceDataset:
    """A dataset from 3D ``PoseSequence``s of any reader: converted to LSP-14 at 25 fps, labelled,
    and split 70/15/15 by group per style (with ``seed``) where ``splits`` leaves it open.

    Args:
        seqs: the sequences (any layout with a conversion to LSP-14, any frame rate).
        styles: one style label per sequence.
        takes: take names (default: the sequences' sources).
        performers: performer labels.
        groups: split groups (takes of one group stay in one split; default: the take).
        splits: 'train'/'val'/'test' or None (assigned) per sequence.
        seed: the split seed.
        source: how errors name the data.
        min_frames: shorter sequences are an error.

    Returns:
        A ``DanceDataset``.
    """
    from dancejax.data.build import assign_splits

    n = len(seqs)
    if n == 0:
        raise DataError(f"{source}: no sequences")
    for name, col in (
        ("styles", styles),
        ("takes", takes),
        ("performers", performers),
        ("groups", groups),
        ("splits", splits),
    ):
        if col is not None and len(col) != n:
            raise DataError(f"{source}: {name} has {len(col)} entries for {n} sequences")
    takes = takes or [Path(s.source).stem if s.source else f"take_{i}" for i, s in enumerate(seqs)]
    groups = groups or list(takes)
    assigned = assign_splits({g: st for g, st in zip(groups, styles)}, seed)
    out = []
    for i, s in enumerate(seqs):
        if s.positions.shape[-1] != 3:
            raise DataError(
                f"{where(s.source, 'positions')}expected 3D poses for a dataset of takes, got {s.positions.shape[-1]}D"
            )
        c = canonical(s)
        if c.num_frames < min_frames:
            raise DataError(f"{where(s.source, 'positions')}{c.num_frames} frames at 25 fps; too short to use")
        split = (splits[i] if splits is not None and splits[i] else None) or assigned[groups[i]]
        out.append(
            Take(
                takes[i],
                styles[i],
                (performers or ["unknown"] * n)[i],
                Path(s.source).suffix.lstrip(".") if s.source else "user",
                groups[i],
                split,
                c.positions.astype(np.float32),
            )
        )
    return DanceDataset.from_takes(out, source, split_seed=seed)


def from_folder(folder, manifest=None, seed: int = 20261125, log=print) -> DanceDataset:
    """A dataset from a folder of takes described by ``manifest`` (default ``folder/manifest.csv``
    or ``.json``).

    Args:
        folder: a folder of BVH, ASF/AMC, NPZ, JSON, NTU ``.skeleton`` or Kinetics files.
        manifest: a CSV/JSON with the columns ``file``, ``style`` and optionally ``performer``,
            ``take``, ``group``, ``split``, ``fps``, ``scale``, ``skeleton`` (``COLUMNS``).
        seed: the split seed.
        log: progress printer.

    Returns:
        A ``DanceDataset``.

    Raises:
        DataError: a missing file, an unknown column, or no readable take.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    if manifest is None:
        found = [folder / f"manifest.{e}" for e in ("csv", "json") if (folder / f"manifest.{e}").exists()]
        if not found:
            readable = [p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES]
            raise DataError(
                f"{folder}: no manifest.csv or manifest.json"
                + ("" if readable else f", and no readable takes ({', '.join(SUFFIXES)})")
            )
        manifest = found[0]
    rows = read_manifest(manifest)
    seqs = []
    for r in rows:
        seqs.append(read_sequence(r["file"], r.get("fps"), r.get("scale"), r.get("skeleton"), log=log))
    return from_sequences(
        seqs,
        [r["style"] for r in rows],
        [r.get("take", r["file"].stem) for r in rows],
        [r.get("performer", "unknown") for r in rows],
        [r.get("group", r.get("take", r["file"].stem)) for r in rows],
        [r.get("split") for r in rows],
        seed,
        source=str(manifest),
    )
