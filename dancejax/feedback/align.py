"""Offline alignment of a performance with a reference: dynamic time warping on pose features.

**Step pattern.**  *symmetric2* (Sakoe & Chiba 1978): a diagonal step costs twice the local
distance, a horizontal or vertical step once, so the total favours neither take.  Each
horizontal or vertical step also pays ``penalty`` × the median over performance frames of the
distance to their nearest reference frame (the noise floor of the pair), so that when the
poses cannot tell two timings apart (a held pose, detector noise) the path keeps a steady pace
instead of stalling and jumping; a real hold or a late start still wins, since matching the
wrong poses costs far more than a few steps' penalty.

**Holds.**  A step that advances one take while the other stays on a frame is what a hold
looks like when the advancing take's frames all show one pose: the dancer holding a pose (a
late start, a pause), or the reference holding one.  So the penalty of such a step is scaled
by how much the advancing take moves at the frame it enters (``stillness_weight``: its pose
change over ``HOLD_WINDOW`` frames against the take's median change, at least
``HOLD_FLOOR``): a hold costs little where that take is still and the full penalty where it
moves.  Without it a path through a still stretch pays the same penalty to wait as to catch
up later, and under detector noise, which hides the small motion inside a hold, it keeps a
steady pace through a late start and then lags the dancer's faster tempo.

**Band.**  Sakoe–Chiba: the path keeps ``|i − j| ≤ band × max(n, m)`` frames, i.e. the dancer
is never more than that share of the longer take ahead of or behind the reference.  When a
given band is narrower than the two lengths' difference no path exists, and that is an error
that says by how much; the default, ``"auto"``, is ``AUTO_BAND`` × the longer take plus the
difference in length, which always admits both ends.

**Offsets.**  Each performance frame's matched reference frame is the mean of the reference
frames the path pairs it with, smoothed by a Gaussian of ``SMOOTH_FRAMES`` frames (the path's
staircase is a quantisation of a smooth timing); the offset is ``(t_performance − t_reference)``
in seconds, positive when the dancer is behind.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from dancejax.errors import DataError
from dancejax.feedback.features import FPS

PENALTY = 2.0
AUTO_BAND = 0.25
SMOOTH_FRAMES = 2.0
HOLD_WINDOW = 12  # frames (0.5 s): long enough to average detector jitter out of a pose's change
HOLD_FLOOR = 0.1  # a hold never costs less than this share of the penalty


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n, m) local distances between (n, J, D) and (m, J, D) poses: the mean over joints of each
    joint's Euclidean distance, so that one limb far off weighs as one joint of fourteen and the
    rest of the body decides the timing."""
    out = np.zeros((len(a), len(b)))
    for j in range(a.shape[1]):  # one (n, m) matrix per joint keeps the memory at n × m
        u, v = a[:, j], b[:, j]
        out += np.sqrt(np.maximum((u * u).sum(-1)[:, None] + (v * v).sum(-1)[None] - 2.0 * u @ v.T, 0.0))
    return out / a.shape[1]


def stillness_weight(f: np.ndarray, window: int = HOLD_WINDOW) -> np.ndarray:
    """(T,) in [HOLD_FLOOR, 1]: how much the pose changes around each frame, over ``window``
    frames (mean joint displacement; the window averages detector jitter out), relative to the
    take's median change."""
    d = pose_change(f, window)
    return np.clip(d / max(float(np.median(d)), 1e-12), HOLD_FLOOR, 1.0)


def pose_change(f: np.ndarray, window: int = HOLD_WINDOW) -> np.ndarray:
    """(T,) the mean joint displacement from ``window // 2`` frames before each frame to as many
    after (the ends held)."""
    k = window // 2
    p = np.pad(np.asarray(f, np.float64), ((k, k), (0, 0), (0, 0)), mode="edge")
    return np.linalg.norm(p[2 * k :] - p[: -2 * k], axis=-1).mean(-1)


def band_frames(n: int, m: int, band: float | str | None) -> int | None:
    """The band's half-width in frames, or None for no band; a band that cannot join the two
    ends is a DataError."""
    if band is None:
        return None
    if band == "auto":
        return int(np.ceil(AUTO_BAND * max(n, m))) + abs(n - m)
    if isinstance(band, str) or not band > 0:
        raise DataError(f"feedback: field 'band': expected a positive fraction of the length (or none), got {band}")
    w = int(np.ceil(band * max(n, m)))
    if abs(n - m) > w:
        raise DataError(
            f"feedback: field 'band': the takes last {n / FPS:.1f} s and {m / FPS:.1f} s; a band of {band:g} lets the "
            f"timing differ by at most {w / FPS:.1f} s, less than their {abs(n - m) / FPS:.1f} s difference in "
            f"length; widen the band to at least {abs(n - m) / max(n, m):.2f} (or none) or trim the takes"
        )
    return w


def dtw(
    a: np.ndarray, b: np.ndarray, band: float | str | None = "auto", penalty: float = PENALTY
) -> tuple[np.ndarray, float]:
    """Symmetric2 DTW between (n, J, D) and (m, J, D) pose sequences with a step penalty (see
    the module docstring), vectorised over anti-diagonals.  Returns the path (k, 2) of index pairs
    from (0, 0) to (n − 1, m − 1) and the mean local distance along it."""
    n, m = len(a), len(b)
    cost = distances(a, b)
    lam = penalty * float(np.median(cost.min(1)))
    lam_a, lam_b = lam * stillness_weight(a), lam * stillness_weight(b)
    w = band_frames(n, m, band)
    if w is not None:
        i, j = np.indices((n, m))
        cost = np.where(np.abs(i - j) <= w, cost, np.inf)
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    step: np.ndarray = np.zeros((n + 1, m + 1), np.int8)  # 0 diagonal, 1 from (i − 1, j), 2 from (i, j − 1)
    for k in range(2, n + m + 1):  # anti-diagonal k = i + j (1-based), each one vectorised
        i = np.arange(max(1, k - m), min(n, k - 1) + 1)
        j = k - i
        c = cost[i - 1, j - 1]
        cand = np.stack([acc[i - 1, j - 1] + 2 * c, acc[i - 1, j] + c + lam_a[i - 1], acc[i, j - 1] + c + lam_b[j - 1]])
        best = cand.argmin(0)
        acc[i, j] = cand[best, np.arange(len(i))]
        step[i, j] = best
    pairs = [(n - 1, m - 1)]
    p, q = n, m
    while (p, q) != (1, 1):
        s = step[p, q]
        p, q = (p - 1, q - 1) if s == 0 else (p - 1, q) if s == 1 else (p, q - 1)
        if p < 1 or q < 1:  # cannot happen inside a finite accumulation; guards the loop
            raise DataError("feedback: the alignment left the cost matrix")
        pairs.append((p - 1, q - 1))
    path = np.asarray(pairs[::-1])
    return path, float(cost[path[:, 0], path[:, 1]].mean())


def matched_frames(path: np.ndarray, n: int, smooth: float = SMOOTH_FRAMES) -> np.ndarray:
    """(n,) the reference frame (fractional) each performance frame is matched with."""
    total = np.zeros(n)
    count = np.zeros(n)
    np.add.at(total, path[:, 0], path[:, 1])
    np.add.at(count, path[:, 0], 1)
    matched = total / count
    return gaussian_filter1d(matched, smooth, mode="nearest") if smooth else matched
