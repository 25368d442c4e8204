"""Layers against plain NumPy references on random inputs.  Tolerances: float32 vs float64
references, rtol 1e-4 / atol 1e-5 unless stated."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dancejax.layers import functional as F
from dancejax.layers.modules import BatchNorm
from dancejax.maths.graph import spatial_partition

RTOL, ATOL = 1e-4, 1e-5


def np_temporal_conv(x, w, b, stride, dilation):
    k, cin, cout = w.shape
    n, t, v, _ = x.shape
    pad = dilation * (k - 1) // 2
    xp = np.pad(x, ((0, 0), (pad, pad), (0, 0), (0, 0)))
    t_out = (t + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    y = np.zeros((n, t_out, v, cout))
    for o in range(t_out):
        for i in range(k):
            y[:, o] += xp[:, o * stride + i * dilation] @ w[i]
    return y + b


@pytest.mark.parametrize("impl", F.TEMPORAL_IMPLS)
@pytest.mark.parametrize("stride,dilation,k", [(1, 1, 9), (2, 1, 9), (1, 2, 3), (2, 3, 3), (1, 1, 1)])
def test_temporal_conv(impl, stride, dilation, k):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 17, 5, 4))
    w = rng.normal(size=(k, 4, 6))
    b = rng.normal(size=(6,))
    y = F.temporal_conv(
        jnp.asarray(x, jnp.float32), jnp.asarray(w, jnp.float32), jnp.asarray(b, jnp.float32), stride, dilation, impl
    )
    np.testing.assert_allclose(y, np_temporal_conv(x, w, b, stride, dilation), rtol=RTOL, atol=1e-4)
    assert y.shape[1] == F.temporal_output_length(17, k, stride, dilation)


def np_graph_conv(x, a, w, b):
    """The original ConvTemporalGraphical: 1×1 conv to K·C_out (with bias), then Σ_k x_k A_k."""
    kk = a.shape[0]
    y = 0
    for k in range(kk):
        h = x @ w[k] + b[k]  # (N, T, V, C_out)
        y = y + np.einsum("ntvc,vw->ntwc", h, a[k])
    return y


@pytest.mark.parametrize("order", ["project_first", "aggregate_first", "auto"])
@pytest.mark.parametrize("cin,cout", [(3, 8), (8, 8), (8, 4)])
def test_graph_conv(order, cin, cout):
    rng = np.random.default_rng(1)
    a = spatial_partition("lsp14", "spatial") * rng.uniform(0.5, 1.5, size=(3, 14, 14))  # with importance
    x = rng.normal(size=(2, 6, 14, cin))
    w = rng.normal(size=(3, cin, cout))
    b = rng.normal(size=(3, cout))
    y = F.graph_conv(*(jnp.asarray(z, jnp.float32) for z in (x, a, w, b)), order=order)
    np.testing.assert_allclose(y, np_graph_conv(x, a, w, b), rtol=RTOL, atol=1e-4)


def np_attention(q, k, v, heads):
    lq, c = q.shape
    dh = c // heads
    out = np.zeros_like(q)
    for h in range(heads):
        sl = slice(h * dh, (h + 1) * dh)
        s = q[:, sl] @ k[:, sl].T / np.sqrt(dh)
        p = np.exp(s - s.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        out[:, sl] = p @ v[:, sl]
    return out


def test_attention():
    rng = np.random.default_rng(2)
    q, k, v = (rng.normal(size=(3, 7, 8)) for _ in range(3))
    y = F.multi_head_attention(*(jnp.asarray(z, jnp.float32) for z in (q, k, v)), num_heads=2)
    for i in range(3):
        np.testing.assert_allclose(y[i], np_attention(q[i], k[i], v[i], 2), rtol=RTOL, atol=ATOL)


def test_masked_softmax_rows_sum_to_one_on_support():
    rng = np.random.default_rng(3)
    mask = rng.uniform(size=(6, 6)) < 0.5
    mask[np.arange(6), np.arange(6)] = True
    p = np.asarray(F.masked_softmax(jnp.asarray(rng.normal(size=(6, 6)), jnp.float32), mask))
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-6)
    assert (p[~mask] == 0).all()


@pytest.mark.parametrize("unbiased", [True, False])
def test_batchnorm_conventions(unbiased):
    rng = np.random.default_rng(4)
    x = rng.normal(2.0, 3.0, size=(4, 5, 3)).astype(np.float32)
    bn = BatchNorm(momentum=0.1, unbiased_running_var=unbiased)
    v = bn.init(jax.random.key(0), x, train=False)
    y, upd = bn.apply(v, x, train=True, mutable=["batch_stats"])
    flat = x.reshape(-1, 3).astype(np.float64)
    mean, var_b = flat.mean(0), flat.var(0)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var_b + 1e-5), rtol=1e-4, atol=1e-4)
    run_var = flat.var(0, ddof=1) if unbiased else var_b
    np.testing.assert_allclose(upd["batch_stats"]["mean"], 0.9 * 0 + 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(upd["batch_stats"]["var"], 0.9 * 1 + 0.1 * run_var, rtol=1e-5)
    ye = bn.apply({**v, **upd}, x, train=False)
    np.testing.assert_allclose(
        ye, (x - upd["batch_stats"]["mean"]) / np.sqrt(upd["batch_stats"]["var"] + 1e-5), rtol=1e-4, atol=1e-4
    )


def test_batch_norm_gradient_matches_autodiff_of_the_definition():
    """The hand-written backward of ``F.batch_norm`` against autodiff of the textbook formula,
    in float64, for all three outputs (y, batch mean, batch variance) on random cotangents."""
    with jax.enable_x64(True):
        rng = np.random.default_rng(9)
        x = jnp.asarray(rng.normal(1.0, 2.0, size=(3, 5, 7, 6)))
        scale, bias = jnp.asarray(rng.normal(size=6)), jnp.asarray(rng.normal(size=6))

        def textbook(x, scale, bias):
            mean = x.mean((0, 1, 2))
            var = ((x - mean) ** 2).mean((0, 1, 2))
            return (x - mean) / jnp.sqrt(var + 1e-5) * scale + bias, mean, var

        cts = (jnp.asarray(rng.normal(size=x.shape)), jnp.asarray(rng.normal(size=6)), jnp.asarray(rng.normal(size=6)))
        want, want_vjp = jax.vjp(textbook, x, scale, bias)
        got, got_vjp = jax.vjp(lambda *a: F.batch_norm(*a, 1e-5), x, scale, bias)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
        for g, w in zip(got_vjp(cts), want_vjp(cts)):
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10)


# (N, T, V, C) -> the layout, and back
TO_LAYOUT = {"nvtc": (0, 2, 1, 3), "vntc": (2, 0, 1, 3)}
FROM_LAYOUT = {"nvtc": (0, 2, 1, 3), "vntc": (1, 2, 0, 3)}


@pytest.mark.parametrize("layout", ["nvtc", "vntc"])
@pytest.mark.parametrize("impl", F.TEMPORAL_IMPLS)
def test_temporal_conv_joint_major_layouts(impl, layout):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 13, 5, 4))
    w = rng.normal(size=(9, 4, 6))
    b = rng.normal(size=(6,))
    y = F.temporal_conv(
        jnp.asarray(x.transpose(TO_LAYOUT[layout]), jnp.float32),
        jnp.asarray(w, jnp.float32),
        jnp.asarray(b, jnp.float32),
        2,
        1,
        impl,
        layout=layout,
    )
    np.testing.assert_allclose(
        np.asarray(y).transpose(FROM_LAYOUT[layout]), np_temporal_conv(x, w, b, 2, 1), rtol=RTOL, atol=1e-4
    )


@pytest.mark.parametrize("layout", ["nvtc", "vntc"])
@pytest.mark.parametrize("order", ["project_first", "aggregate_first"])
def test_graph_conv_joint_major_layouts(order, layout):
    """Both contraction orders in both joint-major layouts against the NumPy reference, values and
    gradients (the 'vntc' form is hand-written GEMMs, so its gradients are checked too)."""
    rng = np.random.default_rng(6)
    a = spatial_partition("lsp14", "spatial")
    x = rng.normal(size=(2, 6, 14, 5))
    w = rng.normal(size=(3, 5, 7))
    b = rng.normal(size=(3, 7))
    args = [jnp.asarray(z, jnp.float32) for z in (x.transpose(TO_LAYOUT[layout]), a, w, b)]
    y = F.graph_conv(*args, order=order, layout=layout)
    np.testing.assert_allclose(
        np.asarray(y).transpose(FROM_LAYOUT[layout]), np_graph_conv(x, a, w, b), rtol=RTOL, atol=1e-4
    )
    # gradients against the (N, T, V, C) einsum form on the same cotangent
    g = rng.normal(size=(2, 6, 14, 7)).astype(np.float32)
    loss = lambda lay, perm: (
        lambda x, a, w, b: jnp.sum(F.graph_conv(x, a, w, b, order=order, layout=lay) * jnp.asarray(g.transpose(perm)))
    )
    got = jax.grad(loss(layout, TO_LAYOUT[layout]), argnums=(0, 1, 2, 3))(*args)
    ref = jax.grad(loss("ntvc", (0, 1, 2, 3)), argnums=(0, 1, 2, 3))(
        *[jnp.asarray(z, jnp.float32) for z in (x, a, w, b)]
    )
    np.testing.assert_allclose(np.asarray(got[0]).transpose(FROM_LAYOUT[layout]), ref[0], rtol=RTOL, atol=1e-4)
    for gg, rr in zip(got[1:], ref[1:]):
        np.testing.assert_allclose(gg, rr, rtol=RTOL, atol=1e-3)


def test_stgcn_layouts_agree():
    """The backbone gives the same features and logits in both joint-major layouts."""
    from dancejax.models.stgcn import STGCN

    x = jnp.asarray(np.random.default_rng(8).normal(size=(2, 12, 14, 3)), jnp.float32)
    kw = dict(widths=(8, 16), strides=(1, 2), num_classes=4)
    v = STGCN(**kw, layout="nvtc").init(jax.random.key(0), x)
    outs = [STGCN(**kw, layout=lay).apply(v, x, train=True, mutable=["batch_stats"])[0] for lay in ("nvtc", "vntc")]
    for a_, b_ in zip(*outs):
        np.testing.assert_allclose(a_, b_, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="layout"):
        STGCN(**kw, layout="ntvc").init(jax.random.key(0), x)


@pytest.mark.parametrize("layout", ["ntvc", "nvtc"])
def test_temporal_conv_input_shorter_than_kernel(layout):
    """T < kernel span switches conv1d to the matmul form (XLA:CPU is slow there); same result."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2, 5, 3, 4))
    w = rng.normal(size=(9, 4, 6))
    b = rng.normal(size=(6,))
    xi = x if layout == "ntvc" else x.transpose(0, 2, 1, 3)
    y = np.asarray(
        F.temporal_conv(
            jnp.asarray(xi, jnp.float32),
            jnp.asarray(w, jnp.float32),
            jnp.asarray(b, jnp.float32),
            1,
            1,
            "conv1d",
            layout,
        )
    )
    y = y if layout == "ntvc" else y.transpose(0, 2, 1, 3)
    np.testing.assert_allclose(y, np_temporal_conv(x, w, b, 1, 1), rtol=RTOL, atol=1e-4)


