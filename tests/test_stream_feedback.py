"""Dance feedback in real time: the streaming engine and exported models, on real takes of the
shipped dataset (the comparison with a reference is tested in test_feedback.py)."""

import chex
import jax
import numpy as np
import pytest

from dancejax.data import load_dataset
from dancejax.deploy.export import export_model, run_exported
from dancejax.deploy.stream import StreamEngine, make_stream_step
from dancejax.errors import DataError
from dancejax.tasks import prediction as P
from dancejax.tasks import recognition as R


@pytest.fixture(scope="module")
def ds():
    return load_dataset()


@pytest.fixture(scope="module")
def models():
    rc = R.make_config("mkff_stgcn", "test")
    rs = R.init_state(rc, jax.random.key(0))
    ref = R.Refiner(rc, {"params": rs.params, "batch_stats": rs.batch_stats}, styles=list("abcde"))
    pc = P.make_config("stga_net", "test")
    ps = P.init_state(pc, jax.random.key(1))
    pred = P.Predictor(pc, {"params": ps.params, "batch_stats": ps.batch_stats})
    pc2 = P.make_config("stga_net", "test", model={"dims": 2})
    ps2 = P.init_state(pc2, jax.random.key(2))
    pred2 = P.Predictor(pc2, {"params": ps2.params, "batch_stats": ps2.batch_stats})
    return ref, pred, pred2


def pixels(ds, n=40):
    d = ds.detections[0]
    return d.det[0, :n], d.conf[0, :n]


def test_stream_is_causal_and_compiles_once(ds, models):
    ref, _, pred2 = models
    x, c = pixels(ds)
    eng = StreamEngine(refiner=ref, predictor=pred2)
    eng._step = jax.jit(chex.assert_max_traces(make_stream_step(ref, pred2), n=1))
    a = eng.run(x, c)
    eng.reset()
    y = x.copy()
    y[25:] += 40.0  # perturb the future
    b = eng.run(y, c)
    for t in range(25):  # outputs up to frame 24 do not see frames from 25 on
        for k in ("refined", "style", "predicted"):
            np.testing.assert_array_equal(a[t][k], b[t][k])
    assert not np.allclose(a[30]["refined"], b[30]["refined"])
    assert a[-1]["predicted"].shape == (1, 10, 14, 2) and a[-1]["style"].shape == (1, 5)


def test_stream_warm_up_and_batched_dancers(ds, models):
    ref, _, _ = models
    x, c = pixels(ds)
    eng = StreamEngine(refiner=ref)
    outs = eng.run(x[:20], c[:20])
    w = ref.cfg.window
    assert [o["ready"] for o in outs] == [t + 1 >= w for t in range(20)]
    # during warm-up the window is the first frame repeated into the empty slots
    first = np.concatenate([np.repeat(x[:1], w - 3, 0), x[:3]])[None]
    firstc = np.concatenate([np.repeat(c[:1], w - 3, 0), c[:3]])[None]
    np.testing.assert_allclose(outs[2]["refined"][0], np.asarray(ref(first, firstc)[0])[0, -1], rtol=1e-5, atol=1e-3)
    # N dancers in one step give each dancer's own result
    two = StreamEngine(refiner=ref, dancers=2)
    xs = np.stack([x, x[::-1]], 1)
    cs = np.stack([c, c[::-1]], 1)
    both = two.run(xs, cs)
    np.testing.assert_allclose(both[-1]["refined"][0], eng.run(x[20:], c[20:])[-1]["refined"][0], rtol=1e-5, atol=1e-3)


