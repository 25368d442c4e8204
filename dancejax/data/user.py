"""Your own data: datasets from sequences, from a folder with a manifest, and any reader by suffix.

``read_sequence(path)`` reads one file with the reader its suffix names:

=============================  ============================================================
``.bvh``                       BVH, any joint naming scheme the rules of
                               ``dancejax.io.joint_names`` read (CMU, Mixamo, SMPL, Unity/Bandai,
                               Blender, ...), or a ``joint_map``; ``scale`` or automatic units
``.amc``                       ASF/AMC: the skeleton is ``skeleton`` (``--skeleton``, the manifest's
                               ``skeleton`` column), or the ``.asf`` of the subject
                               (``05_02.amc`` -> ``05.asf``); AMC carries no frame rate, so
                               ``fps`` is required.  An ``.asf`` alone is only a skeleton
``.npz`` / ``.npy``            dancejax NPZ (``write_npz``), or a bare (T, J, 3) array (``.npy``,
                               with ``fps`` and ``layout``)
``.json``                      dancejax frame JSON, or COCO keypoints (with ``fps``)
``.skeleton``                  NTU RGB+D (``dancejax.io.ntu``)
=============================  ============================================================

Units of a BVH file: the skeleton's bone lengths from ankle to head top (its OFFSETs, whatever
the pose of any frame) pick metres, centimetres, millimetres, inches or the CMU Acclaim unit
(``dancejax.io.joint_names.unit_from_bones``); the choice is printed, and ``scale`` (metres per
file unit; a manifest ``scale`` column) overrides it.

2D keypoint files (COCO, frame JSON or NPZ with 2D positions) are takes too: a dataset of them
trains the recognition task on their detections, with the style labels and no refinement
target (they have no ground truth).

A **manifest** (CSV with a header row, or JSON: a list of objects) has one row per take:

* ``file`` (required): path relative to the manifest's folder;
* ``style`` (required): the label the recognition task classifies;
* ``performer``, ``take`` (default: the file's stem), ``group`` (takes that must stay on the
  same side of the split; default: the take), ``split`` (train/val/test; default: assigned by
  group, 70/15/15 per style with ``seed``), ``fps``, ``scale``, ``skeleton`` (an ``.asf``),
  ``joint_map`` (a joint-map file for a BVH, ``dancejax.io.joint_names.read_joint_map``);
* ``detections`` and ``camera``: real 2D detections of a 3D take (any 2D keypoint file, in sync
  with the take) and the camera that filmed it (an AIST++-style camera JSON, its first camera,
  translation in metres).  The recognition task calibrates its detector-noise simulator on
  them and trains on them; without any, it uses the shipped AIST++ calibration.

Unknown columns, missing files and empty folders are errors that name the file and the field.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from dancejax.data.dataset import SPLITS, DanceDataset, Take
from dancejax.errors import DataError, where
from dancejax.io.sequence import PoseSequence, canonical

COLUMNS = (
    "file",
    "style",
    "performer",
    "take",
    "group",
    "split",
    "fps",
    "scale",
    "skeleton",
    "joint_map",
    "detections",
    "camera",
)
PATH_COLUMNS = ("skeleton", "joint_map", "detections", "camera")
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
    path,
    fps: float | None = None,
    scale: float | None = None,
    skeleton=None,
    layout: str = "lsp14",
    log=None,
    joint_map=None,
    person: int | None = None,
) -> PoseSequence:
    """One file, read by the reader its suffix names (see the module docstring).

    ``joint_map``: a BVH's LSP-14 name -> joint name overrides (a dict or a joint-map file);
    ``skeleton``: the ``.asf`` of an ``.amc``; ``person``: in a COCO file with several people
    per image, the rank of the one to keep (0, the default, is the highest score, else the
    largest area)."""
    from dancejax.io import read_asf_amc, read_bvh, read_coco_keypoints, read_frames_json, read_npz

    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix == ".bvh":
        if joint_map is not None and not isinstance(joint_map, dict):
            from dancejax.io.joint_names import read_joint_map

            joint_map = read_joint_map(joint_map)
        seq = read_bvh(path, scale=scale, joint_map=joint_map, log=log)
        seq.labels["units"] = "m"
        if log and scale is not None:
            log(f"  {path.name}: BVH × {scale:.6g} to metres (the given scale)")
        return seq
    if suffix == ".asf":
        raise DataError(
            f"{path}: an .asf file is a skeleton only, with no motion; give the .amc motion file and this "
            f"skeleton with it (--skeleton {path.name}, or the manifest's skeleton column)"
        )
    if suffix == ".amc":
        if fps is None:
            raise DataError(f"{where(path, 'fps')}AMC files carry no frame rate; give fps (CMU: 120, salsa 60)")
        asf = Path(skeleton) if skeleton else path.with_name(path.stem.split("_")[0] + ".asf")
        if not asf.exists():
            raise DataError(
                f"{where(path, 'skeleton')}no ASF skeleton found (looked for {asf}); give it with --skeleton "
                "FILE.asf (or the manifest's skeleton column)"
            )
        return read_asf_amc(asf, path, float(fps))
    if suffix == ".npz":
        return read_npz(path)
    if suffix == ".npy":
        from dancejax.io.jsonfmt import read_npy

        return read_npy(path, fps=fps, layout=layout, scale=scale)
    if suffix == ".json":
        from dancejax.io.validate import load_json

        head = load_json(path)
        if isinstance(head, dict) and head.get("format") == "dancejax-frames":
            return read_frames_json(path)
        if fps is None:
            raise DataError(f"{where(path, 'fps')}COCO keypoint files carry no frame rate; give fps")
        return read_coco_keypoints(path, float(fps), person=person)
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
        for col in PATH_COLUMNS:
            if col in row:
                row[col] = (path.parent / row[col]).resolve()
                if not row[col].exists():
                    raise DataError(f"{path}: row {i}: field {col!r}: {r[col]!r} does not exist ({row[col]})")
        if ("detections" in row) != ("camera" in row):
            raise DataError(f"{path}: row {i}: fields 'detections' and 'camera' come together (or neither)")
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
    detections: list | None = None,
) -> DanceDataset:
    """A dataset from ``PoseSequence``s of any reader: converted to LSP-14 at 25 fps, labelled,
    and split 70/15/15 by group per style (with ``seed``) where ``splits`` leaves it open.

    Args:
        seqs: the sequences (any layout with a conversion to LSP-14, any frame rate).  3D ones
            are takes; 2D ones (keypoints in pixels) are detection sets without ground truth.
        styles: one style label per sequence.
        takes: take names (default: the sequences' file names).
        performers: performer labels.
        groups: split groups (takes of one group stay in one split; default: the take).
        splits: 'train'/'val'/'test' or None (assigned) per sequence.
        seed: the split seed.
        source: how errors name the data.
        min_frames: shorter sequences are an error.
        detections: per sequence, None or (2D detections ``PoseSequence``, ``Camera``): real
            detections of a 3D take and the camera (metres) that projects its ground truth.

    Returns:
        A ``DanceDataset``.
    """
    from dancejax.data.build import assign_splits
    from dancejax.data.dataset import DetectionSet

    n = len(seqs)
    if n == 0:
        raise DataError(f"{source}: no sequences")
    for name, col in (
        ("styles", styles),
        ("takes", takes),
        ("performers", performers),
        ("groups", groups),
        ("splits", splits),
        ("detections", detections),
    ):
        if col is not None and len(col) != n:
            raise DataError(f"{source}: {name} has {len(col)} entries for {n} sequences")
    takes = takes or [Path(s.source).stem if s.source else f"take_{i}" for i, s in enumerate(seqs)]
    groups = groups or list(takes)
    assigned = assign_splits({g: st for g, st in zip(groups, styles)}, seed)
    out, dets = [], []
    for i, s in enumerate(seqs):
        c = canonical(s)
        if c.num_frames < min_frames:
            raise DataError(f"{where(s.source, 'positions')}{c.num_frames} frames at 25 fps; too short to use")
        split = (splits[i] if splits is not None and splits[i] else None) or assigned[groups[i]]
        if s.positions.shape[-1] == 2:
            x = c.positions.astype(np.float32)[None]
            conf = c.confidence.astype(np.float32)[None]
            dets.append(DetectionSet(takes[i], styles[i], split, x, conf, x.copy(), (), has_gt=False))
            continue
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
        if detections is not None and detections[i] is not None:
            dets.append(_real_detections(out[-1], *detections[i]))
    return DanceDataset.from_takes(out, source, dets, split_seed=seed)


def _real_detections(take: Take, det: PoseSequence, cam):
    """A 3D take's real detections against its ground truth projected through ``cam`` (metres)."""
    from dancejax.data.dataset import DetectionSet
    from dancejax.io.aistpp import project

    if det.positions.shape[-1] != 2:
        raise DataError(f"{where(det.source, 'detections')}expected 2D detections (pixels), got 3D positions")
    c = canonical(det)
    n = min(c.num_frames, take.num_frames)
    if abs(c.num_frames - take.num_frames) > 2:
        raise DataError(
            f"{where(det.source, 'detections')}{c.num_frames} frames at 25 fps, but its take {take.name} has "
            f"{take.num_frames}: the detections must cover the take, in sync"
        )
    gt = project(take.positions[:n], cam, 1.0).astype(np.float32)[None]
    return DetectionSet(
        take.name, take.style, take.split, c.positions[:n][None], c.confidence[:n][None], gt, (cam,), has_gt=True
    )


def from_folder(folder, manifest=None, seed: int = 20261125, log=print, joint_map=None) -> DanceDataset:
    """A dataset from a folder of takes described by ``manifest`` (default ``folder/manifest.csv``
    or ``.json``).

    Args:
        folder: a folder of BVH, ASF/AMC, NPZ, JSON, NTU ``.skeleton`` or Kinetics files.
        manifest: a CSV/JSON with the columns ``file``, ``style`` and optionally ``performer``,
            ``take``, ``group``, ``split``, ``fps``, ``scale``, ``skeleton``, ``joint_map``,
            ``detections`` and ``camera`` (``COLUMNS``).
        seed: the split seed.
        log: progress printer.
        joint_map: a joint-map file (or dict) for the BVH takes whose row has no ``joint_map``.

    Returns:
        A ``DanceDataset`` whose ``path`` is the manifest's absolute path.

    Raises:
        DataError: a missing file, an unknown column, or no readable take.
    """
    from dancejax.io.aistpp import read_cameras

    folder = Path(folder).resolve()
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
    manifest = Path(manifest).resolve()
    rows = read_manifest(manifest)
    seqs, dets = [], []
    for r in rows:
        seqs.append(
            read_sequence(
                r["file"],
                r.get("fps"),
                r.get("scale"),
                r.get("skeleton"),
                log=log,
                joint_map=r.get("joint_map", joint_map),
            )
        )
        if "detections" in r:
            det = read_sequence(r["detections"], r.get("fps"))
            dets.append((det, read_cameras(r["camera"])[0]))
        else:
            dets.append(None)
    return from_sequences(
        seqs,
        [r["style"] for r in rows],
        [r.get("take", r["file"].stem) for r in rows],
        [r.get("performer", "unknown") for r in rows],
        [r.get("group", r.get("take", r["file"].stem)) for r in rows],
        [r.get("split") for r in rows],
        seed,
        source=str(manifest),
        detections=dets,
    )


def read_take(path, fps=None, scale=None, skeleton=None, joint_map=None, log=None) -> PoseSequence:
    """One take: a file, or a folder holding exactly one readable take (a manifest aside)."""
    p = Path(path)
    if p.is_dir():
        files = sorted(
            f
            for f in p.iterdir()
            if f.suffix.lower() in SUFFIXES
            and f.suffix.lower() != ".json"
            or f.name.endswith(".json")
            and f.name != "manifest.json"
        )
        if len(files) != 1:
            raise DataError(f"{p}: a take folder must hold exactly one readable take; found {[f.name for f in files]}")
        p = files[0]
    return read_sequence(p, fps, scale, skeleton, log=log, joint_map=joint_map)


def open_dataset(data=None, manifest=None, aistpp=None, log=print, joint_map=None) -> DanceDataset:
    """The shipped dataset, a folder of your own takes (with a manifest), or an AIST++
    annotation folder."""
    from dancejax.data import load_dataset
    from dancejax.data.build import load_aistpp

    if aistpp:
        return load_aistpp(aistpp)
    if data:
        return from_folder(data, manifest, log=log, joint_map=joint_map)
    if manifest:
        raise DataError(f"{manifest}: --manifest needs --data (the folder the manifest's files are in)")
    return load_dataset()
