"""Kinematic features of a pose sequence (paper eq. 5–6, SPEC §3).

With interval ``d`` (default 1), along the time axis (``axis``, default -3 so that
``(..., T, J, D)`` works with any leading batch axes):

* keypoint flow  ``F_t = (P_{t-d} + P_t + P_{t+d}) / 3``
* velocity       ``v_t = (F_t − F_{t-d}) / d``
* acceleration   ``a_t = (v_t − v_{t-d}) / d``

Indices outside ``[0, T)`` are clamped (edge replication), so every output keeps
``T`` frames.  The functions are pure ``jnp`` with static ``d``: safe under
``jit``, ``vmap`` and ``grad``.
"""

from __future__ import annotations

import jax.numpy as jnp


def _shift(x: jnp.ndarray, offset: int, axis: int) -> jnp.ndarray:
    """x[t + offset] along ``axis`` with indices clamped to the valid range."""
    t = x.shape[axis]
    idx = jnp.clip(jnp.arange(t) + offset, 0, t - 1)
    return jnp.take(x, idx, axis=axis)


def keypoint_flow(p: jnp.ndarray, d: int = 1, axis: int = -3) -> jnp.ndarray:
    """Eq. 5: temporal 3-tap mean with interval ``d``."""
    return (_shift(p, -d, axis) + p + _shift(p, d, axis)) / 3.0


def velocity(p: jnp.ndarray, d: int = 1, axis: int = -3) -> jnp.ndarray:
    """Eq. 6 (first line), taken on the keypoint flow as SPEC §3 fixes."""
    f = keypoint_flow(p, d, axis)
    return (f - _shift(f, -d, axis)) / d


def acceleration(p: jnp.ndarray, d: int = 1, axis: int = -3) -> jnp.ndarray:
    """Eq. 6 (second line): difference of velocities with interval ``d``."""
    v = velocity(p, d, axis)
    return (v - _shift(v, -d, axis)) / d


def kinematic_features(p: jnp.ndarray, d: int = 1, axis: int = -3):
    """(velocity, acceleration), sharing the flow computation."""
    v = velocity(p, d, axis)
    return v, (v - _shift(v, -d, axis)) / d
