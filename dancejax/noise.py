"""Detector-noise simulator for the refinement task, calibrated on real AIST++ detections.

The real detector's error against the projected 3D ground truth is decomposed,
per joint, into five parts (SPEC §2), all measured in units of the ground-truth
bounding box's larger side (so they transfer across image sizes):

* missing: confidence below ``MISS_CONF`` (or no detection) — simulated as short
  dropouts of ``run_length`` frames with confidence 0;
* left/right swap: the detection lies much nearer the mirrored joint;
* outlier: error above ``OUTLIER`` box sizes — simulated as a jump of the fitted size;
* jitter: robust (MAD) standard deviation of the remaining errors, per joint;
* bias: median of the remaining error vectors, per joint.

Confidences are drawn from normals fitted to the real scores of inliers and of
outliers.  ``fit_detector_noise`` does the calibration (NumPy), ``simulate_detections``
applies it to clean 2D keypoints (jax, jit/vmap-friendly, explicit key).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from dancejax.skeleton import LSP14, Layout

MISS_CONF = 0.05
DETECTED_MIN_CONF = float(np.nextafter(np.float32(MISS_CONF), np.float32(1.0)))
OUTLIER = 0.15
SWAP_MARGIN = 0.5


class NoiseParams(NamedTuple):
    miss_rate: np.ndarray  # (J,)
    swap_rate: np.ndarray  # (J,), per frame, for joints with a L/R partner
    outlier_rate: np.ndarray  # (J,)
    outlier_size: np.ndarray  # (J,) median outlier error, box units
    jitter: np.ndarray  # (J,) σ per coordinate, box units
    bias: np.ndarray  # (J, 2) box units
    conf_in: np.ndarray  # (J, 2) mean, std of inlier scores
    conf_out: np.ndarray  # (J, 2) mean, std of outlier scores


def box_size(gt: np.ndarray) -> np.ndarray:
    """Larger side of each frame's keypoint bounding box, (..., T) from (..., T, J, 2)."""
    ext = gt.max(-2) - gt.min(-2)
    return np.maximum(ext.max(-1), 1e-6)


def classify_errors(det, conf, gt, layout: Layout = LSP14):
    """Per (…, T, J): error norm (box units), and masks missing / swapped / outlier / inlier."""
    s = box_size(gt)[..., None]
    err = np.linalg.norm(det - gt, axis=-1) / s
    err_mirror = np.linalg.norm(det - gt[..., layout.flip_permutation, :], axis=-1) / s
    paired = layout.flip_permutation != np.arange(layout.num_joints)
    missing = conf < MISS_CONF
    swapped = ~missing & paired & (err > OUTLIER) & (err_mirror < SWAP_MARGIN * err)
    outlier = ~missing & ~swapped & (err > OUTLIER)
    inlier = ~missing & ~swapped & ~outlier
    return err, missing, swapped, outlier, inlier


def fit_detector_noise(det, conf, gt, layout: Layout = LSP14) -> tuple[NoiseParams, int]:
    """Calibrate on real detections (views, T, J, 2) against projected ground truth.

    Returns the parameters and the mean dropout run length in frames.
    """
    det = det.reshape(-1, *det.shape[-3:])
    conf = conf.reshape(-1, *conf.shape[-2:])
    gt = gt.reshape(-1, *gt.shape[-3:])
    err, missing, swapped, outlier, inlier = classify_errors(det, conf, gt, layout)
    s = box_size(gt)[..., None, None]
    vec = (det - gt) / s
    j = layout.num_joints
    flat = lambda a: a.reshape(-1, j)
    vflat = vec.reshape(-1, j, 2)
    present = flat(~missing)
    jitter, bias, out_size, cin, cout = [], [], [], [], []
    for k in range(j):  # calibration is offline NumPy, a loop over joints is fine here
        inl = flat(inlier)[:, k]
        v = vflat[inl, k]
        med = np.median(v, 0)
        bias.append(med)
        jitter.append(1.4826 * np.median(np.abs(v - med)))
        o = flat(outlier)[:, k]
        out_size.append(np.median(flat(err)[o, k]) if o.any() else 2 * OUTLIER)
        ci = flat(conf)[inl, k]
        co = flat(conf)[o, k]
        cin.append([ci.mean(), ci.std()])
        cout.append([co.mean(), co.std()] if o.sum() > 1 else [0.3, 0.15])
    n_present = np.maximum(present.sum(0), 1)
    # Dropout runs: mean length of consecutive missing frames along time.
    m = missing.astype(np.int8)
    starts = np.maximum(np.diff(m, axis=-2, prepend=0), 0).sum()
    run = int(np.clip(round(m.sum() / max(starts, 1)), 1, 8))
    params = NoiseParams(
        miss_rate=flat(missing).mean(0).astype(np.float32),
        swap_rate=(flat(swapped).sum(0) / n_present).astype(np.float32),
        outlier_rate=(flat(outlier).sum(0) / n_present).astype(np.float32),
        outlier_size=np.asarray(out_size, np.float32),
        jitter=np.asarray(jitter, np.float32),
        bias=np.asarray(bias, np.float32),
        conf_in=np.asarray(cin, np.float32),
        conf_out=np.asarray(cout, np.float32),
    )
    return params, run


