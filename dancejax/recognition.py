"""The recognition task: refine noisy 2D keypoints and recognise the dance style (SPEC §4).

Data: 3D training takes are projected through random virtual cameras every epoch;
inside the jitted train step each window is augmented (2D rotation, scale, flip,
temporal blur) and passed through the detector-noise simulator calibrated on the
real AIST++ detections.  Inputs are normalised per window (centre = confidence-
weighted mid-hip, scale = mean torso length); PCK is computed in pixels.

Evaluation sets:
* ``sim_test``: held-out 3D takes, fixed virtual cameras and simulated noise (seeded);
* ``aist_real``: the real AIST++ detector keypoints of the held-out sequences (all 9
  views) against their projected 3D ground truth — the number that matters.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dancejax.augment import AugmentConfig, flip, rotate, scale, temporal_blur
from dancejax.data.dataset import DanceDataset, cut_windows, project_windows, take_windows
from dancejax.data.summary import calibrate
from dancejax.errors import DataError
from dancejax.filters import apply_filter
from dancejax.losses import class_weights_from_counts, refinement_loss, weighted_cross_entropy
from dancejax.metrics import accuracy, confusion_matrix, pck_table
from dancejax.models.hbrnn import HBRNN
from dancejax.models.mkff import MKFFSTGCN, RecognitionModelConfig
from dancejax.models.stgcn import STGCN10_STRIDES, STGCN10_WIDTHS
from dancejax.noise import MISS_CONF, NoiseParams, simulate_detections
from dancejax.train.common import (OptimConfig, TrainState, cached_step, fit_task, make_optimizer,
                                   optimizer_update, static_optim)

MISSING = MISS_CONF  # confidence at or below which a joint counts as not detected


@dataclasses.dataclass(frozen=True)
class RecognitionConfig:
    """One method's training run.  ``paper()`` and ``quick()`` give the presets."""

    method: str = "mkff_stgcn"
    model: RecognitionModelConfig = RecognitionModelConfig()
    optim: OptimConfig = OptimConfig()
    window: int = 32
    stride: int = 8
    batch_size: int = 16
    epochs: int = 80
    top_k: int = 8
    lam: float = 1.0
    style_weight: float = 0.2
    noise_strength: float = 1.0
    augment: AugmentConfig = AugmentConfig()
    max_train_windows: int | None = None
    seed: int = 0  # initialisation and step RNG
    data_seed: int | None = None  # data order and virtual cameras; None = ``seed``

    @staticmethod
    def paper(method: str = "mkff_stgcn", **kw) -> "RecognitionConfig":
        """Paper preset (§IV-A): SGD momentum, lr 0.01 × 0.95 per epoch, batch 16, 80 epochs,
        the original 10-layer backbone."""
        model = RecognitionModelConfig(widths=STGCN10_WIDTHS, strides=STGCN10_STRIDES)
        return _method(RecognitionConfig(method=method, model=model, **kw), method)

    @staticmethod
    def quick(method: str = "mkff_stgcn", **kw) -> "RecognitionConfig":
        """CPU preset: small backbone, Adam 2e-3 with the same per-epoch decay, 6 epochs."""
        base = dict(optim=OptimConfig("adam", lr=2e-3, lr_decay=0.95, clip_norm=1.0), epochs=6,
                    max_train_windows=640)
        base.update(kw)
        return _method(RecognitionConfig(method=method, **base), method)


METHODS = ("hbrnn", "stgcn", "mkff_stgcn", "mkff_velocity_only", "mkff_acceleration_only", "mkff_no_topk")


