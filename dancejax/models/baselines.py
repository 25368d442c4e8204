"""Parameter-free prediction baselines, as models with the predictors' contract.

* ``ZeroVelocity``: every future frame is the last observed pose (Martinez et al. 2017's
  strong baseline);
* ``ConstantVelocity``: the last observed frame-to-frame displacement continued.

They have no parameters (``trainable = False``), so the prediction task evaluates them
without training.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from flax import linen as nn


class ZeroVelocity(nn.Module):
    obs: int = 10
    pred: int = 10
    joints: int = 14
    dims: int = 3
    dropout: Any = 0.0
    trainable = False

    def __call__(self, obs, train: bool = False):
        return jnp.repeat(obs[:, -1:], self.pred, 1)


class ConstantVelocity(ZeroVelocity):
    """The last observed velocity, continued (same fields as ``ZeroVelocity``)."""

    def __call__(self, obs, train: bool = False):
        v = obs[:, -1:] - obs[:, -2:-1]
        return obs[:, -1:] + v * jnp.arange(1, self.pred + 1, dtype=obs.dtype)[None, :, None, None]
