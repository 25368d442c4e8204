import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dancejax.data import DanceDataset, load_dataset
from dancejax.data.pipeline import augment_pair, normalize
from dancejax.errors import DataError
from dancejax.maths.metrics import balanced_accuracy, per_class_accuracy
from dancejax.tasks import recognition as R
from dancejax.train.loop import fit
from dancejax.train.optim import OptimConfig


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


@pytest.fixture(scope="module")
def data(ds):
    return R.load_data(ds, R.make_config("mkff_stgcn", "test", real_fraction=0.5))


def test_train_step_compiles_once(data):
    cfg = R.make_config("mkff_stgcn", "test", real_fraction=0.5)
    state = R.init_state(cfg, jax.random.key(0))
    step = jax.jit(chex.assert_max_traces(R.make_train_step(cfg, data), n=1))
    hp = R.hparams(cfg)
    for e in range(2):
        for i, b in enumerate(R.epoch_batches(data, cfg, e)):
            assert b["clean"].shape[0] == 2 and b["real_x"].shape[0] == 2  # half of each batch is real
            state, m = step(state, b, jax.random.key(i), hp)
    assert int(state.step) == 8 and np.isfinite(float(m["loss"]))
    # a new hyper-parameter value is an array, not a new program
    state, _ = step(state, b, jax.random.key(0), hp.replace(lr=jnp.float32(1e-4), lam=jnp.float32(0.3)))


@pytest.mark.parametrize(
    "method",
    # the one-stream and no-top-k ablations of MKFF-ST-GCN share its code: slow selection only
    [pytest.param(m, marks=pytest.mark.slow) if m.startswith("mkff_") and m != "mkff_stgcn" else m for m in R.METHODS],
)
def test_every_method_trains(data, method):
    cfg = R.make_config(method, "test")
    state = R.init_state(cfg, jax.random.key(0))
    step = jax.jit(R.make_train_step(cfg, data))
    b = next(iter(R.epoch_batches(data, cfg, 0)))
    new, m = step(state, b, jax.random.key(0), R.hparams(cfg))
    assert np.isfinite(float(m["loss"]))
    moved = jax.tree_util.tree_map(lambda a, c: float(jnp.abs(a - c).max()), state.params, new.params)
    assert max(jax.tree_util.tree_leaves(moved)) > 0


def test_exact_resume_and_best_selection(data, tmp_path):
    cfg = R.make_config("mkff_stgcn", "test", select_on="real_val", select="best")
    full = fit(R, cfg, data, workdir=tmp_path / "full", log=None)
    fit(R, cfg, data, workdir=tmp_path / "cut", stop_after_epochs=1, log=None)  # "interrupted" after epoch 0
    resumed = fit(R, cfg, data, workdir=tmp_path / "cut", log=None)
    assert [h["epoch"] for h in resumed.histories[0]] == [0, 1]
    chex.assert_trees_all_equal(full.variables[0], resumed.variables[0])
    ck = tmp_path / "cut" / "checkpoints"  # the run-folder layout fit shares with `dancejax train --run`
    assert (ck / "best").exists() and (ck / "periodic").exists()
    # the best variables are those of the best validation epoch
    vals = [h["val"] for h in full.histories[0]]
    best_score = R.score(cfg, full.best_variables[0], data, "val")
    assert best_score == pytest.approx(max(vals), abs=1e-6)


def test_paper_preset():
    cfg = R.make_config("mkff_stgcn", "paper")
    assert cfg.optim == OptimConfig("sgd", lr=0.01, momentum=0.9, lr_decay=0.95)
    assert cfg.batch_size == 16 and cfg.epochs == 80 and cfg.model.widths[-1] == 256 and cfg.top_k == 8
    with pytest.raises(DataError, match="unknown recognition method 'hrnet'"):
        R.make_config("hrnet", "quick")
    with pytest.raises(
        DataError, match="unknown recognition preset 'papr'; presets are test, quick, default, original, paper"
    ):
        R.make_config("mkff_stgcn", "papr")
    for bad in ({"epochs": 0}, {"batch_size": 0}, {"real_fraction": 1.5}, {"select_on": "test"}, {"epochs": "3"}):
        with pytest.raises(DataError, match="recognition config"):
            R.make_config("mkff_stgcn", "quick", **bad)


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


