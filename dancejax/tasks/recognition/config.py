"""The recognition task: configuration and presets."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
from flax import struct

from dancejax.data.augment import AugmentConfig
from dancejax.data.noise import MISS_CONF
from dancejax.errors import DataError
from dancejax.models import RECOGNIZERS, build, entry_config, model_class, model_fields, preset_sizes
from dancejax.train.optim import OptimConfig

NAME = "recognition"
MISSING = MISS_CONF  # confidence at or below which a joint counts as not detected
PRESETS = ("test", "quick", "default", "original", "paper")
ORIGINAL = ("default", "original", "paper")  # one recipe: the paper's (see preset_overrides)
METHODS = tuple(RECOGNIZERS)
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
    ``keep_uncertain``: the input keeps the detector's low-confidence keypoints instead of
    placing them at the window centre (``dancejax.data.pipeline.normalize``).
    ``vel_weight`` / ``accel_weight``: L1 terms on the refined windows' first / second
    differences in time beside eq. 10 (SmoothNet's loss has the second).  ``causal_weight``:
    eq. 10 once more on each window's last frame, the frame the causal mode outputs
    (``dancejax.studies.sequences``).
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
    keep_uncertain: bool = False
    vel_weight: float = 0.0
    accel_weight: float = 0.0
    causal_weight: float = 0.0
    seed: int = 0
    data_seed: int | None = None

    def __post_init__(self):
        if self.model is None:
            object.__setattr__(self, "model", build(RECOGNIZERS, self.method))
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
            (
                0.0 <= self.real_fraction <= 1.0,
                f"real_fraction must be in [0, 1] (1: real detections only), got {self.real_fraction!r}",
            ),
            (self.select_on in ("sim_val", "real_val"), f"select_on {self.select_on!r}: use 'sim_val' or 'real_val'"),
            (self.select in ("final", "best"), f"select {self.select!r}: use 'final' or 'best'"),
            (
                min(self.vel_weight, self.accel_weight, self.causal_weight) >= 0,
                "vel_weight, accel_weight and causal_weight must be ≥ 0",
            ),
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


# dancejax's data choices for the presets (the paper trains on its own detections, which we do not
# have): three quarters of every batch from the real AIST++ training detections,
# class-balanced sampling, selection on real validation detections, and a gated residual in the
# refinement models (the paper leaves open how the offset meets the input).  ``sim_only=True``
# gives the simulated-only setting.  In every non-test preset the refinement decoder also sees
# each joint's own input at its frame (``skip_input``), and inference uses the flip test
# (``apply_refiner``), as pose estimators commonly do; the paper says neither.
REAL_DATA = {"real_fraction": 0.75, "balanced": True, "select_on": "real_val", "select": "best"}


def preset_overrides(method: str, preset: str, sim_only: bool = False) -> dict:
    """The configuration fields a preset sets ('model' = model fields).

    ``original`` (also ``paper``, and ``default``: the paper's recipe is dancejax's full one) is
    §IV-A: SGD with momentum, lr 0.01 × 0.95 per epoch, batch 16, 80 epochs, every method
    trained the same way, with the sizes each model declares for it (the ST-GCN-10 backbone).
    ``quick`` is a CPU budget: the small backbone, Adam 2e-3 × 0.98 per epoch, 30 epochs.
    ``test`` is tiny, for the test suite."""
    if preset not in PRESETS:
        raise DataError(f"unknown recognition preset {preset!r}; presets are {', '.join(PRESETS)}")
    if method not in METHODS:
        raise DataError(f"unknown recognition method {method!r}; methods are {', '.join(METHODS)}")
    entry = RECOGNIZERS[method]
    fields = set(model_fields(build(RECOGNIZERS, method)))
    out = entry_config(entry)
    model = {}
    if preset != "test":
        out["flip_test"] = True  # every learned method, in every non-test preset
        model = {"skip_input": True} if "skip_input" in fields else {}
    if preset != "test" and not sim_only:
        out.update(REAL_DATA)
        model = {**model, "residual": "gated"} if "residual" in fields else model
    if preset in ORIGINAL:
        return {**out, "model": {**model, **preset_sizes(entry, "original")}}
    if preset == "quick":
        return {
            **out,
            "optim": OptimConfig("adam", lr=2e-3, lr_decay=0.98, clip_norm=1.0),
            "epochs": 30,
            "eval_every": 3,
            "model": {**model, **preset_sizes(entry, "quick")},
        }
    return {
        **out,
        "optim": OptimConfig("adam", lr=2e-3, lr_decay=0.95, clip_norm=1.0),
        "epochs": 2,
        "window": 16,
        "stride": 16,
        "batch_size": 4,
        "max_train_windows": 16,
        "model": preset_sizes(entry, "test"),
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
        preset: one of ``PRESETS`` (``test``, ``quick``, ``default``, ``original``/``paper``).
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
    m = build(RECOGNIZERS, method, num_styles=num_styles, **model_kw)
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
    if method == "stgcn":
        mf.pop("use_mkff", None)
    m = build(RECOGNIZERS, method, **mf)
    return RecognitionConfig(
        method=method,
        model=m,
        optim=OptimConfig(**{k: tup(v) for k, v in d.pop("optim").items()}),
        augment=AugmentConfig(**d.pop("augment")),
        **{k: tup(v) for k, v in d.items()},
    )


DEFAULT_METHOD = "mkff_stgcn"


def config_for_data(method: str, preset: str, dataset, real_fraction: float | None = None, **overrides):
    """``make_config`` for training on ``dataset``: one style class per dataset style, and with
    ``real_fraction`` that share of every batch from real detections, selected on them.

    A dataset without real detections (your own 3D takes) trains on simulated detections only
    (``sim_only``); one without 3D takes (2D keypoint takes) on its detections only
    (``real_fraction`` 1)."""
    has_real = any(d.det.shape[0] and d.det.shape[1] for d in dataset.detections)
    sim_only = not has_real and real_fraction is None
    if not dataset.takes and has_real:
        real_fraction = 1.0
    if real_fraction is not None:
        overrides.update(real_fraction=real_fraction, select_on="real_val", select="best")
    return make_config(method, preset, num_styles=len(dataset.styles), sim_only=sim_only, **overrides)
