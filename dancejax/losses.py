"""Losses.  Pure jnp; every hyper-parameter may be a traced array (vmapped studies)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from dancejax.metrics import mpjpe


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
