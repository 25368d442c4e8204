"""Metrics: PCK per joint group (SPEC §4), style accuracy and confusion, the prediction
errors MAE / MPJPE (SPEC §5), and the refinement errors the field reports beside PCK:
acceleration error (jitter) and 2D MPJPE (``refinement_table``).  Pure jnp; NumPy arrays
work too."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from dancejax.skeleton import LSP14, LSP14_GROUPS, root_relative

NORMALIZERS = ("bbox", "torso", "head")


def pck_normalizer(gt, kind: str = "bbox"):
    """Per-frame reference length from the ground truth (…, J, D) -> (…).

    bbox:  larger side of the keypoint bounding box (default);
    torso: neck to mid-hip distance;
    head:  neck to head-top distance (the head segment, as in PCKh).
    """
    if kind == "bbox":
        ext = gt.max(-2) - gt.min(-2)
        return ext.max(-1)
    neck = gt[..., LSP14.index("neck"), :]
    if kind == "torso":
        hip = 0.5 * (gt[..., LSP14.index("r_hip"), :] + gt[..., LSP14.index("l_hip"), :])
        return jnp.linalg.norm(neck - hip, axis=-1)
    if kind == "head":
        return jnp.linalg.norm(gt[..., LSP14.index("head_top"), :] - neck, axis=-1)
    raise ValueError(f"Unsupported PCK normaliser: {kind!r}; use one of {NORMALIZERS}")


def pck_hits(pred, gt, visible, alpha: float, normalizer: str = "bbox"):
    """(…, J) correct (1), wrong (0), on visible GT joints; and the visibility mask."""
    ref = pck_normalizer(gt, normalizer)[..., None]
    dist = jnp.linalg.norm(pred - gt, axis=-1)
    return (dist <= alpha * ref) & (visible > 0), visible > 0


def pck_table(
    pred, gt, visible, alphas=(0.2, 0.1, 0.05), normalizer: str = "bbox", groups: dict = LSP14_GROUPS
) -> dict[float, dict[str, float]]:
    """PCK in percent per joint group and 'mean' (over all visible joints), per threshold."""
    pred, gt, visible = (np.asarray(a) for a in (pred, gt, visible))
    out = {}
    for a in alphas:
        hit, vis = (np.asarray(z) for z in pck_hits(pred, gt, visible, a, normalizer))
        row = {}
        for g, idx in groups.items():
            idx = list(idx)
            row[g] = 100.0 * hit[..., idx].sum() / max(vis[..., idx].sum(), 1)
        row["mean"] = 100.0 * hit.sum() / max(vis.sum(), 1)
        out[a] = row
    return out


def confusion_matrix(labels, preds, num_classes: int) -> np.ndarray:
    m = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(m, (np.asarray(labels), np.asarray(preds)), 1)
    return m


def accuracy(labels, preds) -> float:
    labels, preds = np.asarray(labels), np.asarray(preds)
    return float(100.0 * (labels == preds).mean()) if labels.size else float("nan")


def per_class_accuracy(labels, preds, num_classes: int) -> list[float | None]:
    """Recall of each class in percent (None for a class with no example)."""
    m = confusion_matrix(labels, preds, num_classes)
    n = m.sum(1)
    return [float(100.0 * m[i, i] / n[i]) if n[i] else None for i in range(num_classes)]


def balanced_accuracy(labels, preds, num_classes: int) -> float:
    """Mean per-class recall over the classes present, in percent."""
    acc = [a for a in per_class_accuracy(labels, preds, num_classes) if a is not None]
    return float(np.mean(acc)) if acc else float("nan")


FRAME_MS = 40.0  # one frame at the canonical 25 fps


def horizons_ms(pred: int) -> list[int]:
    """The field's horizons: 80/160/320/400 ms, plus 560 and 1000 ms when 25 frames are predicted."""
    hs = [80, 160, 320, 400] + ([560, 1000] if pred >= 25 else [])
    return [h for h in hs if h / FRAME_MS <= pred]


def mae(pred, gt):
    """Mean absolute coordinate error per frame (the paper's MAE): (N, T, J, D) -> (T,)."""
    return jnp.abs(pred - gt).mean(axis=(0, 2, 3))


def mpjpe(pred, gt):
    """Mean per-joint L2 position error per frame: (N, T, J, D) -> (T,)."""
    return jnp.linalg.norm(pred - gt, axis=-1).mean(axis=(0, 2))


