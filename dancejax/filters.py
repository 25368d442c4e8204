"""Classical temporal filters for keypoint refinement: Savitzky–Golay and One-Euro.

NumPy, applied per joint coordinate along time.  Missing joints (confidence 0)
are first filled by linear interpolation from the nearest confident frames.
"""

from __future__ import annotations

import numpy as np


def fill_missing(x, conf, thresh: float = 0.0):
    """Linearly interpolate joints with confidence ≤ thresh along time: (T, J, D)."""
    x = np.array(x, np.float64)
    t = np.arange(x.shape[0])
    for j in range(x.shape[1]):
        ok = conf[:, j] > thresh
        if ok.all() or not ok.any():
            continue
        for d in range(x.shape[2]):
            x[~ok, j, d] = np.interp(t[~ok], t[ok], x[ok, j, d])
    return x


def savgol_coefficients(window: int, order: int) -> np.ndarray:
    """Least-squares polynomial smoothing weights for the window's centre sample."""
    half = window // 2
    k = np.arange(-half, half + 1, dtype=np.float64)
    a = k[:, None] ** np.arange(order + 1)[None]
    return np.linalg.pinv(a)[0]


def savgol(x, window: int = 7, order: int = 2):
    """Savitzky–Golay smoothing along axis 0 with edge replication; window odd."""
    if window % 2 == 0 or window <= order:
        raise ValueError(f"Savitzky–Golay needs an odd window > order, got window={window}, order={order}")
    c = savgol_coefficients(window, order)
    half = window // 2
    xp = np.concatenate([np.repeat(x[:1], half, 0), x, np.repeat(x[-1:], half, 0)], 0)
    idx = np.arange(x.shape[0])[:, None] + np.arange(window)[None]
    return np.einsum("k,tk...->t...", c, xp[idx])


def one_euro(x, fps: float = 25.0, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0):
    """One-Euro filter (Casiez, Roussel, Vogel 2012) along axis 0, causal."""
    x = np.asarray(x, np.float64)
    alpha = lambda cutoff: 1.0 / (1.0 + fps / (2 * np.pi * cutoff))
    out = np.empty_like(x)
    out[0] = x[0]
    dx_prev = np.zeros_like(x[0])
    a_d = alpha(d_cutoff)
    for t in range(1, x.shape[0]):  # a recursive filter: sequential by definition (NumPy, not jitted)
        dx = (x[t] - out[t - 1]) * fps
        dx_hat = a_d * dx + (1 - a_d) * dx_prev
        a = alpha(min_cutoff + beta * np.abs(dx_hat))
        out[t] = a * x[t] + (1 - a) * out[t - 1]
        dx_prev = dx_hat
    return out


def apply_filter(kind: str, x, conf, **params):
    """Filter one (T, J, D) sequence after filling its missing joints."""
    filled = fill_missing(x, conf)
    if kind == "savgol":
        return savgol(filled, **params)
    if kind == "one_euro":
        return one_euro(filled, **params)
    raise ValueError(f"Unsupported filter: {kind!r}")
