"""The prediction task: data."""

from __future__ import annotations

import dataclasses

import numpy as np

from dancejax.data.dataset import DanceDataset, cut_windows, project_windows, take_windows
from dancejax.data.pipeline import (
    coordinate_stats,
    eval_windows,
)
from dancejax.errors import DataError
from dancejax.tasks.prediction.config import PredictionConfig


@dataclasses.dataclass
class PredictionData:
    """Windows of ``length`` = obs + pred frames.  ``train`` holds the 3D takes' windows in
    metres; a 2D model's batches project them through a new random virtual camera each epoch
    (``epoch_batches``).  ``val``, ``eval_sets`` and ``real_sets`` are in the model's dimension
    (2D: pixels)."""

    styles: list[str]
    train: np.ndarray  # (N, obs + pred, J, 3) global windows, metres
    val: np.ndarray  # (N, obs + pred, J, D)
    eval_sets: dict[str, np.ndarray]  # style -> (n, obs + pred, J, D) test windows
    protocol: str
    length: int
    real_sets: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)  # 2D: real camera views

    @property
    def dims(self) -> int:
        return int(self.val.shape[-1])


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
    if cfg.model.dims not in (2, 3):
        raise DataError(f"prediction config: model field 'dims' must be 2 or 3, got {cfg.model.dims!r}")
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
    real = {}
    if cfg.model.dims == 2:
        rng = np.random.default_rng([seed, 2])
        evals = {k: project_windows(evals[k], rng) for k in sorted(evals)}
        val = project_windows(val, rng)
        real = real_view_windows(ds, "test", length, styles)
        protocol += (
            f"; 2D: each window seen by its own random virtual camera (drawn with seed {seed}; 1920×1080 px, "
            "3.5–6 m away), errors in pixels"
            + (
                f"; real views: the held-out AIST++ sequences' ground truth through their {REAL_VIEWS} real cameras, "
                f"windows at stride {length}"
                if real
                else ""
            )
        )
    return PredictionData(
        sorted(evals),
        train.astype(np.float32),
        val.astype(np.float32),
        {k: v.astype(np.float32) for k, v in evals.items()},
        protocol,
        length,
        {k: v.astype(np.float32) for k, v in real.items()},
    )


REAL_VIEWS = 9  # the AIST++ cameras


def real_view_windows(ds: DanceDataset, split: str, length: int, styles) -> dict[str, np.ndarray]:
    """2D windows of ``length`` frames (stride ``length``) of the ground truth of the split's
    AIST++ sequences as each of their real cameras sees it, in pixels: one set, ``aist_real``
    (empty without such sequences)."""
    seqs = [v for d in ds.detections if d.split == split and d.style in styles for v in d.gt]
    seqs = [v for v in seqs if len(v) >= length]
    if not seqs:
        return {}
    return {"aist_real": cut_windows(seqs, length, length, name="AIST++ view").positions}


def prepare(cfg: PredictionConfig, data: PredictionData) -> PredictionConfig:
    """Fill in what a configuration takes from the training data (normalisation statistics;
    for a 2D model, of the training windows through one fixed draw of virtual cameras)."""
    if cfg.normalize and cfg.stats is None:
        train = data.train if cfg.model.dims == 3 else project_windows(data.train, np.random.default_rng(0))
        cfg = dataclasses.replace(cfg, stats=coordinate_stats(train, cfg.obs, cfg.frame, cfg.units))
    return cfg


def _check_data(data: PredictionData, cfg: PredictionConfig):
    if data.length != cfg.obs + cfg.pred:
        raise DataError(
            f"prediction data: windows of {data.length} frames, but the config needs obs + pred = {cfg.obs + cfg.pred}"
        )
    if data.dims != cfg.model.dims:
        raise DataError(f"prediction data: {data.dims}D windows, but the model predicts {cfg.model.dims}D poses")


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
        w = data.train[order[i * b : (i + 1) * b]]
        if cfg.model.dims == 2:  # each window through its own random virtual camera
            w = project_windows(w, rng)
        yield {"window": w}