def _method(cfg: RecognitionConfig, method: str) -> RecognitionConfig:
    m = cfg.model
    if method in ("mkff_stgcn", "stgcn", "hbrnn"):
        kind = method
    elif method == "mkff_velocity_only":
        kind, m = "mkff_stgcn", dataclasses.replace(m, mkff_features=("velocity",))
    elif method == "mkff_acceleration_only":
        kind, m = "mkff_stgcn", dataclasses.replace(m, mkff_features=("acceleration",))
    elif method == "mkff_no_topk":
        kind = "mkff_stgcn"
        cfg = dataclasses.replace(cfg, top_k=0)
    else:
        raise ValueError(f"Unsupported method: {method!r}; use one of {METHODS}")
    return dataclasses.replace(cfg, method=method, model=dataclasses.replace(m, kind=kind))


def build_model(cfg: RecognitionModelConfig):
    if cfg.kind == "mkff_stgcn":
        return MKFFSTGCN(cfg, use_mkff=True)
    if cfg.kind == "stgcn":
        return MKFFSTGCN(cfg, use_mkff=False)
    if cfg.kind == "hbrnn":
        return HBRNN(cfg.num_styles)
    raise ValueError(f"Unsupported model: {cfg.kind!r}")


# ---------------------------------------------------------------- normalisation

def normalize(x, conf):
    """Per-window normalisation of (T, J, 2) keypoints; returns (x_n, centre, scale).

    centre: confidence-weighted mid-hip over the window; scale: mean neck–mid-hip length.
    Undetected joints (conf ≤ MISSING) are placed at the centre.
    """
    ok = (conf > MISSING).astype(x.dtype)
    hip = 0.5 * (x[:, 2] + x[:, 3])
    w_hip = ok[:, 2] * ok[:, 3]
    w_all = ok.sum()
    centre_all = (x * ok[..., None]).sum((0, 1)) / jnp.maximum(w_all, 1.0)
    centre = jnp.where(w_hip.sum() > 0, (hip * w_hip[:, None]).sum(0) / jnp.maximum(w_hip.sum(), 1.0), centre_all)
    w_t = w_hip * ok[:, 12]
    torso = jnp.linalg.norm(x[:, 12] - hip, axis=-1)
    detected = jnp.where(ok[..., None] > 0, x, centre)
    ext = detected.max((0, 1)) - detected.min((0, 1))
    fallback = jnp.maximum(ext.max() / 3.0, 1e-3)
    s = jnp.where(w_t.sum() > 0, (torso * w_t).sum() / jnp.maximum(w_t.sum(), 1.0), fallback)
    s = jnp.maximum(s, 1e-3)
    xn = (x - centre) / s
    xn = jnp.where(ok[..., None] > 0, xn, 0.0)
    return xn, centre, s


def check_window(x, conf, joints: int = 14, source: str = "window"):
    """Validate a batch of windows (…, T, J, 2) + (…, T, J) before it reaches the model."""
    x, conf = np.asarray(x), np.asarray(conf)
    if x.shape[-1] != 2 or x.shape[-2] != joints:
        raise DataError(f"{source}: field 'keypoints': expected (..., frames, {joints}, 2), got {x.shape}")
    if conf.shape != x.shape[:-1]:
        raise DataError(f"{source}: field 'confidence': expected shape {x.shape[:-1]}, got {conf.shape}")
    if not np.isfinite(x).all():
        raise DataError(f"{source}: field 'keypoints': {int((~np.isfinite(x)).sum())} NaN/inf values; "
                        "give missing joints confidence 0 and a finite position")
    if not np.isfinite(conf).all() or conf.min() < 0 or conf.max() > 1:
        raise DataError(f"{source}: field 'confidence': expected values in [0, 1], got range "
                        f"[{np.nanmin(conf):.3g}, {np.nanmax(conf):.3g}]")


@functools.lru_cache(maxsize=32)
def _inference_fn(model_cfg: RecognitionModelConfig):
    """One jitted pixel-space inference function per architecture (compiled once per shape)."""
    model = build_model(model_cfg)

    def run(variables, x, conf):
        xn, c, s = jax.vmap(normalize)(x, conf)
        out, logits = model.apply(variables, xn, conf, train=False)
        return out * s[:, None, None, None] + c[:, None, None], logits

    return jax.jit(run)


