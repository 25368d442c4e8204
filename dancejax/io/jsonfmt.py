"""JSON keypoint formats and NPZ.

**COCO keypoints** (``read_coco_keypoints``): either a COCO annotation file
(``{"images": [...], "annotations": [...]}``, visibility flags v ∈ {0, 1, 2};
labelled joints get confidence 1) or a detection-results list
(``[{"image_id", "keypoints", "score"}, ...]``, the third value is a detector score, clipped to [0, 1]).
Frames are ordered by image id; with several people in an image the one with the
highest score (or the largest area) is kept.

**dancejax frame JSON** — the paper's "14 keypoints per image in JSON" annotations::

    {
      "format": "dancejax-frames",
      "version": 1,
      "layout": "lsp14",             # any layout name from dancejax.skeleton.LAYOUTS
      "fps": 25.0,
      "units": "px",                 # or "m", "normalized"
      "labels": {"style": "ballet"}, # optional
      "frames": [
        {"frame": 0, "image": "img_0000.jpg",      # image is optional
         "keypoints": [[x, y, c], ...]}            # one row per joint: x, y[, z], confidence in [0, 1]
      ]
    }

Frames must be consecutive (``frame`` 0, 1, 2, ...).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dancejax.errors import DataError, where
from dancejax.io.sequence import PoseSequence
from dancejax.io.validate import NPZ_ERRORS, check_joint_names, load_json, mapping, number, real_array, text
from dancejax.skeleton import get_layout

FRAME_FORMAT = "dancejax-frames"


def _load_json(path):
    return load_json(path)


def read_coco_keypoints(
    path, fps: float, layout: str = "coco17", labels: dict | None = None, person: int | None = None
) -> PoseSequence:
    """COCO keypoints (GT annotations or detection results), one person per image.

    The people of each image are ranked by their ``score`` (detection results), else their
    ``area`` (annotations), highest first; ``person`` (default 0) is the rank kept in every
    image, so 0 is the most confident or largest person.  An image with fewer people gives a
    frame whose joints all have confidence 0.  Ranks are per image: they follow no identity
    across frames.  When the file names its keypoints (``categories[].keypoints``) they are
    checked against the layout: the same joints in another order are reordered, another
    skeleton is an error."""
    fps = number(fps, path, "fps", positive=True)
    data = _load_json(path)
    lay = get_layout(layout)
    perm = None
    if isinstance(data, dict):
        anns = data.get("annotations")
        if not isinstance(anns, list):
            raise DataError(f"{where(path, 'annotations')}expected a list of keypoint annotations")
        gt = True
        cats = data.get("categories")
        if cats is not None:
            if not isinstance(cats, list) or not all(isinstance(c, dict) for c in cats):
                raise DataError(f"{where(path, 'categories')}expected a list of category objects")
            named = [c for c in cats if "keypoints" in c]
            if named:
                perm = check_joint_names(named[0]["keypoints"], lay, path, "categories[].keypoints")
    elif isinstance(data, list):
        anns, gt = data, False
    else:
        raise DataError(f"{path}: expected a COCO dict or a list of detections, got {type(data).__name__}")
    if not anns:
        raise DataError(f"{where(path, 'annotations')}no annotations in the file")
    person = 0 if person is None else person
    if isinstance(person, bool) or not isinstance(person, int) or person < 0:
        raise DataError(f"{where(path, 'person')}expected a rank 0, 1, ... (0: the highest score), got {person!r}")
    ranked: dict = {}
    id_type = None
    for i, a in enumerate(anns):
        field = f"annotations[{i}]"
        if not isinstance(a, dict) or "keypoints" not in a or "image_id" not in a:
            raise DataError(f"{where(path, field)}expected an object with 'image_id' and 'keypoints'")
        iid = a["image_id"]
        if isinstance(iid, bool) or not isinstance(iid, (int, str)):
            raise DataError(f"{where(path, field + '.image_id')}expected an integer or a string, got {iid!r}")
        if id_type is None:
            id_type = type(iid)
        elif type(iid) is not id_type:
            raise DataError(f"{where(path, field + '.image_id')}mixes {id_type.__name__} and {type(iid).__name__} ids")
        kp = real_array(a["keypoints"], path, field + ".keypoints", ndim=1, finite=True)
        if kp.size != 3 * lay.num_joints:
            raise DataError(
                f"{where(path, field + '.keypoints')}layout {lay.name!r} needs "
                f"{3 * lay.num_joints} numbers ({lay.num_joints} joints × x, y, v), got {kp.size}"
            )
        kp = kp.reshape(lay.num_joints, 3)
        if gt and not np.isin(kp[:, 2], (0.0, 1.0, 2.0)).all():
            raise DataError(
                f"{where(path, field + '.keypoints')}visibility flags must be 0, 1 or 2, got "
                f"{sorted(set(kp[:, 2].tolist()) - {0.0, 1.0, 2.0})}"
            )
        if not gt and kp[:, 2].min() < 0:
            raise DataError(f"{where(path, field + '.keypoints')}negative detector scores")
        rank = number(a.get("score", a.get("area", 0.0)), path, field + ".score")
        ranked.setdefault(iid, []).append((rank, i, kp))
    ids = sorted(ranked)
    people = max(len(v) for v in ranked.values())
    if person >= people:
        raise DataError(f"{where(path, 'person')}rank {person} asked, but no image has more than {people} people")
    absent = np.zeros((lay.num_joints, 3))
    picked = [sorted(ranked[i], key=lambda r: (-r[0], r[1])) for i in ids]
    kps = np.stack([p[person][2] if len(p) > person else absent for p in picked])
    if perm is not None:
        kps = kps[:, perm]
    # Detector scores (results format) can exceed 1 slightly; they are clipped to [0, 1].
    conf = (kps[..., 2] > 0).astype(np.float32) if gt else np.clip(kps[..., 2], 0.0, 1.0).astype(np.float32)
    lab = {"units": "px", "image_ids": ids, "person_rank": person, "max_people": people, **(labels or {})}
    return PoseSequence(kps[..., :2], conf, fps, lay.name, lab, source=str(path))


def write_frames_json(seq: PoseSequence, path, images: list[str] | None = None) -> None:
    frames = []
    for t in range(seq.num_frames):
        rows = np.concatenate([seq.positions[t], seq.confidence[t][:, None]], -1)
        fr = {"frame": t, "keypoints": np.round(rows.astype(np.float64), 6).tolist()}
        if images is not None:
            fr["image"] = images[t]
        frames.append(fr)
    labels = {k: v for k, v in seq.labels.items() if k != "units"}
    doc = {
        "format": FRAME_FORMAT,
        "version": 1,
        "layout": seq.layout,
        "joints": list(get_layout(seq.layout).joints),
        "fps": seq.fps,
        "units": seq.labels.get("units", "unknown"),
        "labels": labels,
        "frames": frames,
    }
    Path(path).write_text(json.dumps(doc))


def read_frames_json(path) -> PoseSequence:
    doc = _load_json(path)
    if not isinstance(doc, dict) or doc.get("format") != FRAME_FORMAT:
        raise DataError(f"{where(path, 'format')}expected {FRAME_FORMAT!r}; see dancejax.io.jsonfmt for the format")
    for key in ("layout", "fps", "frames"):
        if key not in doc:
            raise DataError(f"{where(path, key)}missing")
    lay = get_layout(text(doc["layout"], path, "layout"), source=path)
    fps = number(doc["fps"], path, "fps", positive=True)
    labels = mapping(doc.get("labels", {}), path, "labels")
    units = text(doc.get("units", "unknown"), path, "units")
    if "units" in labels and labels["units"] != units:
        raise DataError(
            f"{where(path, 'labels.units')}{labels['units']!r} contradicts the declared units {units!r}; "
            "give the unit once, in 'units'"
        )
    if "joints" in doc:
        if check_joint_names(doc["joints"], lay, path, "joints") is not None:
            raise DataError(f"{where(path, 'joints')}the joints are in another order than the {lay.name} layout's")
    frames = doc["frames"]
    if not isinstance(frames, list) or not frames:
        raise DataError(f"{where(path, 'frames')}expected a non-empty list of frames")
    rows = []
    for t, fr in enumerate(frames):
        if not isinstance(fr, dict) or fr.get("frame") != t or isinstance(fr.get("frame"), bool):
            raise DataError(f"{where(path, f'frames[{t}].frame')}expected frame {t} (consecutive from 0)")
        if "keypoints" not in fr:
            raise DataError(f"{where(path, f'frames[{t}].keypoints')}missing")
        kp = real_array(fr["keypoints"], path, f"frames[{t}].keypoints")
        if kp.ndim != 2 or kp.shape[0] != lay.num_joints or kp.shape[1] not in (3, 4):
            raise DataError(
                f"{where(path, f'frames[{t}].keypoints')}layout {lay.name!r} needs {lay.num_joints} rows "
                f"of (x, y[, z], confidence), got shape {kp.shape}"
            )
        if rows and kp.shape != rows[0].shape:
            raise DataError(f"{where(path, f'frames[{t}].keypoints')}shape {kp.shape} differs from frame 0")
        rows.append(kp)
    arr = np.stack(rows)
    return PoseSequence(arr[..., :-1], arr[..., -1], fps, lay.name, {"units": units, **labels}, source=str(path))


def write_npz(seq: PoseSequence, path) -> None:
    np.savez_compressed(
        path,
        positions=seq.positions,
        confidence=seq.confidence,
        fps=seq.fps,
        layout=seq.layout,
        labels=json.dumps(seq.labels),
    )


def read_npz(path) -> PoseSequence:
    """NPZ with ``positions`` (T, J, D), optional ``confidence``, ``fps``, ``layout``, ``labels`` (JSON).

    Loaded with ``allow_pickle=False``: object arrays are refused.  A ``.npy`` array is not an
    NPZ: read it with ``read_npy`` (which asks for the frame rate and layout).
    """
    path = Path(path)
    try:
        z = np.load(path, allow_pickle=False)
    except NPZ_ERRORS as e:
        raise DataError(f"{path}: not a readable NPZ file ({type(e).__name__}: {str(e)[:200]})") from None
    if isinstance(z, np.ndarray):
        raise DataError(
            f"{path}: a bare .npy array, not an NPZ archive: read it with read_npy(path, fps=..., "
            "layout=...) (or dancejax's readers, which dispatch on the suffix)"
        )
    try:
        with z:
            d = {k: z[k] for k in z.files}
    except NPZ_ERRORS as e:
        raise DataError(f"{path}: not a readable NPZ file ({type(e).__name__}: {str(e)[:200]})") from None
    for key in ("positions", "fps", "layout"):
        if key not in d:
            raise DataError(f"{where(path, key)}missing; the file has {sorted(d)}")
    if d["fps"].ndim != 0:
        raise DataError(f"{where(path, 'fps')}expected one number, got an array of shape {d['fps'].shape}")
    fps = number(d["fps"], path, "fps", positive=True)
    layout = text(d["layout"], path, "layout")
    labels = {}
    if "labels" in d:
        try:
            labels = json.loads(text(d["labels"], path, "labels"))
        except json.JSONDecodeError as e:
            raise DataError(f"{where(path, 'labels')}not valid JSON ({e})") from None
        mapping(labels, path, "labels")
    pos = real_array(d["positions"], path, "positions", ndim=3)
    conf = real_array(d["confidence"], path, "confidence", ndim=2) if "confidence" in d else None
    return PoseSequence(pos, conf, fps, layout, labels, source=str(path))


def read_npy(path, fps: float | None = None, layout: str = "lsp14", scale: float | None = None) -> PoseSequence:
    """A bare ``.npy`` array of poses (T, J, 2 or 3), read with ``allow_pickle=False``; the
    frame rate and layout are not in the file, so ``fps`` is required and ``layout`` is given."""
    path = Path(path)
    if fps is None:
        raise DataError(f"{where(path, 'fps')}a .npy array carries no frame rate; give fps")
    try:
        x = np.load(path, allow_pickle=False)
    except NPZ_ERRORS as e:
        raise DataError(f"{path}: not a readable .npy array ({type(e).__name__}: {str(e)[:200]})") from None
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "fiu":
        raise DataError(f"{where(path, 'positions')}expected a real numeric array, got dtype {x.dtype}")
    x = x.astype(np.float32) * np.float32(scale or 1.0)
    return PoseSequence(x, None, float(fps), layout, {"units": "m" if scale else "file units"}, source=str(path))
