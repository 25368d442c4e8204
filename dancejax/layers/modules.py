"""Flax (linen) modules over the pure functions in ``functional.py``.

linen keeps parameters and batch statistics as explicit pytrees
(``{'params': ..., 'batch_stats': ...}``), so every model here is a pure function
``apply(variables, x, train, rngs)`` that ``jit``, ``grad``, ``vmap`` and sharding
compose with, without special cases (SPEC §6).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from dancejax.layers import functional as F


def torch_uniform(fan_in: int):
    """PyTorch's default Conv/Linear init: U(-1/√fan_in, 1/√fan_in) (kaiming_uniform a=√5)."""
    bound = 1.0 / np.sqrt(fan_in)

    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


class BatchNorm(nn.Module):
    """Batch norm over every axis but the last, with PyTorch's conventions made explicit.

    ``momentum`` is PyTorch's (``running = (1 − m)·running + m·batch``; flax's own
    BatchNorm uses ``1 − m``).  With ``unbiased_running_var`` the running variance is
    updated with the unbiased batch variance (PyTorch), while the batch itself is
    always normalised with the biased one.
    """

    momentum: float = 0.1
    epsilon: float = 1e-5
    unbiased_running_var: bool = True
    scale_init: Any = None

    @nn.compact
    def __call__(self, x, train: bool):
        c = x.shape[-1]
        scale = self.param("scale", self.scale_init or nn.initializers.ones, (c,))
        bias = self.param("bias", nn.initializers.zeros, (c,))
        ra_mean = self.variable("batch_stats", "mean", lambda: jnp.zeros((c,), jnp.float32))
        ra_var = self.variable("batch_stats", "var", lambda: jnp.ones((c,), jnp.float32))
        if not train:
            return (x - ra_mean.value) * jax.lax.rsqrt(ra_var.value + self.epsilon) * scale + bias
        y, mean, var = F.batch_norm(x, scale, bias, self.epsilon)
        if not self.is_initializing():
            n = np.prod(x.shape[:-1])
            run_var = var * (n / max(n - 1, 1)) if self.unbiased_running_var else var
            m = self.momentum
            ra_mean.value = (1 - m) * ra_mean.value + m * jax.lax.stop_gradient(mean)
            ra_var.value = (1 - m) * ra_var.value + m * jax.lax.stop_gradient(run_var)
        return y


class Dropout(nn.Module):
    """Inverted dropout whose rate may be a traced array, so that a vmapped study can give
    each setting its own rate in one compiled program.  The mask comes from
    ``F.hash_uniform`` (a counter-based hash of the 'dropout' key), not from
    ``jax.random.bernoulli``: threefry bits dominated the cost of dropout, more so under
    ``vmap`` over per-setting keys (see ``F.hash_uniform``)."""

    rate: Any = 0.0

    @nn.compact
    def __call__(self, x, deterministic: bool):
        if deterministic or (isinstance(self.rate, (int, float)) and self.rate == 0.0):
            return x
        return F.dropout(self.make_rng("dropout"), x, self.rate)


class TemporalConv(nn.Module):
    """``k×1`` convolution along time, parameters (k, C_in, C_out) + (C_out,)."""

    features: int
    kernel: int = 9
    stride: int = 1
    dilation: int = 1
    use_bias: bool = True
    impl: str = "stack"
    layout: str = "ntvc"
    kernel_init: Any = None  # default: PyTorch's Conv2d initialisation
    bias_init: Any = None

    @nn.compact
    def __call__(self, x):
        cin = x.shape[-1]
        init = torch_uniform(cin * self.kernel)
        w = self.param("kernel", self.kernel_init or init, (self.kernel, cin, self.features))
        b = self.param("bias", self.bias_init or init, (self.features,)) if self.use_bias else None
        return F.temporal_conv(x, w, b, self.stride, self.dilation, self.impl, self.layout)


class GraphConv(nn.Module):
    """ST-GCN spatial graph convolution over K partition subsets (``graph_conv``)."""

    features: int
    order: str = "auto"
    layout: str = "ntvc"
    kernel_init: Any = None  # default: PyTorch's Conv2d initialisation
    bias_init: Any = None

    @nn.compact
    def __call__(self, x, a):
        kk = a.shape[0]
        cin = x.shape[-1]
        init = torch_uniform(cin)
        w = self.param("kernel", self.kernel_init or init, (kk, cin, self.features))
        b = self.param("bias", self.bias_init or init, (kk, self.features))
        return F.graph_conv(x, a, w, b, self.order, self.layout)


class Dense(nn.Module):
    """Linear layer, by default with PyTorch's default initialisation (for checkpoint/parity
    work); ``kernel_init``/``bias_init`` override it where an original model does."""

    features: int
    use_bias: bool = True
    kernel_init: Any = None
    bias_init: Any = None

    @nn.compact
    def __call__(self, x):
        cin = x.shape[-1]
        init = torch_uniform(cin)
        w = self.param("kernel", self.kernel_init or init, (cin, self.features))
        y = x @ w
        if self.use_bias:
            y = y + self.param("bias", self.bias_init or init, (self.features,))
        return y
