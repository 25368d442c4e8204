import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dancejax.data import load_dataset
from dancejax.errors import DataError
from dancejax.models.mkff import RecognitionModelConfig
from dancejax.recognition import (METHODS, RecognitionConfig, Refiner, default_hparams, epoch_batches, init_state,
                                  load_data, make_train_step, normalize, steps_per_epoch, train_method)
from dancejax.train.common import OptimConfig


def tiny(method="mkff_stgcn", **kw):
    cfg = RecognitionConfig.quick(method, window=16, stride=16, batch_size=4, epochs=2, max_train_windows=16, **kw)
    model = dataclasses.replace(cfg.model, widths=(8, 8), strides=(1, 1), mkff_width=16, mkff_heads=2,
                                decoder_width=16)
    return dataclasses.replace(cfg, model=model)


@pytest.fixture(scope="module")
def data():
    return load_data(load_dataset(), window=16, stride=16)


def test_train_step_compiles_once(data):
    cfg = tiny()
    state = init_state(cfg, jax.random.key(0))
    step = make_train_step(cfg, data, steps_per_epoch(data, cfg))
    hp = default_hparams(cfg)
    for e in range(2):
        for i, b in enumerate(epoch_batches(data, cfg, e)):
            state, m = step(state, b, jax.random.key(i), hp)
    assert int(state.step) == 8 and np.isfinite(float(m["loss"]))
    # a new hyper-parameter value is an array, not a new program
    state, _ = step(state, b, jax.random.key(0), {**hp, "lr": jnp.float32(1e-4), "lam": jnp.float32(0.3)})
    assert step.trace_count["n"] == 1


@pytest.mark.parametrize("method", METHODS)
def test_every_method_trains(data, method):
    cfg = tiny(method)
    state = init_state(cfg, jax.random.key(0))
    step = make_train_step(cfg, data, 4)
    b = next(iter(epoch_batches(data, cfg, 0)))
    new, m = step(state, b, jax.random.key(0), default_hparams(cfg))
    assert np.isfinite(float(m["loss"]))
    moved = jax.tree_util.tree_map(lambda a, c: float(jnp.abs(a - c).max()), state.params, new.params)
    assert max(jax.tree_util.tree_leaves(moved)) > 0


def test_exact_resume(data, tmp_path):
    cfg = tiny()
    full, _, _ = train_method(cfg, data, workdir=tmp_path / "full")
    train_method(cfg, data, workdir=tmp_path / "cut", stop_after_epochs=1)  # "interrupted" after epoch 0
    resumed, history, _ = train_method(cfg, data, workdir=tmp_path / "cut")
    assert [h["epoch"] for h in history] == [0, 1]
    for a, b in zip(jax.tree_util.tree_leaves(full), jax.tree_util.tree_leaves(resumed)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert (tmp_path / "cut" / "best").exists() and (tmp_path / "cut" / "periodic").exists()


def test_paper_preset():
    cfg = RecognitionConfig.paper()
    assert cfg.optim == OptimConfig("sgd", lr=0.01, momentum=0.9, lr_decay=0.95)
    assert cfg.batch_size == 16 and cfg.epochs == 80 and cfg.model.widths[-1] == 256 and cfg.top_k == 8
    with pytest.raises(ValueError, match="Unsupported method"):
        RecognitionConfig.quick("hrnet")


def test_normalize_centres_and_scales():
    x = np.zeros((4, 14, 2), np.float32)
    x[:, 2] = [-1.0, 0.0]
    x[:, 3] = [1.0, 0.0]
    x[:, 12] = [0.0, -2.0]
    x += 100.0
    conf = np.ones((4, 14), np.float32)
    conf[:, 5] = 0
    xn, c, s = normalize(jnp.asarray(x), jnp.asarray(conf))
    np.testing.assert_allclose(c, [100.0, 100.0])
    np.testing.assert_allclose(s, 2.0)
    np.testing.assert_allclose(xn[:, 12], [[0.0, -1.0]] * 4)
    np.testing.assert_allclose(xn[:, 5], 0.0)  # undetected joint at the centre


def test_refiner_bad_input(data):
    cfg = tiny()
    st = init_state(cfg, jax.random.key(0))
    ref = Refiner(cfg, {"params": st.params, "batch_stats": st.batch_stats})
    x = np.zeros((2, 16, 14, 2), np.float32)
    c = np.ones((2, 16, 14), np.float32)
    out, logits = ref(x, c)
    assert out.shape == x.shape and logits.shape == (2, 5)
    bad = x.copy()
    bad[0, 3, 4, 0] = np.nan
    with pytest.raises(DataError, match="'keypoints'.*NaN"):
        ref(bad, c)
    with pytest.raises(DataError, match=r"'keypoints'.*\(\.\.\., frames, 14, 2\)"):
        ref(np.zeros((2, 16, 17, 2)), np.ones((2, 16, 17)))
    with pytest.raises(DataError, match=r"'confidence'.*\[0, 1\]"):
        ref(x, c * 1.5)
