"""Euler-angle rotation matrices (NumPy, vectorised over frames)."""

from __future__ import annotations

import numpy as np


def axis_rotation(axis: str, angle_rad: np.ndarray) -> np.ndarray:
    """Rotation matrices about x, y or z for an array of angles: shape (..., 3, 3)."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    o, z = np.ones_like(c), np.zeros_like(c)
    if axis == "x":
        m = [[o, z, z], [z, c, -s], [z, s, c]]
    elif axis == "y":
        m = [[c, z, s], [z, o, z], [-s, z, c]]
    elif axis == "z":
        m = [[c, -s, z], [s, c, z], [z, z, o]]
    else:
        raise ValueError(f"unknown rotation axis {axis!r}")
    return np.moveaxis(np.array(m, dtype=np.float64), (0, 1), (-2, -1))


def euler_matrix(order: str, angles_deg: np.ndarray) -> np.ndarray:
    """R = R_{order[0]} · R_{order[1]} · R_{order[2]} ... (BVH channel-order convention).

    ``angles_deg[..., k]`` is the angle about axis ``order[k]``.
    """
    angles = np.deg2rad(np.asarray(angles_deg, np.float64))
    r = None
    for k, ax in enumerate(order.lower()):
        m = axis_rotation(ax, angles[..., k])
        r = m if r is None else r @ m
    return r


def rodrigues(rvec: np.ndarray) -> np.ndarray:
    """Axis-angle vector (3,) to a rotation matrix (OpenCV's Rodrigues convention)."""
    rvec = np.asarray(rvec, np.float64)
    theta = np.linalg.norm(rvec)
    if theta < 1e-12:
        return np.eye(3)
    k = rvec / theta
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(theta) * kx + (1 - np.cos(theta)) * kx @ kx
