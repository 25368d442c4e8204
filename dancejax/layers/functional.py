"""Graph, temporal and attention operations as pure functions of arrays.

Layout: channels last, ``(batch, time, joints, channels)``; the ST-GCN backbone keeps
``(joints, batch, time, channels)`` between its layers (``layout='vntc'``; ``'nvtc'`` is
``(batch, joints, time, channels)``).

How they are formulated for XLA; ``python -m benchmarks.formulation`` times every choice
below against the others (forward + backward of one ST-GCN layer, alone and under ``jax.vmap``
over per-setting weights), and ``python -m benchmarks.ablation`` times the models' train steps
with a choice reverted:

* **Temporal convolution** (kernel ``k×1``): four formulations are available —
  ``'conv1d'`` (a 1-D convolution over (N·V, T, C), which the models use), ``'conv2d'``
  (the textbook (k, 1) 2-D convolution), ``'stack'`` (one matmul over k shifted copies,
  "im2col on time") and ``'shift'`` (a sum of k shifted matmuls).  Under ``jax.vmap`` over
  per-setting weights the 1-D convolution becomes a grouped convolution.  An input shorter
  than the kernel's span makes ``'conv1d'`` fall back to 'stack' (see ``temporal_conv``).
* **Graph aggregation** (``graph_conv``) with ``order='auto'`` aggregates over joints before
  the channel projection when ``C_in ≤ C_out`` (fewer multiply-adds) and after it otherwise;
  both orders give the same result, bias included.  With joints outermost (``'vntc'``) both
  contractions are plain GEMMs with no transposes.
* **Dropout masks** come from a counter-based hash of (key, element index)
  (``hash_uniform``), one fused elementwise kernel, instead of ``jax.random``'s threefry
  bits (``python -m benchmarks.formulation --only dropout`` times both, alone and vmapped over
  per-setting keys).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

TEMPORAL_IMPLS = ("stack", "shift", "conv1d", "conv2d")


def temporal_output_length(t: int, kernel: int, stride: int = 1, dilation: int = 1) -> int:
    pad = dilation * (kernel - 1) // 2
    return (t + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1


def temporal_conv(x, w, b=None, stride: int = 1, dilation: int = 1, impl: str = "stack", layout: str = "ntvc"):
    """``k×1`` convolution along time with 'same' zero padding, like PyTorch's
    ``Conv2d(C_in, C_out, (k, 1), stride=(s, 1), padding=(d(k-1)/2, 0), dilation=(d, 1))``.

    x: (N, T, V, C_in) — or (N, V, T, C_in) with ``layout='nvtc'``, or (V, N, T, C_in) with
    ``layout='vntc'``, which let the 1-D convolution run on (N·V, T, C) without transposes;
    w: (k, C_in, C_out); b: (C_out,) or None.  Returns the same layout with T' frames and
    C_out channels.
    """
    # XLA:CPU runs a 1-D convolution whose input is shorter than the kernel's span very
    # slowly (measured: T = 8, k = 9, 256 channels: 655 ms against 16 ms as one matmul);
    # the deep strided layers of short windows hit that, so they use the matmul form.
    if layout == "vntc":
        # the convolution is independent per (sequence, joint): (V, N, T, C) is computed as
        # (N, V, T, C) with the two leading axes' roles exchanged
        layout = "nvtc"
    t_axis = 2 if layout == "nvtc" else 1
    if impl == "conv1d" and x.shape[t_axis] < dilation * (w.shape[0] - 1) + 1:
        impl = "stack"
    if layout == "nvtc":
        if impl == "conv1d":
            k, cin, cout = w.shape
            n, v, t, _ = x.shape
            pad = dilation * (k - 1) // 2
            y = jax.lax.conv_general_dilated(
                x.reshape(n * v, t, cin),
                w,
                (stride,),
                [(pad, pad)],
                rhs_dilation=(dilation,),
                dimension_numbers=("NWC", "WIO", "NWC"),
            )
            y = y.reshape(n, v, y.shape[1], cout)
            return y if b is None else y + b
        return temporal_conv(x.transpose(0, 2, 1, 3), w, b, stride, dilation, impl).transpose(0, 2, 1, 3)
    if layout != "ntvc":
        raise ValueError(f"Unsupported layout: {layout!r}")
    k, cin, cout = w.shape
    n, t, v, _ = x.shape
    pad = dilation * (k - 1) // 2
    t_out = temporal_output_length(t, k, stride, dilation)
    if impl in ("stack", "shift"):
        xp = jnp.pad(x, ((0, 0), (pad, pad), (0, 0), (0, 0)))
        span = (t_out - 1) * stride + 1
        taps = [jax.lax.slice_in_dim(xp, i * dilation, i * dilation + span, stride, axis=1) for i in range(k)]
        if impl == "stack":
            y = jnp.concatenate(taps, axis=-1) @ w.reshape(k * cin, cout)
        else:
            y = sum(tap @ w[i] for i, tap in enumerate(taps))
    elif impl == "conv1d":
        xs = x.transpose(0, 2, 1, 3).reshape(n * v, t, cin)
        y = jax.lax.conv_general_dilated(
            xs, w, (stride,), [(pad, pad)], rhs_dilation=(dilation,), dimension_numbers=("NWC", "WIO", "NWC")
        )
        y = y.reshape(n, v, t_out, cout).transpose(0, 2, 1, 3)
    elif impl == "conv2d":
        y = jax.lax.conv_general_dilated(
            x,
            w[:, None],
            (stride, 1),
            [(pad, pad), (0, 0)],
            rhs_dilation=(dilation, 1),
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
        )
    else:
        raise ValueError(f"Unsupported temporal conv impl: {impl!r}; use one of {TEMPORAL_IMPLS}")
    return y if b is None else y + b


def graph_conv(x, a, w, b=None, order: str = "auto", layout: str = "ntvc"):
    """ST-GCN spatial graph convolution (Yan et al. 2018, eq. 10 / the original
    ``ConvTemporalGraphical``): ``y_w = Σ_k Σ_v A[k, v, w] (x_v W_k + b_k)``.

    x: (N, T, V, C_in) (or (N, V, T, C_in) with ``layout='nvtc'``, (V, N, T, C_in) with
    ``layout='vntc'``); a: (K, V, V) (already
    multiplied by any edge-importance mask); w: (K, C_in, C_out); b: (K, C_out) or None.
    ``order`` = 'project_first' (1×1 conv then aggregate, as the original code),
    'aggregate_first', or 'auto' (the cheaper one).
    """
    kk, cin, cout = w.shape
    if order == "auto":
        order = "aggregate_first" if cin <= cout else "project_first"
    if order not in ("project_first", "aggregate_first"):
        raise ValueError(f"Unsupported graph conv order: {order!r}")
    if layout == "vntc":
        return _graph_conv_vntc(x, a, w, b, order)
    if layout not in ("ntvc", "nvtc"):
        raise ValueError(f"Unsupported layout: {layout!r}; use 'ntvc', 'nvtc' or 'vntc'")
    xs = "ntvc" if layout == "ntvc" else "nvtc"
    ys = "ntwd" if layout == "ntvc" else "nwtd"
    if order == "project_first":
        h = jnp.einsum(f"{xs},kcd->k{xs[:-1]}d", x, w)
        y = jnp.einsum(f"k{xs[:-1]}d,kvw->{ys}", h, a)
    else:
        hs = "ntwkc" if layout == "ntvc" else "nwtkc"
        h = jnp.einsum(f"{xs},kvw->{hs}", x, a)
        y = h.reshape(*h.shape[:3], kk * cin) @ w.reshape(kk * cin, cout)
    if b is not None:
        # the bias is added before aggregation, so it reaches joint w weighted by Σ_v A[k, v, w]
        bias = jnp.einsum("kd,kvw->wd", b, a)
        y = y + (bias if layout == "ntvc" else bias[:, None, :])
    return y


def _graph_conv_vntc(x, a, w, b, order):
    """``graph_conv`` on (V, N, T, C): joints lead, so that both contractions are plain
    row-major GEMMs over (V, N·T·C) or (V·N·T, C) and no operand or result is transposed
    (for the (N, V, T, C) einsum form XLA transposes around the joint contraction;
    ``python -m benchmarks.formulation --only conv`` times the layouts).

    aggregate first: ``h_k = A_kᵀ x`` for all k in one (K·W, V) × (V, N·T·C) GEMM, then
    ``y = Σ_k h_k W_k``, K GEMMs of (W·N·T, C_in) × (C_in, C_out).
    project first: ``p_k = x W_k``, K GEMMs of (V·N·T, C_in) × (C_in, C_out), then
    ``y = [A_0ᵀ … A_{K-1}ᵀ] [p_0; …; p_{K-1}]``, one (W, K·V) × (K·V, N·T·C_out) GEMM.
    """
    kk, cin, cout = w.shape
    v, n, t, _ = x.shape
    if order == "aggregate_first":
        h = a.transpose(0, 2, 1).reshape(kk * v, v) @ x.reshape(v, n * t * cin)
        h = h.reshape(kk, v * n * t, cin)
        y = h[0] @ w[0]
        for k in range(1, kk):  # K (≤ 3 for ST-GCN's partitions) GEMMs, unrolled at trace time
            y = y + h[k] @ w[k]
    else:
        xm = x.reshape(v * n * t, cin)
        p = jnp.stack([xm @ w[k] for k in range(kk)]).reshape(kk * v, n * t * cout)
        y = a.transpose(2, 0, 1).reshape(v, kk * v) @ p
    y = y.reshape(v, n, t, cout)
    if b is not None:
        y = y + jnp.einsum("kd,kvw->wd", b, a)[:, None, None, :]
    return y


@functools.partial(jax.custom_vjp, nondiff_argnums=(3,))
def batch_norm(x, scale, bias, epsilon: float):
    """Training-mode batch normalisation over every axis but the last: ``(y, mean, var)``
    with ``y = (x − mean) / √(var + ε) · scale + bias`` and the biased batch variance.

    Its gradient is written out (``custom_vjp``) rather than left to autodiff: the usual
    closed form ``dx = rstd · (g − mean(g) − x̂ · mean(g · x̂))`` with ``g = dy · scale`` needs
    one pass of two reductions and one elementwise pass, where the differentiated graph
    materialises the intermediate terms of the mean and variance.
    """
    return _batch_norm_fwd(x, scale, bias, epsilon)[0]


def _bn_stats(x):
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axes)
    var = jnp.square(x - mean).mean(axes)
    return mean, var


def _batch_norm_fwd(x, scale, bias, epsilon):
    mean, var = _bn_stats(x)
    rstd = jax.lax.rsqrt(var + epsilon)
    y = (x - mean) * (rstd * scale) + bias
    return (y, mean, var), (x, mean, rstd, scale)


def _batch_norm_bwd(epsilon, res, cts):
    x, mean, rstd, scale = res
    dy, dmean, dvar = cts
    axes = tuple(range(x.ndim - 1))
    m = np.prod(x.shape[:-1])
    xhat = (x - mean) * rstd
    dbias = dy.sum(axes)
    dscale = (dy * xhat).sum(axes)
    # through y, then through the returned mean and variance (∂var/∂x = 2 (x − mean) / M)
    dx = (rstd * scale) * (dy - (dbias + xhat * dscale) / m)
    dx = dx + dmean / m + dvar * (2.0 / m) * (x - mean)
    return dx, dscale, dbias


batch_norm.defvjp(_batch_norm_fwd, _batch_norm_bwd)


def multi_head_attention(q, k, v, num_heads: int, mask=None):
    """softmax(Q Kᵀ / √d_k) V per head (paper eq. 9).  q, k, v: (..., L, C) -> (..., L, C)."""
    *lead, lq, c = q.shape
    dh = c // num_heads
    split = lambda z: z.reshape(*z.shape[:-1], num_heads, dh)
    logits = jnp.einsum("...qhd,...khd->...hqk", split(q), split(k)) / jnp.sqrt(dh).astype(q.dtype)
    if mask is not None:
        logits = jnp.where(mask, logits, -1e30)
    att = jax.nn.softmax(logits, axis=-1)
    out = jnp.einsum("...hqk,...khd->...qhd", att, split(v))
    return out.reshape(*lead, lq, c)


def _mix32(h):
    """A 32-bit integer finaliser (xorshift-multiply, the "lowbias32" constants): every
    input bit affects every output bit; a bijection on uint32."""
    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x7FEB352D)
    h = h ^ (h >> 15)
    h = h * jnp.uint32(0x846CA68B)
    return h ^ (h >> 16)


def hash_uniform(key, shape):
    """Uniform [0, 1) float32 numbers of ``shape`` from a counter-based hash of
    (key, element index): one fused elementwise kernel.

    For dropout masks only: a few integer multiplies, shifts and xors per element in place of
    ``jax.random``'s threefry rounds (``python -m benchmarks.formulation --only dropout`` times
    both, alone and vmapped over per-setting keys).  Different keys give independent-looking
    streams (tests check the keep rate, and the correlation between neighbouring elements,
    between keys and between vmapped settings); it is not a cryptographic generator and is not
    meant to replace ``jax.random`` elsewhere.  24 bits of resolution.
    """
    size = int(np.prod(shape)) if len(shape) else 1
    if size >= 2**32:
        raise ValueError(f"hash_uniform: {size} elements; at most 2**32 - 1 per key")
    words = jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key
    words = jnp.asarray(words).astype(jnp.uint32).reshape(-1)
    s0 = jnp.uint32(0x243F6A88)
    for i in range(words.shape[0]):
        s0 = _mix32(s0 ^ (words[i] + jnp.uint32(0x9E3779B9 * (i + 1) % 2**32)))
    s1 = _mix32(s0 ^ jnp.uint32(0x85EBCA6B))
    idx = jax.lax.iota(jnp.uint32, size).reshape(shape)
    h = _mix32(_mix32(idx * jnp.uint32(0x9E3779B1) + s0) ^ s1)
    return (h >> 8).astype(jnp.float32) * jnp.float32(2.0**-24)


def dropout(key, x, rate):
    """Inverted dropout with a rate that may be a traced array (per-setting under vmap).
    Keeps each element with probability ``1 − rate`` and scales kept ones by ``1/(1 − rate)``."""
    keep = 1.0 - jnp.asarray(rate, x.dtype)
    mask = hash_uniform(key, x.shape) < keep
    return jnp.where(mask, x / jnp.where(keep > 0, keep, 1.0), jnp.zeros_like(x))


def masked_softmax(logits, mask, axis: int = -1):
    """Softmax over the entries where ``mask`` is true; rows sum to one over their support."""
    logits = jnp.where(mask, logits, -jnp.inf)
    m = jnp.max(logits, axis=axis, keepdims=True)
    e = jnp.where(mask, jnp.exp(logits - jax.lax.stop_gradient(m)), 0.0)
    return e / jnp.sum(e, axis=axis, keepdims=True)
