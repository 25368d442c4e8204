"""The recognition task: refine noisy 2D keypoints and recognise the dance style (paper §III-B).

A task module exposes the functions every task has (``dancejax.tasks``).

Training data, inside one jitted train step per run:

* **simulated**: 3D training takes projected through random virtual cameras every epoch,
  augmented (2D rotation, scale, flip, temporal blur) and passed through the detector-noise
  simulator calibrated on the real AIST++ detections (``dancejax.noise``);
* **real** (``cfg.real_fraction`` of every batch): the AIST++ detector's own keypoints of the
  train-split sequences, all 9 views, against their projected 3D ground truth, augmented with
  the same rotation, scale and flip applied to both.  The last ``REAL_VAL_FRACTION`` of those
  sequences' frames is held out as real validation data (``real_val``).

Inputs are normalised per window (``dancejax.data.pipeline.normalize``); the loss is eq. 10
plus a cross-entropy for the style, weighted per class (or uniform with class-balanced
sampling, ``cfg.balanced``).  Evaluation sets: ``sim_val``/``sim_test`` (held-out takes,
fixed virtual cameras, simulated noise), ``real_val`` and ``aist_real`` (the real detections of
the held-out sequences, 9 views — the number that matters).  Model selection and early
stopping use ``cfg.select_on``'s mean PCK@0.05.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from dancejax.augment import AugmentConfig, flip, rotate, scale, temporal_blur
from dancejax.data.dataset import DanceDataset, cut_windows, project_windows, take_windows
from dancejax.data.pipeline import augment_pair, normalize
from dancejax.data.summary import calibrate, real_frames
from dancejax.errors import DataError
from dancejax.filters import apply_filter
from dancejax.losses import class_weights_from_counts, refinement_loss, weighted_cross_entropy
from dancejax.metrics import balanced_accuracy, confusion_matrix, pck_table, per_class_accuracy
from dancejax.models import RECOGNIZERS, build, model_class, model_fields
from dancejax.models.stgcn import STGCN10_STRIDES, STGCN10_WIDTHS
from dancejax.noise import MISS_CONF, NoiseParams, simulate_detections
from dancejax.skeleton import LSP14
from dancejax.train.optim import OptimConfig, TrainState, make_optimizer, new_state, optimizer_update

NAME = "recognition"
MISSING = MISS_CONF  # confidence at or below which a joint counts as not detected
PRESETS = ("paper", "quick", "test")
METHODS = tuple(RECOGNIZERS) + ("mkff_no_topk",)
SETS = ("sim_val", "sim_test", "real_val", "aist_real")
SCORE = "mean PCK@0.05 (%, GT-bbox normaliser)"


@struct.dataclass
class HParams:
    """The hyper-parameters a study may vary within one compiled program (arrays)."""

    lr: jax.Array
    lr_decay: jax.Array
    weight_decay: jax.Array
    lam: jax.Array
    style_weight: jax.Array
    noise_strength: jax.Array
    dropout: jax.Array


@dataclasses.dataclass(frozen=True)
class RecognitionConfig:
    """One training run.  ``model`` is the model instance (its fields are its hyper-parameters).

    ``real_fraction``: share of each batch taken from the real AIST++ training detections (0 =
    simulated only).  ``balanced``: class-balanced sampling of the simulated windows (then the
    cross-entropy is unweighted).  ``select_on``: the set whose PCK@0.05 selects the model
    ('sim_val' or 'real_val'); ``select``: evaluate the 'final' or the 'best' parameters.
    ``flip_test``: inference averages the outputs for the window and its mirror
    (``apply_refiner``), in evaluation, selection, saved models and exports (the streaming
    engine leaves it off unless asked, for latency).
    """

    method: str = "mkff_stgcn"
    model: Any = None
    preset: str = "paper"
    optim: OptimConfig = OptimConfig()
    window: int = 32
    stride: int = 8
    batch_size: int = 16
    epochs: int = 80
    iterations: int | None = None
    top_k: int = 8
    lam: float = 1.0
    style_weight: float = 0.2
    noise_strength: float = 1.0
    augment: AugmentConfig = AugmentConfig()
    max_train_windows: int | None = None
    real_fraction: float = 0.0
    balanced: bool = False
    select_on: str = "sim_val"
    select: str = "final"
    eval_every: int = 1
    flip_test: bool = False
    seed: int = 0
    data_seed: int | None = None

    def __post_init__(self):
        if self.model is None:
            object.__setattr__(
                self, "model", build(RECOGNIZERS, "mkff_stgcn" if self.method == "mkff_no_topk" else self.method)
            )
        checks = [
            (
                isinstance(self.batch_size, int) and self.batch_size >= 1,
                f"batch_size must be ≥ 1, got {self.batch_size!r}",
            ),
            (isinstance(self.epochs, int) and self.epochs >= 1, f"epochs must be ≥ 1, got {self.epochs!r}"),
            (
                self.iterations is None or (isinstance(self.iterations, int) and self.iterations >= 1),
                f"iterations must be ≥ 1, got {self.iterations!r}",
            ),
            (isinstance(self.window, int) and self.window >= 3, f"window must be ≥ 3 frames, got {self.window!r}"),
            (isinstance(self.stride, int) and self.stride >= 1, f"stride must be ≥ 1, got {self.stride!r}"),
            (isinstance(self.top_k, int) and 0 <= self.top_k <= 14, f"top_k must be in [0, 14], got {self.top_k!r}"),
            (0.0 <= self.real_fraction < 1.0, f"real_fraction must be in [0, 1), got {self.real_fraction!r}"),
            (self.select_on in ("sim_val", "real_val"), f"select_on {self.select_on!r}: use 'sim_val' or 'real_val'"),
            (self.select in ("final", "best"), f"select {self.select!r}: use 'final' or 'best'"),
            (
                isinstance(self.eval_every, int) and self.eval_every >= 1,
                f"eval_every must be ≥ 1, got {self.eval_every!r}",
            ),
        ]
        for ok, msg in checks:
            if not ok:
                raise DataError(f"recognition config: {msg}")

    @property
    def real_batch(self) -> int:
        return int(round(self.real_fraction * self.batch_size))

    @property
    def sim_batch(self) -> int:
        return self.batch_size - self.real_batch


# ---------------------------------------------------------------- presets


# dancejax's data choices for the presets (the paper trains on its own detections, which we do not
# have): three quarters of every batch from the real AIST++ training detections,
# class-balanced sampling, selection on real validation detections, and a gated residual in the
# refinement models (the paper leaves open how the offset meets the input).  ``sim_only=True``
# gives the simulated-only setting.  In every non-test preset the refinement decoder also sees
# each joint's own input at its frame (``skip_input``), and inference uses the flip test
# (``apply_refiner``), as pose estimators commonly do; the paper says neither.
REAL_DATA = {"real_fraction": 0.75, "balanced": True, "select_on": "real_val", "select": "best"}


def preset_overrides(method: str, preset: str, sim_only: bool = False) -> dict:
    """The configuration fields a preset sets ('model' = model fields)."""
    if preset not in PRESETS:
        raise DataError(f"unknown recognition preset {preset!r}; presets are {', '.join(PRESETS)}")
    if method not in METHODS:
        raise DataError(f"unknown recognition method {method!r}; methods are {', '.join(METHODS)}")
    fields = set(model_fields(build(RECOGNIZERS, method if method in RECOGNIZERS else "mkff_stgcn")))
    out = {"top_k": 0} if method == "mkff_no_topk" else {}
    model = {}
    if preset != "test":
        out["flip_test"] = True  # every learned method, in every non-test preset
        model = {"skip_input": True} if "skip_input" in fields else {}
    if preset != "test" and not sim_only:
        out.update(REAL_DATA)
        model = {**model, "residual": "gated"} if "residual" in fields else model
    if preset == "paper":  # §IV-A: SGD momentum, lr 0.01 × 0.95 per epoch, batch 16, 80 epochs, ST-GCN-10
        backbone = (
            {"widths": STGCN10_WIDTHS, "strides": STGCN10_STRIDES} if "widths" in fields and method != "hbrnn" else {}
        )
        return {**out, "model": {**model, **backbone}}
    if preset == "quick":  # a CPU budget: the small backbone, Adam 2e-3 × 0.98 per epoch, 30 epochs (~1900 steps)
        return {
            **out,
            "optim": OptimConfig("adam", lr=2e-3, lr_decay=0.98, clip_norm=1.0),
            "epochs": 30,
            "eval_every": 3,
            "model": model,
        }
    small = {"widths": (8, 8), "strides": (1, 1), "mkff_width": 16, "mkff_heads": 2, "decoder_width": 16}
    return {
        **out,
        "optim": OptimConfig("adam", lr=2e-3, lr_decay=0.95, clip_norm=1.0),
        "epochs": 2,
        "window": 16,
        "stride": 16,
        "batch_size": 4,
        "max_train_windows": 16,
        "model": {k: v for k, v in small.items() if k in fields}
        | ({"widths": (4, 4, 8, 8)} if method == "hbrnn" else {}),
    }


def make_config(
    method: str = "mkff_stgcn",
    preset: str = "paper",
    num_styles: int = 5,
    model: dict | None = None,
    sim_only: bool = False,
    **overrides,
) -> RecognitionConfig:
    """A run configuration: ``preset``'s fields for ``method``, then ``model`` (model fields)
    and ``overrides`` (configuration fields).

    Args:
        method: a key of ``dancejax.models.RECOGNIZERS``.
        preset: one of ``PRESETS`` (``paper``, ``quick``, ``test``).
        num_styles: the number of style classes (the dataset's).
        model: model fields to override.
        sim_only: train on simulated detections only (no real detections, select on sim_val).
        **overrides: ``RecognitionConfig`` fields.

    Returns:
        A ``RecognitionConfig``.

    Raises:
        DataError: an unknown method, preset or field.

    Example::

        cfg = make_config("mkff_stgcn", "quick", real_fraction=0.5, select_on="real_val")
    """
    fields = preset_overrides(method, preset, sim_only)
    model_kw = {**fields.pop("model", {}), **(model or {})}
    cfg_fields = {f.name for f in dataclasses.fields(RecognitionConfig)}
    unknown = sorted(set(overrides) - cfg_fields)
    if unknown:
        raise DataError(f"unknown recognition config field(s) {unknown}; fields are {sorted(cfg_fields)}")
    name = "mkff_stgcn" if method == "mkff_no_topk" else method
    m = build(RECOGNIZERS, name, num_styles=num_styles, **model_kw)
    return RecognitionConfig(method=method, model=m, preset=preset, **{**fields, **overrides})


def static_key(cfg: RecognitionConfig):
    """What shapes the compiled step: the config without array hyper-parameters and seeds."""
    return dataclasses.replace(
        cfg,
        model=cfg.model.clone(dropout=0.0),
        optim=cfg.optim.static(),
        lam=0.0,
        style_weight=0.0,
        noise_strength=0.0,
        seed=0,
        data_seed=None,
        epochs=1,
        iterations=None if cfg.iterations is None else 1,
    )


def with_hparams(
    cfg: RecognitionConfig,
    seed=None,
    lr=None,
    lr_decay=None,
    weight_decay=None,
    dropout=None,
    lam=None,
    style_weight=None,
    noise_strength=None,
):
    o = cfg.optim
    o = dataclasses.replace(
        o,
        lr=o.lr if lr is None else lr,
        lr_decay=o.lr_decay if lr_decay is None else lr_decay,
        weight_decay=o.weight_decay if weight_decay is None else weight_decay,
    )
    pick = lambda new, old: old if new is None else new
    return dataclasses.replace(
        cfg,
        optim=o,
        model=cfg.model if dropout is None else cfg.model.clone(dropout=dropout),
        seed=pick(seed, cfg.seed),
        lam=pick(lam, cfg.lam),
        style_weight=pick(style_weight, cfg.style_weight),
        noise_strength=pick(noise_strength, cfg.noise_strength),
    )


def trainable(cfg: RecognitionConfig) -> bool:
    return getattr(model_class(RECOGNIZERS.get(cfg.method, RECOGNIZERS["mkff_stgcn"])), "trainable", True)


def prepare(cfg: RecognitionConfig, data) -> RecognitionConfig:
    return cfg


# ---------------------------------------------------------------- inference


def check_window(x, conf, joints: int = 14, source: str = "input"):
    """Validate a batch of windows (B, T, J, 2) + (B, T, J) before it reaches the model."""
    try:
        x, conf = np.asarray(x, np.float64), np.asarray(conf, np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{source}: fields 'keypoints' and 'confidence' must be numeric arrays") from None
    if x.ndim != 4 or x.shape[-1] != 2 or x.shape[-2] != joints:
        raise DataError(
            f"{source}: field 'keypoints': expected (batch, frames, {joints}, 2), got {x.shape}"
            + ("; add a batch axis: x[None]" if x.ndim == 3 else "")
        )
    if conf.shape != x.shape[:-1]:
        raise DataError(f"{source}: field 'confidence': expected shape {x.shape[:-1]}, got {conf.shape}")
    if not np.isfinite(x).all():
        raise DataError(
            f"{source}: field 'keypoints': {int((~np.isfinite(x)).sum())} NaN/inf values; "
            "give missing joints confidence 0 and a finite position"
        )
    if np.abs(x).max(initial=0) > 1e7:
        raise DataError(f"{source}: field 'keypoints': coordinates up to {np.abs(x).max():.3g}; expected pixels")
    nan = np.isnan(conf)
    if nan.any() or conf.min(initial=0) < 0 or conf.max(initial=0) > 1:
        raise DataError(
            f"{source}: field 'confidence': expected values in [0, 1], got "
            + (f"{int(nan.sum())} NaN values" if nan.any() else f"range [{conf.min():.3g}, {conf.max():.3g}]")
        )


def mirror_normalized(x, conf):
    """The horizontal mirror of normalised keypoints (B, T, J, 2) (centred on the mid-hip, so
    the mirror is about it) with the left/right joints swapped, and their confidences."""
    perm = jnp.asarray(LSP14.flip_permutation)
    return (x * jnp.array([-1.0, 1.0], x.dtype))[:, :, perm], conf[:, :, perm]


def apply_refiner(model, variables, xn, conf, flip_test: bool = False):
    """The model on normalised windows: (refined (B, T, J, 2), style logits (B, S)).

    ``flip_test``: also run the mirrored windows (``mirror_normalized``), mirror their output
    back and average both outputs and both logits (the flip test of pose estimation; training
    mirrors half of the windows, so the model sees both).  One call on a doubled batch."""
    if not flip_test:
        return model.apply(variables, xn, conf, train=False)
    b = xn.shape[0]
    xm, cm = mirror_normalized(xn, conf)
    out, logits = model.apply(variables, jnp.concatenate([xn, xm]), jnp.concatenate([conf, cm]), train=False)
    back, _ = mirror_normalized(out[b:], conf)
    return 0.5 * (out[:b] + back), 0.5 * (logits[:b] + logits[b:])


@functools.lru_cache(maxsize=32)
def _inference_fn(model, flip_test: bool = False):
    """One jitted pixel-space inference function per architecture (compiled once per shape)."""

    def run(variables, x, conf):
        xn, c, s = jax.vmap(normalize)(x, conf)
        out, logits = apply_refiner(model, variables, xn, conf, flip_test)
        return out * s[:, None, None, None] + c[:, None, None], logits

    return jax.jit(run)


class Refiner:
    """A trained model as a callable on pixel windows: (B, T, J, 2) + (B, T, J) -> refined
    pixels (B, T, J, 2) and style scores (B, S).  ``T`` must be the window it was trained on."""

    def __init__(self, cfg: RecognitionConfig, variables, styles=None):
        self.cfg, self.variables, self.styles = cfg, variables, styles
        self._run = _inference_fn(cfg.model.clone(dropout=0.0), cfg.flip_test)

    def __call__(self, x, conf):
        check_window(x, conf)
        if np.shape(x)[1] != self.cfg.window:
            raise DataError(
                f"input: field 'keypoints': the model was trained on windows of {self.cfg.window} "
                f"frames, got {np.shape(x)[1]}"
            )
        return self._run(self.variables, jnp.asarray(x, jnp.float32), jnp.asarray(conf, jnp.float32))


def predict_set(cfg: RecognitionConfig, variables, s: dict, batch: int = 64):
    """Predictions for a whole eval set, in fixed-size batches (the last one padded) so that
    inference compiles once."""
    ref = Refiner(cfg, variables)
    n = len(s["x"])
    batch = min(batch, n)
    pad = (-n) % batch
    x = np.concatenate([s["x"], np.repeat(s["x"][:1], pad, 0)])
    conf = np.concatenate([s["conf"], np.repeat(s["conf"][:1], pad, 0)])
    outs, logits = [], []
    for i in range(0, n + pad, batch):
        o, lg = ref(x[i : i + batch], conf[i : i + batch])
        outs.append(np.asarray(o))
        logits.append(np.asarray(lg))
    return np.concatenate(outs)[:n], np.concatenate(logits)[:n]


# ---------------------------------------------------------------- data


@dataclasses.dataclass
class RecognitionData:
    styles: list[str]
    train3d: Any  # Windows (3D, metres)
    noise: NoiseParams
    class_counts: np.ndarray
    real_train: dict[str, np.ndarray] | None  # x, conf, gt, style (pixels) or None
    sets: dict[str, dict[str, np.ndarray]]  # eval sets: x, conf, gt, visible, style (pixels)
    window: int


def _simulated_set(ds: DanceDataset, split: str, window: int, styles, noise, seed: int):
    takes = [t for t in ds.list_takes(split) if t.num_frames >= window]
    if not takes:
        return None
    w = take_windows(takes, window, window, styles)
    rng = np.random.default_rng(seed)
    gt = project_windows(w.positions, rng)
    sim = jax.jit(jax.vmap(lambda k, g: simulate_detections(k, g, noise)))
    x, c = sim(jax.random.split(jax.random.key(seed), len(gt)), jnp.asarray(gt))
    return {
        "x": np.asarray(x),
        "conf": np.asarray(c),
        "gt": gt,
        "visible": np.ones(gt.shape[:-1], np.float32),
        "style": w.style,
    }


def _real_set(ds: DanceDataset, split: str, part: str, window: int, stride: int, styles):
    """Real detections as windows: 'train'/'val' parts of the train-split sequences, or the
    test-split sequences whole ('test')."""
    xs, cs, gs, st = [], [], [], []
    for d in ds.detections:
        if d.split != split:
            continue
        frames = real_frames(d, part)
        det, conf, gt = d.det[:, frames], d.conf[:, frames], d.gt[:, frames]
        if det.shape[1] < window:
            continue
        for v in range(det.shape[0]):
            w = cut_windows([det[v]], window, stride)
            idx = w.start[:, None] + np.arange(window)
            xs.append(det[v][idx])
            cs.append(conf[v][idx])
            gs.append(gt[v][idx])
            st.append(np.full(len(idx), styles.index(d.style)))
    if not xs:
        return None
    gt = np.concatenate(gs)
    return {
        "x": np.concatenate(xs),
        "conf": np.concatenate(cs),
        "gt": gt,
        "visible": np.ones(gt.shape[:-1], np.float32),
        "style": np.concatenate(st),
    }


def load_data(ds: DanceDataset, cfg: RecognitionConfig, seed: int = 0) -> RecognitionData:
    """Simulated and real training data and the four evaluation sets for ``cfg.window``.

    Args:
        ds: a ``DanceDataset`` (the shipped one, or ``from_takes``/``from_folder`` with detections).
        cfg: the run configuration.
        seed: the seed of the simulated evaluation sets' noise.

    Returns:
        ``RecognitionData``: simulated training windows, real training detections, the noise
        simulator, and the sets ``sim_val``, ``sim_test``, ``real_val``, ``aist_real``.

    Raises:
        DataError: no take long enough, no real detections where the config needs them.
    """
    styles = ds.styles
    if cfg.model.num_styles != len(styles):
        raise DataError(
            f"{ds.path}: {len(styles)} styles {styles}, but the model was built for "
            f"{cfg.model.num_styles}; pass num_styles={len(styles)} to make_config"
        )
    window = cfg.window
    train_takes = [t for t in ds.list_takes("train") if t.num_frames >= window]
    if not train_takes:
        raise DataError(f"{ds.path}: no training take has {window} frames (the window)")
    noise = calibrate(ds)
    train3d = take_windows(train_takes, window, cfg.stride, styles)
    counts = np.bincount(train3d.style, minlength=len(styles))
    real_train = _real_set(ds, "train", "train", window, cfg.stride, styles)
    if cfg.real_fraction > 0 and real_train is None:
        raise DataError(
            f"{ds.path}: real_fraction {cfg.real_fraction} needs real training detections, but no "
            f"train-split sequence has {window} frames left after the validation split"
        )
    sets = {
        "sim_val": _simulated_set(ds, "val", window, styles, noise, seed + 101),
        "sim_test": _simulated_set(ds, "test", window, styles, noise, seed + 202),
        "real_val": _real_set(ds, "train", "val", window, window, styles),
        "aist_real": _real_set(ds, "test", "test", window, window, styles),
    }
    if sets[cfg.select_on] is None:
        raise DataError(
            f"{ds.path}: select_on {cfg.select_on!r} but that set is empty: no views or frames are left "
            f"for it with windows of {window} frames"
        )
    return RecognitionData(
        styles, train3d, noise, counts, real_train, {k: v for k, v in sets.items() if v is not None}, window
    )


def steps_per_epoch(data: RecognitionData, cfg: RecognitionConfig) -> int:
    if data.window != cfg.window:
        raise DataError(f"recognition data: windows of {data.window} frames, the config needs {cfg.window}")
    n = len(data.train3d.positions)
    if cfg.max_train_windows:
        n = min(n, cfg.max_train_windows)
    if cfg.sim_batch < 1:
        raise DataError(
            f"recognition config: batch {cfg.batch_size} with real_fraction {cfg.real_fraction} "
            "leaves no simulated window per batch"
        )
    if n < cfg.batch_size:
        raise DataError(f"batch size {cfg.batch_size} is larger than the {n} training windows")
    if cfg.real_batch and len(data.real_train["x"]) < cfg.real_batch:
        raise DataError(
            f"batch of {cfg.real_batch} real windows is larger than the {len(data.real_train['x'])} "
            "real training windows"
        )
    return n // cfg.batch_size  # an epoch is n windows, whatever the mix of simulated and real ones


def epoch_batches(data: RecognitionData, cfg: RecognitionConfig, epoch: int):
    """Batches of epoch ``epoch``: a pure function of (data seed, epoch) — exact resume."""
    spe = steps_per_epoch(data, cfg)
    rng = np.random.default_rng([cfg.seed if cfg.data_seed is None else cfg.data_seed, epoch])
    n = len(data.train3d.positions)
    if cfg.balanced:
        w = 1.0 / np.maximum(data.class_counts, 1)[data.train3d.style]
        order = rng.choice(n, size=spe * cfg.sim_batch, replace=True, p=w / w.sum())
    else:
        order = rng.permutation(n)[: spe * cfg.sim_batch]  # ≤ n: the simulated share of the epoch's windows
    px = project_windows(data.train3d.positions[order], rng)
    sty = data.train3d.style[order]
    if cfg.real_batch:
        real = data.real_train
        size = spe * cfg.real_batch
        if cfg.balanced:
            counts = np.bincount(real["style"], minlength=len(data.styles))
            w = 1.0 / np.maximum(counts, 1)[real["style"]]
            ridx = rng.choice(len(real["x"]), size=size, replace=True, p=w / w.sum())
        else:
            ridx = rng.choice(len(real["x"]), size=size, replace=len(real["x"]) < size)
    for i in range(spe):
        sl = slice(i * cfg.sim_batch, (i + 1) * cfg.sim_batch)
        batch = {"clean": px[sl], "style": sty[sl].astype(np.int32)}
        if cfg.real_batch:
            r = ridx[i * cfg.real_batch : (i + 1) * cfg.real_batch]
            batch.update(
                real_x=real["x"][r],
                real_conf=real["conf"][r],
                real_gt=real["gt"][r],
                real_style=real["style"][r].astype(np.int32),
            )
        yield batch


# ---------------------------------------------------------------- training


def hparams(cfg: RecognitionConfig) -> HParams:
    f = jnp.float32
    return HParams(
        f(cfg.optim.lr),
        f(cfg.optim.lr_decay),
        f(cfg.optim.weight_decay),
        f(cfg.lam),
        f(cfg.style_weight),
        f(cfg.noise_strength),
        f(cfg.model.dropout),
    )


def init_state(cfg: RecognitionConfig, key) -> TrainState:
    x = jnp.zeros((1, cfg.window, 14, 2))
    c = jnp.ones((1, cfg.window, 14))
    v = cfg.model.init({"params": key, "dropout": key}, x, c, train=False)
    return new_state(v["params"], v.get("batch_stats", {}), cfg.optim)


def make_train_step(cfg: RecognitionConfig, data: RecognitionData):
    """The task's one train step ``(state, batch, rng, hparams) -> (state, metrics)``, a pure
    function (the caller jits or vmaps it).  Augmentation, detector noise, normalisation,
    forward, loss (eq. 10 + a style cross-entropy) and the optimizer update happen inside, so
    the host only feeds clean (and real) windows."""
    spe = steps_per_epoch(data, cfg)
    tx = make_optimizer(cfg.optim)
    noise, aug = data.noise, cfg.augment
    cw = jnp.ones(len(data.styles)) if cfg.balanced else class_weights_from_counts(data.class_counts)

    def simulated_input(key, clean, strength):
        k = jax.random.split(key, 5)
        g = rotate(k[0], clean, aug.rotation_2d)
        g = scale(k[1], g, aug.scale)
        g = flip(k[2], g, p=aug.flip_p)
        if aug.blur_sigma > 0:
            g = temporal_blur(k[3], g, aug.blur_sigma)
        x, conf = simulate_detections(k[4], g, noise, strength=strength)
        xn, c, s = normalize(x, conf)
        return xn, conf, (g - c) / s

    def real_input(key, det, conf, gt):
        det, conf, gt = augment_pair(key, det, conf, gt, aug)
        xn, c, s = normalize(det, conf)
        return xn, conf, (gt - c) / s

    def step(state: TrainState, batch, rng, hp: HParams):
        model = cfg.model.clone(dropout=hp.dropout)  # the rate is an array
        k_sim, k_real, k_drop = jax.random.split(rng, 3)
        b = batch["clean"].shape[0]
        xn, conf, target = jax.vmap(simulated_input, in_axes=(0, 0, None))(
            jax.random.split(k_sim, b), batch["clean"], hp.noise_strength
        )
        style = batch["style"]
        if cfg.real_batch:
            rx, rc, rt = jax.vmap(real_input)(
                jax.random.split(k_real, cfg.real_batch), batch["real_x"], batch["real_conf"], batch["real_gt"]
            )
            xn, conf, target = (jnp.concatenate(p) for p in ((xn, rx), (conf, rc), (target, rt)))
            style = jnp.concatenate([style, batch["real_style"]])

        def loss_fn(params):
            variables = {"params": params, "batch_stats": state.batch_stats}
            (out, logits), upd = model.apply(
                variables, xn, conf, train=True, rngs={"dropout": k_drop}, mutable=["batch_stats"]
            )
            refine = refinement_loss(out, target, jnp.ones(target.shape[:-1]), cfg.top_k, hp.lam)
            ce = weighted_cross_entropy(logits, style, cw)
            return refine + hp.style_weight * ce, (refine, ce, logits, upd.get("batch_stats", {}))

        (loss, (refine, ce, logits, new_bs)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        params, opt_state = optimizer_update(tx, cfg.optim, state, grads, hp, spe)
        acc = (logits.argmax(-1) == style).mean()
        return TrainState(state.step + 1, params, new_bs, opt_state), {
            "loss": loss,
            "refine": refine,
            "ce": ce,
            "acc": acc,
        }

    return step


# ---------------------------------------------------------------- evaluation


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
    return res


def score(cfg: RecognitionConfig, variables, data: RecognitionData, split: str = "val") -> float:
    """Higher is better: mean PCK@0.05 (%) on ``cfg.select_on`` ('val') or on the real test
    detections ('test')."""
    s = data.sets[cfg.select_on if split == "val" else "aist_real"]
    pred, _ = predict_set(cfg, variables, s)
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


def describe(cfg: RecognitionConfig) -> dict:
    """A JSON-able description of a configuration (for saved models and tables)."""
    d = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name not in ("model", "optim", "augment")}
    m = model_fields(cfg.model)
    m["graph"] = dataclasses.asdict(m["graph"]) if "graph" in m else None
    d["model"] = {k: v for k, v in m.items() if v is not None}
    d["optim"] = dataclasses.asdict(cfg.optim)
    d["augment"] = dataclasses.asdict(cfg.augment)
    return d


def from_description(d: dict) -> RecognitionConfig:
    """The inverse of ``describe`` (JSON lists back to tuples)."""
    from dancejax.models.stgcn import GraphConfig

    def tup(x):
        return tuple(tup(v) for v in x) if isinstance(x, list) else x

    d = dict(d)
    method = d.pop("method")
    mf = {k: tup(v) for k, v in d.pop("model").items()}
    if "graph" in mf:
        mf["graph"] = GraphConfig(**mf["graph"])
    name = "mkff_stgcn" if method == "mkff_no_topk" else method
    if name == "stgcn":
        mf.pop("use_mkff", None)
    m = build(RECOGNIZERS, name, **mf)
    return RecognitionConfig(
        method=method,
        model=m,
        optim=OptimConfig(**{k: tup(v) for k, v in d.pop("optim").items()}),
        augment=AugmentConfig(**d.pop("augment")),
        **{k: tup(v) for k, v in d.items()},
    )
