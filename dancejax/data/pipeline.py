"""Input pipelines: evaluation windows, coordinate frames, augmentation and normalisation.

Prediction windows are kept in the dataset's global coordinates (metres, Y up) and moved to
a model's coordinate frame inside the train step, after augmentation:

* ``'trajectory'`` (dancejax's convention): every window translated so that the last
  observed mid-hip is the origin; the model predicts the trajectory too;
* ``'root_relative'`` (the field's, e.g. H3.6M in LTD and siMLPe): each frame's own mid-hip
  subtracted; the model predicts the pose only, and a global prediction keeps the root at its
  last observed position.

A 2D prediction model (``dims=2``) is trained on the 3D takes projected through random virtual
cameras (``dancejax.data.dataset.project_windows``), and sees each window divided by its torso
length (``pose_scale``), so that it works in any camera's pixels.

Recognition windows are 2D keypoints in pixels, normalised per window by ``normalize``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from dancejax.data import augment
from dancejax.data.dataset import DanceDataset
from dancejax.data.noise import MISS_CONF
from dancejax.skeleton import HIPS, LSP14, NECK, mid_hip, root_relative

FRAMES = ("trajectory", "root_relative")
PREDICTION_AUGMENTS = ("reverse", "yaw", "mirror")


# ---------------------------------------------------------------- prediction


def eval_windows(
    ds: DanceDataset, split: str, length: int, per_style: int | None, seed: int, styles=None
) -> dict[str, np.ndarray]:
    """Windows of ``length`` frames per style from the split's takes: ``per_style`` of them with
    starts drawn with ``seed`` (fewer where a style has fewer), or every window at stride 1
    when ``per_style`` is None."""
    rng = np.random.default_rng(seed)
    out = {}
    for style in ds.styles if styles is None else styles:
        takes = [t for t in ds.list_takes(split, style) if t.num_frames >= length]
        if not takes:
            continue
        cands = [(i, s) for i, t in enumerate(takes) for s in range(t.num_frames - length + 1)]
        pick = (
            range(len(cands))
            if per_style is None
            else sorted(rng.choice(len(cands), size=min(per_style, len(cands)), replace=False))
        )
        out[style] = np.stack([takes[cands[k][0]].positions[cands[k][1] : cands[k][1] + length] for k in pick])
    return out


def frame_origin(windows, obs: int, frame: str):
    """What ``to_frame`` subtracts: (N, L, 1, D) for 'root_relative', (N, 1, 1, D) for 'trajectory'."""
    if frame == "trajectory":
        return mid_hip(windows[:, obs - 1])[:, None, None, :]
    if frame == "root_relative":
        return mid_hip(windows)[:, :, None, :]
    raise ValueError(f"Unsupported coordinate frame: {frame!r}; use one of {FRAMES}")


def to_frame(windows, obs: int, frame: str):
    """(N, L, J, D) global windows -> the model's coordinate frame (see the module docstring)."""
    return windows - frame_origin(windows, obs, frame)


def global_origin(observed, frame: str):
    """What to add to a model's (N, T, J, D) output to return to global coordinates: the last
    observed mid-hip (for 'root_relative' the root is held where it was last seen)."""
    if frame not in FRAMES:
        raise ValueError(f"Unsupported coordinate frame: {frame!r}; use one of {FRAMES}")
    return mid_hip(observed[:, -1])[:, None, None, :]


def pose_scale(windows, obs: int):
    """What a prediction model's input is divided by, (N, 1, 1, 1): 1 for 3D windows (metres);
    for 2D windows (pixels) each window's mean torso length (neck to mid-hip) over its first
    ``obs`` frames, so that a 2D model sees poses in torso lengths whatever the camera's
    distance or zoom.  NumPy or jnp input; a jnp array out."""
    n = windows.shape[0]
    if windows.shape[-1] != 2:
        return jnp.ones((n, 1, 1, 1), jnp.float32)
    torso = jnp.linalg.norm(windows[:, :obs, NECK] - mid_hip(windows[:, :obs]), axis=-1).mean(1)
    return jnp.maximum(torso, 1e-3)[:, None, None, None]


def augment_prediction(key, window, kinds: tuple[str, ...], obs: int, frame: str):
    """One global (L, J, D) window -> augmented, in the model's frame.  'reverse' plays it
    backwards (p = 0.5; before the frame is taken); 'yaw' rotates a 3D window about the vertical
    axis through the frame's origin by U(−π, π) (a 2D window's view was drawn by its random
    camera, so it is left as it is); 'mirror' mirrors x and swaps left/right (p = 0.5)."""
    k = jax.random.split(key, 3)
    if "reverse" in kinds:
        window = augment.reverse(k[0], window)
    window = to_frame(window[None], obs, frame)[0]
    if "yaw" in kinds and window.shape[-1] == 3:
        window = augment.rotate(k[1], window, np.pi, about="origin")
    if "mirror" in kinds:
        window = augment.flip(k[2], window, LSP14, 0.5, about="origin")
    return window


