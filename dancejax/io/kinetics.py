"""Kinetics-skeleton JSON, the format the original ST-GCN code trains its Kinetics models on
(OpenPose-18 keypoints per video)::

    {"data": [{"frame_index": 1,
               "skeleton": [{"pose": [x0, y0, x1, y1, ...],   (36 values, normalised to [0, 1])
                             "score": [s0, ..., s17]}, ...]},  (one entry per person)
              ...],
     "label": "dancing ballet", "label_index": 3}

``read_kinetics_json`` returns one person as an ``openpose18`` sequence (2D, normalised image
coordinates, confidence = score; a joint at (0, 0) with score 0 is missing);
``stgcn_input`` returns the original feeder's (M, T, 18, 3) array (x − 0.5, y − 0.5, score; the
people with the highest mean score first).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dancejax.errors import DataError, where
from dancejax.io.sequence import PoseSequence

JOINTS = 18
MAX_FRAMES = 100_000
MAX_PEOPLE = 64


def read_kinetics_people(path) -> tuple[np.ndarray, np.ndarray, dict]:
    """(P, T, 18, 2) positions and (P, T, 18) scores of every person slot (people are not tracked
    across frames; slot k is the k-th skeleton of each frame, as the original feeder reads it),
    and the labels."""
    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise DataError(f"{path}: not a readable Kinetics-skeleton JSON ({type(e).__name__}: {e})") from None
    if not isinstance(d, dict) or not isinstance(d.get("data"), list):
        raise DataError(f"{where(path, 'data')}expected an object with a 'data' list of frames")
    frames = d["data"]
    if not frames or len(frames) > MAX_FRAMES:
        raise DataError(f"{where(path, 'data')}expected 1..{MAX_FRAMES} frames, got {len(frames)}")
    idx = []
    for i, f in enumerate(frames):
        fi = f.get("frame_index") if isinstance(f, dict) else None
        if not isinstance(fi, int) or isinstance(fi, bool) or fi < 1:
            raise DataError(f"{where(path, f'data[{i}].frame_index')}expected a positive integer, got {fi!r}")
        if not isinstance(f.get("skeleton"), list):
            raise DataError(f"{where(path, f'data[{i}].skeleton')}expected a list of people")
        idx.append(fi)
    if len(set(idx)) != len(idx):
        raise DataError(f"{where(path, 'frame_index')}repeated frame indices")
    t = max(idx)
    if t > MAX_FRAMES:
        raise DataError(f"{where(path, 'frame_index')}frame index {t} is beyond {MAX_FRAMES}")
    people = max(len(f["skeleton"]) for f in frames)
    if people > MAX_PEOPLE:
        raise DataError(f"{where(path, 'skeleton')}{people} people in a frame; at most {MAX_PEOPLE}")
    pos = np.zeros((max(people, 1), t, JOINTS, 2), np.float32)
    score = np.zeros((max(people, 1), t, JOINTS), np.float32)
    for i, f in enumerate(frames):
        for k, s in enumerate(f["skeleton"]):
            field = f"data[{i}].skeleton[{k}]"
            if not isinstance(s, dict):
                raise DataError(f"{where(path, field)}expected an object with 'pose' and 'score'")
            try:
                p = np.asarray(s.get("pose"), np.float64)
                sc = np.asarray(s.get("score"), np.float64)
            except (TypeError, ValueError):
                raise DataError(f"{where(path, field)}'pose' and 'score' must be lists of numbers") from None
            if p.shape != (2 * JOINTS,) or sc.shape != (JOINTS,):
                raise DataError(
                    f"{where(path, field)}expected 36 pose values and 18 scores, got {p.shape} and {sc.shape}"
                )
            if not (np.isfinite(p).all() and np.isfinite(sc).all()):
                raise DataError(f"{where(path, field)}non-finite values")
            if sc.min() < 0 or sc.max() > 1:
                raise DataError(f"{where(path, field + '.score')}expected values in [0, 1]")
            pos[k, f["frame_index"] - 1] = p.reshape(JOINTS, 2)
            score[k, f["frame_index"] - 1] = sc
    labels = {k: d[k] for k in ("label", "label_index") if k in d}
    return pos, score, labels


def read_kinetics_json(path, fps: float = 30.0, person: int = 0) -> PoseSequence:
    """One person slot (default: the highest mean score) as an ``openpose18`` 2D sequence."""
    pos, score, labels = read_kinetics_people(path)
    order = np.argsort(-score.mean(axis=(1, 2)))
    if not 0 <= person < len(order):
        raise DataError(f"{where(path, 'person')}expected an index below {len(order)}, got {person}")
    k = order[person]
    return PoseSequence(pos[k], score[k], fps, "openpose18", {"units": "normalized", **labels}, source=str(path))


def stgcn_input(path, max_people: int = 2) -> np.ndarray:
    """The original ST-GCN feeder's input: (M, T, 18, 3) = (x − 0.5, y − 0.5, score), zero where
    a joint is missing, the ``max_people`` slots with the highest mean score first."""
    pos, score, _ = read_kinetics_people(path)
    order = np.argsort(-score.mean(axis=(1, 2)))[:max_people]
    out = np.zeros((max_people,) + pos.shape[1:3] + (3,), np.float32)
    xy = pos[order] - 0.5
    xy = np.where(score[order][..., None] > 0, xy, 0.0)
    out[: len(order), ..., :2] = xy
    out[: len(order), ..., 2] = score[order]
    return out