def simulate_detections(key, clean, params: NoiseParams, run_length: int = 2, layout: Layout = LSP14,
                        strength=1.0):
    """Noisy detections and confidences from clean 2D keypoints (T, J, 2).

    ``strength`` scales jitter, bias and outlier sizes (1 = calibrated); it may be traced.
    """
    t, j, _ = clean.shape
    k = jax.random.split(key, 8)
    s = (clean.max(1) - clean.min(1)).max(-1)[:, None, None]
    s = jnp.maximum(s, 1e-6)
    perm = jnp.asarray(layout.flip_permutation)
    pair_id = jnp.asarray(np.minimum(np.arange(j), layout.flip_permutation))
    swap_pair = jax.random.uniform(k[0], (t, j)) < jnp.asarray(params.swap_rate)[pair_id]
    swap_j = swap_pair[:, pair_id]
    idx = jnp.where(swap_j, perm[None], jnp.arange(j)[None])
    x = jnp.take_along_axis(clean, idx[..., None], axis=1)
    x = x + strength * s * (jnp.asarray(params.bias) + jnp.asarray(params.jitter)[:, None]
                            * jax.random.normal(k[1], (t, j, 2)))
    is_out = jax.random.uniform(k[2], (t, j)) < jnp.asarray(params.outlier_rate)
    ang = jax.random.uniform(k[3], (t, j), minval=0, maxval=2 * jnp.pi)
    mag = jnp.asarray(params.outlier_size) * jnp.exp(0.3 * jax.random.normal(k[4], (t, j)))
    jump = jnp.stack([jnp.cos(ang), jnp.sin(ang)], -1) * mag[..., None] * s * strength
    x = jnp.where(is_out[..., None], x + jump, x)
    # Dropouts: runs of ``run_length`` frames starting at rate miss_rate / run_length.
    start = jax.random.uniform(k[5], (t, j)) < jnp.asarray(params.miss_rate) / run_length
    kernel = jnp.ones((run_length,), jnp.float32)
    missing = jax.vmap(lambda c: jnp.convolve(c, kernel)[:t], in_axes=1, out_axes=1)(start.astype(jnp.float32)) > 0
    cin = jnp.asarray(params.conf_in)
    cout = jnp.asarray(params.conf_out)
    z = jax.random.normal(k[6], (t, j))
    conf = jnp.where(is_out | swap_j, cout[:, 0] + cout[:, 1] * z, cin[:, 0] + cin[:, 1] * z)
    # detected joints keep a confidence strictly above MISS_CONF, so that the model input
    # (which treats conf <= MISS_CONF as undetected) sees exactly the simulated misses
    conf = jnp.where(missing, 0.0, jnp.clip(conf, DETECTED_MIN_CONF, 1.0))
    return x, conf


def error_table(det, conf, gt, layout: Layout = LSP14) -> dict[str, np.ndarray]:
    """Per-joint statistics for printing: median/mean error in pixels and event rates."""
    err, missing, swapped, outlier, inlier = classify_errors(det, conf, gt, layout)
    px = np.linalg.norm(det - gt, axis=-1)
    j = layout.num_joints
    present = ~missing.reshape(-1, j)
    pxf = px.reshape(-1, j)
    return {
        "median_px": np.array([np.median(pxf[present[:, k], k]) for k in range(j)]),
        "mean_px": np.array([pxf[present[:, k], k].mean() for k in range(j)]),
        "miss": missing.reshape(-1, j).mean(0),
        "swap": swapped.reshape(-1, j).mean(0),
        "outlier": outlier.reshape(-1, j).mean(0),
    }
