import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dancejax.data import load_dataset
from dancejax.dct import dct_matrix, idct_matrix
from dancejax.errors import DataError
from dancejax.graph import connection_graph, symmetric_graph
from dancejax.models.ggru import ggru_rollout, ggru_step
from dancejax.models.predictors import (MODELS, GlobalGraphAttention, LocalGraphAttention, PredictionModelConfig,
                                        build_predictor, local_attention_weights)
from dancejax.prediction import (LEARNED, PredictionConfig, Predictor, baseline_predict, default_hparams,
                                 epoch_batches, errors_by_horizon, horizons_ms, init_state, load_data,
                                 make_train_step, steps_per_epoch, train_method)


@pytest.mark.parametrize("n", [5, 20, 35])
def test_dct_orthonormal_and_reconstructs(n):
    d = dct_matrix(n).astype(np.float64)
    np.testing.assert_allclose(d @ d.T, np.eye(n), atol=1e-6)
    x = np.random.default_rng(n).normal(size=(n, 7))
    np.testing.assert_allclose(idct_matrix(n) @ (d @ x), x, atol=1e-5)
    # the k = 0 row is the scaled mean
    np.testing.assert_allclose((d @ x)[0], x.sum(0) / np.sqrt(n), rtol=1e-5)


@pytest.mark.parametrize("graph", [symmetric_graph("lsp14"), connection_graph("lsp14")])
def test_local_attention_rows_sum_to_one_on_support(graph):
    g = tuple(map(tuple, graph.astype(int).tolist()))
    mod = LocalGraphAttention(g, 8)
    x = jax.random.normal(jax.random.key(2), (1, 2, 14, 4))
    v = mod.init(jax.random.key(0), x)
    m = v["params"]["M"] + jax.random.normal(jax.random.key(1), (14, 14))  # a non-uniform learned mask
    att = np.asarray(local_attention_weights(m, graph))
    np.testing.assert_allclose(att.sum(-1), 1.0, rtol=1e-6)
    assert (att[graph == 0] == 0).all() and (att[graph > 0] > 0).all()
    # the module uses exactly these weights: self term on the diagonal, neighbours elsewhere
    y = mod.apply({"params": {**v["params"], "M": m}}, x)
    p = v["params"]
    xs = x @ p["W_self"]["kernel"] + p["W_self"]["bias"]
    xn = x @ p["W_neigh"]["kernel"]
    off = att * (1 - np.eye(14))
    ref = np.diag(att)[:, None] * np.asarray(xs) + np.einsum("ij,ntjc->ntic", off, np.asarray(xn))
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)


def test_global_attention_shape_and_adaptive_rows():
    mod = GlobalGraphAttention(8, heads=2, embed=4)
    x = jax.random.normal(jax.random.key(0), (3, 5, 14, 6))
    v = mod.init(jax.random.key(1), x)
    y = mod.apply(v, x)
    assert y.shape == (3, 5, 14, 8)
    # with C_k = 0 and identity values, rows of B_k average the values: constants stay constant
    y_const = mod.apply(v, jnp.ones_like(x))
    np.testing.assert_allclose(y_const, jnp.broadcast_to(y_const[:, :, :1], y_const.shape), rtol=1e-5, atol=1e-5)


