"""2D prediction (``dims=2``): training windows projected through random virtual cameras, poses
in torso lengths inside the model, errors in pixels, and the real AIST++ camera views."""

import jax
import numpy as np
import pytest

from dancejax.cli import main
from dancejax.data import load_dataset
from dancejax.data.pipeline import pose_scale
from dancejax.errors import DataError
from dancejax.skeleton import NECK, mid_hip
from dancejax.tasks import prediction as P


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


@pytest.fixture(scope="module")
def cfg2():
    return P.make_config("stga_net", "test", model={"dims": 2})


@pytest.fixture(scope="module")
def data2(ds, cfg2):
    return P.load_data(ds, cfg2)


def test_2d_data_are_projected_views(ds, cfg2, data2):
    assert data2.dims == 2 and data2.train.shape[-1] == 3  # 3D takes, projected per batch
    assert data2.val.shape[1:] == (20, 14, 2)
    assert all(w.shape[1:] == (20, 14, 2) for w in data2.eval_sets.values())
    n_views = sum(d.gt.shape[0] * (d.gt.shape[1] // 20) for d in ds.detections if d.split == "test")
    assert data2.real_sets["aist_real"].shape == (n_views, 20, 14, 2)
    assert "random virtual camera" in data2.protocol and "9 real cameras" in data2.protocol
    # a person seen by a camera 3.5-6 m away in a 1920x1080 frame: upright, some hundred pixels tall
    w = data2.eval_sets["walk"]
    height = w[..., 1].max(-1) - w[..., 1].min(-1)
    assert 100 < np.median(height) < 900
    assert (w[..., 13, 1] < w[..., 0, 1]).mean() > 0.95  # head-top above the right ankle (y down)


def test_2d_batches_draw_new_cameras_each_epoch_and_repeat(data2, cfg2):
    a0 = next(P.epoch_batches(data2, cfg2, 0))["window"]
    a0b = next(P.epoch_batches(data2, cfg2, 0))["window"]
    a1 = next(P.epoch_batches(data2, cfg2, 1))["window"]
    assert a0.shape == (cfg2.batch_size, 20, 14, 2)
    np.testing.assert_array_equal(a0, a0b)  # a pure function of (seed, epoch)
    assert not np.allclose(a0, a1)


def test_pose_scale_is_the_observed_torso_length_in_2d_and_one_in_3d():
    rng = np.random.default_rng(0)
    x = rng.normal(500, 80, (3, 20, 14, 2)).astype(np.float32)
    s = np.asarray(pose_scale(x, 10))[:, 0, 0, 0]
    ref = np.linalg.norm(x[:, :10, NECK] - mid_hip(x[:, :10]), axis=-1).mean(1)
    np.testing.assert_allclose(s, ref, rtol=1e-5)
    np.testing.assert_array_equal(np.asarray(pose_scale(x[..., :1].repeat(3, -1), 10)), 1.0)


def test_a_2d_predictor_is_equivariant_to_the_cameras_zoom_and_position(cfg2):
    st = P.init_state(cfg2, jax.random.key(0))
    v = {"params": st.params, "batch_stats": st.batch_stats}
    rng = np.random.default_rng(1)
    x = rng.normal(0, 40, (2, cfg2.obs, 14, 2)) + np.array([900.0, 500.0])
    out = np.asarray(P.forward(cfg2, v, x))
    moved = np.asarray(P.forward(cfg2, v, 2.5 * x + np.array([-300.0, 120.0])))
    np.testing.assert_allclose(moved, 2.5 * out + np.array([-300.0, 120.0]), rtol=1e-4, atol=0.05)


def test_2d_train_step_and_evaluation_in_pixels(data2, cfg2):
    st = P.init_state(cfg2, jax.random.key(0))
    step = jax.jit(P.make_train_step(cfg2, data2))
    batch = next(P.epoch_batches(data2, cfg2, 0))
    new, metrics = step(st, batch, jax.random.key(1), P.hparams(cfg2))
    assert np.isfinite(float(metrics["loss"]))
    changed = jax.tree_util.tree_map(lambda a, b: not np.allclose(a, b), st.params, new.params)
    assert any(jax.tree_util.tree_leaves(changed))
    v = {"params": new.params, "batch_stats": new.batch_stats}
    ev = P.evaluate(cfg2, v, data2)
    assert ev["units"] == "px" and set(ev["real"]) == {"aist_real"}
    assert all(np.isfinite(e) for e in ev["real"]["aist_real"]["mpjpe_rel"].values())
    assert P.score(cfg2, v, data2) == pytest.approx(-_val_mpjpe(cfg2, v, data2), rel=1e-4)  # pixels, not mm


def _val_mpjpe(cfg, v, data):
    from dancejax.skeleton import root_relative

    out = P.predict_windows(cfg, v, data.val)
    return float(np.linalg.norm(root_relative(out) - root_relative(data.val[:, cfg.obs :]), axis=-1).mean())


def test_dims_must_be_2_or_3(ds):
    with pytest.raises(DataError, match="'dims' must be 2 or 3"):
        P.load_data(ds, P.make_config("stga_net", "test", model={"dims": 4}))


def test_train_dims_on_a_recognition_model_is_a_clear_error(tmp_path, capsys):
    rc = main(["train", "--task", "recognition", "--preset", "test", "--dims", "2", "--run", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2 and "--dims: model 'mkff_stgcn' has no field(s) ['dims']" in err
