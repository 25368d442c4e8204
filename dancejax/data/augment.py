"""Training-time augmentation (SPEC §2), per sample, jit- and vmap-friendly.

Each function takes an explicit PRNG key and one window ``x`` of shape (T, J, D);
batch them with ``jax.vmap`` over keys.  3D rotation is about the vertical (Y)
axis; 2D rotation is in the image plane.  Flips mirror x and swap left/right
joints with the layout's permutation.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from dancejax.skeleton import LSP14, Layout


def _centre(x):
    return x.mean(axis=(0, 1), keepdims=True)


def _pivot(x, about: str):
    if about == "centroid":
        return _centre(x)
    if about == "origin":
        return jnp.zeros((1, 1, x.shape[-1]), x.dtype)
    raise ValueError(f"Unsupported pivot {about!r}; use 'centroid' or 'origin'")


def rotate(key, x, max_angle: float, about: str = "centroid"):
    """Random rotation by U(-max_angle, max_angle) radians about the centroid (or the origin)."""
    a = jax.random.uniform(key, (), minval=-max_angle, maxval=max_angle)
    c, s = jnp.cos(a), jnp.sin(a)
    m = _pivot(x, about)
    if x.shape[-1] == 3:
        r = jnp.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    else:
        r = jnp.array([[c, -s], [s, c]])
    return (x - m) @ r.T + m


def scale(key, x, max_rel: float):
    """Scale about the centroid by U(1 - max_rel, 1 + max_rel)."""
    f = jax.random.uniform(key, (), minval=1.0 - max_rel, maxval=1.0 + max_rel)
    m = _centre(x)
    return (x - m) * f + m


def flip(key, x, layout: Layout = LSP14, p: float = 0.5, about: str = "centroid"):
    """With probability ``p``: mirror x about the centroid (or the origin) and swap left/right joints."""
    do = jax.random.bernoulli(key, p)
    m = _pivot(x, about)
    mirrored = (x - m).at[..., 0].multiply(-1.0) + m
    mirrored = mirrored[:, jnp.asarray(layout.flip_permutation)]
    return jnp.where(do, mirrored, x)


def reverse(key, x, p: float = 0.5):
    """With probability ``p``: the window played backwards in time (siMLPe's augmentation)."""
    return jnp.where(jax.random.bernoulli(key, p), x[::-1], x)


def gaussian_noise(key, x, sigma):
    return x + sigma * jax.random.normal(key, x.shape, x.dtype)


def temporal_blur(key, x, max_sigma: float, radius: int = 3):
    """Gaussian blur along time with a random σ ∈ U(0, max_sigma) frames, edges replicated.

    The skeleton counterpart of the paper's image blur.  The kernel has a fixed
    ``radius`` so that shapes stay static; σ → 0 is the identity.
    """
    sig = jax.random.uniform(key, (), minval=0.0, maxval=max_sigma)
    offs = jnp.arange(-radius, radius + 1, dtype=x.dtype)
    w = jnp.exp(-0.5 * (offs / jnp.maximum(sig, 1e-3)) ** 2)
    w = w / w.sum()
    t = x.shape[0]
    idx = jnp.clip(jnp.arange(t)[:, None] + jnp.arange(-radius, radius + 1)[None], 0, t - 1)
    return jnp.einsum("tk,tk...->t...", jnp.broadcast_to(w, idx.shape), x[idx])


@dataclasses.dataclass(frozen=True)
class AugmentConfig:
    rotation: float = np.pi  # radians; 3D yaw is free, 2D in-plane uses ``rotation_2d``
    rotation_2d: float = np.deg2rad(15.0)
    scale: float = 0.15
    flip_p: float = 0.5
    noise: float = 0.0  # in the data's units
    blur_sigma: float = 1.0  # frames


def augment(key, x, cfg: AugmentConfig = AugmentConfig(), layout: Layout = LSP14, noise_scale=None):
    """Rotation, scaling, flip, Gaussian noise and temporal blur in sequence.

    ``noise_scale`` may be a traced array (a study hyper-parameter); it overrides ``cfg.noise``.
    """
    k = jax.random.split(key, 5)
    x = rotate(k[0], x, cfg.rotation if x.shape[-1] == 3 else cfg.rotation_2d)
    x = scale(k[1], x, cfg.scale)
    x = flip(k[2], x, layout, cfg.flip_p)
    x = gaussian_noise(k[3], x, cfg.noise if noise_scale is None else noise_scale)
    if cfg.blur_sigma > 0:
        x = temporal_blur(k[4], x, cfg.blur_sigma)
    return x


def bone_lengths(x, layout: Layout = LSP14):
    """(..., T, E) bone lengths, for checks."""
    e = np.asarray(layout.edges)
    return jnp.linalg.norm(x[..., e[:, 0], :] - x[..., e[:, 1], :], axis=-1)