class Refiner:
    """A trained model as a callable on pixel windows: (B, T, J, 2) + (B, T, J) -> pixels, logits."""

    def __init__(self, cfg: RecognitionConfig, variables):
        self.cfg, self.variables = cfg, variables
        self._run = _inference_fn(cfg.model)

    def __call__(self, x, conf):
        check_window(x, conf, source=f"{self.cfg.method} input")
        return self._run(self.variables, jnp.asarray(x, jnp.float32), jnp.asarray(conf, jnp.float32))


# ---------------------------------------------------------------- data

@dataclasses.dataclass
class RecognitionData:
    styles: list[str]
    train3d: Any  # Windows (3D)
    noise: NoiseParams
    run_length: int
    class_weights: jnp.ndarray
    sets: dict[str, dict[str, np.ndarray]]  # eval sets: x, conf, gt, style (pixels)


def _simulated_set(ds: DanceDataset, split: str, window: int, styles, noise, run, seed: int):
    w = take_windows(ds.list_takes(split), window, window, styles)
    rng = np.random.default_rng(seed)
    gt = project_windows(w.positions, rng)
    sim = jax.jit(jax.vmap(lambda k, g: simulate_detections(k, g, noise, run)))
    x, c = sim(jax.random.split(jax.random.key(seed), len(gt)), jnp.asarray(gt))
    return {"x": np.asarray(x), "conf": np.asarray(c), "gt": gt, "visible": np.ones(gt.shape[:-1], np.float32),
            "style": w.style}


def _real_set(ds: DanceDataset, split: str, window: int, styles):
    xs, cs, gs, st = [], [], [], []
    for d in ds.detections:
        if d.split != split:
            continue
        for v in range(d.det.shape[0]):
            wx = cut_windows([d.det[v]], window, window)
            idx = wx.start[:, None] + np.arange(window)
            xs.append(d.det[v][idx])
            cs.append(d.conf[v][idx])
            gs.append(d.gt[v][idx])
            st.append(np.full(len(idx), styles.index(d.style)))
    gt = np.concatenate(gs)
    return {"x": np.concatenate(xs), "conf": np.concatenate(cs), "gt": gt,
            "visible": np.ones(gt.shape[:-1], np.float32), "style": np.concatenate(st)}


def load_data(ds: DanceDataset, window: int = 32, stride: int = 8, seed: int = 0) -> RecognitionData:
    styles = ds.styles
    noise, run = calibrate(ds, "train")
    train3d = take_windows(ds.list_takes("train"), window, stride, styles)
    counts = np.bincount(train3d.style, minlength=len(styles))
    sets = {
        "sim_val": _simulated_set(ds, "val", window, styles, noise, run, seed + 101),
        "sim_test": _simulated_set(ds, "test", window, styles, noise, run, seed + 202),
        "aist_real": _real_set(ds, "test", window, styles),
    }
    return RecognitionData(styles, train3d, noise, run, class_weights_from_counts(counts), sets)


def epoch_batches(data: RecognitionData, cfg: RecognitionConfig, epoch: int):
    """Batches of epoch ``epoch``: a pure function of (seed, epoch) — exact resume."""
    rng = np.random.default_rng([cfg.seed if cfg.data_seed is None else cfg.data_seed, epoch])
    n = len(data.train3d.positions)
    order = rng.permutation(n)
    if cfg.max_train_windows:
        order = order[: cfg.max_train_windows]
    steps = len(order) // cfg.batch_size
    order = order[: steps * cfg.batch_size]
    px = project_windows(data.train3d.positions[order], rng)
    sty = data.train3d.style[order]
    for i in range(steps):
        sl = slice(i * cfg.batch_size, (i + 1) * cfg.batch_size)
        yield {"clean": px[sl], "style": sty[sl].astype(np.int32)}


