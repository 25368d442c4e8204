"""Orthonormal DCT-II along time (LTD, siMLPe).

``D[k, t] = w_k cos(π (2t + 1) k / (2L))`` with ``w_0 = √(1/L)``, ``w_k = √(2/L)``;
D is orthonormal, so the inverse is ``Dᵀ``.  LTD's own code builds the same matrix.
"""

from __future__ import annotations

import numpy as np


def dct_matrix(length: int) -> np.ndarray:
    k = np.arange(length)[:, None]
    t = np.arange(length)[None, :]
    d = np.cos(np.pi * (2 * t + 1) * k / (2 * length))
    d[0] *= np.sqrt(1.0 / length)
    d[1:] *= np.sqrt(2.0 / length)
    return d.astype(np.float32)


def idct_matrix(length: int) -> np.ndarray:
    return dct_matrix(length).T.copy()
