import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dancejax.data import load_dataset
from dancejax.data.pipeline import augment_prediction, to_frame
from dancejax.errors import DataError
from dancejax.maths.dct import dct_matrix, idct_matrix
from dancejax.maths.graph import connection_graph, symmetric_graph
from dancejax.maths.metrics import horizons_ms, prediction_errors
from dancejax.models import PREDICTORS, build
from dancejax.models.ggru import ggru_rollout, ggru_step
from dancejax.models.stga_net import GlobalGraphAttention, LocalGraphAttention, local_attention_weights
from dancejax.skeleton import mid_hip
from dancejax.tasks import prediction as P
from dancejax.train.loop import fit


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
    p = {
        "A_h": rng.normal(size=(j, j)),
        "W": rng.normal(size=(2 * d, 3 * h)),
        "U": rng.normal(size=(h, 3 * h)),
        "b": rng.normal(size=(3 * h,)),
        "W_out": rng.normal(size=(h, d)) * 0.1,
        "b_out": rng.normal(size=(d,)) * 0.1,
    }
    p = {k: jnp.asarray(v, jnp.float32) for k, v in p.items()}
    carry = tuple(jnp.asarray(rng.normal(size=s), jnp.float32) for s in ((n, j, h), (n, j, d), (n, j, d)))
    scanned = jax.jit(ggru_rollout, static_argnums=4)(p, *carry, steps)
    c, outs = carry, []
    for _ in range(steps):
        c, y = ggru_step(p, c)
        outs.append(y)
    np.testing.assert_allclose(scanned, jnp.stack(outs, 1), rtol=1e-5, atol=1e-5)


SMALL = {
    "stga_net": {"width": 16, "blocks": 2},
    "ltd": {"hidden": 16, "stages": 2},
    "dmgnn": {"hidden": 16},
    "simlpe": {"blocks": 2},
}


@pytest.mark.parametrize("kind", sorted(set(PREDICTORS) - {"dmgnn"}))
def test_models_shape_and_finite_gradient(kind):
    model = build(PREDICTORS, kind, pred=25, **SMALL.get(kind, {}))
    x = jax.random.normal(jax.random.key(0), (2, 10, 14, 3))
    v = model.init({"params": jax.random.key(1), "dropout": jax.random.key(2)}, x)
    y = model.apply(v, x)
    assert y.shape == (2, 25, 14, 3)
    if not getattr(type(model), "trainable", True):
        return

    def loss(params):
        out, _ = model.apply(
            {**v, "params": params}, x, train=True, rngs={"dropout": jax.random.key(3)}, mutable=["batch_stats"]
        )
        return (out**2).mean()

    g = jax.grad(loss)(v["params"])
    leaves = jax.tree_util.tree_leaves(g)
    assert all(np.isfinite(np.asarray(a)).all() for a in leaves)
    assert sum(float(jnp.abs(a).sum()) for a in leaves) > 0


def test_baselines_and_horizon_errors():
    obs = np.zeros((1, 3, 14, 3), np.float32)
    obs[:, :, :, 0] = np.arange(3)[None, :, None]
    zv, cv = build(PREDICTORS, "zero_velocity", obs=3, pred=4), build(PREDICTORS, "constant_velocity", obs=3, pred=4)
    np.testing.assert_allclose(zv.apply({}, obs)[0, :, 0, 0], [2, 2, 2, 2])
    np.testing.assert_allclose(cv.apply({}, obs)[0, :, 0, 0], [3, 4, 5, 6])
    assert horizons_ms(10) == [80, 160, 320, 400] and horizons_ms(25) == [80, 160, 320, 400, 560, 1000]
    gt = np.zeros((2, 10, 14, 3))
    pr = gt.copy()
    pr[:, 1, :, 1] = 0.003  # 3 mm off in y at frame 2 (80 ms), every joint
    e = prediction_errors(pr, gt, [80, 160])
    assert e["mpjpe_global"][80] == pytest.approx(3.0) and e["mae_global"][80] == pytest.approx(1.0)
    assert e["mpjpe_rel"][80] == pytest.approx(0.0, abs=1e-9) and e["mpjpe_global"][160] == 0.0


def test_coordinate_frames_and_augmentation():
    w = np.random.default_rng(0).normal(size=(3, 20, 14, 3)).astype(np.float32)
    traj = np.asarray(to_frame(w, 10, "trajectory"))
    np.testing.assert_allclose(mid_hip(traj[:, 9]), 0.0, atol=1e-6)
    rel = np.asarray(to_frame(w, 10, "root_relative"))
    np.testing.assert_allclose(mid_hip(rel), 0.0, atol=1e-6)
    # yaw and mirror keep the frame's origin and every bone length; reverse plays the window backwards
    out = augment_prediction(jax.random.key(0), jnp.asarray(w[0]), ("yaw", "mirror"), 10, "trajectory")
    np.testing.assert_allclose(mid_hip(np.asarray(out)[9]), 0.0, atol=1e-5)
    d = lambda x: np.linalg.norm(np.asarray(x)[:, 0] - np.asarray(x)[:, 1], axis=-1)
    np.testing.assert_allclose(d(out), d(traj[0]), rtol=1e-4)
    keys = jax.random.split(jax.random.key(1), 32)
    rev = [np.asarray(augment_prediction(k, jnp.asarray(w[0]), ("reverse",), 10, "root_relative")) for k in keys]
    flipped = [np.allclose(r, rel[0][::-1], atol=1e-5) for r in rev]
    kept = [np.allclose(r, rel[0], atol=1e-5) for r in rev]
    assert all(a or b for a, b in zip(flipped, kept)) and 4 < sum(flipped) < 28


