"""Detector-noise simulator for the refinement task, calibrated on real AIST++ detections.

The real detector's error against the projected 3D ground truth is decomposed,
per joint, into five parts (SPEC §2), all measured in units of the ground-truth
bounding box's larger side (so they transfer across image sizes):

* missing: confidence below ``MISS_CONF`` (or no detection);
* left/right swap: the detection lies much nearer the mirrored joint;
* outlier: error above ``OUTLIER`` box sizes — simulated as a jump of the fitted size;
* jitter: robust (MAD) standard deviation of the remaining errors, per joint, with their
  lag-1 autocorrelation over time (real detector errors drift rather than flicker);
* bias: median of the remaining error vectors, per joint.

Misses, swaps and outliers come in runs: each is simulated as a two-state Markov chain with
the real rate and the real mean run length.

Confidences are drawn from normals fitted to the real scores of inliers and of
outliers.  ``fit_detector_noise`` does the calibration (NumPy), ``simulate_detections``
applies it to clean 2D keypoints (jax, jit/vmap-friendly, explicit key).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from dancejax.errors import DataError
from dancejax.skeleton import LSP14, Layout

MISS_CONF = 0.05
DETECTED_MIN_CONF = float(np.nextafter(np.float32(MISS_CONF), np.float32(1.0)))
OUTLIER = 0.15
SWAP_MARGIN = 0.5


class NoiseParams(NamedTuple):
    miss_rate: np.ndarray  # (J,) fraction of frames
    swap_rate: np.ndarray  # (J,) of detected frames, for joints with a L/R partner
    outlier_rate: np.ndarray  # (J,) of detected frames
    outlier_size: np.ndarray  # (J,) median outlier error, box units
    jitter: np.ndarray  # (J,) σ per coordinate, box units
    bias: np.ndarray  # (J, 2) box units
    conf_in: np.ndarray  # (J, 2) mean, std of inlier scores
    conf_out: np.ndarray  # (J, 2) mean, std of outlier scores
    rho: np.ndarray  # (J,) lag-1 autocorrelation of the inlier error (AR(1) jitter)
    runs: np.ndarray  # (3,) mean run lengths in frames of misses, swaps, outliers


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


def _runs(mask: np.ndarray) -> np.ndarray:
    """Lengths of the runs of True along axis -2 (time) of a (..., T, J) mask."""
    m = np.moveaxis(mask, -2, -1).reshape(-1, mask.shape[-2]).astype(np.int8)
    padded = np.concatenate([np.zeros((len(m), 1), np.int8), m, np.zeros((len(m), 1), np.int8)], 1)
    d = np.diff(padded, axis=1)
    starts, ends = np.nonzero(d == 1), np.nonzero(d == -1)
    return ends[1] - starts[1]


def lag1_autocorrelation(vec: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Per joint, the correlation of the (bias-removed) error vector between consecutive frames
    where both are inliers: vec (..., T, J, 2), ok (..., T, J) -> (J,)."""
    j = vec.shape[-2]
    a, b = vec[..., :-1, :, :], vec[..., 1:, :, :]
    both = ok[..., :-1, :] & ok[..., 1:, :]
    out = np.zeros(j, np.float32)
    for k in range(j):  # offline NumPy statistics
        x, y = a[..., k, :][both[..., k]], b[..., k, :][both[..., k]]
        if len(x) < 3:
            continue
        x, y = x - x.mean(0), y - y.mean(0)
        out[k] = float((x * y).sum() / max(np.sqrt((x**2).sum() * (y**2).sum()), 1e-12))
    return out


def event_statistics(det, conf, gt, layout: Layout = LSP14) -> dict[str, np.ndarray]:
    """The statistics the simulator reproduces, for printing real against simulated: per joint
    miss/swap/outlier rates and lag-1 error autocorrelation; mean run lengths of each event."""
    det, conf, gt = (np.asarray(a) for a in (det, conf, gt))
    err, missing, swapped, outlier, inlier = classify_errors(det, conf, gt, layout)
    s = box_size(gt)[..., None, None]
    vec = (det - gt) / s
    j = layout.num_joints
    present = np.maximum((~missing).reshape(-1, j).sum(0), 1)
    return {
        "miss": missing.reshape(-1, j).mean(0),
        "swap": swapped.reshape(-1, j).sum(0) / present,
        "outlier": outlier.reshape(-1, j).sum(0) / present,
        "autocorr": lag1_autocorrelation(vec, inlier),
        "miss_run": float(np.mean(_runs(missing))) if missing.any() else 0.0,
        "swap_run": float(np.mean(_runs(swapped))) if swapped.any() else 0.0,
        "outlier_run": float(np.mean(_runs(outlier))) if outlier.any() else 0.0,
    }


