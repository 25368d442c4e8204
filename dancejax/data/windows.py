"""Sequences as windows and back: how a windowed refiner covers a whole sequence.

Two modes, each a pure NumPy function of the sequence:

* **offline** (``sliding_starts`` + ``overlap_average``): windows every ``stride`` frames, the
  last one aligned to the sequence's end, and each frame the mean of the outputs of every
  window that covers it (SmoothNet's test protocol at stride 1).  A frame then depends on up
  to ``window − 1`` future frames (its look-ahead).
* **causal** (``causal_windows`` + the last frame of each output): the window that ends at
  each frame, so the output at frame t sees frames ≤ t only.  Before ``window`` frames have
  arrived the missing past repeats the first frame: the warm-up rule of the streaming engine
  (``dancejax.deploy.stream``), which computes the same outputs one frame at a time.
"""

from __future__ import annotations

import numpy as np

from dancejax.errors import DataError


def check_length(frames: int, window: int, what: str = "input") -> None:
    """A clear error for a sequence shorter than a refiner's window."""
    if frames < window:
        raise DataError(
            f"{what}: field 'keypoints': {frames} frames; the refiner needs at least its window of {window} "
            f"frames ({window / 25.0:.2f} s at 25 fps)"
        )


def sliding_starts(frames: int, window: int, stride: int = 1) -> np.ndarray:
    """First frames of the offline windows: every ``stride`` frames, plus one aligned to the end."""
    check_length(frames, window)
    if stride < 1:
        raise DataError(f"offline refinement: stride must be ≥ 1, got {stride}")
    starts = list(range(0, frames - window + 1, stride))
    if starts[-1] != frames - window:
        starts.append(frames - window)
    return np.asarray(starts)


def cut(x, starts, window: int) -> np.ndarray:
    """The windows of ``x`` (T, …) that begin at ``starts``: (len(starts), window, …)."""
    return np.asarray(x)[np.asarray(starts)[:, None] + np.arange(window)]


def overlap_average(outputs, starts, frames: int) -> np.ndarray:
    """Each frame the mean of the window outputs (N, W, …) that cover it: (frames, …)."""
    outputs = np.asarray(outputs, np.float64)
    w = outputs.shape[1]
    total = np.zeros((frames,) + outputs.shape[2:])
    count = np.zeros(frames)
    idx = (np.asarray(starts)[:, None] + np.arange(w)).ravel()
    np.add.at(total, idx, outputs.reshape(-1, *outputs.shape[2:]))
    np.add.at(count, idx, 1.0)
    if (count == 0).any():
        raise ValueError("overlap_average: some frames are covered by no window")
    return total / count.reshape((-1,) + (1,) * (total.ndim - 1))


def causal_windows(x, window: int) -> np.ndarray:
    """The window ending at every frame of ``x`` (T, …): (T, window, …); frames before the
    first repeat it (the streaming engine's warm-up)."""
    x = np.asarray(x)
    idx = np.arange(x.shape[0])[:, None] + np.arange(window)[None] - (window - 1)
    return x[np.maximum(idx, 0)]
