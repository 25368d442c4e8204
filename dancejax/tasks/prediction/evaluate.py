"""The prediction task: evaluation."""

from __future__ import annotations

import numpy as np

from dancejax.maths.metrics import horizons_ms, mpjpe, prediction_errors
from dancejax.skeleton import root_relative
from dancejax.tasks.prediction.config import PredictionConfig
from dancejax.tasks.prediction.data import PredictionData, prepare
from dancejax.tasks.prediction.infer import predict_windows


def units(cfg: PredictionConfig) -> tuple[float, str]:
    """(factor, name) of the reported errors: millimetres for a 3D model (its poses are in
    metres), pixels for a 2D one."""
    return (1000.0, "mm") if cfg.model.dims == 3 else (1.0, "px")


def score(cfg: PredictionConfig, variables, data: PredictionData, split: str = "val") -> float:
    """Higher is better: −MPJPE in mm (3D; px for a 2D model; root-relative, every predicted
    frame) on the validation windows ('val') or all test windows ('test')."""
    cfg = prepare(cfg, data)
    w = data.val if split == "val" else np.concatenate(list(data.eval_sets.values()))
    out = predict_windows(cfg, variables, w)
    return -units(cfg)[0] * float(np.mean(np.asarray(mpjpe(root_relative(out), root_relative(w[:, cfg.obs :])))))


def zero_velocity(observed: np.ndarray, pred: int) -> np.ndarray:
    """The last observed pose, held: (N, obs, J, D) -> (N, pred, J, D)."""
    return np.repeat(observed[:, -1:], pred, 1)


def constant_velocity(observed: np.ndarray, pred: int) -> np.ndarray:
    """The last observed frame-to-frame motion, continued: (N, obs, J, D) -> (N, pred, J, D)."""
    step = observed[:, -1:] - observed[:, -2:-1]
    return observed[:, -1:] + step * np.arange(1, pred + 1, dtype=observed.dtype)[None, :, None, None]


BASELINES = {"zero velocity": zero_velocity, "const. velocity": constant_velocity}


def evaluate(cfg: PredictionConfig, variables, data: PredictionData) -> dict:
    """Errors per style and overall (``dancejax.maths.metrics.prediction_errors``, mm) on the test
    windows, with the predictions.

    Args:
        cfg: the run configuration (``prepare``-d: it carries the normalisation statistics).
        variables: ``{"params": ..., "batch_stats": ...}``.
        data: ``load_data(...)``.

    Returns:
        ``{"per_style": {style: table}, "overall": table, "baselines": {"zero velocity": table,
        "const. velocity": table} (the same test windows, no model), "real": {set: table}, ...}``; a table
        maps a metric (``mae``, ``mpjpe_rel``, ``mpjpe``) to {horizon in ms: error} in
        ``units`` (mm; px for a 2D model).  ``real``: a 2D model's real camera views
        (``data.real_sets``), empty otherwise.
    """
    cfg = prepare(cfg, data)
    hz = horizons_ms(cfg.pred)
    factor, unit = units(cfg)
    per_style, preds = {}, {}
    for style, w in data.eval_sets.items():
        preds[style] = predict_windows(cfg, variables, w)
        per_style[style] = prediction_errors(preds[style], w[:, cfg.obs :], hz, factor)
    allp = np.concatenate([preds[s] for s in data.eval_sets])
    allw = np.concatenate([data.eval_sets[s] for s in data.eval_sets])
    real = {
        name: prediction_errors(predict_windows(cfg, variables, w), w[:, cfg.obs :], hz, factor)
        for name, w in data.real_sets.items()
    }
    return {
        "per_style": per_style,
        "overall": prediction_errors(allp, allw[:, cfg.obs :], hz, factor),
        "baselines": {
            name: prediction_errors(fn(allw[:, : cfg.obs], cfg.pred), allw[:, cfg.obs :], hz, factor)
            for name, fn in BASELINES.items()
        },
        "real": real,
        "predictions": preds,
        "horizons_ms": hz,
        "protocol": data.protocol,
        "units": unit,
    }


def print_evaluation(ev: dict, data: PredictionData, log=print) -> dict:
    """Print ``evaluate``'s MPJPE table per style; return it without the predictions (JSON-ready)."""
    log(f"\nMPJPE ({ev.get('units', 'mm')}, root-relative), {data.protocol}")
    hz = ev["horizons_ms"]
    log(f"{'style':<16}" + "".join(f"{str(h) + ' ms':>10}" for h in hz))
    for st, e in list(ev["per_style"].items()) + [("overall", ev["overall"])] + list(ev.get("real", {}).items()):
        log(f"{st:<16}" + "".join(f"{e['mpjpe_rel'][h]:>10.1f}" for h in hz))
    for st, e in ev.get("baselines", {}).items():  # the test windows without a model, to judge the rows above
        log(f"{st:<16}" + "".join(f"{e['mpjpe_rel'][h]:>10.1f}" for h in hz))
    return {k: v for k, v in ev.items() if k != "predictions"}