def fit_detector_noise(det, conf, gt, layout: Layout = LSP14) -> NoiseParams:
    """Calibrate on real detections (views, T, J, 2) against projected ground truth."""
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
    runs = [float(np.mean(_runs(m))) if m.any() else 1.0 for m in (missing, swapped, outlier)]
    return NoiseParams(
        miss_rate=flat(missing).mean(0).astype(np.float32),
        swap_rate=(flat(swapped).sum(0) / n_present).astype(np.float32),
        outlier_rate=(flat(outlier).sum(0) / n_present).astype(np.float32),
        outlier_size=np.asarray(out_size, np.float32),
        jitter=np.asarray(jitter, np.float32),
        bias=np.asarray(bias, np.float32),
        conf_in=np.asarray(cin, np.float32),
        conf_out=np.asarray(cout, np.float32),
        rho=np.clip(lag1_autocorrelation(vec - np.asarray(bias, np.float32), inlier), 0.0, 0.99).astype(np.float32),
        runs=np.asarray(runs, np.float32),
    )


def markov_events(key, rate, mean_run, t: int):
    """(T, K) boolean event chains: each column a two-state Markov chain whose events last
    ``mean_run`` frames on average (geometric) and whose stationary rate is ``rate``."""
    rate = jnp.clip(jnp.asarray(rate, jnp.float32), 0.0, 0.95)
    stay = 1.0 - 1.0 / jnp.maximum(jnp.asarray(mean_run, jnp.float32), 1.0)
    start = jnp.clip(rate * (1.0 - stay) / jnp.maximum(1.0 - rate, 1e-6), 0.0, 1.0)
    k0, k1 = jax.random.split(key)
    init = jax.random.uniform(k0, rate.shape) < rate
    u = jax.random.uniform(k1, (t - 1,) + rate.shape)

    def step(state, ut):
        nxt = jnp.where(state, ut < stay, ut < start)
        return nxt, nxt

    _, rest = jax.lax.scan(step, init, u)
    return jnp.concatenate([init[None], rest], 0)


def ar1_noise(key, rho, shape):
    """(T, J, 2) unit-variance AR(1) noise along time with per-joint lag-1 correlation ``rho``."""
    eps = jax.random.normal(key, shape)
    rho = jnp.asarray(rho, jnp.float32)[:, None]
    scale = jnp.sqrt(1.0 - rho**2)

    def step(prev, e):
        cur = rho * prev + scale * e
        return cur, cur

    _, rest = jax.lax.scan(step, eps[0], eps[1:])
    return jnp.concatenate([eps[:1], rest], 0)