def test_stream_bad_input(ds, models):
    ref, pred, _ = models
    x, c = pixels(ds)
    eng = StreamEngine(refiner=ref)
    eng.push(x[0], c[0])
    with pytest.raises(DataError, match=r"expected \(1, 14, 2\).*at frame 1, got \(1, 17, 2\)"):
        eng.push(np.zeros((17, 2)))
    nan = x[1].copy()
    nan[3] = np.nan
    out = eng.push(nan, c[1])  # a NaN joint is missing: confidence 0, last seen position
    assert np.isfinite(out["refined"]).all() and eng.state.conf[0, -1, 3] == 0
    eng.reset()
    eng.push(x[0], c[0], timestamp=0.0)
    eng.push(x[1], c[1], timestamp=0.12)  # 3 frame periods: two missing frames are inserted
    assert eng.state.count == 4 and (eng.state.conf[0, -3:-1] == 0).all()
    with pytest.raises(DataError, match="is not after the previous frame"):
        eng.push(x[2], c[2], timestamp=0.1)
    eng.push(x[2], c[2], timestamp=10.0)  # a gap longer than max_gap restarts the warm-up
    assert eng.state.count == 1
    with pytest.raises(DataError, match="the refiner takes 2D keypoints; this stream is 3D"):
        StreamEngine(refiner=ref, dims=3)
    with pytest.raises(DataError, match="the predictor is 3D; this stream is 2D"):
        StreamEngine(refiner=ref, predictor=pred)


@pytest.mark.parametrize("kind", ["refiner", "predictor", "stream"])
def test_export_round_trip(ds, models, tmp_path, kind):
    ref, pred, _ = models
    model = pred if kind == "predictor" else ref
    out = export_model(model, tmp_path / kind, kind)
    rng = np.random.default_rng(0)
    if kind == "refiner":
        x, c = pixels(ds, 16)
        inputs = {"keypoints": np.stack([x, x + 5]), "confidence": np.stack([c, c])}
        got = run_exported(out, inputs)
        want = ref(inputs["keypoints"], inputs["confidence"])
    elif kind == "predictor":
        obs = ds.takes[0].positions[:30].reshape(3, 10, 14, 3)
        got = run_exported(out, {"observed": obs})
        want = pred(obs)
    else:
        eng = StreamEngine(refiner=ref, dancers=3)
        frame = rng.normal(500, 20, (3, 14, 2)).astype(np.float32)
        fconf = np.ones((3, 14), np.float32)
        want = eng._step(eng.state.buffer, eng.state.conf, 1, frame, fconf)
        got = run_exported(
            out,
            {
                "buffer": eng.state.buffer,
                "buffer_confidence": eng.state.conf,
                "count": 1,
                "frame": frame,
                "frame_confidence": fconf,
            },
        )
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-4)


def test_exported_artifact_errors(models, tmp_path):
    import json

    ref, _, _ = models
    out = export_model(ref, tmp_path / "e", "refiner")
    sig = json.loads((out / "signature.json").read_text())
    with pytest.raises(DataError, match=r"field 'keypoints': expected shape \['b', 16, 14, 2\]"):
        run_exported(out, {"keypoints": np.zeros((1, 12, 14, 2)), "confidence": np.zeros((1, 12, 14))})
    (out / "signature.json").write_text(json.dumps({**sig, "version": 7}))
    with pytest.raises(DataError, match="newer format \\(version 7\\)"):
        run_exported(out, {})
    (out / "signature.json").write_text(json.dumps(sig))
    data = (out / "model.stablehlo").read_bytes()
    (out / "model.stablehlo").write_bytes(data[: len(data) // 3])
    with pytest.raises(DataError, match="not a readable jax.export artifact"):
        run_exported(out, {})


def test_stream_flip_test_is_off_by_default_and_follows_the_model_on_request(ds, models):
    import dataclasses

    ref, _, _ = models
    flip = R.Refiner(dataclasses.replace(ref.cfg, flip_test=True), ref.variables)
    x, c = pixels(ds, ref.cfg.window)
    full, fullc = x[None], c[None]
    for engine_flag, model in ((None, flip), (True, flip), (False, ref)):
        eng = StreamEngine(refiner=flip, flip_test=engine_flag)
        last = eng.run(x, c)[-1]["refined"][0]
        np.testing.assert_allclose(last, np.asarray(model(full, fullc)[0])[0, -1], rtol=1e-5, atol=1e-3)
    assert not np.allclose(np.asarray(flip(full, fullc)[0]), np.asarray(ref(full, fullc)[0]), atol=1e-3)
    default = StreamEngine(refiner=flip).run(x, c)[-1]["refined"][0]
    np.testing.assert_allclose(default, np.asarray(ref(full, fullc)[0])[0, -1], rtol=1e-5, atol=1e-3)
