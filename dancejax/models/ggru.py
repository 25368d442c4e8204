"""Graph GRU decoder (G-GRU, as in DMGNN, Li et al. CVPR 2020; SPEC §5).

GRU gates whose hidden-state term first passes messages over a learnable joint
graph ``A_h`` (J×J):

    m  = A_h h
    r  = σ(x W_r + m U_r + b_r)
    z  = σ(x W_z + m U_z + b_z)
    n  = tanh(x W_n + r ⊙ (m U_n) + b_n)
    h' = (1 − z) ⊙ n + z ⊙ h

with input x = (pose, velocity) of the last frame.  Each step predicts a
displacement ``Δ = h' W_o`` and adds it to the last pose.  ``ggru_rollout`` runs
the steps with ``jax.lax.scan``; ``ggru_step`` is one step, for testing against an
unrolled loop.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import linen as nn

from dancejax.layers.modules import torch_uniform


def ggru_step(params: dict, carry):
    """One decoder step.  carry = (h (N, J, H), pose (N, J, D), prev pose (N, J, D))."""
    h, pose, prev = carry
    x = jnp.concatenate([pose, pose - prev], -1)
    m = jnp.einsum("ij,njh->nih", params["A_h"], h)
    gx = x @ params["W"] + params["b"]  # (N, J, 3H)
    gm = m @ params["U"]
    hs = h.shape[-1]
    r = jax.nn.sigmoid(gx[..., :hs] + gm[..., :hs])
    z = jax.nn.sigmoid(gx[..., hs : 2 * hs] + gm[..., hs : 2 * hs])
    n = jnp.tanh(gx[..., 2 * hs :] + r * gm[..., 2 * hs :])
    h_new = (1 - z) * n + z * h
    new_pose = pose + h_new @ params["W_out"] + params["b_out"]
    return (h_new, new_pose, pose), new_pose


def ggru_rollout(params: dict, h0, last_pose, prev_pose, steps: int):
    """(N, steps, J, D) predicted poses, with ``jax.lax.scan`` over time."""
    _, poses = jax.lax.scan(lambda c, _: ggru_step(params, c), (h0, last_pose, prev_pose), None, length=steps)
    return jnp.moveaxis(poses, 0, 1)


class GraphGRUDecoder(nn.Module):
    hidden: int
    joints: int
    dims: int = 3

    @nn.compact
    def __call__(self, h0, last_pose, prev_pose, steps: int):
        hs, d = self.hidden, self.dims
        init_in = torch_uniform(2 * d)
        init_h = torch_uniform(hs)
        params = {
            "A_h": self.param("A_h", lambda k, s: jnp.eye(s[0]) + 0.01 * jax.random.normal(k, s), (self.joints,) * 2),
            "W": self.param("W", init_in, (2 * d, 3 * hs)),
            "U": self.param("U", init_h, (hs, 3 * hs)),
            "b": self.param("b", nn.initializers.zeros, (3 * hs,)),
            "W_out": self.param("W_out", nn.initializers.normal(1e-3), (hs, d)),
            "b_out": self.param("b_out", nn.initializers.zeros, (d,)),
        }
        return ggru_rollout(params, h0, last_pose, prev_pose, steps)
