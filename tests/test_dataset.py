import jax
import numpy as np
import pytest

from dancejax.data import load_dataset, project_windows, take_windows
from dancejax.data.augment import AugmentConfig, augment, bone_lengths, flip, rotate, scale, temporal_blur
from dancejax.data.noise import calibrate, error_table, simulate_detections
from dancejax.data.summary import split_table
from dancejax.errors import DataError
from dancejax.skeleton import LSP14


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


def test_styles_and_walks(ds):
    assert {"ballet_modern", "salsa", "breakdance", "street_jazz", "walk"} <= set(ds.styles)
    assert len(ds.takes) == 37 and len(ds.detections) == 4


def test_no_take_on_two_sides(ds):
    seen = {}
    for t in ds.takes:
        assert seen.setdefault(t.name, t.split) == t.split
    by_group = {}
    for t in ds.takes:
        by_group.setdefault(t.group, set()).add(t.split)
    assert all(len(s) == 1 for s in by_group.values())
    for k in range(1, 6):
        assert ds.take(f"60_0{k}").split == ds.take(f"61_0{k}").split
    assert {t.split for t in ds.takes} == {"train", "val", "test"}


def test_split_table_totals(ds):
    rows = {r["style"]: r for r in split_table(ds)}
    assert rows["ALL"]["all_frames"] == sum(t.num_frames for t in ds.takes)
    assert rows["ALL"]["all_takes"] == 37


def test_windows_fixed_shape(ds):
    takes = ds.list_takes("train")
    w = take_windows(takes, 32, 16, ds.styles)
    assert w.positions.shape[1:] == (32, 14, 3) and w.positions.dtype == np.float32
    assert (w.style >= 0).all() and len(w.style) == len(w.positions)
    t = takes[w.take[5]]
    np.testing.assert_array_equal(w.positions[5], t.positions[w.start[5] : w.start[5] + 32])
    with pytest.raises(DataError, match="shorter than the window"):
        take_windows(takes, 10_000, 1, ds.styles)
    with pytest.raises(DataError, match="unknown split"):
        ds.list_takes("holdout")


def test_virtual_cameras_frame_the_dancer(ds):
    w = take_windows(ds.list_takes("val"), 16, 16, ds.styles)
    px = project_windows(w.positions, np.random.default_rng(0))
    assert px.shape == w.positions.shape[:-1] + (2,) and np.isfinite(px).all()
    inside = (px[..., 0] > 0) & (px[..., 0] < 1920) & (px[..., 1] > 0) & (px[..., 1] < 1080)
    assert inside.mean() > 0.95
    # head above ankles in the image (y down)
    assert (px[:, :, 13, 1] < px[:, :, 0, 1]).mean() > 0.9


def _rand_pose(seed, d):
    return jax.numpy.asarray(np.random.default_rng(seed).normal(size=(8, 14, d)), jax.numpy.float32)


@pytest.mark.parametrize("d", [2, 3])
def test_rotation_and_flip_preserve_bone_lengths(d):
    x = _rand_pose(0, d)
    key = jax.random.key(1)
    bl = np.asarray(bone_lengths(x))
    np.testing.assert_allclose(bone_lengths(rotate(key, x, np.pi)), bl, rtol=1e-5, atol=1e-5)
    f = flip(key, x, p=1.0)
    # a flip maps each bone to its mirror bone: lengths are permuted, not changed
    perm = LSP14.flip_permutation
    mirror = [
        LSP14.edges.index(e) if e in LSP14.edges else LSP14.edges.index(e[::-1])
        for e in [(perm[a], perm[b]) for a, b in LSP14.edges]
    ]
    np.testing.assert_allclose(np.asarray(bone_lengths(f)), bl[:, mirror], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(flip(key, f, p=1.0)), x, atol=1e-6)
    s = np.asarray(bone_lengths(scale(key, x, 0.2)))
    ratio = s / bl
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-4)


def test_augment_jit_vmap_and_blur_identity():
    x = jax.numpy.stack([_rand_pose(i, 2) for i in range(4)])
    keys = jax.random.split(jax.random.key(0), 4)
    y = jax.jit(jax.vmap(lambda k, v: augment(k, v, AugmentConfig(noise=0.01))))(keys, x)
    assert y.shape == x.shape and np.isfinite(y).all()
    np.testing.assert_allclose(temporal_blur(keys[0], x[0], 1e-6), x[0], atol=1e-5)


def test_noise_simulator_matches_real_detector(ds):
    params = calibrate(ds)
    d = [s for s in ds.detections if s.split == "train"]
    gt = np.concatenate([s.gt for s in d], 1)
    real = error_table(np.concatenate([s.det for s in d], 1), np.concatenate([s.conf for s in d], 1), gt)
    x, c = jax.jit(jax.vmap(lambda k, g: simulate_detections(k, g, params)))(
        jax.random.split(jax.random.key(0), gt.shape[0]), gt
    )
    sim = error_table(np.asarray(x), np.asarray(c), gt)
    np.testing.assert_allclose(sim["median_px"], real["median_px"], rtol=0.3)
    np.testing.assert_allclose(sim["miss"], real["miss"], atol=0.08)
    assert ((np.asarray(c) >= 0) & (np.asarray(c) <= 1)).all()
    # the simulated misses are exactly the joints the model input treats as undetected
    from dancejax.tasks.recognition import MISSING

    c = np.asarray(c)
    undetected = c <= MISSING
    assert (c[undetected] == 0).all() and (c[~undetected] > MISSING).all()
    np.testing.assert_allclose(undetected.mean(axis=(0, 1)), real["miss"], atol=0.08)


def test_simulator_reproduces_its_calibration_frames_and_reports_the_held_out_ones():
    from dancejax.data.summary import detector_table

    det = detector_table(load_dataset())
    real, sim, held = det["real_events"], det["simulated_events"], det["heldout_events"]
    # mean over joints, on the frames the simulator was fitted to
    assert abs(np.mean(sim["miss"]) - np.mean(real["miss"])) < 0.01
    assert abs(np.mean(sim["outlier"]) - np.mean(real["outlier"])) < 0.005
    assert abs(np.mean(sim["swap"]) - np.mean(real["swap"])) < 0.01
    assert abs(np.mean(sim["autocorr"]) - np.mean(real["autocorr"])) < 0.1
    assert abs(sim["miss_run"] - real["miss_run"]) < 1.5
    # the held-out sequences are reported beside them (they are harder: more leg misses)
    assert held is not None and np.mean(held["miss"][:6]) > np.mean(real["miss"][:6])
