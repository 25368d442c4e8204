"""The prediction task: configuration and presets."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
from flax import struct

from dancejax.data.pipeline import (
    FRAMES,
    PREDICTION_AUGMENTS,
)
from dancejax.errors import DataError
from dancejax.maths.losses import POSE_LOSSES
from dancejax.models import PREDICTORS, build, model_class, model_fields, preset_sizes
from dancejax.train.optim import OptimConfig

NAME = "prediction"
LOSSES = POSE_LOSSES + ("mpjpe_all_frames",)
PRESETS = ("test", "quick", "default", "original", "paper")  # 'paper' is another name for 'original'
METHODS = tuple(PREDICTORS)
SCORE = "−MPJPE (mm, root-relative, all predicted frames)"


@struct.dataclass
class HParams:
    """The hyper-parameters a study may vary within one compiled program (arrays)."""

    lr: jax.Array
    lr_decay: jax.Array
    weight_decay: jax.Array
    dropout: jax.Array


@dataclasses.dataclass(frozen=True)
class PredictionConfig:
    """One training run.  ``model`` is the model instance (its fields are its hyper-parameters).

    ``iterations`` (when set) is the run's length in steps, as step-count recipes give it;
    otherwise ``epochs``.  ``loss``: one of ``LOSSES`` ('mpjpe_all_frames' is LTD's: the error
    over the observed and the predicted frames of its full output).  ``frame``/``augment``/
    ``units``/``normalize``: see the module docstring.  ``eval_every``: validation (and
    checkpoint) interval in epochs.  ``select``: evaluate the 'final' or the 'best'
    (by validation) parameters.
    """

    method: str = "stga_net"
    model: Any = None
    preset: str = "default"
    optim: OptimConfig = OptimConfig("adam", lr=1e-3, lr_decay=0.97, clip_norm=1.0)
    batch_size: int = 32
    epochs: int = 50
    iterations: int | None = None
    stride: int = 5
    max_train_windows: int | None = None
    loss: str = "mpjpe"
    frame: str = "root_relative"
    augment: tuple[str, ...] = ("yaw", "mirror")
    units: float = 1.0
    normalize: bool = False
    stats: tuple | None = None  # (mean, std) per coordinate, set from the training data when normalize
    eval_every: int = 1
    select: str = "final"
    seed: int = 0
    data_seed: int | None = None

    def __post_init__(self):
        if self.model is None:
            object.__setattr__(self, "model", build(PREDICTORS, self.method))
        checks = [
            (self.loss in LOSSES, f"loss {self.loss!r}: use one of {LOSSES}"),
            (self.frame in FRAMES, f"frame {self.frame!r}: use one of {FRAMES}"),
            (
                all(a in PREDICTION_AUGMENTS for a in self.augment),
                f"augment {self.augment!r}: use a tuple of {PREDICTION_AUGMENTS}",
            ),
            (self.select in ("final", "best"), f"select {self.select!r}: use 'final' or 'best'"),
            (
                isinstance(self.batch_size, int) and self.batch_size >= 1,
                f"batch_size must be ≥ 1, got {self.batch_size!r}",
            ),
            (isinstance(self.epochs, int) and self.epochs >= 1, f"epochs must be ≥ 1, got {self.epochs!r}"),
            (
                self.iterations is None or (isinstance(self.iterations, int) and self.iterations >= 1),
                f"iterations must be ≥ 1, got {self.iterations!r}",
            ),
            (isinstance(self.stride, int) and self.stride >= 1, f"stride must be ≥ 1, got {self.stride!r}"),
            (
                isinstance(self.eval_every, int) and self.eval_every >= 1,
                f"eval_every must be ≥ 1, got {self.eval_every!r}",
            ),
            (self.units > 0, f"units must be positive, got {self.units!r}"),
        ]
        for ok, msg in checks:
            if not ok:
                raise DataError(f"prediction config: {msg}")
        if self.loss == "mpjpe_all_frames" and "full" not in _call_args(self.model):
            raise DataError(
                f"prediction config: loss 'mpjpe_all_frames' needs a model that returns the observed "
                f"frames too (full=True); {self.method!r} does not"
            )

    @property
    def obs(self) -> int:
        return self.model.obs

    @property
    def pred(self) -> int:
        return self.model.pred


def _call_args(model) -> tuple:
    import inspect

    return tuple(inspect.signature(type(model).__call__).parameters)


def _quick_overrides(method: str) -> dict:
    """The CPU preset: Adam 2e-3 × 0.95 per epoch, 24 epochs of at most 1280 windows, with the
    sizes each model declares for it (``SIZES['quick']``; the variants chosen on validation
    windows in this budget: see docs/results.md)."""
    base = dict(optim=OptimConfig("adam", lr=2e-3, lr_decay=0.95, clip_norm=1.0), epochs=24, max_train_windows=1280)
    return {**base, "model": preset_sizes(PREDICTORS[method], "quick")}


def _test_overrides(method: str) -> dict:
    return dict(batch_size=8, epochs=2, max_train_windows=24, model=preset_sizes(PREDICTORS[method], "test"))


def preset_overrides(method: str, preset: str, obs: int, pred: int) -> dict:
    """The configuration fields a preset sets for ``method`` (a dict, 'model' = model fields)."""
    if preset not in PRESETS:
        raise DataError(f"unknown prediction preset {preset!r}; presets are {', '.join(PRESETS)}")
    if method not in PREDICTORS:
        raise DataError(f"unknown prediction method {method!r}; methods are {', '.join(METHODS)}")
    cls = model_class(PREDICTORS[method])
    if preset == "default":
        return {}
    if preset == "quick":
        return _quick_overrides(method)
    if preset == "test":
        return _test_overrides(method)
    recipe = getattr(cls, "recipe", None)
    out = recipe("original", obs, pred) if recipe is not None else None
    if out is None:
        if not getattr(cls, "trainable", True):
            return {}
        raise DataError(f"model {method!r} has no {preset!r} recipe")
    return out


def make_config(
    method: str = "stga_net",
    preset: str = "default",
    obs: int = 10,
    pred: int = 10,
    model: dict | None = None,
    **overrides,
) -> PredictionConfig:
    """A run configuration: ``preset``'s fields for ``method``, then ``model`` (model fields)
    and ``overrides`` (configuration fields).

    Args:
        method: a key of ``dancejax.models.PREDICTORS``.
        preset: one of ``PRESETS`` (``original`` exists for methods with an authors' recipe).
        obs: observed frames (2–50).
        pred: predicted frames (1–25).
        model: model fields to override.
        **overrides: ``PredictionConfig`` fields.

    Returns:
        A ``PredictionConfig``.

    Raises:
        DataError: an unknown method, preset or field.

    Example::

        cfg = make_config("simlpe", "original", obs=10, pred=10, seed=1)
    """
    if not (isinstance(obs, int) and isinstance(pred, int) and 2 <= obs <= 50 and 1 <= pred <= 25):
        raise DataError(f"obs must be in [2, 50] and pred in [1, 25] frames, got {obs!r}, {pred!r}")
    fields = preset_overrides(method, preset, obs, pred)
    model_kw = {**fields.pop("model", {}), **(model or {})}
    cfg_fields = {f.name for f in dataclasses.fields(PredictionConfig)}
    unknown = sorted(set(overrides) - cfg_fields)
    if unknown:
        raise DataError(f"unknown prediction config field(s) {unknown}; fields are {sorted(cfg_fields)}")
    m = build(PREDICTORS, method, **{"obs": obs, "pred": pred, **model_kw})
    return PredictionConfig(method=method, model=m, preset=preset, **{**fields, **overrides})


def static_key(cfg: PredictionConfig):
    """What shapes the compiled step: the config without array hyper-parameters and seeds."""
    return dataclasses.replace(
        cfg,
        model=cfg.model.clone(dropout=0.0),
        optim=cfg.optim.static(),
        seed=0,
        data_seed=None,
        epochs=1,
        iterations=None if cfg.iterations is None else 1,
    )


def with_hparams(cfg: PredictionConfig, seed=None, lr=None, lr_decay=None, weight_decay=None, dropout=None):
    """The configuration with some study values replaced (None keeps the current one)."""
    o = cfg.optim
    o = dataclasses.replace(
        o,
        lr=o.lr if lr is None else lr,
        lr_decay=o.lr_decay if lr_decay is None else lr_decay,
        weight_decay=o.weight_decay if weight_decay is None else weight_decay,
    )
    m = cfg.model if dropout is None else cfg.model.clone(dropout=dropout)
    return dataclasses.replace(cfg, optim=o, model=m, seed=cfg.seed if seed is None else seed)


def trainable(cfg: PredictionConfig) -> bool:
    return getattr(type(cfg.model), "trainable", True)


def describe(cfg: PredictionConfig) -> dict:
    """A JSON-able description of a configuration (for saved models and tables)."""
    d = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name not in ("model", "optim", "stats")}
    d["model"] = model_fields(cfg.model)
    d["optim"] = dataclasses.asdict(cfg.optim)
    d["stats"] = cfg.stats
    return d


def from_description(d: dict) -> PredictionConfig:
    """The inverse of ``describe`` (JSON lists back to tuples)."""

    def tup(x):
        return tuple(tup(v) for v in x) if isinstance(x, list) else x

    d = dict(d)
    method = d.pop("method")
    m = build(PREDICTORS, method, **{k: tup(v) for k, v in d.pop("model").items()})
    o = OptimConfig(**{k: tup(v) for k, v in d.pop("optim").items()})
    return PredictionConfig(method=method, model=m, optim=o, **{k: tup(v) for k, v in d.items()})


DEFAULT_METHOD = "stga_net"


def config_for_data(method: str, preset: str, dataset, real_fraction: float | None = None, **overrides):
    """``make_config`` for training on ``dataset`` (prediction takes nothing from it here)."""
    if real_fraction is not None:
        raise DataError("prediction config: real_fraction (--real-fraction) is a recognition setting")
    return make_config(method, preset, **overrides)