def steps_per_epoch(data: RecognitionData, cfg: RecognitionConfig) -> int:
    n = len(data.train3d.positions)
    if cfg.max_train_windows:
        n = min(n, cfg.max_train_windows)
    return n // cfg.batch_size


# ---------------------------------------------------------------- training

def default_hparams(cfg: RecognitionConfig) -> dict:
    """Per-run hyper-parameters that enter the train step as arrays (vmappable)."""
    return {
        "lr": jnp.float32(cfg.optim.lr),
        "lr_decay": jnp.float32(cfg.optim.lr_decay),
        "weight_decay": jnp.float32(cfg.optim.weight_decay),
        "lam": jnp.float32(cfg.lam),
        "style_weight": jnp.float32(cfg.style_weight),
        "noise_strength": jnp.float32(cfg.noise_strength),
        "dropout": jnp.float32(cfg.model.dropout),
    }


HPARAMS = ("lr", "lr_decay", "weight_decay", "lam", "style_weight", "noise_strength", "dropout")


def init_state(cfg: RecognitionConfig, key) -> TrainState:
    model = build_model(cfg.model)
    x = jnp.zeros((cfg.batch_size, cfg.window, 14, 2))
    c = jnp.ones((cfg.batch_size, cfg.window, 14))
    variables = model.init({"params": key, "dropout": key}, x, c, train=False)
    tx = make_optimizer(cfg.optim)
    params = variables["params"]
    return TrainState(jnp.int32(0), params, variables.get("batch_stats", {}), tx.init(params))


def make_train_step(cfg: RecognitionConfig, data: RecognitionData, spe: int, jit: bool = True):
    """The one train step of the recognition task: ``(state, batch, rng, hparams) -> (state, metrics)``.

    Augmentation, detector noise, normalisation, forward, loss (eq. 10 + weighted CE)
    and the optimizer update all happen inside, so the host only feeds clean windows.
    With ``jit``, configurations that differ only in array hyper-parameters share one
    compiled step.
    """
    if jit:
        static = dataclasses.replace(
            cfg, method="", optim=static_optim(cfg.optim), lam=0.0, style_weight=0.0, noise_strength=0.0, seed=0,
            data_seed=None, epochs=0, max_train_windows=None, model=dataclasses.replace(cfg.model, dropout=0.0))
        return cached_step(("recognition", static, id(data), spe),
                           lambda: _build_train_step(static, data, spe, True), keep_alive=data)
    return _build_train_step(cfg, data, spe, False)


