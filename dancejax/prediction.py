"""The prediction task: from ``obs`` observed 3D poses predict the next ``pred`` (paper §III-C).

A task module exposes the functions every task has (``dancejax.tasks``): ``make_config``,
``load_data``, ``steps_per_epoch``, ``epoch_batches``, ``init_state``, ``hparams``,
``make_train_step``, ``score``, ``evaluate``, ``trainable``, ``static_key``.

Windows stay in global coordinates (metres, Y up) until the train step, which augments them,
moves them to the model's coordinate frame (``cfg.frame``: 'trajectory' or 'root_relative',
``dancejax.data.pipeline``) and units (``cfg.units``), standardises them when
``cfg.normalize``, and computes ``cfg.loss``.  Metrics, in millimetres (``dancejax.metrics``):
root-relative MAE / MPJPE (primary) and global, at 80/160/320/400 ms (and 560/1000 ms for 25
predicted frames).  Evaluation windows are drawn per style from the held-out takes with a
fixed seed; their count is an argument and every table says which protocol made it.

Every preset predicts in the 'root_relative' frame, the frame of the primary metric (each
frame's mid-hip removed; the loss is then the root-relative MPJPE, and global outputs hold the
root where it was last seen); 'trajectory' (relative to the last observed mid-hip, so the model
predicts the root's path too) is a config choice.

Presets: 'default' (Adam 1e-3 × 0.97 per epoch, batch 32, 50 epochs), 'quick' (a CPU budget),
'test' (tiny, for the test suite), and each model's own recipes (``'original'``: its authors'
training recipe, see the model's ``recipe``).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from dancejax.data.dataset import DanceDataset, take_windows
from dancejax.data.pipeline import (
    FRAMES,
    PREDICTION_AUGMENTS,
    augment_prediction,
    coordinate_stats,
    eval_windows,
    global_origin,
    to_frame,
)
from dancejax.errors import DataError
from dancejax.losses import POSE_LOSSES, pose_loss
from dancejax.metrics import horizons_ms, mpjpe, prediction_errors
from dancejax.models import PREDICTORS, build, model_class, model_fields
from dancejax.skeleton import root_relative
from dancejax.train.optim import OptimConfig, TrainState, make_optimizer, new_state, optimizer_update

NAME = "prediction"
LOSSES = POSE_LOSSES + ("mpjpe_all_frames",)
PRESETS = ("default", "quick", "test", "original")
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


# ---------------------------------------------------------------- presets


def _quick_overrides(method: str) -> dict:
    """The CPU preset: Adam 2e-3 × 0.95 per epoch, 24 epochs of at most 1280 windows.

    STGA-Net and LTD keep their full size; siMLPe keeps 16 of its 48 blocks and DMGNN a hidden
    width of 64, the variants that scored better on the validation windows in this budget
    (siMLPe-48 is under-trained in 480 steps; DMGNN in full does not fit a CPU).  Measured
    (3 seeds, validation root-relative MPJPE over the predicted frames, mm): STGA-Net width 64
    55.6 against width 32 57.5; LTD hidden 256 × 12 stages 64.6 against 64 × 4 73.9; siMLPe 16
    blocks 57.0 against 48 blocks 59.1 (12 epochs each); STGA-Net 24 epochs 51.2 against 12
    epochs 55.6, so every method gets 24."""
    base = dict(optim=OptimConfig("adam", lr=2e-3, lr_decay=0.95, clip_norm=1.0), epochs=24, max_train_windows=1280)
    narrow = {
        "dmgnn": {"hidden": 64},
        "simlpe": {"blocks": 16},
    }
    return {**base, "model": narrow.get(method, {})}


def _test_overrides(method: str) -> dict:
    small = {
        "stga_net": {"width": 16, "blocks": 2},
        "ltd": {"hidden": 16, "stages": 2},
        "dmgnn": {"hidden": 16},
        "simlpe": {"blocks": 2},
    }
    return dict(batch_size=8, epochs=2, max_train_windows=24, model=small.get(method, {}))


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
    out = recipe(preset, obs, pred) if recipe is not None else None
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


# ---------------------------------------------------------------- data


@dataclasses.dataclass
class PredictionData:
    styles: list[str]
    train: np.ndarray  # (N, obs + pred, J, 3) global windows, metres
    val: np.ndarray
    eval_sets: dict[str, np.ndarray]  # style -> (n, obs + pred, J, 3) test windows
    protocol: str
    length: int


def load_data(
    ds: DanceDataset, cfg: PredictionConfig, per_style: int | None = 64, seed: int = 0, styles=None
) -> PredictionData:
    """Training windows (stride ``cfg.stride``) of the train takes; validation and test windows
    per style (``per_style`` drawn with ``seed``, or all at stride 1 with None).

    Args:
        ds: a ``DanceDataset``.
        cfg: the run configuration (its ``obs + pred`` is the window length).
        per_style: test windows per style (None: every window at stride 1).
        seed: the seed that draws them.
        styles: restrict every split to these styles.

    Returns:
        ``PredictionData`` with global windows in metres and the protocol in words.

    Raises:
        DataError: an unknown style, or no take long enough for a window.
    """
    length = cfg.obs + cfg.pred
    styles = list(ds.styles if styles is None else styles)
    missing = sorted(set(styles) - set(ds.styles))
    if missing:
        raise DataError(f"{ds.path}: no takes of style(s) {missing}; styles are {ds.styles}")
    train_takes = [t for t in ds.list_takes("train") if t.style in styles and t.num_frames >= length]
    if not train_takes:
        raise DataError(f"{ds.path}: no training take of {styles} has {length} frames (obs + pred)")
    train = take_windows(train_takes, length, cfg.stride, ds.styles).positions
    evals = eval_windows(ds, "test", length, per_style, seed, styles)
    val_sets = eval_windows(ds, "val", length, per_style, seed + 1, styles)
    if not evals:
        raise DataError(f"{ds.path}: no test take of {styles} has {length} frames")
    val = np.concatenate(list(val_sets.values())) if val_sets else np.concatenate(list(evals.values()))
    which = (
        "all windows at stride 1"
        if per_style is None
        else f"{per_style} windows per style (fewer where a style has fewer), starts drawn with seed {seed}"
    )
    protocol = (
        f"test-split takes of {', '.join(sorted(evals))}, {which}; {cfg.obs} observed -> {cfg.pred} "
        f"predicted frames at 25 fps" + ("" if val_sets else "; no validation takes: validation uses test")
    )
    return PredictionData(
        sorted(evals),
        train.astype(np.float32),
        val.astype(np.float32),
        {k: v.astype(np.float32) for k, v in evals.items()},
        protocol,
        length,
    )


def prepare(cfg: PredictionConfig, data: PredictionData) -> PredictionConfig:
    """Fill in what a configuration takes from the training data (normalisation statistics)."""
    if cfg.normalize and cfg.stats is None:
        cfg = dataclasses.replace(cfg, stats=coordinate_stats(data.train, cfg.obs, cfg.frame, cfg.units))
    return cfg


def _check_data(data: PredictionData, cfg: PredictionConfig):
    if data.length != cfg.obs + cfg.pred:
        raise DataError(
            f"prediction data: windows of {data.length} frames, but the config needs obs + pred = {cfg.obs + cfg.pred}"
        )


def steps_per_epoch(data: PredictionData, cfg: PredictionConfig) -> int:
    _check_data(data, cfg)
    n = len(data.train) if not cfg.max_train_windows else min(len(data.train), cfg.max_train_windows)
    if n < cfg.batch_size:
        raise DataError(f"batch size {cfg.batch_size} is larger than the {n} training windows")
    return n // cfg.batch_size


def epoch_batches(data: PredictionData, cfg: PredictionConfig, epoch: int):
    """The batches of one epoch: a pure function of (data seed, epoch), so a resumed run sees
    the same data.  Augmentation happens inside the train step."""
    rng = np.random.default_rng([cfg.seed if cfg.data_seed is None else cfg.data_seed, epoch, 7])
    order = rng.permutation(len(data.train))
    if cfg.max_train_windows:
        order = order[: cfg.max_train_windows]
    b = cfg.batch_size
    for i in range(len(order) // b):
        yield {"window": data.train[order[i * b : (i + 1) * b]]}


# ---------------------------------------------------------------- model as a function


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
    """Observed (N, obs, J, D) global poses -> (N, pred, J, D) global predictions (traceable)."""
    to_model, from_model = _standardise(cfg)
    window = jnp.concatenate([observed, jnp.repeat(observed[:, -1:], cfg.pred, 1)], 1)
    x = to_model(to_frame(window, cfg.obs, cfg.frame)[:, : cfg.obs])
    out = from_model(cfg.model.apply(variables, x, train=False))
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
            f"{source}: field 'observed': coordinates up to {big:.3g}; expected metres "
            f"(|x| ≤ 1e4); convert the units first"
        )


@functools.lru_cache(maxsize=16)
def _jitted_forward(cfg: PredictionConfig):
    return jax.jit(lambda variables, obs: forward(cfg, variables, obs))


class Predictor:
    """A trained model as a callable: observed (B, ≥obs, J, 3) global poses (metres) -> the next
    ``horizon`` (default ``pred``) frames, global.  It uses the last ``obs`` frames."""

    def __init__(self, cfg: PredictionConfig, variables):
        self.cfg, self.variables = cfg, variables
        self._run = _jitted_forward(cfg)

    def __call__(self, observed, horizon: int | None = None):
        check_observed(observed, self.cfg, horizon)
        obs = jnp.asarray(np.asarray(observed)[:, -self.cfg.obs :], jnp.float32)
        out = self._run(self.variables, obs)
        return out if horizon is None else out[:, :horizon]


def predict_windows(cfg: PredictionConfig, variables, windows: np.ndarray, batch: int = 256) -> np.ndarray:
    """Predictions for (N, ≥obs, J, 3) windows (their first ``obs`` frames observed), in
    fixed-size batches (the last one padded) so that inference compiles once."""
    run = Predictor(cfg, variables)
    obs = np.asarray(windows[:, : cfg.obs])
    n = len(obs)
    batch = min(batch, n)
    pad = (-n) % batch
    obs = np.concatenate([obs, np.repeat(obs[:1], pad, 0)]) if pad else obs
    return np.concatenate([np.asarray(run(obs[i : i + batch])) for i in range(0, n + pad, batch)])[:n]


# ---------------------------------------------------------------- training


def hparams(cfg: PredictionConfig) -> HParams:
    f = jnp.float32
    return HParams(f(cfg.optim.lr), f(cfg.optim.lr_decay), f(cfg.optim.weight_decay), f(cfg.model.dropout))


def init_state(cfg: PredictionConfig, key) -> TrainState:
    m = cfg.model
    x = jnp.zeros((1, m.obs, m.joints, m.dims))
    v = m.init({"params": key, "dropout": key}, x, train=False)
    return new_state(v.get("params", {}), v.get("batch_stats", {}), cfg.optim)


def make_train_step(cfg: PredictionConfig, data: PredictionData):
    """The task's one train step ``(state, batch, rng, hparams) -> (state, metrics)``, a pure
    function (the caller jits or vmaps it).  Augmentation, the coordinate frame, units,
    standardisation, forward, loss and the optimizer update all happen inside."""
    cfg = prepare(cfg, data)
    spe = steps_per_epoch(data, cfg)
    tx = make_optimizer(cfg.optim)
    o = cfg.obs
    to_model, _ = _standardise(cfg)
    full = cfg.loss == "mpjpe_all_frames"
    loss_kind = "mpjpe" if full else cfg.loss

    def step(state: TrainState, batch, rng, hp: HParams):
        model = cfg.model.clone(dropout=hp.dropout)  # the rate is an array
        k_aug, k_drop = jax.random.split(rng)
        w = batch["window"]
        w = jax.vmap(lambda k, x: augment_prediction(k, x, cfg.augment, o, cfg.frame))(
            jax.random.split(k_aug, w.shape[0]), w
        )
        w = to_model(w)

        def loss_fn(params):
            out, upd = model.apply(
                {"params": params, "batch_stats": state.batch_stats},
                w[:, :o],
                train=True,
                rngs={"dropout": k_drop},
                mutable=["batch_stats"],
                **({"full": True} if full else {}),
            )
            return pose_loss(out, w if full else w[:, o:], loss_kind), upd.get("batch_stats", {})

        (loss, new_bs), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        params, opt_state = optimizer_update(tx, cfg.optim, state, grads, hp, spe)
        return TrainState(state.step + 1, params, new_bs, opt_state), {"loss": loss}

    return step


# ---------------------------------------------------------------- evaluation


def score(cfg: PredictionConfig, variables, data: PredictionData, split: str = "val") -> float:
    """Higher is better: −MPJPE in mm (root-relative, every predicted frame) on the validation
    windows ('val') or all test windows ('test')."""
    cfg = prepare(cfg, data)
    w = data.val if split == "val" else np.concatenate(list(data.eval_sets.values()))
    out = predict_windows(cfg, variables, w)
    return -1000.0 * float(np.mean(np.asarray(mpjpe(root_relative(out), root_relative(w[:, cfg.obs :])))))


def evaluate(cfg: PredictionConfig, variables, data: PredictionData) -> dict:
    """Errors per style and overall (``dancejax.metrics.prediction_errors``, mm) on the test
    windows, with the predictions.

    Args:
        cfg: the run configuration (``prepare``-d: it carries the normalisation statistics).
        variables: ``{"params": ..., "batch_stats": ...}``.
        data: ``load_data(...)``.

    Returns:
        ``{"per_style": {style: table}, "overall": table, ...}``; a table maps a metric
        (``mae``, ``mpjpe_rel``, ``mpjpe``) to {horizon in ms: mm}.
    """
    cfg = prepare(cfg, data)
    hz = horizons_ms(cfg.pred)
    per_style, preds = {}, {}
    for style, w in data.eval_sets.items():
        preds[style] = predict_windows(cfg, variables, w)
        per_style[style] = prediction_errors(preds[style], w[:, cfg.obs :], hz)
    allp = np.concatenate([preds[s] for s in data.eval_sets])
    allw = np.concatenate([data.eval_sets[s] for s in data.eval_sets])
    return {
        "per_style": per_style,
        "overall": prediction_errors(allp, allw[:, cfg.obs :], hz),
        "predictions": preds,
        "horizons_ms": hz,
        "protocol": data.protocol,
        "units": "mm",
    }


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


__all__ = [
    "HParams",
    "PredictionConfig",
    "PredictionData",
    "Predictor",
    "LOSSES",
    "METHODS",
    "NAME",
    "PRESETS",
    "SCORE",
    "check_observed",
    "describe",
    "epoch_batches",
    "evaluate",
    "forward",
    "from_description",
    "hparams",
    "init_state",
    "load_data",
    "make_config",
    "make_train_step",
    "predict_windows",
    "prepare",
    "score",
    "static_key",
    "steps_per_epoch",
    "trainable",
    "with_hparams",
]
