"""The prediction task: inference (the model as a function)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from dancejax.data.pipeline import (
    global_origin,
    pose_scale,
    to_frame,
)
from dancejax.errors import DataError
from dancejax.skeleton import root_relative
from dancejax.tasks.prediction.config import PredictionConfig


def _standardise(cfg: PredictionConfig):
    """(to model units, from model units) for (..., J, D) arrays in the model's frame."""
    if not cfg.normalize:
        return (lambda x: x * cfg.units), (lambda y: y / cfg.units)
    if cfg.stats is None:
        raise DataError("prediction config: normalize=True needs stats; call prediction.prepare(cfg, data)")
    shape = (cfg.model.joints, cfg.model.dims)
    mean = jnp.asarray(np.reshape(cfg.stats[0], shape), jnp.float32)
    std = jnp.asarray(np.reshape(cfg.stats[1], shape), jnp.float32)
    return (lambda x: (x * cfg.units - mean) / std), (lambda y: (y * std + mean) / cfg.units)


def forward(cfg: PredictionConfig, variables, observed):
    """Observed (N, obs, J, D) global poses -> (N, pred, J, D) global predictions (traceable).
    2D poses are divided by their torso length on the way in and multiplied back on the way out
    (``dancejax.data.pipeline.pose_scale``)."""
    to_model, from_model = _standardise(cfg)
    window = jnp.concatenate([observed, jnp.repeat(observed[:, -1:], cfg.pred, 1)], 1)
    s = pose_scale(observed, cfg.obs)
    x = to_model(to_frame(window, cfg.obs, cfg.frame)[:, : cfg.obs] / s)
    out = from_model(cfg.model.apply(variables, x, train=False)) * s
    origin = global_origin(observed, cfg.frame)
    if cfg.frame == "trajectory":
        return out + origin
    return root_relative(out) + origin


def check_observed(obs, cfg: PredictionConfig, horizon: int | None = None, source: str = "input"):
    """Clear errors before anything reaches the model."""
    m = cfg.model
    try:
        obs = np.asarray(obs, np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{source}: field 'observed': expected a numeric array") from None
    if obs.ndim != 4:
        raise DataError(
            f"{source}: field 'observed': expected (batch, frames, joints, {m.dims}), got shape "
            f"{obs.shape}" + ("; add a batch axis: x[None]" if obs.ndim == 3 else "")
        )
    if obs.shape[-1] != m.dims:
        raise DataError(
            f"{source}: field 'observed': this model was built for {m.dims}D poses, got "
            f"{obs.shape[-1]}D input (shape {obs.shape})"
        )
    if obs.shape[1] < m.obs:
        raise DataError(f"{source}: field 'observed': the model needs {m.obs} observed frames, got {obs.shape[1]}")
    if obs.shape[2] != m.joints:
        raise DataError(f"{source}: field 'observed': expected {m.joints} LSP-14 joints, got {obs.shape[2]}")
    if obs.shape[0] == 0:
        raise DataError(f"{source}: field 'observed': empty batch")
    if horizon is not None:
        if not isinstance(horizon, (int, np.integer)) or isinstance(horizon, bool) or horizon < 1:
            raise DataError(f"{source}: horizon must be a positive number of frames, got {horizon!r}")
        if horizon > m.pred:
            raise DataError(f"{source}: horizon {horizon} frames is longer than the model was built for ({m.pred})")
    if not np.isfinite(obs).all():
        raise DataError(f"{source}: field 'observed': {int((~np.isfinite(obs)).sum())} NaN/inf values")
    big = np.abs(obs).max()
    if big > 1e4:
        raise DataError(
            f"{source}: field 'observed': coordinates up to {big:.3g}; expected "
            f"{'pixels' if m.dims == 2 else 'metres'} "
            f"(|x| ≤ 1e4); convert the units first"
        )


@functools.lru_cache(maxsize=16)
def _jitted_forward(cfg: PredictionConfig):
    return jax.jit(lambda variables, obs: forward(cfg, variables, obs))


class Predictor:
    """A trained model as a callable: observed (B, ≥obs, J, D) global poses (metres for a 3D
    model, pixels for a 2D one) -> the next ``horizon`` (default ``pred``) frames, global.  It
    uses the last ``obs`` frames."""

    KIND = "predictor"

    def __init__(self, cfg: PredictionConfig, variables):
        self.cfg, self.variables = cfg, variables
        self._run = _jitted_forward(cfg)

    def __call__(self, observed, horizon: int | None = None):
        check_observed(observed, self.cfg, horizon)
        obs = jnp.asarray(np.asarray(observed)[:, -self.cfg.obs :], jnp.float32)
        out = self._run(self.variables, obs)
        return out if horizon is None else out[:, :horizon]


def predict_windows(cfg: PredictionConfig, variables, windows: np.ndarray, batch: int = 256) -> np.ndarray:
    """Predictions for (N, ≥obs, J, D) windows (their first ``obs`` frames observed), in
    fixed-size batches (the last one padded) so that inference compiles once."""
    run = Predictor(cfg, variables)
    obs = np.asarray(windows[:, : cfg.obs])
    n = len(obs)
    batch = min(batch, n)
    pad = (-n) % batch
    obs = np.concatenate([obs, np.repeat(obs[:1], pad, 0)]) if pad else obs
    return np.concatenate([np.asarray(run(obs[i : i + batch])) for i in range(0, n + pad, batch)])[:n]


def ready_model(cfg: PredictionConfig, variables, meta: dict) -> Predictor:
    """A saved prediction model as a ready ``Predictor``."""
    return Predictor(cfg, variables)