def test_real_pairs_get_one_transform(data):
    s = data.real_train
    det, conf, gt = (jnp.asarray(s[k][0]) for k in ("x", "conf", "gt"))
    for i in range(6):
        d2, c2, g2 = augment_pair(jax.random.key(i), det, conf, gt, R.RecognitionConfig().augment)
        # the detection error keeps its length (rotation, flip) up to the common scale
        e0 = np.linalg.norm(np.asarray(det - gt), axis=-1)
        e1 = np.linalg.norm(np.asarray(d2 - g2), axis=-1)
        ratio = np.median(e1.sum(1) / np.maximum(e0.sum(1), 1e-9))
        assert 0.8 < ratio < 1.2
        np.testing.assert_allclose(np.sort(np.asarray(c2), -1), np.sort(np.asarray(conf), -1))


def test_real_validation_split_and_sets(ds, data):
    assert set(data.sets) == set(R.SETS)
    # real validation windows come from the held-out end of the train-split sequences only
    assert len(data.sets["real_val"]["x"]) > 0 and len(data.real_train["x"]) > len(data.sets["real_val"]["x"])
    with pytest.raises(DataError, match="select_on 'real_val' but that set is empty"):
        R.load_data(ds, R.make_config("mkff_stgcn", "test", window=170, select_on="real_val"))


def test_balanced_sampling_and_accuracies(data):
    cfg = R.make_config("mkff_stgcn", "test", balanced=True, max_train_windows=None, batch_size=16)
    sty = np.concatenate([b["style"] for e in range(3) for b in R.epoch_batches(data, cfg, e)])
    frac = np.bincount(sty, minlength=5) / len(sty)
    assert frac.min() > 0.1  # every style about a fifth, however rare its takes
    labels, preds = np.array([0, 0, 0, 1]), np.array([0, 0, 1, 1])
    assert per_class_accuracy(labels, preds, 3) == [pytest.approx(200 / 3), 100.0, None]
    assert balanced_accuracy(labels, preds, 3) == pytest.approx((200 / 3 + 100) / 2)


def test_refiner_bad_input(data):
    cfg = R.make_config("mkff_stgcn", "test")
    st = R.init_state(cfg, jax.random.key(0))
    ref = R.Refiner(cfg, {"params": st.params, "batch_stats": st.batch_stats})
    x = np.zeros((2, 16, 14, 2), np.float32)
    c = np.ones((2, 16, 14), np.float32)
    out, logits = ref(x, c)
    assert out.shape == x.shape and logits.shape == (2, 5)
    bad = x.copy()
    bad[0, 3, 4, 0] = np.nan
    with pytest.raises(DataError, match="'keypoints'.*NaN"):
        ref(bad, c)
    with pytest.raises(DataError, match=r"'keypoints'.*\(batch, frames, 14, 2\)"):
        ref(np.zeros((2, 16, 17, 2)), np.ones((2, 16, 17)))
    with pytest.raises(DataError, match=r"'confidence'.*\[0, 1\]"):
        ref(x, c * 1.5)
    cn = c.copy()
    cn[0, 0, 0] = np.nan
    with pytest.raises(DataError, match=r"'confidence': expected values in \[0, 1\], got 1 NaN"):
        ref(x, cn)
    with pytest.raises(DataError, match="trained on windows of 16 frames, got 12"):
        ref(x[:, :12], c[:, :12])
    with pytest.raises(DataError, match="add a batch axis"):
        ref(x[0], c[0])


@pytest.mark.parametrize("damage", ["no_views", "too_few_frames"])
def test_real_detections_with_nothing_left_fail_clearly(ds, damage):
    import dataclasses

    cfg = R.make_config("mkff_stgcn", "test", real_fraction=0.5)

    def cut(d):
        if damage == "no_views":
            return dataclasses.replace(d, det=d.det[:0], conf=d.conf[:0], gt=d.gt[:0], cameras=())
        keep = cfg.window  # the validation split leaves fewer than a window's frames for training
        return dataclasses.replace(d, det=d.det[:, :keep], conf=d.conf[:, :keep], gt=d.gt[:, :keep])

    broken = DanceDataset.from_takes(ds.takes, source="cut dataset", detections=[cut(d) for d in ds.detections])
    with pytest.raises(DataError, match="cut dataset: (real_fraction 0.5 needs|no train-split) real .*detections"):
        R.load_data(broken, cfg)


@pytest.mark.parametrize("seeds, message", [([], "at least one seed"), ([0, 0], "repeated seeds"), ([0.5], "integers")])
def test_seed_lists_are_checked(seeds, message):
    from dancejax.studies.compare import check_seeds

    with pytest.raises(DataError, match=message):
        check_seeds(seeds)


