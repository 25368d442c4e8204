"""Refinement judged as the field judges it: acceleration error and 2D MPJPE against NumPy
references, the Gaussian filter against SciPy, sequence coverage (offline windows and the
causal mode the streaming engine computes), SmoothNet against an independent PyTorch
transcription (``reference/smoothnet.py``, the original's parameter names), and the bad
inputs of the refinement benchmark.

Tolerances: metrics and filters 1e-9 (float64 against float64); SmoothNet forward relative
error ≤ 1e-5 (float32, eval mode); parameters after one SGD step ≤ 1e-5 absolute, after five
AMSGrad steps at lr 1e-2 ≤ 1e-4 (1 % of a step; optax's own AMSGrad is 4e-2 away) (dropout
off, so both take the same steps)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dancejax.data.windows import causal_windows, cut, overlap_average, sliding_starts
from dancejax.errors import DataError
from dancejax.maths.filters import apply_filter, gaussian, lookahead
from dancejax.maths.losses import temporal_l1
from dancejax.maths.metrics import REFINEMENT_METRICS, accel_errors, refinement_table
from dancejax.skeleton import LSP14_GROUPS

RNG = np.random.default_rng(0)


# ------------------------------------------------------------------ metrics


def accel_reference(pred, gt):
    """SmoothNet's ``compute_error_accel`` written out for one (T, J, 2) sequence: per interior
    frame, the mean over joints of ‖(p[t-1] − 2p[t] + p[t+1]) − (g[t-1] − 2g[t] + g[t+1])‖."""
    frames = []
    for t in range(1, len(pred) - 1):
        a = pred[t - 1] - 2 * pred[t] + pred[t + 1]
        b = gt[t - 1] - 2 * gt[t] + gt[t + 1]
        frames.append(np.mean([np.sqrt(((a[j] - b[j]) ** 2).sum()) for j in range(pred.shape[1])]))
    return np.array(frames)


def test_accel_error_and_mpjpe_match_numpy_references():
    gt = RNG.normal(500, 80, (3, 20, 14, 2))
    pred = gt + RNG.normal(0, 6, gt.shape)
    per_frame = np.stack([accel_reference(p, g) for p, g in zip(pred, gt)])
    np.testing.assert_allclose(np.asarray(accel_errors(pred, gt)).mean(-1), per_frame, rtol=1e-9)
    tab = refinement_table(pred, gt)
    assert set(tab) == set(REFINEMENT_METRICS)
    np.testing.assert_allclose(tab["accel"]["mean"], per_frame.mean(), rtol=1e-9)
    mpjpe = np.mean([[np.mean([np.linalg.norm(p[t, j] - g[t, j]) for j in range(14)]) for t in range(20)]
                     for p, g in zip(pred, gt)])  # fmt: skip
    np.testing.assert_allclose(tab["mpjpe2d"]["mean"], mpjpe, rtol=1e-9)
    box = (gt.max(-2) - gt.min(-2)).max(-1)
    wr = list(LSP14_GROUPS["wrist"])
    acc = np.linalg.norm(
        (pred[:, :-2] - 2 * pred[:, 1:-1] + pred[:, 2:]) - (gt[:, :-2] - 2 * gt[:, 1:-1] + gt[:, 2:]), axis=-1
    )
    np.testing.assert_allclose(tab["accel"]["wrist"], acc[..., wr].mean(), rtol=1e-9)
    np.testing.assert_allclose(tab["accel_norm"]["wrist"], (100 * acc / box[:, 1:-1, None])[..., wr].mean(), rtol=1e-9)
    err = np.linalg.norm(pred - gt, axis=-1)
    np.testing.assert_allclose(tab["mpjpe2d_norm"]["mean"], (100 * err / box[..., None]).mean(), rtol=1e-9)
    np.testing.assert_allclose(tab["pck05"]["mean"], 100 * (err <= 0.05 * box[..., None]).mean(), rtol=1e-9)


def test_accel_error_is_zero_for_constant_velocity_offsets_and_counts_visible_triples():
    gt = RNG.normal(0, 1, (1, 12, 14, 2))
    drift = np.arange(12)[None, :, None, None] * np.array([0.5, -0.25])  # a linear drift: no acceleration
    tab = refinement_table(gt + 3.0 + drift, gt)
    assert tab["accel"]["mean"] < 1e-12 and tab["mpjpe2d"]["mean"] > 1.0
    pred = gt.copy()
    pred[0, 5, 0, 0] += 1.0  # a one-frame spike on the right ankle: entries at frames 4, 5, 6
    vis = np.ones(gt.shape[:-1])
    assert np.isclose(refinement_table(pred, gt, vis)["accel"]["ankle"], (1 + 2 + 1) / (2 * 10))
    vis[0, 5, 0] = 0  # the spike's frame invisible: its three triples leave the mean
    assert refinement_table(pred, gt, vis)["accel"]["ankle"] == 0.0


# ------------------------------------------------------------------ filters


@pytest.mark.parametrize("window,sigma", [(1, 2.0), (5, 1.5), (11, 4.0)])
def test_gaussian_filter_matches_scipy(window, sigma):
    ndimage = pytest.importorskip("scipy.ndimage")
    x = RNG.normal(0, 1, (40, 14, 2))
    ref = ndimage.gaussian_filter1d(ndimage.median_filter(x, size=(window, 1, 1), mode="nearest"), sigma, axis=0)
    np.testing.assert_allclose(gaussian(x, window, sigma), ref, atol=1e-12)
    np.testing.assert_allclose(apply_filter("gaussian", x, np.ones((40, 14)), window=window, sigma=sigma), ref)


def test_filter_lookahead():
    assert lookahead("one_euro", min_cutoff=1.0, beta=0.3) == 0
    assert lookahead("savgol", window=9, order=2) == 4
    assert lookahead("gaussian", window=5, sigma=1.0) == 2 + 4  # the median's half window + ⌊4σ + ½⌋
    with pytest.raises(ValueError, match="Unsupported filter"):
        lookahead("kalman")


# ------------------------------------------------------------------ sequences as windows


def test_offline_windows_cover_a_sequence_and_average_back():
    x = RNG.normal(0, 1, (23, 14, 2))
    starts = sliding_starts(23, 8, 3)
    assert starts.tolist() == [0, 3, 6, 9, 12, 15] and sliding_starts(23, 8, 5)[-1] == 15
    np.testing.assert_allclose(overlap_average(cut(x, starts, 8), starts, 23), x)
    ramp = np.stack([np.full((8, 1), k, float) for k in range(len(starts))])  # window k outputs k
    avg = overlap_average(ramp, starts, 23)[:, 0]
    assert avg[0] == 0 and avg[7] == np.mean([0, 1, 2]) and avg[22] == 5


def test_causal_windows_end_at_each_frame_with_the_engines_warm_up():
    x = np.arange(6.0)[:, None]
    w = causal_windows(x, 4)[..., 0]
    assert w.tolist()[:2] == [[0, 0, 0, 0], [0, 0, 0, 1]] and w.tolist()[5] == [2, 3, 4, 5]


def test_the_streaming_engine_is_the_causal_mode():
    """The engine fed frame by frame gives, at every frame, the last frame of the refiner's
    output on ``causal_windows``: the causal rows of the benchmark are what it streams."""
    from dancejax.deploy.stream import StreamEngine
    from dancejax.studies.sequences import refine_recognition
    from dancejax.tasks import recognition as R

    cfg = R.make_config("mkff_stgcn", "test", num_styles=5)
    state = R.init_state(cfg, jax.random.key(0))
    ref = R.Refiner(cfg, {"params": state.params, "batch_stats": state.batch_stats})
    x = (RNG.normal(0, 1, (2, 21, 14, 2)) * 30 + 400).astype(np.float32)
    conf = RNG.uniform(0, 1, (2, 21, 14)).astype(np.float32)
    eng = StreamEngine(refiner=ref, dancers=2, flip_test=None)
    streamed = np.stack([o["refined"] for o in eng.run(x.transpose(1, 0, 2, 3), conf.transpose(1, 0, 2))], 1)
    ours = np.stack([refine_recognition(ref, x[i], conf[i], "causal") for i in range(2)])
    np.testing.assert_allclose(ours, streamed, atol=1e-4)


# ------------------------------------------------------------------ the benchmark's table


def test_pooled_table_weighs_every_frame_the_same():
    from dancejax.studies.refinement import table_of

    gts = [RNG.normal(500, 80, (t, 14, 2)) for t in (12, 30)]
    preds = [g + RNG.normal(0, 5, g.shape) for g in gts]
    pooled = table_of(preds, {"gt": gts})
    err = np.concatenate([np.linalg.norm(p - g, axis=-1).ravel() for p, g in zip(preds, gts)])
    acc = np.concatenate([np.asarray(accel_errors(p, g)).ravel() for p, g in zip(preds, gts)])
    np.testing.assert_allclose(pooled["mpjpe2d"]["mean"], err.mean(), rtol=1e-9)
    np.testing.assert_allclose(pooled["accel"]["mean"], acc.mean(), rtol=1e-9)


def benchmark_rows():
    def row(pck, accel, wrist, look, std=0.0):
        r = {"lookahead": look, "seeds": 3, "info": {}}
        for m in REFINEMENT_METRICS:
            v = {"pck05": pck, "accel": accel}.get(m, 1.0)
            r[m] = (v, std)
            r[f"{m}_groups"] = {g: (wrist if (g == "wrist" and m == "pck05") else v, std) for g in LSP14_GROUPS}
        return r

    return {
        "raw": row(80.0, 15.0, 78.0, 0),
        "one_euro": row(80.5, 10.0, 78.0, 0),
        "mkff_stgcn": row(81.0, 2.9, 78.5, 31, std=0.4),
        "mkff_stgcn_causal": row(80.0, 9.0, 77.0, 0, std=0.3),
    }


def test_the_claim_is_measured_against_raw_and_one_euro():
    from dancejax.studies.refinement import claim

    rows = benchmark_rows()
    c = claim(rows)
    assert np.isclose(c["offline_accel_change_pct"], 100 * (2.9 / 15 - 1)) and c["offline_met"] and c["wrist_met"]
    assert not c["causal_met"] and np.isclose(c["causal_pck05_vs_one_euro"], -0.5)
    rows["mkff_stgcn"]["pck05"] = (80.3, 0.4)  # above raw by less than the seed spread
    assert not claim(rows)["offline_met"]


def test_refinement_json_has_the_keys_of_the_issue(tmp_path):
    import json

    from dancejax.studies.refinement import claim, save

    rows = benchmark_rows()
    save({"preset": "test", "seeds": [0, 1, 2], "methods": rows, "claim": claim(rows)}, tmp_path, log=lambda m: None)
    d = json.loads((tmp_path / "refinement.json").read_text())["methods"]
    assert set(d) == {"raw", "one_euro", "mkff_stgcn", "mkff_stgcn_causal"}
    for k in ("pck05", "pck10", "pck20", "accel", "mpjpe2d"):
        assert set(d["mkff_stgcn"][k]) == {"mean", "std"}
    assert d["mkff_stgcn"]["lookahead"] == 31 and d["mkff_stgcn"]["accel_groups"]["wrist"]["mean"] == 2.9
    assert (tmp_path / "refinement_accel_pck.png").stat().st_size > 0 and (tmp_path / "refinement.csv").exists()


def test_smoothnet_epochs_draw_as_many_windows_as_training_frames():
    """The original's epoch: its dataset's length (the training frames), batches of 1024 and
    a last partial batch (here zero-weight padding keeps the shape static)."""
    from dancejax.data import load_dataset
    from dancejax.tasks import refinement as F

    cfg = F.make_config("smoothnet", "original")
    data = F.load_data(ds := load_dataset(), cfg)
    frames = sum(len(x) for x in F.detection_sequences(ds, "train", "train")["x"])
    assert data.frames == frames and F.steps_per_epoch(data, cfg) == -(-frames // 1024)
    batches = list(F.epoch_batches(data, cfg, 3))
    assert sum(float(b["w"].sum()) for b in batches) == frames and batches[-1]["w"][-1] == 0
    assert all(b["x"].shape == (1024, 32, 14, 2) for b in batches)
    np.testing.assert_array_equal(batches[0]["x"], next(F.epoch_batches(data, cfg, 3))["x"])


# ------------------------------------------------------------------ bad input


def test_a_sequence_shorter_than_smoothnets_window_is_a_data_error():
    from dancejax.tasks import refinement as F

    cfg = F.make_config("smoothnet", "test")
    v = cfg.model.init(jax.random.key(0), jnp.zeros((1, cfg.window, 14, 2)))
    with pytest.raises(DataError, match=r"smoothnet input: field 'keypoints': 5 frames; .*window of 8 frames"):
        F.refine_sequence(cfg, v, np.zeros((5, 14, 2)), (1920, 1080))
    with pytest.raises(DataError, match="SmoothNet input: windows of 5 frames, the model takes its window of 8"):
        cfg.model.apply(v, jnp.zeros((1, 5, 14, 2)))


def test_a_detection_set_without_confidences_is_a_data_error():
    from dancejax.data import load_dataset
    from dancejax.tasks import refinement as F

    ds = load_dataset()
    d = ds.detections[0]
    ds.detections = [dataclasses.replace(d, conf=None)] + ds.detections[1:]
    with pytest.raises(DataError, match=rf"detection set '{d.name}': field 'confidence': expected the detector's"):
        F.load_data(ds, F.make_config("smoothnet", "test"))


def test_a_causal_request_to_a_method_without_a_causal_mode_is_a_data_error():
    from dancejax.studies.sequences import filter_sequence

    x = RNG.normal(0, 1, (30, 14, 2))
    with pytest.raises(DataError, match=r"savgol is a centred filter .* 3 future frames; it has no causal mode"):
        filter_sequence("savgol", x, np.ones((30, 14)), {"window": 7, "order": 2}, "causal")
    with pytest.raises(DataError, match="gaussian is a centred filter"):
        filter_sequence("gaussian", x, np.ones((30, 14)), {"window": 5, "sigma": 1.0}, "causal")
    out = filter_sequence("one_euro", x, np.ones((30, 14)), {"min_cutoff": 1.0, "beta": 0.0}, "causal")
    assert out.shape == x.shape


# ------------------------------------------------------------------ SmoothNet against PyTorch

torch = pytest.importorskip("torch", reason="PyTorch parity tests need the torch extra: pip install '.[torch]'")

from dancejax.deploy.convert import import_state_dict  # noqa: E402
from dancejax.models import SmoothNet  # noqa: E402
from dancejax.models import smoothnet as smoothnet_module  # noqa: E402
from reference.smoothnet import TorchSmoothNet, smoothnet_loss  # noqa: E402


def smoothnet_pair(window=8, hidden=32, res_hidden=16, blocks=2, dropout=0.0):
    torch.manual_seed(0)
    ref = TorchSmoothNet(window, hidden, res_hidden, blocks, dropout)
    with torch.no_grad():
        for p in ref.parameters():
            p.add_(torch.randn(p.shape) * 0.2)
    model = SmoothNet(window, hidden, res_hidden, blocks, dropout)
    tpl = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, window, 14, 2))))
    variables = import_state_dict(ref.state_dict(), tpl, rename=smoothnet_module.torch_rename)
    x = torch.randn(3, 28, window)  # (N, C, T), the original's layout
    return ref, model, variables, x


def to_ours(x):  # (N, C, T) -> (N, T, J, 2)
    return jnp.asarray(x.numpy().transpose(0, 2, 1).reshape(x.shape[0], x.shape[2], 14, 2))


def test_smoothnet_has_the_originals_parameter_count():
    """Window 32 with the Human3.6M configuration (512, 128, 5 blocks): 691 872 parameters."""
    ref = TorchSmoothNet(32, 512, 128, 5)
    v = jax.eval_shape(lambda: SmoothNet(32, 512, 128, 5).init(jax.random.key(0), jnp.zeros((1, 32, 14, 2))))
    n = sum(int(np.prod(a.shape)) for a in jax.tree_util.tree_leaves(v))
    assert n == sum(p.numel() for p in ref.parameters()) == 691872


def test_smoothnet_forward_parity():
    ref, model, variables, x = smoothnet_pair()
    ref.eval()
    with torch.no_grad():
        expected = ref(x).numpy().transpose(0, 2, 1).reshape(3, 8, 14, 2)
    out = np.asarray(model.apply(variables, to_ours(x)))
    assert np.abs(out - expected).max() / np.abs(expected).max() <= 1e-5


def test_smoothnet_one_step_parity_with_its_loss():
    ref, model, variables, x = smoothnet_pair()
    gt = torch.randn(3, 28, 8)
    opt = torch.optim.SGD(ref.parameters(), lr=0.05)
    opt.zero_grad()
    loss = smoothnet_loss(ref(x).permute(0, 2, 1), gt.permute(0, 2, 1))
    loss.backward()
    opt.step()

    def loss_fn(p):
        return temporal_l1(model.apply({"params": p}, to_ours(x), train=True), to_ours(gt), 1.0, 0.0, 0.1)

    ours_loss, g = jax.value_and_grad(loss_fn)(variables["params"])
    assert np.isclose(float(ours_loss), loss.item(), rtol=1e-5)
    new = jax.tree_util.tree_map(lambda p, d: p - 0.05 * d, variables["params"], g)
    theirs = import_state_dict(ref.state_dict(), {"params": new}, rename=smoothnet_module.torch_rename)
    for a, b in zip(jax.tree_util.tree_leaves(new), jax.tree_util.tree_leaves(theirs["params"])):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5, rtol=0)


def test_amsgrad_steps_match_pytorch():
    """Five steps of ``OptimConfig(amsgrad=True)`` against ``torch.optim.Adam(amsgrad=True)``."""
    from dancejax.train.optim import OptimConfig, make_optimizer

    ref, model, variables, x = smoothnet_pair()
    gt = torch.randn(3, 28, 8)
    opt = torch.optim.Adam(ref.parameters(), lr=1e-2, amsgrad=True)
    tx = make_optimizer(OptimConfig("adam", lr=1e-2, amsgrad=True))
    params, state = variables["params"], None
    state = tx.init(params)
    loss_fn = lambda p: temporal_l1(model.apply({"params": p}, to_ours(x)), to_ours(gt), 1.0, 0.0, 0.1)
    for _ in range(5):
        opt.zero_grad()
        smoothnet_loss(ref(x).permute(0, 2, 1), gt.permute(0, 2, 1)).backward()
        opt.step()
        upd, state = tx.update(jax.grad(loss_fn)(params), state, params)
        params = jax.tree_util.tree_map(lambda p, u: p + u, params, upd)
    theirs = import_state_dict(ref.state_dict(), {"params": params}, rename=smoothnet_module.torch_rename)
    for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(theirs["params"])):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-4, rtol=0)
