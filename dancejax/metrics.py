"""Metrics: PCK per joint group (SPEC §4), style accuracy and confusion, and the
prediction errors MAE / MPJPE (SPEC §5).  Pure jnp; NumPy arrays work too."""

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
