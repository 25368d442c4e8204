"""Dance feedback in real time: the streaming engine, exported models and the comparison with a
reference performance, on real takes of the shipped dataset."""

import shutil
import subprocess
from pathlib import Path

import chex
import jax
import numpy as np
import pytest

from dancejax import prediction as P
from dancejax import recognition as R
from dancejax.data import load_dataset
from dancejax.errors import DataError
from dancejax.export import export_model, run_exported
from dancejax.feedback import RULES, acceleration_percentile, compare, write_report
from dancejax.stream import StreamEngine, make_stream_step


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


# ---------------------------------------------------------------- feedback on real takes


def test_feedback_two_trials_of_one_phrase(ds, tmp_path):
    """CMU 05_09 and 05_10: the same ballet phrase (glissade devant, glissade derrière,
    attitude/arabesque) danced twice."""
    a, b = ds.take("05_09").positions, ds.take("05_10").positions
    r = compare(a, b)
    assert 0.0 < r["deviation"]["mean_position"] < 0.5 and 0.0 < r["deviation"]["mean_angle"] < 30.0
    assert len(r["moments"]) == 5 and len({m["frame"] for m in r["moments"]}) == 5
    path = np.asarray(r["alignment"]["path"])
    assert (
        (np.diff(path, axis=0) >= 0).all() and tuple(path[0]) == (0, 0) and tuple(path[-1]) == (len(a) - 1, len(b) - 1)
    )
    files = write_report(r, tmp_path / "report")
    assert all(f.exists() and f.stat().st_size > 0 for f in files.values())
    html = files["html"].read_text()
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html  # offline


def test_feedback_recovers_a_time_warp(ds):
    x = ds.take("05_11").positions[:120]
    t = np.arange(120)
    warp = 119 * (t / 119) ** 1.3  # the performance runs slow early and catches up
    warped = np.stack([np.stack([np.interp(warp, t, x[:, j, d]) for d in range(3)], -1) for j in range(14)], 1)
    r = compare(warped, x, band=None)
    matched = np.asarray(r["alignment"]["matched_reference_frame"])
    assert np.abs(matched - warp).mean() < 1.0 and np.abs(matched - warp).max() < 4.0
    off = np.asarray(r["timing_offset_s"]["per_frame"])
    assert off[60] == pytest.approx((60 - warp[60]) / 25.0, abs=0.08)


def test_feedback_of_a_take_against_itself_is_zero(ds):
    x = ds.take("60_02").positions[:200]
    r = compare(x, x)
    assert r["deviation"]["mean_position"] == 0.0 and r["deviation"]["mean_angle"] == 0.0
    assert r["timing_offset_s"]["mean"] == 0.0 and r["score"]["value"] == 100.0


def test_feedback_bad_input_and_rules(ds, models):
    x = ds.take("05_09").positions
    with pytest.raises(DataError, match="at least 10 are needed"):
        compare(x[:5], x)
    with pytest.raises(DataError, match="is 3D but .* is 2D"):
        compare(x, x[..., :2])
    r = compare(x[..., [0, 1]], x[..., [0, 1]])
    assert all(f["supported"] is False and "2D" in f["note"] for f in r["risk"]["flags"])
    _, pred, _ = models
    rp = compare(x[:60], x[:60], predictor=pred)
    assert rp["risk"]["checked_on"].startswith("predicted next 10 frames")
    # the acceleration threshold is the measured 99.9th percentile of the shipped motion, rounded
    assert RULES[2].threshold == pytest.approx(acceleration_percentile([t.positions for t in ds.takes]), rel=0.1)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it for CI)")
def test_html_report_in_a_headless_browser(ds, tmp_path):
    """The report opens offline in a real browser: the animation advances, the plots render, and a
    screenshot is saved (tests/artifacts/feedback_report.png)."""
    r = compare(ds.take("05_09").positions, ds.take("05_10").positions)
    page = write_report(r, tmp_path / "report")["html"]
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=3000",
    ]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    body = next(line for line in dom.stdout.splitlines() if "<body" in line)
    shown = int(body.split('data-frames-shown="')[1].split('"')[0])
    plots = int(body.split('data-plots-loaded="')[1].split('"')[0])
    assert shown > 5 and plots == 3
    frame = int(dom.stdout.split('data-frame="')[1].split('"')[0])
    assert frame > 0
    shot = Path(__file__).parent / "artifacts" / "feedback_report.png"
    shot.parent.mkdir(exist_ok=True)
    subprocess.run(
        [CHROMIUM, *flags, "--window-size=1100,1500", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 20_000


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
