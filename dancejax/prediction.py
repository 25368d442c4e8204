"""The prediction task: from ``obs`` observed 3D poses predict the next ``pred`` (SPEC §5).

Coordinates: every window is translated so that the last observed mid-hip is the
origin (metres, Y up); models predict in that frame, so their outputs carry the
trajectory.  Metrics, in millimetres:

* root-relative (primary, the field's convention): each frame's mid-hip subtracted
  from prediction and ground truth before MAE / MPJPE;
* global: the same without subtracting, i.e. with the trajectory.

Evaluation windows are drawn per style from the held-out takes with a fixed seed;
their number per style is an argument, and every table says which protocol made it.
"""

from __future__ import annotations

import dataclasses
import functools
import time

import jax
import jax.numpy as jnp
import numpy as np

from dancejax.data.dataset import DanceDataset, take_windows
from dancejax.errors import DataError
from dancejax.models.predictors import PredictionModelConfig, build_predictor
from dancejax.skeleton import LSP14
from dancejax.train.common import (OptimConfig, TrainState, cached_step, fit_task, make_optimizer,
                                   optimizer_update, static_optim)

FRAME_MS = 40.0  # 25 fps
BASELINES = ("zero_velocity", "constant_velocity")
LEARNED = ("ltd", "dmgnn", "simlpe", "stga_net")
METHODS = BASELINES + LEARNED


def horizons_ms(pred: int) -> list[int]:
    """80/160/320/400 ms, plus 560 and 1000 ms when 25 frames are predicted."""
    hs = [80, 160, 320, 400] + ([560, 1000] if pred >= 25 else [])
    return [h for h in hs if h / FRAME_MS <= pred]


@dataclasses.dataclass(frozen=True)
class PredictionConfig:
    method: str = "stga_net"
    model: PredictionModelConfig = PredictionModelConfig()
    optim: OptimConfig = OptimConfig("adam", lr=1e-3, lr_decay=0.97, clip_norm=1.0)
    batch_size: int = 32
    epochs: int = 50
    stride: int = 5
    loss: str = "l2"  # mean per-joint position error; 'l1' = mean absolute coordinate error
    max_train_windows: int | None = None
    seed: int = 0  # initialisation and step RNG
    data_seed: int | None = None  # data order and augmentation; None = ``seed``

    @staticmethod
    def default(method: str = "stga_net", obs: int = 10, pred: int = 10, **kw) -> "PredictionConfig":
        """Full preset: Adam 1e-3 × 0.97 per epoch, clipping at norm 1, batch 32, 50 epochs."""
        return _with_model(PredictionConfig(method=method, **kw), method, obs, pred)

    @staticmethod
    def quick(method: str = "stga_net", obs: int = 10, pred: int = 10, **kw) -> "PredictionConfig":
        """CPU preset: Adam 2e-3 × 0.95 per epoch, 12 epochs of at most 1280 windows, hidden 32
        (LTD 64)."""
        base = dict(optim=OptimConfig("adam", lr=2e-3, lr_decay=0.95, clip_norm=1.0), epochs=12,
                    max_train_windows=1280)
        base.update(kw)
        cfg = _with_model(PredictionConfig(method=method, **base), method, obs, pred)
        return dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, width=32 if method != "ltd" else 64))


def _with_model(cfg, method, obs, pred):
    if method not in LEARNED:
        raise ValueError(f"Unsupported model: {method!r}; learned methods are {LEARNED}")
    if not 2 <= obs <= 50 or not 1 <= pred <= 25:
        raise ValueError(f"obs must be in [2, 50] and pred in [1, 25] frames, got {obs}, {pred}")
    return dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, kind=method, obs=obs, pred=pred))


# ---------------------------------------------------------------- data

def to_local(windows: np.ndarray, obs: int) -> np.ndarray:
    """Translate (N, L, J, 3) windows so the last observed mid-hip is the origin."""
    hip = 0.5 * (windows[:, obs - 1, 2] + windows[:, obs - 1, 3])
    return windows - hip[:, None, None, :]


@dataclasses.dataclass
class PredictionData:
    styles: list[str]
    train: np.ndarray  # (N, obs + pred, J, 3) local coordinates, metres
    eval_sets: dict[str, np.ndarray]  # style -> (n, obs + pred, J, 3) test windows
    val: np.ndarray  # validation-split windows, all styles
    protocol: str


