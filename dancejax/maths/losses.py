"""Losses.  Pure jnp; every hyper-parameter may be a traced array (vmapped studies)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from dancejax.maths.metrics import mpjpe


def per_joint_l1(pred, gt):
    """‖G_j − P_j‖₁ per joint: (…, J, D) -> (…, J)."""
    return jnp.abs(pred - gt).sum(-1)


def refinement_loss(pred, gt, visible, top_k: int = 8, lam=1.0):
    """Eq. 10: visibility-weighted L1 over all joints plus λ × the mean over the top-k
    hardest joints of each frame (online hard keypoint mining).

    pred, gt: (…, J, D); visible: (…, J) in [0, 1].  ``top_k`` is static (a shape);
    ``lam`` may be traced.  ``top_k = 0`` drops the hard-joint term (the ablation).
    """
    e = visible * per_joint_l1(pred, gt)
    loss = e.mean(-1)
    if top_k > 0:
        hard, _ = jax.lax.top_k(e, top_k)
        loss = loss + lam * hard.mean(-1)
    return loss.mean()


def refinement_objective(
    pred, gt, visible, top_k: int = 8, lam=1.0, vel_weight=0.0, accel_weight=0.0, causal_weight=0.0
):
    """Eq. 10 (``refinement_loss``) plus the temporal terms of the refinement recipe:
    ``vel_weight`` / ``accel_weight`` × the mean absolute error of the first / second time
    differences (over the coordinates of the joints visible in every frame of the difference),
    and ``causal_weight`` × eq. 10 on each window's last frame.  Weights are static floats."""
    loss = refinement_loss(pred, gt, visible, top_k, lam)
    d = lambda x: x[..., 1:, :, :] - x[..., :-1, :, :]

    def masked_l1(a, b, m):
        return (m[..., None] * jnp.abs(a - b)).sum() / jnp.maximum(m.sum() * a.shape[-1], 1.0)

    if vel_weight:
        loss = loss + vel_weight * masked_l1(d(pred), d(gt), visible[..., 1:, :] * visible[..., :-1, :])
    if accel_weight:
        m = visible[..., 2:, :] * visible[..., 1:-1, :] * visible[..., :-2, :]
        loss = loss + accel_weight * masked_l1(d(d(pred)), d(d(gt)), m)
    if causal_weight:
        last = lambda x: x[..., -1:, :, :]
        loss = loss + causal_weight * refinement_loss(last(pred), last(gt), visible[..., -1:, :], top_k, lam)
    return loss


def temporal_l1(pred, gt, w_pos=1.0, w_vel=0.0, w_accel=0.0):
    """SmoothNet's loss (and its velocity twin): ``w_pos`` × mean |pred − gt| plus ``w_vel`` ×
    the mean absolute error of the first differences in time and ``w_accel`` × that of the
    second differences, over every coordinate of (…, T, J, D) windows (time axis −3).
    SmoothNet trains with ``w_pos = 1``, ``w_accel = 0.1`` (its Human3.6M configuration)."""
    loss = w_pos * jnp.abs(pred - gt).mean()
    d1 = lambda x: x[..., 1:, :, :] - x[..., :-1, :, :]
    if not (isinstance(w_vel, (int, float)) and w_vel == 0):
        loss = loss + w_vel * jnp.abs(d1(pred) - d1(gt)).mean()
    if not (isinstance(w_accel, (int, float)) and w_accel == 0):
        loss = loss + w_accel * jnp.abs(d1(d1(pred)) - d1(d1(gt))).mean()
    return loss


def weighted_cross_entropy(logits, labels, class_weights):
    """Cross-entropy with per-class weights, normalised by the weights of the batch
    (PyTorch's ``CrossEntropyLoss(weight=...)`` convention)."""
    logp = jax.nn.log_softmax(logits, -1)
    nll = -jnp.take_along_axis(logp, labels[:, None], -1)[:, 0]
    w = class_weights[labels]
    return (w * nll).sum() / jnp.maximum(w.sum(), 1e-12)


def class_weights_from_counts(counts) -> jnp.ndarray:
    """Inverse-frequency weights normalised to mean 1 over the classes that occur."""
    counts = jnp.asarray(counts, jnp.float32)
    w = jnp.where(counts > 0, 1.0 / jnp.maximum(counts, 1.0), 0.0)
    return w * (counts > 0).sum() / w.sum()


POSE_LOSSES = ("mpjpe", "l1", "mpjpe_velocity")


def pose_loss(pred, gt, kind: str = "mpjpe"):
    """Prediction losses over (N, T, J, D) poses.

    'mpjpe': mean per-joint L2 error (SPEC §5); 'l1': mean absolute coordinate error (DMGNN's);
    'mpjpe_velocity': MPJPE plus the MPJPE of the frame-to-frame displacements (siMLPe's loss).
    """
    if kind not in POSE_LOSSES:
        raise ValueError(f"Unsupported pose loss: {kind!r}; use one of {POSE_LOSSES}")
    if kind == "l1":
        return jnp.abs(pred - gt).mean()
    loss = mpjpe(pred, gt).mean()
    if kind == "mpjpe_velocity":
        loss = loss + mpjpe(pred[:, 1:] - pred[:, :-1], gt[:, 1:] - gt[:, :-1]).mean()
    return loss
