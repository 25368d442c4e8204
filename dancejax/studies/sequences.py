"""Every refinement method on whole sequences, offline or causal, with its look-ahead.

* **raw**: the detector's keypoints as given, low-confidence joints included (the detector's
  own guess is what a user of the raw detector sees);
* **filters** (``dancejax.maths.filters``): Savitzky–Golay and Gaussian are centred (offline
  only: a causal request is a ``DataError``); One-Euro is causal in both modes;
* **learned refiners**: a recognition ``Refiner`` (HBRNN, ST-GCN, MKFF-ST-GCN) or a refiner of
  ``dancejax.tasks.refinement`` (SmoothNet) covers the sequence with windows
  (``dancejax.data.windows``): offline, every window at stride 1 with overlapping outputs
  averaged (look-ahead ``window − 1`` frames); causal, the last frame of the window ending at
  each frame (look-ahead 0), the outputs the streaming engine gives frame by frame.
"""

from __future__ import annotations

import numpy as np

from dancejax.data.windows import causal_windows, check_length, cut, overlap_average, sliding_starts
from dancejax.errors import DataError
from dancejax.maths.filters import CAUSAL_FILTERS, FILTERS, apply_filter, lookahead

MODES = ("offline", "causal")


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise DataError(f"refinement mode {mode!r}: use one of {', '.join(MODES)}")


def filter_lookahead(kind: str, params: dict, mode: str = "offline") -> int:
    """Frames of future input the filter needs; a ``DataError`` for a causal request to a
    centred filter."""
    check_mode(mode)
    if kind not in FILTERS:
        raise DataError(f"unknown filter {kind!r}; filters are {', '.join(FILTERS)}")
    ahead = lookahead(kind, **params)
    if mode == "causal" and kind not in CAUSAL_FILTERS:
        raise DataError(
            f"{kind} is a centred filter that needs {ahead} future frames; it has no causal mode "
            f"(the causal filter is {', '.join(CAUSAL_FILTERS)})"
        )
    return ahead


def filter_sequence(kind: str, x, conf, params: dict, mode: str = "offline") -> np.ndarray:
    """One (T, J, 2) sequence filtered (its joints with confidence 0 first interpolated)."""
    filter_lookahead(kind, params, mode)
    return apply_filter(kind, np.asarray(x, np.float64), np.asarray(conf), **params)


def learned_lookahead(window: int, mode: str) -> int:
    """Offline windows at stride 1 need ``window − 1`` future frames for a frame; causal none."""
    check_mode(mode)
    return window - 1 if mode == "offline" else 0


def _batched(fn, xs, cs, batch: int = 64):
    """``fn`` on fixed-size batches (the last one padded), so that it compiles once."""
    n = len(xs)
    batch = max(1, min(batch, n))
    pad = (-n) % batch
    xs = np.concatenate([xs, np.repeat(xs[:1], pad, 0)])
    cs = np.concatenate([cs, np.repeat(cs[:1], pad, 0)])
    return np.concatenate([np.asarray(fn(xs[i : i + batch], cs[i : i + batch])) for i in range(0, n + pad, batch)])[:n]


def refine_recognition(refiner, x, conf, mode: str = "offline", stride: int = 1) -> np.ndarray:
    """A recognition ``Refiner`` over a whole (T, J, 2) sequence with confidences (T, J):
    refined (T, J, 2) pixels, offline or causal (see the module docstring)."""
    check_mode(mode)
    w = refiner.cfg.window
    x, conf = np.asarray(x, np.float32), np.asarray(conf, np.float32)
    if conf.shape != x.shape[:-1]:
        raise DataError(f"input: field 'confidence': expected shape {x.shape[:-1]}, got {conf.shape}")
    check_length(len(x), w)
    run = lambda a, b: refiner(a, b)[0]
    if mode == "causal":
        return _batched(run, causal_windows(x, w), causal_windows(conf, w))[:, -1]
    starts = sliding_starts(len(x), w, stride)
    return overlap_average(_batched(run, cut(x, starts, w), cut(conf, starts, w)), starts, len(x))
