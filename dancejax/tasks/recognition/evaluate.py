"""The recognition task: evaluation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from dancejax.data.pipeline import normalize
from dancejax.maths.filters import apply_filter
from dancejax.maths.metrics import balanced_accuracy, confusion_matrix, pck_table, per_class_accuracy
from dancejax.tasks.recognition.config import RecognitionConfig
from dancejax.tasks.recognition.data import RecognitionData
from dancejax.tasks.recognition.infer import predict_set


def raw_prediction(s: dict):
    """The raw-detector baseline: the detections themselves (undetected joints at the window centre)."""
    xn, c, sc = jax.vmap(normalize)(jnp.asarray(s["x"]), jnp.asarray(s["conf"]))
    return np.asarray(xn * sc[:, None, None, None] + c[:, None, None])


def evaluate_set(pred, s: dict, logits=None, num_styles: int = 5, normalizer: str = "bbox") -> dict:
    """PCK per joint group at 0.2/0.1/0.05, and with class scores the style accuracy (%), the
    balanced accuracy over the classes present, per-class accuracy and the confusion matrix."""
    res = {"pck": pck_table(pred, s["gt"], s["visible"], normalizer=normalizer)}
    if logits is not None:
        p = np.asarray(logits).argmax(-1)
        res["style_acc"] = float(100.0 * (np.asarray(s["style"]) == p).mean())
        res["balanced_acc"] = balanced_accuracy(s["style"], p, num_styles)
        res["per_class_acc"] = per_class_accuracy(s["style"], p, num_styles)
        res["confusion"] = confusion_matrix(s["style"], p, num_styles).tolist()
    if not np.asarray(s.get("has_gt", 1.0)).any():
        res["pck"] = {a: {g: float("nan") for g in row} for a, row in res["pck"].items()}
        res["note"] = "no ground truth (2D keypoint takes): PCK not measured"
    return res


def score(cfg: RecognitionConfig, variables, data: RecognitionData, split: str = "val") -> float:
    """Higher is better: mean PCK@0.05 (%) on ``cfg.select_on`` ('val') or on the real test
    detections ('test')."""
    s = data.sets[cfg.select_on if split == "val" else "aist_real"]
    pred, logits = predict_set(cfg, variables, s)
    if not np.asarray(s.get("has_gt", 1.0)).any():  # 2D keypoint takes: no ground truth to score refinement on
        return balanced_accuracy(s["style"], np.asarray(logits).argmax(-1), len(data.styles))
    return float(pck_table(pred, s["gt"], s["visible"], (0.05,))[0.05]["mean"])


def evaluate(cfg: RecognitionConfig, variables, data: RecognitionData) -> dict:
    """Every evaluation set: PCK tables and style accuracies, with the predictions.

    Args:
        cfg: the run configuration.
        variables: ``{"params": ..., "batch_stats": ...}``.
        data: ``load_data(...)``.

    Returns:
        ``{set name: {"pck": {threshold: {group: %}}, "style_accuracy", "balanced_accuracy",
        "per_class", ...}}``.
    """
    out = {}
    for name, s in data.sets.items():
        pred, logits = predict_set(cfg, variables, s)
        out[name] = {**evaluate_set(pred, s, logits, len(data.styles)), "prediction": pred, "logits": logits}
    return out


FILTER_GRID = {
    "savgol": [dict(window=w, order=o) for w in (5, 7, 9, 11, 15) for o in (1, 2, 3) if w > o + 1],
    "one_euro": [dict(min_cutoff=m, beta=b) for m in (0.5, 1.0, 2.0, 4.0, 8.0) for b in (0.0, 0.3, 1.0, 3.0)],
}


def filter_predictions(kind: str, s: dict, params: dict, raw=None):
    """The filter applied to each window of the raw detections (``raw``: precomputed
    ``raw_prediction(s)``)."""
    raw = raw_prediction(s) if raw is None else raw
    return np.stack([apply_filter(kind, raw[i], s["conf"][i], **params) for i in range(len(raw))])


def tune_filter(kind: str, val: dict, alpha: float = 0.05) -> tuple[dict, float]:
    """Grid-search the filter's parameters on a validation set by mean PCK@alpha (bbox)."""
    best, best_score = None, -1.0
    raw = raw_prediction(val)
    for params in FILTER_GRID[kind]:
        pred = filter_predictions(kind, val, params, raw)
        sc = pck_table(pred, val["gt"], val["visible"], (alpha,))[alpha]["mean"]
        if sc > best_score:
            best, best_score = params, sc
    return best, best_score


def print_evaluation(ev: dict, data: RecognitionData, log=print) -> dict:
    """Print ``evaluate``'s tables; return them without the predictions (JSON-ready)."""
    log("\nmean PCK (%, GT-bbox normaliser) and style accuracy (% of windows)")
    log(f"{'set':<12}{'PCK@0.2':>9}{'PCK@0.1':>9}{'PCK@0.05':>10}{'style':>8}{'balanced':>10}")
    for name, e in ev.items():
        log(
            f"{name:<12}{e['pck'][0.2]['mean']:>9.1f}{e['pck'][0.1]['mean']:>9.1f}{e['pck'][0.05]['mean']:>10.1f}"
            f"{e.get('style_acc', float('nan')):>8.1f}{e.get('balanced_acc', float('nan')):>10.1f}"
        )
    return {n: {k: v for k, v in e.items() if k not in ("prediction", "logits")} for n, e in ev.items()}
