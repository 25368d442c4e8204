"""Classical temporal filters for keypoint refinement: Savitzky–Golay, Gaussian (MMPose's:
a median, then a Gaussian) and One-Euro.

NumPy, applied per joint coordinate along time.  Missing joints (confidence 0)
are first filled by linear interpolation from the nearest confident frames.
Savitzky–Golay and Gaussian are centred (they need ``lookahead`` future frames); One-Euro is
causal (``CAUSAL_FILTERS``).
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
    f = OneEuro(fps, min_cutoff, beta, d_cutoff)
    return np.stack([f(frame) for frame in x]) if len(x) else x.copy()


class OneEuro:
    """The One-Euro filter one frame at a time (for streams): ``f(frame)`` returns the filtered
    frame, any shape; ``one_euro`` runs it over a sequence."""

    def __init__(self, fps: float = 25.0, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0):
        self.fps, self.min_cutoff, self.beta = fps, min_cutoff, beta
        self.a_d = self._alpha(d_cutoff)
        self.out = self.dx = None

    def _alpha(self, cutoff):
        return 1.0 / (1.0 + self.fps / (2 * np.pi * cutoff))

    def __call__(self, frame) -> np.ndarray:
        x = np.asarray(frame, np.float64)
        if self.out is None:
            self.out, self.dx = x.copy(), np.zeros_like(x)
            return self.out.copy()
        dx_hat = self.a_d * (x - self.out) * self.fps + (1 - self.a_d) * self.dx
        a = self._alpha(self.min_cutoff + self.beta * np.abs(dx_hat))
        self.out = a * x + (1 - a) * self.out
        self.dx = dx_hat
        return self.out.copy()


def gaussian_kernel(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """Normalised Gaussian weights over ±``int(truncate·σ + 0.5)`` samples (SciPy's radius)."""
    r = int(truncate * float(sigma) + 0.5)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / float(sigma)) ** 2)
    return k / k.sum()


def gaussian(x, window: int = 11, sigma: float = 4.0):
    """MMPose's Gaussian filter along axis 0: a running median over ``window`` frames (odd),
    then a Gaussian of ``sigma`` frames (truncated at 4σ).  Both pad by mirroring the ends the
    way SciPy's ``gaussian_filter1d`` does ('reflect': … x1 x0 | x0 x1 …) for the Gaussian, and
    by repeating the end frame for the median (MMPose calls ``scipy.signal.medfilt``, which
    pads with zeros; on pixel coordinates that would pull the first and last frames toward 0)."""
    if window < 1 or window % 2 == 0 or sigma <= 0:
        raise ValueError(f"Gaussian filter needs an odd window ≥ 1 and sigma > 0, got window={window}, sigma={sigma}")
    x = np.asarray(x, np.float64)
    h = window // 2
    xp = np.concatenate([np.repeat(x[:1], h, 0), x, np.repeat(x[-1:], h, 0)], 0)
    med = np.median(xp[np.arange(x.shape[0])[:, None] + np.arange(window)[None]], axis=1)
    k = gaussian_kernel(sigma)
    r = len(k) // 2
    idx = np.arange(-r, x.shape[0] + r)
    n = x.shape[0]
    idx = np.abs(np.where(idx < 0, idx + 1, idx))  # reflect below 0: -1 -> 0, -2 -> 1
    period = np.mod(idx, 2 * n)
    idx = np.where(period >= n, 2 * n - 1 - period, period)
    padded = med[idx]
    win = np.arange(n)[:, None] + np.arange(len(k))[None]
    return np.einsum("k,tk...->t...", k, padded[win])


FILTERS = ("savgol", "gaussian", "one_euro")
CAUSAL_FILTERS = ("one_euro",)


def lookahead(kind: str, **params) -> int:
    """The future frames a filter needs to output a frame: half its window for the centred
    ones (the median's half window plus the Gaussian's radius for 'gaussian'), 0 for One-Euro."""
    if kind == "savgol":
        return int(params.get("window", 7)) // 2
    if kind == "gaussian":
        return int(params.get("window", 11)) // 2 + len(gaussian_kernel(params.get("sigma", 4.0))) // 2
    if kind == "one_euro":
        return 0
    raise ValueError(f"Unsupported filter: {kind!r}; use one of {FILTERS}")


def apply_filter(kind: str, x, conf, **params):
    """Filter one (T, J, D) sequence after filling its missing joints."""
    filled = fill_missing(x, conf)
    if kind == "savgol":
        return savgol(filled, **params)
    if kind == "gaussian":
        return gaussian(filled, **params)
    if kind == "one_euro":
        return one_euro(filled, **params)
    raise ValueError(f"Unsupported filter: {kind!r}; use one of {FILTERS}")