@pytest.fixture(scope="module")
def data():
    return P.load_data(load_dataset(), P.make_config("stga_net", "test"), per_style=4)


def test_train_step_compiles_once_and_resumes_exactly(data, tmp_path):
    cfg = P.make_config("stga_net", "test")
    state = P.init_state(cfg, jax.random.key(0))
    step = jax.jit(chex.assert_max_traces(P.make_train_step(cfg, data), n=1))
    hp = P.hparams(cfg)
    for e in range(2):
        for b in P.epoch_batches(data, cfg, e):
            state, m = step(state, b, jax.random.key(0), hp)
    state, m = step(state, b, jax.random.key(1), hp.replace(lr=jnp.float32(3e-4), dropout=jnp.float32(0.3)))
    assert np.isfinite(float(m["loss"]))
    full = fit(P, cfg, data, workdir=tmp_path / "a", log=None).variables[0]
    fit(P, cfg, data, workdir=tmp_path / "b", stop_after_epochs=1, log=None)
    resumed = fit(P, cfg, data, workdir=tmp_path / "b", log=None).variables[0]
    chex.assert_trees_all_equal(full, resumed)


@pytest.mark.parametrize("method", ["ltd", "simlpe"])
def test_original_recipes_train(data, method):
    """The authors' recipes run through the same loop: LTD's full-sequence loss in millimetres,
    siMLPe's velocity loss on reversed root-relative windows with its step schedule."""
    cfg = P.make_config(method, "original", model=SMALL[method], iterations=3, batch_size=8)
    assert cfg.frame == "root_relative" and cfg.augment == (() if method == "ltd" else ("reverse",))
    res = fit(P, cfg, data, log=None)
    assert np.isfinite(res.histories[0][-1]["loss"])
    out = P.Predictor(cfg, res.variables[0])(data.val[:2, :10])
    assert out.shape == (2, 10, 14, 3) and np.isfinite(np.asarray(out)).all()


def test_recipes_match_the_originals():
    s = P.make_config("simlpe", "original")
    assert (s.batch_size, s.iterations, s.loss, s.model.blocks) == (256, 40000, "mpjpe_velocity", 48)
    from dancejax.train.optim import learning_rate

    lr = [float(learning_rate(s.optim, s.optim.lr, s.optim.lr_decay, k, 17)) for k in (0, 1, 30001, 30002)]
    np.testing.assert_allclose(lr, [1e-5, 3e-4, 3e-4, 1e-5], rtol=1e-6)
    t = P.make_config("ltd", "original")
    assert (t.batch_size, t.epochs, t.units, t.model.dct_n, t.model.hidden, t.model.stages) == (
        16,
        50,
        1000.0,
        15,
        256,
        12,
    )
    lr = [float(learning_rate(t.optim, t.optim.lr, t.optim.lr_decay, e * 10, 10)) for e in range(4)]
    np.testing.assert_allclose(lr, [5e-4, 5e-4 * 0.96, 5e-4 * 0.96, 5e-4 * 0.96**2], rtol=1e-6)
    d = P.make_config("dmgnn", "original")
    assert (d.batch_size, d.iterations, d.loss, d.normalize, d.optim.clip_norm) == (32, 40000, "l1", True, 0.5)


def test_predictor_bad_input(data):
    cfg = P.make_config("stga_net", "test")
    st = P.init_state(cfg, jax.random.key(0))
    p = P.Predictor(cfg, {"params": st.params, "batch_stats": st.batch_stats})
    obs = data.val[:3, :10]
    assert p(obs).shape == (3, 10, 14, 3)
    with pytest.raises(DataError, match="needs 10 observed frames, got 6"):
        p(obs[:, :6])
    with pytest.raises(DataError, match="horizon 25 frames is longer than the model was built for \\(10\\)"):
        p(obs, horizon=25)
    for h in (0, -3):
        with pytest.raises(DataError, match="horizon must be a positive number of frames"):
            p(obs, horizon=h)
    with pytest.raises(DataError, match="built for 3D poses, got 2D input"):
        p(obs[..., :2])
    with pytest.raises(DataError, match="add a batch axis"):
        p(obs[0])
    with pytest.raises(DataError, match="NaN/inf"):
        p(np.where(np.arange(3)[:, None, None, None] == 1, np.nan, obs))
    with pytest.raises(DataError, match="expected metres"):
        p(obs * 1e30)
    with pytest.raises(ValueError, match="Unsupported model"):
        build(PREDICTORS, "transformer")
    with pytest.raises(
        DataError, match="unknown prediction preset 'quik'; presets are test, quick, default, original, paper"
    ):
        P.make_config("stga_net", "quik")
    with pytest.raises(DataError, match="batch size 64 is larger than the"):
        P.steps_per_epoch(data, P.make_config("stga_net", "test", batch_size=64))
    for bad in ({"epochs": 0}, {"batch_size": 0}, {"loss": "l3"}, {"frame": "world"}):
        with pytest.raises(DataError, match="prediction config"):
            P.make_config("stga_net", "test", **bad)