def prediction_errors(pred, gt, horizons: list[int], scale: float = 1000.0) -> dict[str, dict[int, float]]:
    """MAE and MPJPE at each horizon (ms), root-relative (each frame's mid-hip subtracted from
    prediction and ground truth, the primary numbers) and global (with the trajectory).
    ``scale`` converts the inputs' unit to the reported one (metres -> millimetres)."""
    pred, gt = np.asarray(pred, np.float64) * scale, np.asarray(gt, np.float64) * scale
    out = {}
    for name, (p, g) in {"rel": (root_relative(pred), root_relative(gt)), "global": (pred, gt)}.items():
        e_abs, e_l2 = np.asarray(mae(p, g)), np.asarray(mpjpe(p, g))
        out[f"mae_{name}"] = {h: float(e_abs[int(h / FRAME_MS) - 1]) for h in horizons}
        out[f"mpjpe_{name}"] = {h: float(e_l2[int(h / FRAME_MS) - 1]) for h in horizons}
    return out


# ---------------------------------------------------------------- refinement: jitter and accuracy


def second_difference(x):
    """``x[t-1] − 2 x[t] + x[t+1]`` along the time axis -3 of (…, T, J, D): (…, T−2, J, D)."""
    return x[..., :-2, :, :] - 2.0 * x[..., 1:-1, :, :] + x[..., 2:, :, :]


def accel_errors(pred, gt):
    """SmoothNet's acceleration error per frame and joint: the norm of the difference between
    the second differences of the estimate and of the ground truth, (…, T, J, D) -> (…, T−2, J),
    in the inputs' unit per frame² (entry t−1 belongs to frame t, the centre of its triple).
    NumPy inputs are computed in NumPy (float64 stays float64), jax arrays in jnp."""
    xp = np if isinstance(pred, np.ndarray) and isinstance(gt, np.ndarray) else jnp
    return xp.linalg.norm(second_difference(pred) - second_difference(gt), axis=-1)


def accel_visible(visible):
    """An acceleration entry counts only where the joint is visible in all three of its
    frames (SmoothNet zeroes a frame's three entries the same way): (…, T, J) -> (…, T−2, J)."""
    v = np.asarray(visible) > 0
    return v[..., :-2, :] & v[..., 1:-1, :] & v[..., 2:, :]


REFINEMENT_METRICS = ("pck05", "pck10", "pck20", "accel", "accel_norm", "mpjpe2d", "mpjpe2d_norm")
REFINEMENT_UNITS = {
    "pck05": "% of visible joints within 0.05 × the GT box's larger side",
    "pck10": "% within 0.1 × box",
    "pck20": "% within 0.2 × box",
    "accel": "px / frame²",
    "accel_norm": "% of the GT box's larger side / frame²",
    "mpjpe2d": "px",
    "mpjpe2d_norm": "% of the GT box's larger side",
}


def refinement_table(pred, gt, visible=None, groups: dict = LSP14_GROUPS) -> dict[str, dict[str, float]]:
    """Accuracy and jitter of refined 2D keypoint sequences, per joint group and ``'mean'``.

    ``pred``, ``gt``: (S, T, J, 2) pixel sequences (S streams of T frames at one frame rate;
    windows work too, each then loses its two end frames to the acceleration);
    ``visible``: (S, T, J) (None: all visible).  Every metric is a mean over the (frame, joint)
    entries of the group (each entry weighs the same, so the mean over joints equals
    SmoothNet's mean of per-frame joint means):

    * ``pck05`` / ``pck10`` / ``pck20``: PCK at 0.05 / 0.1 / 0.2 of the GT box's larger side (%);
    * ``accel``: acceleration error (``accel_errors``), px per frame², over the frames with a
      frame before and after; ``accel_norm``: each entry divided by its frame's box size, in %;
    * ``mpjpe2d``: the mean L2 position error in px; ``mpjpe2d_norm``: divided by the box, in %.
    """
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    if pred.shape != gt.shape or pred.ndim != 4:
        raise ValueError(f"refinement_table: pred {pred.shape} and gt {gt.shape} must both be (S, T, J, D)")
    visible = np.ones(gt.shape[:-1]) if visible is None else np.asarray(visible)
    box = np.maximum(np.asarray(pck_normalizer(gt)), 1e-9)  # (S, T)
    err = np.linalg.norm(pred - gt, axis=-1)  # (S, T, J)
    acc = np.asarray(accel_errors(pred, gt))  # (S, T-2, J)
    vis, avis = visible > 0, np.asarray(accel_visible(visible))
    per = {
        "accel": (acc, avis),
        "accel_norm": (100.0 * acc / box[:, 1:-1, None], avis),
        "mpjpe2d": (err, vis),
        "mpjpe2d_norm": (100.0 * err / box[..., None], vis),
    }
    for key, a in (("pck05", 0.05), ("pck10", 0.1), ("pck20", 0.2)):
        per[key] = (100.0 * (err <= a * box[..., None]), vis)
    out: dict[str, dict[str, float]] = {}
    for name in REFINEMENT_METRICS:
        val, mask = per[name]
        row = {}
        for g, idx in list(groups.items()) + [("mean", tuple(range(gt.shape[-2])))]:
            m = mask[..., list(idx)]
            row[g] = float(val[..., list(idx)][m].mean()) if m.any() else float("nan")
        out[name] = row
    return out