def test_ggru_scan_equals_unrolled_loop():
    rng = np.random.default_rng(0)
    j, h, d, n, steps = 14, 6, 3, 2, 7
    p = {"A_h": rng.normal(size=(j, j)), "W": rng.normal(size=(2 * d, 3 * h)), "U": rng.normal(size=(h, 3 * h)),
         "b": rng.normal(size=(3 * h,)), "W_out": rng.normal(size=(h, d)) * 0.1, "b_out": rng.normal(size=(d,)) * 0.1}
    p = {k: jnp.asarray(v, jnp.float32) for k, v in p.items()}
    carry = tuple(jnp.asarray(rng.normal(size=s), jnp.float32) for s in ((n, j, h), (n, j, d), (n, j, d)))
    scanned = jax.jit(ggru_rollout, static_argnums=4)(p, *carry, steps)
    c, outs = carry, []
    for _ in range(steps):
        c, y = ggru_step(p, c)
        outs.append(y)
    np.testing.assert_allclose(scanned, jnp.stack(outs, 1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_models_shape_and_finite_gradient(kind):
    cfg = PredictionModelConfig(kind=kind, width=16, ltd_blocks=2, simlpe_blocks=2, pred=25)
    model = build_predictor(cfg)
    x = jax.random.normal(jax.random.key(0), (2, 10, 14, 3))
    v = model.init({"params": jax.random.key(1), "dropout": jax.random.key(2)}, x)
    y = model.apply(v, x)
    assert y.shape == (2, 25, 14, 3)

    def loss(params):
        out, _ = model.apply({**v, "params": params}, x, train=True, rngs={"dropout": jax.random.key(3)},
                             mutable=["batch_stats"])
        return (out ** 2).mean()

    g = jax.grad(loss)(v["params"])
    leaves = jax.tree_util.tree_leaves(g)
    assert all(np.isfinite(np.asarray(a)).all() for a in leaves)
    assert sum(float(jnp.abs(a).sum()) for a in leaves) > 0


def test_baselines_and_horizon_errors():
    obs = np.zeros((1, 3, 14, 3), np.float32)
    obs[:, :, :, 0] = np.arange(3)[None, :, None]
    np.testing.assert_allclose(baseline_predict("zero_velocity", obs, 4)[0, :, 0, 0], [2, 2, 2, 2])
    np.testing.assert_allclose(baseline_predict("constant_velocity", obs, 4)[0, :, 0, 0], [3, 4, 5, 6])
    assert horizons_ms(10) == [80, 160, 320, 400] and horizons_ms(25) == [80, 160, 320, 400, 560, 1000]
    gt = np.zeros((2, 10, 14, 3))
    pr = gt.copy()
    pr[:, 1, :, 1] = 0.003  # 3 mm off in y at frame 2 (80 ms), every joint
    e = errors_by_horizon(pr, gt, [80, 160])
    assert e["mpjpe_global"][80] == pytest.approx(3.0) and e["mae_global"][80] == pytest.approx(1.0)
    assert e["mpjpe_rel"][80] == pytest.approx(0.0, abs=1e-9) and e["mpjpe_global"][160] == 0.0


@pytest.fixture(scope="module")
def data():
    return load_data(load_dataset(), per_style=4)


def tiny(method="stga_net"):
    cfg = PredictionConfig.quick(method, batch_size=8, epochs=2, max_train_windows=24)
    return dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, width=16, ltd_blocks=2, simlpe_blocks=2))


def test_train_step_compiles_once_and_resumes_exactly(data, tmp_path):
    cfg = tiny()
    state = init_state(cfg, jax.random.key(0))
    step = make_train_step(cfg, steps_per_epoch(data, cfg))
    hp = default_hparams(cfg)
    for e in range(2):
        for b in epoch_batches(data, cfg, e):
            state, m = step(state, b, jax.random.key(0), hp)
    step(state, b, jax.random.key(1), {**hp, "lr": jnp.float32(3e-4)})
    assert step.trace_count["n"] == 1 and np.isfinite(float(m["loss"]))
    full, _, _ = train_method(cfg, data, workdir=tmp_path / "a")
    train_method(cfg, data, workdir=tmp_path / "b", stop_after_epochs=1)
    resumed, _, _ = train_method(cfg, data, workdir=tmp_path / "b")
    for x, y in zip(jax.tree_util.tree_leaves(full), jax.tree_util.tree_leaves(resumed)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_predictor_bad_input(data):
    cfg = tiny()
    st = init_state(cfg, jax.random.key(0))
    p = Predictor(cfg.model, {"params": st.params, "batch_stats": st.batch_stats})
    obs = data.val[:3, :10]
    assert p(obs).shape == (3, 10, 14, 3)
    with pytest.raises(DataError, match="needs 10 observed frames, got 6"):
        p(obs[:, :6])
    with pytest.raises(DataError, match="horizon 25 frames is longer than the model was built for \\(10\\)"):
        p(obs, horizon=25)
    with pytest.raises(DataError, match="built for 3D poses, got 2D input"):
        p(obs[..., :2])
    with pytest.raises(ValueError, match="Unsupported model"):
        PredictionConfig.quick("transformer")