def test_hash_uniform_statistics():
    """The dropout generator: uniform on [0, 1), uncorrelated between neighbouring
    elements, between keys and between vmapped settings (5-sigma bounds on n samples)."""
    shape = (16, 14, 32, 64)
    n = int(np.prod(shape))
    u = np.asarray(F.hash_uniform(jax.random.key(0), shape)).ravel()
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / n)
    assert abs(u.var() - 1 / 12) < 0.002
    # each decile holds a tenth of the samples
    counts = np.histogram(u, bins=10, range=(0, 1))[0] / n
    assert np.all(np.abs(counts - 0.1) < 5 * np.sqrt(0.09 / n))
    bound = 5 / np.sqrt(n)
    for lag in (1, 64, 14 * 32 * 64):
        assert abs(np.corrcoef(u[lag:], u[:-lag])[0, 1]) < bound, lag
    keys = jax.random.split(jax.random.key(7), 4)
    us = np.asarray(jax.jit(jax.vmap(lambda k: F.hash_uniform(k, shape)))(keys)).reshape(4, -1)
    for i in range(4):
        np.testing.assert_array_equal(us[i], np.asarray(F.hash_uniform(keys[i], shape)).ravel())
        for j in range(i):
            assert abs(np.corrcoef(us[i], us[j])[0, 1]) < bound
    # a typed key and its raw words give the same stream; another key a different one
    raw = jax.random.key_data(jax.random.key(3))
    np.testing.assert_array_equal(F.hash_uniform(raw, (50,)), F.hash_uniform(jax.random.key(3), (50,)))
    assert not np.allclose(F.hash_uniform(jax.random.key(3), (50,)), F.hash_uniform(jax.random.key(4), (50,)))


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.5, 1.0])
def test_dropout_rate_and_scaling(rate):
    x = jnp.full((64, 32, 64), 2.0)
    y = np.asarray(jax.jit(F.dropout)(jax.random.key(1), x, jnp.float32(rate)))
    kept = y != 0
    n = kept.size
    assert abs(kept.mean() - (1 - rate)) <= 5 * np.sqrt(rate * (1 - rate) / n) + 1e-12
    if rate < 1:
        np.testing.assert_allclose(y[kept], 2.0 / (1 - rate), rtol=1e-6)
    assert np.isfinite(y).all()
    # the gradient is the mask over the keep probability
    g = jax.grad(lambda x: F.dropout(jax.random.key(1), x, rate).sum())(x)
    np.testing.assert_allclose(np.asarray(g), np.where(kept, 1 / (1 - rate) if rate < 1 else 0.0, 0.0), rtol=1e-6)
