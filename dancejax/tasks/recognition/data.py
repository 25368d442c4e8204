"""The recognition task: data."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dancejax.data.dataset import DanceDataset, cut_windows, project_windows, take_windows
from dancejax.data.noise import NoiseParams, calibrate, real_frames, shipped_calibration, simulate_detections
from dancejax.errors import DataError
from dancejax.tasks.recognition.config import RecognitionConfig


@dataclasses.dataclass
class RecognitionData:
    styles: list[str]
    train3d: Any  # Windows (3D, metres)
    noise: NoiseParams
    class_counts: np.ndarray
    real_train: dict[str, np.ndarray] | None  # x, conf, gt, style (pixels) or None
    sets: dict[str, dict[str, np.ndarray]]  # eval sets: x, conf, gt, visible, style (pixels)
    window: int
    notes: tuple[str, ...] = ()  # what the data chose, for the log (calibration, no ground truth)


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
    xs, cs, gs, st, hg = [], [], [], [], []
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
            hg.append(np.full(len(idx), d.has_gt, np.float32))
    if not xs:
        return None
    gt = np.concatenate(gs)
    has_gt = np.concatenate(hg)
    return {
        "x": np.concatenate(xs),
        "conf": np.concatenate(cs),
        "gt": gt,
        "visible": np.broadcast_to(has_gt[:, None, None], gt.shape[:-1]).astype(np.float32),
        "style": np.concatenate(st),
        "has_gt": has_gt,
    }


def _join(*sets):
    """One set from several (None where a part is empty)."""
    sets = [s for s in sets if s is not None]
    if len(sets) < 2:
        return sets[0] if sets else None
    return {k: np.concatenate([s[k] for s in sets]) for k in sets[0]}


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
    notes: list[str] = []
    train_takes = [t for t in ds.list_takes("train") if t.num_frames >= window]
    if not train_takes and cfg.sim_batch:
        raise DataError(f"{ds.path}: no training take has {window} frames (the window)")
    # 2D keypoint takes alone simulate nothing: the simulator is then only a placeholder
    noise = calibrate(ds, log=notes.append) if ds.takes else shipped_calibration()
    real_train = _real_set(ds, "train", "train", window, cfg.stride, styles)
    if cfg.real_fraction > 0 and real_train is None:
        raise DataError(
            f"{ds.path}: real_fraction {cfg.real_fraction} needs real training detections, but no "
            f"train-split sequence has {window} frames left after the validation split"
        )
    if train_takes:
        train3d = take_windows(train_takes, window, cfg.stride, styles)
        counts = np.bincount(train3d.style, minlength=len(styles))
    else:  # 2D keypoint takes only: every batch is real detections
        train3d = None
        counts = np.bincount(real_train["style"], minlength=len(styles))
    if any(not d.has_gt for d in ds.detections):
        notes.append(
            "2D keypoint takes have no ground truth: on their windows the refinement loss is off and only the "
            "style is learned" + ("; models are selected by balanced style accuracy" if train3d is None else "")
        )
    sets = {
        "sim_val": _simulated_set(ds, "val", window, styles, noise, seed + 101),
        "sim_test": _simulated_set(ds, "test", window, styles, noise, seed + 202),
        "real_val": _join(
            _real_set(ds, "train", "val", window, window, styles), _real_set(ds, "val", "test", window, window, styles)
        ),
        "aist_real": _real_set(ds, "test", "test", window, window, styles),
    }
    if sets[cfg.select_on] is None:
        raise DataError(
            f"{ds.path}: select_on {cfg.select_on!r} but that set is empty: no views or frames are left "
            f"for it with windows of {window} frames"
        )
    return RecognitionData(
        styles,
        train3d,
        noise,
        counts,
        real_train,
        {k: v for k, v in sets.items() if v is not None},
        window,
        tuple(notes),
    )


def steps_per_epoch(data: RecognitionData, cfg: RecognitionConfig) -> int:
    if data.window != cfg.window:
        raise DataError(f"recognition data: windows of {data.window} frames, the config needs {cfg.window}")
    n = len(data.train3d.positions) if data.train3d is not None else len(data.real_train["x"])
    if cfg.max_train_windows:
        n = min(n, cfg.max_train_windows)
    if data.train3d is None and cfg.sim_batch:
        raise DataError(
            f"recognition config: real_fraction {cfg.real_fraction}, but the data has no 3D takes to simulate "
            "detections from; use real_fraction 1 (its detections only)"
        )
    if cfg.sim_batch < 1 and data.train3d is not None and cfg.real_fraction < 1:
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
    if cfg.sim_batch:
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
        batch = {"clean": px[sl], "style": sty[sl].astype(np.int32)} if cfg.sim_batch else {}
        if cfg.real_batch:
            r = ridx[i * cfg.real_batch : (i + 1) * cfg.real_batch]
            batch.update(
                real_x=real["x"][r],
                real_conf=real["conf"][r],
                real_gt=real["gt"][r],
                real_style=real["style"][r].astype(np.int32),
                real_has_gt=real["has_gt"][r],
            )
        yield batch