def eval_windows(ds: DanceDataset, split: str, length: int, per_style: int, seed: int) -> dict[str, np.ndarray]:
    """``per_style`` windows per style from the split's takes, starts drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    out = {}
    for style in ds.styles:
        takes = [t for t in ds.list_takes(split, style) if t.num_frames >= length]
        if not takes:
            continue
        cands = [(i, s) for i, t in enumerate(takes) for s in range(t.num_frames - length + 1)]
        pick = rng.choice(len(cands), size=min(per_style, len(cands)), replace=False)
        out[style] = np.stack([takes[cands[k][0]].positions[cands[k][1]:cands[k][1] + length] for k in sorted(pick)])
    return out


def load_data(ds: DanceDataset, obs: int = 10, pred: int = 10, stride: int = 5, per_style: int = 64,
              seed: int = 0) -> PredictionData:
    length = obs + pred
    train = take_windows(ds.list_takes("train"), length, stride, ds.styles)
    evals = eval_windows(ds, "test", length, per_style, seed)
    val = np.concatenate(list(eval_windows(ds, "val", length, per_style, seed + 1).values()))
    protocol = (f"test-split takes, {per_style} windows per style (fewer where a style has fewer), "
                f"starts drawn with seed {seed}; {obs} observed -> {pred} predicted frames at 25 fps")
    return PredictionData(ds.styles, to_local(train.positions, obs), {k: to_local(v, obs) for k, v in evals.items()},
                          to_local(val, obs), protocol)


def augment_batch(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Random yaw about the vertical axis and a random left/right mirror, per window."""
    n = x.shape[0]
    a = rng.uniform(0, 2 * np.pi, n)
    c, s = np.cos(a), np.sin(a)
    r = np.zeros((n, 3, 3), np.float32)
    r[:, 0, 0], r[:, 0, 2], r[:, 1, 1], r[:, 2, 0], r[:, 2, 2] = c, s, 1, -s, c
    y = np.einsum("nij,nlkj->nlki", r, x)
    flip = rng.uniform(size=n) < 0.5
    mirrored = y[:, :, LSP14.flip_permutation] * np.array([-1.0, 1.0, 1.0], np.float32)
    return np.where(flip[:, None, None, None], mirrored, y).astype(np.float32)


def epoch_batches(data: PredictionData, cfg: PredictionConfig, epoch: int):
    rng = np.random.default_rng([cfg.seed if cfg.data_seed is None else cfg.data_seed, epoch, 7])
    order = rng.permutation(len(data.train))
    if cfg.max_train_windows:
        order = order[: cfg.max_train_windows]
    steps = len(order) // cfg.batch_size
    x = augment_batch(rng, data.train[order[: steps * cfg.batch_size]])
    for i in range(steps):
        yield {"window": x[i * cfg.batch_size:(i + 1) * cfg.batch_size]}


def steps_per_epoch(data: PredictionData, cfg: PredictionConfig) -> int:
    n = len(data.train) if not cfg.max_train_windows else min(len(data.train), cfg.max_train_windows)
    return n // cfg.batch_size


# ---------------------------------------------------------------- models as functions

def check_observed(obs, cfg: PredictionModelConfig, horizon: int | None = None, source: str = "observed"):
    """Clear errors before anything reaches the model."""
    obs = np.asarray(obs)
    if obs.ndim != 4:
        raise DataError(f"{source}: expected (batch, frames, joints, {cfg.dims}), got shape {obs.shape}")
    if obs.shape[-1] != cfg.dims:
        raise DataError(f"{source}: this model was built for {cfg.dims}D poses, got {obs.shape[-1]}D input "
                        f"(shape {obs.shape})")
    if obs.shape[1] < cfg.obs:
        raise DataError(f"{source}: the model needs {cfg.obs} observed frames, got {obs.shape[1]}")
    if obs.shape[2] != 14:
        raise DataError(f"{source}: expected 14 LSP joints, got {obs.shape[2]}")
    if horizon is not None and horizon > cfg.pred:
        raise DataError(f"{source}: horizon {horizon} frames is longer than the model was built for ({cfg.pred})")
    if not np.isfinite(obs).all():
        raise DataError(f"{source}: NaN/inf in the observed poses")


def baseline_predict(method: str, obs, pred: int):
    if method == "zero_velocity":
        return jnp.repeat(obs[:, -1:], pred, 1)
    if method == "constant_velocity":
        v = obs[:, -1:] - obs[:, -2:-1]
        return obs[:, -1:] + v * jnp.arange(1, pred + 1, dtype=obs.dtype)[None, :, None, None]
    raise ValueError(f"Unsupported baseline: {method!r}")


class Predictor:
    """A trained model as a callable: observed (B, ≥obs, J, 3) -> next ``horizon`` frames.

    Uses the last ``cfg.obs`` frames; inputs are translated to the last mid-hip and back.
    """

    def __init__(self, cfg: PredictionModelConfig, variables):
        self.cfg, self.variables = cfg, variables
        self._run = _inference_fn(cfg)

    def __call__(self, observed, horizon: int | None = None):
        check_observed(observed, self.cfg, horizon)
        obs = jnp.asarray(observed[:, -self.cfg.obs:], jnp.float32)
        out = self._run(self.variables, obs)
        return out if horizon is None else out[:, :horizon]


@functools.lru_cache(maxsize=16)
def _inference_fn(cfg: PredictionModelConfig):
    model = build_predictor(cfg)

    def run(variables, obs):
        hip = 0.5 * (obs[:, -1, 2] + obs[:, -1, 3])[:, None, None]
        return model.apply(variables, obs - hip, train=False) + hip

    return jax.jit(run)