def test_unknown_recognition_preset_lists_the_presets():
    with pytest.raises(DataError, match="presets are test, quick, default, original, paper"):
        R.make_config("mkff_stgcn", "quik")


def test_calibration_skips_empty_sequences_and_mixed_view_counts(ds):
    import dataclasses

    from dancejax.data.noise import calibrate

    full = calibrate(ds)
    empty = [dataclasses.replace(d, det=d.det[:0], conf=d.conf[:0], gt=d.gt[:0], cameras=()) for d in ds.detections]
    mixed = [dataclasses.replace(d, det=d.det[:3], conf=d.conf[:3], gt=d.gt[:3]) for d in ds.detections[:1]]
    mixed_ds = DanceDataset.from_takes(ds.takes, detections=mixed + list(ds.detections[1:]) + empty)
    params = calibrate(mixed_ds)
    for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(full)):
        assert np.all(np.isfinite(a)) and np.shape(a) == np.shape(b)
    with pytest.raises(DataError, match="no train-split real detections"):
        calibrate(DanceDataset.from_takes(ds.takes, source="no views", detections=empty), fallback=False)


def test_flip_test_averages_the_window_and_its_mirror(data):
    cfg = R.make_config("mkff_stgcn", "test")
    variables = R.init_state(cfg, jax.random.key(3))
    variables = {"params": variables.params, "batch_stats": variables.batch_stats}
    rng = np.random.default_rng(0)
    xn = jnp.asarray(rng.normal(size=(3, cfg.window, 14, 2)), jnp.float32)
    conf = jnp.asarray(rng.uniform(size=(3, cfg.window, 14)), jnp.float32)
    # NumPy reference: mirror x, swap left/right joints, run, mirror back, average
    perm = np.array([5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 12, 13])
    xm = (np.asarray(xn) * [-1.0, 1.0])[:, :, perm]
    o0, l0 = cfg.model.apply(variables, xn, conf, train=False)
    o1, l1 = cfg.model.apply(variables, jnp.asarray(xm, jnp.float32), conf[:, :, perm], train=False)
    ref = 0.5 * (np.asarray(o0) + (np.asarray(o1) * [-1.0, 1.0])[:, :, perm])
    out, logits = R.apply_refiner(cfg.model, variables, xn, conf, flip_test=True)
    np.testing.assert_allclose(out, ref, atol=1e-5)
    np.testing.assert_allclose(logits, 0.5 * (np.asarray(l0) + np.asarray(l1)), atol=1e-5)
    # so the output of a mirrored window is the mirrored output
    out_m, _ = R.apply_refiner(cfg.model, variables, *R.mirror_normalized(xn, conf), flip_test=True)
    back, _ = R.mirror_normalized(out_m, conf)
    np.testing.assert_allclose(back, out, atol=1e-5)
    # and it is the default of the non-test presets, carried by the Refiner
    assert R.make_config("mkff_stgcn", "quick").flip_test and not cfg.flip_test
    fn_plain, fn_flip = R._inference_fn(cfg.model, False), R._inference_fn(cfg.model, True)
    assert fn_plain is not fn_flip


def test_skip_input_lets_each_frame_see_its_own_detection():
    from dancejax.models.mkff import MKFFSTGCN

    kw = dict(widths=(8, 8), strides=(2, 2), mkff_width=16, mkff_heads=2, decoder_width=16, dropout=0.0)
    x = jnp.asarray(np.random.default_rng(1).normal(size=(1, 16, 14, 2)), jnp.float32)
    conf = jnp.ones((1, 16, 14))
    for skip in (False, True):
        m = MKFFSTGCN(**kw, skip_input=skip)
        v = m.init(jax.random.key(0), x, conf)
        assert v["params"]["fuse"]["kernel"].shape[0] == 8 + 16 + (3 if skip else 0)
        if skip:  # the decoder's input rows for (x, y, score) are the last three: they carry the detection
            rows = v["params"]["fuse"]["kernel"]
            zeroed = jax.tree_util.tree_map(lambda a: a, v)
            zeroed["params"]["fuse"]["kernel"] = rows.at[-3:].set(0.0)
            a, _ = m.apply(v, x, conf)
            b, _ = m.apply(zeroed, x, conf)
            assert float(jnp.abs(a - b).max()) > 0.0
