"""Refinement on real detections only: how SmoothNet is trained (its ``original`` recipe).

A refiner of ``dancejax.models.REFINERS`` learns to map the real AIST++ detector keypoints of
the training sequences (every view, every window at ``stride`` 1) to their projected 3D
ground truth, with SmoothNet's loss (``dancejax.maths.losses.temporal_l1``).  Coordinates are
normalised by each view's image frame, ``(x − size / 2) / (max side / 2)``, as the original
normalises Human3.6M's 1000-pixel frame, ``(x − 500) / 500``.  At test time a whole sequence
is covered by windows (``dancejax.data.windows``): offline, every window at stride 1 with the
overlapping outputs averaged (the original's test protocol), or causal, the last frame of the
window ending at each frame.

The ``original`` preset is the authors' Human3.6M recipe (``configs/h36m_fcn_3D.yaml``, the
model behind their 2D results): hidden 512, residual hidden 128, 5 blocks, dropout 0.25; L1
positions + 0.1 × L1 accelerations; Adam (AMSGrad, PyTorch's) at 1e-3 × 0.95 per epoch; batch
1024; 70 epochs; the final model.  Its adaptations to these data: **window** 32 frames (the
authors' current default; the configuration file says 100); **joints** LSP-14, 28 channels
(Human3.6M: 17 joints); **2D** AIST++ detections (the authors' 2D models are trained on 3D
positions and tested on 2D); **frame rate** 25 fps (AIST++ is filmed at 60, Human3.6M at 50),
so a window spans 1.28 s; each view's own image size in the normalisation.  As in the
original, an epoch draws as many windows as the training sequences have frames (its dataset's
length; the windows beyond one pass are drawn again at random), in batches of 1024 with a
last, partial batch (padded to the static shape with zero-weight windows).

This module provides what ``dancejax.train.loop.fit`` calls (configuration, data, batches,
train step, validation score), not the whole ``dancejax.tasks.Task`` contract: the refinement
benchmark (``dancejax.studies.refinement``) trains and evaluates with it.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from dancejax.data.noise import real_frames
from dancejax.data.windows import causal_windows, check_length, cut, overlap_average, sliding_starts
from dancejax.errors import DataError
from dancejax.maths.losses import temporal_l1
from dancejax.maths.metrics import pck_table
from dancejax.models import REFINERS, build, model_fields, preset_sizes
from dancejax.train.optim import OptimConfig, TrainState, make_optimizer, new_state, optimizer_update

NAME = "refinement"
PRESETS = ("test", "quick", "original")
METHODS = tuple(REFINERS)
DEFAULT_METHOD = "smoothnet"
SCORE = "mean PCK@0.05 (%, GT-bbox normaliser) on real validation sequences, offline"
MODES = ("offline", "causal")


@struct.dataclass
class HParams:
    lr: jax.Array
    lr_decay: jax.Array
    weight_decay: jax.Array
    dropout: jax.Array


@dataclasses.dataclass(frozen=True)
class RefinementConfig:
    """One training run of a refiner on real detections (see the module docstring)."""

    method: str = "smoothnet"
    model: Any = None
    preset: str = "original"
    optim: OptimConfig = OptimConfig("adam", lr=1e-3, lr_decay=0.95, amsgrad=True)
    window: int = 32
    stride: int = 1
    batch_size: int = 1024
    epochs: int = 70
    iterations: int | None = None
    w_pos: float = 1.0
    w_accel: float = 0.1
    max_train_windows: int | None = None
    select: str = "final"
    eval_every: int = 10
    seed: int = 0
    data_seed: int | None = None

    def __post_init__(self):
        if self.model is None:
            object.__setattr__(self, "model", build(REFINERS, self.method, window=self.window))
        if getattr(self.model, "window", self.window) != self.window:
            raise DataError(f"refinement config: model window {self.model.window} != config window {self.window}")
        for ok, msg in (
            (isinstance(self.window, int) and self.window >= 3, f"window must be ≥ 3 frames, got {self.window!r}"),
            (isinstance(self.batch_size, int) and self.batch_size >= 1, f"batch_size must be ≥ 1: {self.batch_size!r}"),
            (isinstance(self.stride, int) and self.stride >= 1, f"stride must be ≥ 1, got {self.stride!r}"),
            (self.select in ("final", "best"), f"select {self.select!r}: use 'final' or 'best'"),
        ):
            if not ok:
                raise DataError(f"refinement config: {msg}")


def preset_overrides(method: str, preset: str) -> dict:
    """The configuration fields of ``preset`` ('model': model fields).  ``quick`` is the
    original recipe for 20 epochs (a CPU budget); ``test`` is tiny."""
    if preset not in PRESETS:
        raise DataError(f"unknown refinement preset {preset!r}; presets are {', '.join(PRESETS)}")
    if method not in METHODS:
        raise DataError(f"unknown refinement method {method!r}; methods are {', '.join(METHODS)}")
    sizes = preset_sizes(REFINERS[method], preset)
    if preset == "original":
        return {"model": sizes}
    if preset == "quick":
        return {"model": sizes, "epochs": 20, "eval_every": 5}
    return {"model": sizes, "window": 8, "batch_size": 16, "epochs": 1, "max_train_windows": 64, "eval_every": 1}


def make_config(method: str = DEFAULT_METHOD, preset: str = "original", model: dict | None = None, **overrides):
    """``preset``'s configuration of ``method`` with model fields and config fields overridden."""
    fields = preset_overrides(method, preset)
    model_kw = {**fields.pop("model", {}), **(model or {})}
    known = {f.name for f in dataclasses.fields(RefinementConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise DataError(f"unknown refinement config field(s) {unknown}; fields are {sorted(known)}")
    fields.update(overrides)
    window = fields.get("window", RefinementConfig.window)
    m = build(REFINERS, method, window=window, **model_kw)
    return RefinementConfig(method=method, model=m, preset=preset, **fields)


def describe(cfg: RefinementConfig) -> dict:
    d = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name not in ("model", "optim")}
    d["model"] = model_fields(cfg.model)
    d["optim"] = dataclasses.asdict(cfg.optim)
    return d


# ---------------------------------------------------------------- data


def image_frame(size) -> tuple[np.ndarray, float]:
    """Centre (2,) and half of the larger side of an image of ``size`` = (width, height)."""
    w, h = (float(v) for v in size)
    return np.array([w / 2.0, h / 2.0]), max(w, h) / 2.0


def detection_sequences(ds, split: str, part: str) -> dict[str, list] | None:
    """Every view of the real detection sets of ``split`` as one sequence (``part`` 'train' or
    'val' of the train-split sequences, see ``dancejax.data.noise.real_frames``; test sequences
    whole): lists of ``x`` (T, J, 2) px, ``conf`` (T, J), ``gt`` (T, J, 2), ``size`` (w, h),
    ``name``; None when there is none."""
    out: dict[str, list] = {k: [] for k in ("x", "conf", "gt", "size", "name")}
    for d in ds.detections:
        if d.split != split:
            continue
        det = np.asarray(d.det)
        conf = None if d.conf is None else np.asarray(d.conf)
        if conf is None or conf.shape != det.shape[:-1]:
            raise DataError(
                f"{ds.path}: detection set {d.name!r}: field 'confidence': expected the detector's scores, shape "
                f"{det.shape[:-1]} (views, frames, joints), got {None if conf is None else conf.shape}"
            )
        if not d.cameras or len(d.cameras) != det.shape[0]:
            raise DataError(
                f"{ds.path}: detection set {d.name!r}: field 'cameras': one camera per view is needed for its "
                f"image size, got {len(d.cameras or ())} for {det.shape[0]} views"
            )
        fr = real_frames(d, part)
        for v in range(det.shape[0]):
            out["x"].append(det[v, fr].astype(np.float32))
            out["conf"].append(conf[v, fr].astype(np.float32))
            out["gt"].append(np.asarray(d.gt)[v, fr].astype(np.float32))
            out["size"].append(tuple(d.cameras[v].size))
            out["name"].append(f"{d.name}/view{v}")
    return out if out["x"] else None


@dataclasses.dataclass
class RefinementData:
    train: dict[str, np.ndarray]  # x, gt: (N, window, J, 2) image-normalised windows
    sets: dict[str, dict[str, list]]  # 'real_val', 'aist_real': detection_sequences
    window: int
    frames: int  # frames of the training sequences: the windows an epoch draws


def load_data(ds, cfg: RefinementConfig) -> RefinementData:
    """Training windows (every ``cfg.stride`` frames of every view of the training part) and the
    real validation and held-out sequences.

    Raises:
        DataError: no training sequence as long as the window; detection sets without
            confidences or cameras.
    """
    train = detection_sequences(ds, "train", "train")
    if train is None:
        raise DataError(f"{ds.path}: no real detections of train-split sequences to train a refiner on")
    xs, gs, frames = [], [], 0
    for x, g, size in zip(train["x"], train["gt"], train["size"]):
        frames += len(x)
        if len(x) < cfg.window:
            continue
        c, s = image_frame(size)
        starts = np.arange(0, len(x) - cfg.window + 1, cfg.stride)
        xs.append((cut(x, starts, cfg.window) - c) / s)
        gs.append((cut(g, starts, cfg.window) - c) / s)
    if not xs:
        raise DataError(f"{ds.path}: no training sequence has the window's {cfg.window} frames")
    sets = {"real_val": detection_sequences(ds, "train", "val"), "aist_real": detection_sequences(ds, "test", "test")}
    return RefinementData(
        {"x": np.concatenate(xs).astype(np.float32), "gt": np.concatenate(gs).astype(np.float32)},
        {k: v for k, v in sets.items() if v is not None},
        cfg.window,
        frames,
    )


def _pool(data: RefinementData, cfg: RefinementConfig) -> tuple[int, int]:
    """(windows to draw from, windows per epoch)."""
    n = len(data.train["x"]) if not cfg.max_train_windows else min(cfg.max_train_windows, len(data.train["x"]))
    return n, (max(n, data.frames) if not cfg.max_train_windows else n)


def steps_per_epoch(data: RefinementData, cfg: RefinementConfig) -> int:
    if data.window != cfg.window:
        raise DataError(f"refinement data: windows of {data.window} frames, the config needs {cfg.window}")
    n, samples = _pool(data, cfg)
    if samples < cfg.batch_size:
        raise DataError(f"batch size {cfg.batch_size} is larger than the {samples} windows of an epoch")
    return -(-samples // cfg.batch_size)


def epoch_batches(data: RefinementData, cfg: RefinementConfig, epoch: int):
    """The batches of epoch ``epoch`` (a pure function of the data seed and epoch): every window
    once and the rest of the epoch's draws at random, shuffled; ``w`` is 0 for the windows that
    pad the last batch."""
    spe = steps_per_epoch(data, cfg)
    n, samples = _pool(data, cfg)
    rng = np.random.default_rng([cfg.seed if cfg.data_seed is None else cfg.data_seed, epoch])
    order = np.concatenate([np.arange(n), rng.choice(n, samples - n)])
    rng.shuffle(order)
    pad = spe * cfg.batch_size - samples
    order = np.concatenate([order, order[:pad]])
    weight = np.concatenate([np.ones(samples, np.float32), np.zeros(pad, np.float32)])
    for i in range(spe):
        sl = slice(i * cfg.batch_size, (i + 1) * cfg.batch_size)
        yield {"x": data.train["x"][order[sl]], "gt": data.train["gt"][order[sl]], "w": weight[sl]}


# ---------------------------------------------------------------- training


def hparams(cfg: RefinementConfig) -> HParams:
    f = jnp.float32
    return HParams(f(cfg.optim.lr), f(cfg.optim.lr_decay), f(cfg.optim.weight_decay), f(cfg.model.dropout))


def init_state(cfg: RefinementConfig, key) -> TrainState:
    v = cfg.model.init({"params": key, "dropout": key}, jnp.zeros((1, cfg.window, 14, 2)), train=False)
    return new_state(v["params"], {}, cfg.optim)


def make_train_step(cfg: RefinementConfig, data: RefinementData):
    """``(state, batch, rng, hparams) -> (state, metrics)``: forward, SmoothNet's loss, update."""
    spe = steps_per_epoch(data, cfg)
    tx = make_optimizer(cfg.optim)

    def step(state: TrainState, batch, rng, hp: HParams):
        model = cfg.model.clone(dropout=hp.dropout)

        def loss_fn(params):
            out = model.apply({"params": params}, batch["x"], train=True, rngs={"dropout": rng})
            per = jax.vmap(lambda p, g: temporal_l1(p, g, cfg.w_pos, 0.0, cfg.w_accel))(out, batch["gt"])
            return (batch["w"] * per).sum() / jnp.maximum(batch["w"].sum(), 1.0)

        loss, grads = jax.value_and_grad(loss_fn)(state.params)
        params, opt_state = optimizer_update(tx, cfg.optim, state, grads, hp, spe)
        return TrainState(state.step + 1, params, state.batch_stats, opt_state), {"loss": loss}

    return step


def trainable(cfg: RefinementConfig) -> bool:
    return True


def prepare(cfg: RefinementConfig, data) -> RefinementConfig:
    return cfg


def static_key(cfg: RefinementConfig):
    return dataclasses.replace(
        cfg, model=cfg.model.clone(dropout=0.0), optim=cfg.optim.static(), seed=0, data_seed=None, epochs=1
    )


def with_hparams(cfg: RefinementConfig, seed=None, lr=None, lr_decay=None, weight_decay=None, dropout=None):
    o = cfg.optim
    o = dataclasses.replace(
        o,
        lr=o.lr if lr is None else lr,
        lr_decay=o.lr_decay if lr_decay is None else lr_decay,
        weight_decay=o.weight_decay if weight_decay is None else weight_decay,
    )
    return dataclasses.replace(
        cfg,
        optim=o,
        seed=cfg.seed if seed is None else seed,
        model=cfg.model if dropout is None else cfg.model.clone(dropout=dropout),
    )


# ---------------------------------------------------------------- inference


@functools.lru_cache(maxsize=16)
def _apply_fn(model):
    return jax.jit(lambda variables, x: model.apply(variables, x, train=False))


def run_windows(cfg: RefinementConfig, variables, windows, batch: int = 256) -> np.ndarray:
    """The model on normalised windows (N, window, J, 2), in fixed-size batches (one compile)."""
    fn = _apply_fn(cfg.model.clone(dropout=0.0))
    n = len(windows)
    batch = max(1, min(batch, n))
    pad = (-n) % batch
    w = np.concatenate([windows, np.repeat(windows[:1], pad, 0)]).astype(np.float32)
    out = [np.asarray(fn(variables, w[i : i + batch])) for i in range(0, n + pad, batch)]
    return np.concatenate(out)[:n]


def refine_sequence(cfg: RefinementConfig, variables, x, size, mode: str = "offline", stride: int = 1):
    """One sequence (T, J, 2) in pixels of an image of ``size`` (w, h), refined offline or
    causally (see the module docstring); returns (T, J, 2) pixels.

    Raises:
        DataError: a sequence shorter than the window; an unknown mode.
    """
    if mode not in MODES:
        raise DataError(f"refinement mode {mode!r}: use one of {', '.join(MODES)}")
    x = np.asarray(x, np.float32)
    check_length(len(x), cfg.window, f"{cfg.method} input")
    c, s = image_frame(size)
    xn = (x - c) / s
    if mode == "causal":
        out = run_windows(cfg, variables, causal_windows(xn, cfg.window))[:, -1]
    else:
        starts = sliding_starts(len(x), cfg.window, stride)
        out = overlap_average(run_windows(cfg, variables, cut(xn, starts, cfg.window)), starts, len(x))
    return out * s + c


def predict_sequences(cfg: RefinementConfig, variables, seqs: dict, mode: str = "offline") -> list[np.ndarray]:
    return [refine_sequence(cfg, variables, x, size, mode) for x, size in zip(seqs["x"], seqs["size"])]


def score(cfg: RefinementConfig, variables, data: RefinementData, split: str = "val") -> float:
    """Mean PCK@0.05 (%) of the offline refinement on the real validation ('val') or held-out
    ('test') sequences."""
    seqs = data.sets["real_val" if split == "val" else "aist_real"]
    pred = np.concatenate(predict_sequences(cfg, variables, seqs))
    gt = np.concatenate(seqs["gt"])
    return float(pck_table(pred, gt, np.ones(gt.shape[:-1]), (0.05,))[0.05]["mean"])