# ---------------------------------------------------------------- training

def pose_loss(pred, gt, kind: str = "l2"):
    if kind == "l2":
        return jnp.linalg.norm(pred - gt, axis=-1).mean()
    if kind == "l1":
        return jnp.abs(pred - gt).mean()
    raise ValueError(f"Unsupported loss: {kind!r}")


def default_hparams(cfg: PredictionConfig) -> dict:
    return {"lr": jnp.float32(cfg.optim.lr), "lr_decay": jnp.float32(cfg.optim.lr_decay),
            "weight_decay": jnp.float32(cfg.optim.weight_decay), "dropout": jnp.float32(cfg.model.dropout)}


HPARAMS = ("lr", "lr_decay", "weight_decay", "dropout")


def init_state(cfg: PredictionConfig, key) -> TrainState:
    model = build_predictor(cfg.model)
    x = jnp.zeros((cfg.batch_size, cfg.model.obs, 14, cfg.model.dims))
    v = model.init({"params": key, "dropout": key}, x, train=False)
    return TrainState(jnp.int32(0), v["params"], v.get("batch_stats", {}), make_optimizer(cfg.optim).init(v["params"]))


def make_train_step(cfg: PredictionConfig, spe: int, jit: bool = True):
    """``(state, batch, rng, hparams) -> (state, metrics)``, one compiled program per model
    (configurations that differ only in array hyper-parameters share it)."""
    if jit:
        static = dataclasses.replace(cfg, method="", optim=static_optim(cfg.optim), seed=0, data_seed=None, epochs=0,
                                     max_train_windows=None, model=dataclasses.replace(cfg.model, dropout=0.0))
        return cached_step(("prediction", static, spe), lambda: _build_train_step(static, spe, True))
    return _build_train_step(cfg, spe, False)


def _build_train_step(cfg: PredictionConfig, spe: int, jit: bool):
    tx = make_optimizer(cfg.optim)
    o = cfg.model.obs
    trace_count = {"n": 0}

    def step(state: TrainState, batch, rng, hp):
        trace_count["n"] += 1
        model = build_predictor(dataclasses.replace(cfg.model, dropout=hp["dropout"]))  # the rate is an array
        w = batch["window"]
        obs, fut = w[:, :o], w[:, o:]

        def loss_fn(params):
            out, upd = model.apply({"params": params, "batch_stats": state.batch_stats}, obs, train=True,
                                   rngs={"dropout": rng}, mutable=["batch_stats"])
            return pose_loss(out, fut, cfg.loss), upd.get("batch_stats", {})

        (loss, new_bs), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        params, opt_state = optimizer_update(tx, state, grads, hp, spe)
        return TrainState(state.step + 1, params, new_bs, opt_state), {"loss": loss}

    fn = jax.jit(step) if jit else step
    fn.trace_count = trace_count  # type: ignore[attr-defined]
    return fn


def train_method(cfg: PredictionConfig, data: PredictionData, workdir=None, stop_after_epochs=None,
                 log_every: int = 20, mesh=None):
    t0 = time.perf_counter()
    key = jax.random.key(cfg.seed)
    state = init_state(cfg, key)
    spe = steps_per_epoch(data, cfg)
    step = make_train_step(cfg, spe)
    val = data.val

    def validate(st):
        pr = Predictor(cfg.model, {"params": st.params, "batch_stats": st.batch_stats})(val[:, :cfg.model.obs])
        return -float(jnp.linalg.norm(pr - val[:, cfg.model.obs:], axis=-1).mean())

    variables, history = fit_task(state, step, default_hparams(cfg), lambda e: epoch_batches(data, cfg, e), cfg.epochs,
                                  key, cfg.batch_size, validate if workdir and jax.process_count() == 1 else None,
                                  workdir, name=cfg.method, steps_per_epoch=spe, stop_after_epochs=stop_after_epochs,
                                  log_every=log_every, mesh=mesh)
    return variables, history, time.perf_counter() - t0


# ---------------------------------------------------------------- evaluation

def errors_by_horizon(pred, gt, horizons: list[int]) -> dict[str, dict[int, float]]:
    """MAE and MPJPE in millimetres at each horizon (ms), root-relative and global."""
    pred, gt = np.asarray(pred, np.float64) * 1000.0, np.asarray(gt, np.float64) * 1000.0
    rel = lambda x: x - 0.5 * (x[:, :, 2:3] + x[:, :, 3:4])
    out = {}
    for name, (p, g) in {"rel": (rel(pred), rel(gt)), "global": (pred, gt)}.items():
        mae = np.abs(p - g).mean(axis=(0, 2, 3))
        mpjpe = np.linalg.norm(p - g, axis=-1).mean(axis=(0, 2))
        out[f"mae_{name}"] = {h: float(mae[int(h / FRAME_MS) - 1]) for h in horizons}
        out[f"mpjpe_{name}"] = {h: float(mpjpe[int(h / FRAME_MS) - 1]) for h in horizons}
    return out