def simulate_detections(key, clean, params: NoiseParams, layout: Layout = LSP14, strength=1.0):
    """Noisy detections and confidences from clean 2D keypoints (T, J, 2).

    Misses, left/right swaps (per pair) and outliers are Markov chains with the real
    detector's rates and mean run lengths; inlier error is bias + AR(1) jitter with the real
    per-joint lag-1 autocorrelation; an outlier keeps its jump for the length of its run.
    ``strength`` scales jitter, bias and outlier sizes (1 = calibrated); it may be traced.
    """
    t, j, _ = clean.shape
    k = jax.random.split(key, 8)
    s = (clean.max(1) - clean.min(1)).max(-1)[:, None, None]
    s = jnp.maximum(s, 1e-6)
    runs = jnp.asarray(params.runs)
    perm = jnp.asarray(layout.flip_permutation)
    pair_id = jnp.asarray(np.minimum(np.arange(j), layout.flip_permutation))
    swap_rate = 0.5 * (jnp.asarray(params.swap_rate) + jnp.asarray(params.swap_rate)[perm])
    swap_pair = markov_events(k[0], swap_rate, runs[1], t)  # one chain per joint; a pair uses its lower id's
    swap_j = swap_pair[:, pair_id] & (perm != jnp.arange(j))[None]
    idx = jnp.where(swap_j, perm[None], jnp.arange(j)[None])
    x = jnp.take_along_axis(clean, idx[..., None], axis=1)
    jit = jnp.asarray(params.jitter)[:, None] * ar1_noise(k[1], params.rho, (t, j, 2))
    x = x + strength * s * (jnp.asarray(params.bias) + jit)
    is_out = markov_events(k[2], params.outlier_rate, runs[2], t)
    ang = jax.random.uniform(k[3], (t, j), minval=0, maxval=2 * jnp.pi)
    mag = jnp.asarray(params.outlier_size) * jnp.exp(0.3 * jax.random.normal(k[4], (t, j)))
    fresh = jnp.stack([jnp.cos(ang), jnp.sin(ang)], -1) * mag[..., None]
    new_run = is_out & ~jnp.concatenate([jnp.zeros((1, j), bool), is_out[:-1]], 0)

    def hold(prev, inp):
        f, nr = inp
        cur = jnp.where(nr[:, None], f, prev)
        return cur, cur

    _, jump = jax.lax.scan(hold, fresh[0], (fresh, new_run))
    x = jnp.where(is_out[..., None], x + jump * s * strength, x)
    missing = markov_events(k[5], params.miss_rate, runs[0], t)
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


# ---------------------------------------------------------------- calibration on the real detections

REAL_VAL_FRACTION = 0.2  # of each train-split AIST++ sequence's frames (the last ones): real validation


def real_frames(d, part: str = "train", val_fraction: float = REAL_VAL_FRACTION) -> slice:
    """The frames of a detection set used for training ('train': the first 1 − val_fraction of a
    train-split sequence) or for validation ('val': the rest); test sequences are used whole."""
    if d.split != "train":
        return slice(None)
    cut = int(round(d.det.shape[1] * (1.0 - val_fraction)))
    return slice(0, cut) if part == "train" else slice(cut, None)


def stack_views(sets, frames=lambda d: slice(None)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(views, T, J, 2) detections, confidences and ground truth of several sequences, joined in
    time.  Sequences with different view counts are joined as one stream of their views one
    after another (an event run may then span two views' boundary, a negligible effect);
    sequences with no views or no frames are left out."""
    parts = [(d.det[:, frames(d)], d.conf[:, frames(d)], d.gt[:, frames(d)]) for d in sets]
    parts = [p for p in parts if p[0].shape[0] > 0 and p[0].shape[1] > 0]
    if not parts:
        return None
    if len({p[0].shape[0] for p in parts}) > 1:
        parts = [tuple(a.reshape(1, -1, *a.shape[2:]) for a in p) for p in parts]
    return tuple(np.concatenate([p[i] for p in parts], 1) for i in range(3))


def calibrate(ds, log=None, fallback: bool = True):
    """Fit the detector-noise simulator on the training frames of the dataset's train-split real
    detections that have ground truth (the AIST++ sequences of the shipped dataset; a
    manifest's ``detections``).  A dataset with none (your own 3D takes) uses the shipped
    dataset's calibration instead, and ``log`` is told so; ``fallback=False`` makes that an
    error."""
    joined = stack_views([d for d in ds.detections if d.split == "train" and d.has_gt], real_frames)
    if joined is not None:
        return fit_detector_noise(*joined)
    if not fallback:
        raise DataError(
            f"{ds.path}: no train-split real detections (with views and frames) to calibrate the noise simulator on"
        )
    if log is not None:
        log(
            f"detector noise: {ds.path} has no train-split real detections with ground truth; the simulator "
            "uses the shipped AIST++ calibration (give a manifest's detections and camera columns to use your own)"
        )
    return shipped_calibration()


_SHIPPED: list = []


def shipped_calibration() -> NoiseParams:
    """The simulator calibrated on the shipped dataset's real AIST++ detections (computed once)."""
    if not _SHIPPED:
        from dancejax.data import load_dataset

        _SHIPPED.append(calibrate(load_dataset(), fallback=False))
    return _SHIPPED[0]