def _build_train_step(cfg: RecognitionConfig, data: RecognitionData, spe: int, jit: bool):
    tx = make_optimizer(cfg.optim)
    noise, run = data.noise, data.run_length
    aug = cfg.augment
    cw = data.class_weights
    trace_count = {"n": 0}

    def make_input(key, clean, strength):
        k = jax.random.split(key, 5)
        g = rotate(k[0], clean, aug.rotation_2d)
        g = scale(k[1], g, aug.scale)
        g = flip(k[2], g, p=aug.flip_p)
        if aug.blur_sigma > 0:
            g = temporal_blur(k[3], g, aug.blur_sigma)
        x, conf = simulate_detections(k[4], g, noise, run, strength=strength)
        xn, c, s = normalize(x, conf)
        return xn, conf, (g - c) / s

    def step(state: TrainState, batch, rng, hp):
        trace_count["n"] += 1
        model = build_model(dataclasses.replace(cfg.model, dropout=hp["dropout"]))  # the rate is an array
        b = batch["clean"].shape[0]
        k_in, k_drop = jax.random.split(rng)
        xn, conf, target = jax.vmap(make_input, in_axes=(0, 0, None))(
            jax.random.split(k_in, b), batch["clean"], hp["noise_strength"])

        def loss_fn(params):
            variables = {"params": params, "batch_stats": state.batch_stats}
            (out, logits), upd = model.apply(variables, xn, conf, train=True, rngs={"dropout": k_drop},
                                             mutable=["batch_stats"])
            refine = refinement_loss(out, target, jnp.ones(target.shape[:-1]), cfg.top_k, hp["lam"])
            ce = weighted_cross_entropy(logits, batch["style"], cw)
            return refine + hp["style_weight"] * ce, (refine, ce, logits, upd.get("batch_stats", {}))

        (loss, (refine, ce, logits, new_bs)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        params, opt_state = optimizer_update(tx, state, grads, hp, spe)
        acc = (logits.argmax(-1) == batch["style"]).mean()
        new = TrainState(state.step + 1, params, new_bs, opt_state)
        return new, {"loss": loss, "refine": refine, "ce": ce, "acc": acc}

    fn = jax.jit(step) if jit else step
    fn.trace_count = trace_count  # type: ignore[attr-defined]
    return fn


def predict_set(cfg: RecognitionConfig, variables, s: dict, batch: int = 64):
    """Predictions for a whole eval set, in fixed-size batches (the last one padded) so
    that inference compiles once."""
    ref = Refiner(cfg, variables)
    n = len(s["x"])
    pad = (-n) % batch
    x = np.concatenate([s["x"], np.repeat(s["x"][:1], pad, 0)])
    conf = np.concatenate([s["conf"], np.repeat(s["conf"][:1], pad, 0)])
    outs, logits = [], []
    for i in range(0, n + pad, batch):
        o, lg = ref(x[i:i + batch], conf[i:i + batch])
        outs.append(np.asarray(o))
        logits.append(np.asarray(lg))
    return np.concatenate(outs)[:n], np.concatenate(logits)[:n]


def raw_prediction(s: dict):
    """The raw-detector baseline: the detections themselves (undetected joints at the window centre)."""
    xn, c, sc = jax.vmap(normalize)(jnp.asarray(s["x"]), jnp.asarray(s["conf"]))
    return np.asarray(xn * sc[:, None, None, None] + c[:, None, None])


def evaluate(pred, s: dict, logits=None, num_styles: int = 5, normalizer: str = "bbox") -> dict:
    res = {"pck": pck_table(pred, s["gt"], s["visible"], normalizer=normalizer)}
    if logits is not None:
        p = logits.argmax(-1)
        res["style_acc"] = accuracy(s["style"], p)
        res["confusion"] = confusion_matrix(s["style"], p, num_styles).tolist()
    return res


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
    """Grid-search the filter's parameters on the validation set by mean PCK@alpha (bbox)."""
    best, best_score = None, -1.0
    raw = raw_prediction(val)
    for params in FILTER_GRID[kind]:
        pred = filter_predictions(kind, val, params, raw)
        score = pck_table(pred, val["gt"], val["visible"], (alpha,))[alpha]["mean"]
        if score > best_score:
            best, best_score = params, score
    return best, best_score


def train_method(cfg: RecognitionConfig, data: RecognitionData, workdir=None, stop_after_epochs=None,
                 log_every: int = 20, mesh=None):
    """Train one method; returns (variables, history, seconds)."""
    t0 = time.perf_counter()
    key = jax.random.key(cfg.seed)
    state = init_state(cfg, key)
    spe = steps_per_epoch(data, cfg)
    step = make_train_step(cfg, data, spe)
    val = data.sets["sim_val"]

    def validate(st):
        pred, _ = predict_set(cfg, {"params": st.params, "batch_stats": st.batch_stats}, val)
        return pck_table(pred, val["gt"], val["visible"], (0.05,))[0.05]["mean"]

    variables, history = fit_task(state, step, default_hparams(cfg), lambda e: epoch_batches(data, cfg, e), cfg.epochs,
                                  key, cfg.batch_size, validate if jax.process_count() == 1 else None, workdir,
                                  name=cfg.method, steps_per_epoch=spe, stop_after_epochs=stop_after_epochs,
                                  log_every=log_every, mesh=mesh)
    return variables, history, time.perf_counter() - t0