def coordinate_stats(windows: np.ndarray, obs: int, frame: str, units: float) -> tuple[tuple, tuple]:
    """Per-coordinate mean and standard deviation (J·D each, as tuples) of the windows in the
    model's frame and units, for models trained on standardised coordinates (DMGNN)."""
    x = np.asarray(to_frame(windows, obs, frame) / pose_scale(windows, obs), np.float64) * units
    flat = x.reshape(-1, x.shape[-2] * x.shape[-1])
    std = flat.std(0)
    std = np.where(std < 1e-4, 1.0, std)  # the original's rule for constant dimensions
    return tuple(map(float, flat.mean(0))), tuple(map(float, std))


# ---------------------------------------------------------------- recognition


def augment_pair(key, det, conf, gt, cfg: augment.AugmentConfig):
    """The same random in-plane rotation, scaling and horizontal flip (with the left/right joint
    swap) applied to real detections (T, J, 2), their confidences (T, J) and their ground truth,
    about the ground truth's centroid."""
    k = jax.random.split(key, 3)
    m = gt.mean(axis=(0, 1), keepdims=True)
    a = jax.random.uniform(k[0], (), minval=-cfg.rotation_2d, maxval=cfg.rotation_2d)
    f = jax.random.uniform(k[1], (), minval=1.0 - cfg.scale, maxval=1.0 + cfg.scale)
    r = jnp.array([[jnp.cos(a), -jnp.sin(a)], [jnp.sin(a), jnp.cos(a)]])
    do = jax.random.bernoulli(k[2], cfg.flip_p)
    perm = jnp.asarray(LSP14.flip_permutation)
    mirror = jnp.array([-1.0, 1.0], det.dtype)

    def tf(p):
        p = ((p - m) @ r.T) * f
        return jnp.where(do, (p * mirror)[:, perm], p) + m

    return tf(det), jnp.where(do, conf[:, perm], conf), tf(gt)


UNCERTAIN_CLIP = 6.0  # torso lengths: a kept low-confidence guess never lies farther from the centre


def normalize(x, conf, keep_uncertain: bool = False):
    """Per-window normalisation of (T, J, 2) keypoints; returns (x_n, centre, scale).

    centre: confidence-weighted mid-hip over the window; scale: mean neck–mid-hip length.
    Undetected joints (conf ≤ ``MISS_CONF``) are placed at the centre, or with
    ``keep_uncertain`` keep the detector's own guess (clipped to ``UNCERTAIN_CLIP`` torso
    lengths from the centre): a real detector's low-confidence keypoints are often right (on
    the AIST++ held-out detections a third to two thirds of them are within 0.05 of the box),
    and the model still sees their confidence.  Centre and scale use detected joints only.
    """
    ok = (conf > MISS_CONF).astype(x.dtype)
    hip = mid_hip(x)
    w_hip = ok[:, HIPS[0]] * ok[:, HIPS[1]]
    w_all = ok.sum()
    centre_all = (x * ok[..., None]).sum((0, 1)) / jnp.maximum(w_all, 1.0)
    centre = jnp.where(w_hip.sum() > 0, (hip * w_hip[:, None]).sum(0) / jnp.maximum(w_hip.sum(), 1.0), centre_all)
    w_t = w_hip * ok[:, NECK]
    torso = jnp.linalg.norm(x[:, NECK] - hip, axis=-1)
    detected = jnp.where(ok[..., None] > 0, x, centre)
    ext = detected.max((0, 1)) - detected.min((0, 1))
    fallback = jnp.maximum(ext.max() / 3.0, 1e-3)
    s = jnp.where(w_t.sum() > 0, (torso * w_t).sum() / jnp.maximum(w_t.sum(), 1.0), fallback)
    s = jnp.maximum(s, 1e-3)
    xn = (x - centre) / s
    if keep_uncertain:
        xn = jnp.where(ok[..., None] > 0, xn, jnp.clip(xn, -UNCERTAIN_CLIP, UNCERTAIN_CLIP))
    else:
        xn = jnp.where(ok[..., None] > 0, xn, 0.0)
    return xn, centre, s


__all__ = [
    "FRAMES",
    "PREDICTION_AUGMENTS",
    "augment_pair",
    "augment_prediction",
    "coordinate_stats",
    "eval_windows",
    "frame_origin",
    "global_origin",
    "normalize",
    "pose_scale",
    "root_relative",
    "to_frame",
]
