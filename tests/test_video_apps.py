"""The video apps on the real clip (tests/fixtures/video, a real photograph; NOTICE.md there):
``dancejax feedback`` on videos, ``dancejax live``, the shipped pretrained models and
``dancejax models``, the causal alignment, and bad input.  No training: the models are the
ones shipped in the package.  Tests that need OpenCV/MediaPipe skip without the ``video`` extra."""

import base64
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dancejax import pretrained
from dancejax.cli import main
from dancejax.data import load_dataset
from dancejax.errors import DataError
from dancejax.feedback.analysis import PART_NAMES
from dancejax.feedback.rules import RULES
from dancejax.feedback.video import front_view
from dancejax.io.sequence import PoseSequence
from dancejax.skeleton import LSP14
from dancejax.video import INSTALL
from dancejax.video.draw import PART_COLORS
from dancejax.video.refine import GAUSSIAN, ONE_EURO, filter_keypoints, refine_take, resample_times
from tests.conftest import FIXTURES

VIDEO = FIXTURES / "video"
CLIP, MIRRORED = VIDEO / "clip.mp4", VIDEO / "clip_mirrored.mp4"
BVH = FIXTURES / "bvh_schemes" / "mixamo_freebvh.bvh"  # a real BVH, 50 frames at 25 fps
CLIP_FRAMES = 25

HAVE_EXTRA = all(importlib.util.find_spec(m) is not None for m in ("cv2", "mediapipe"))
needs_extra = pytest.mark.skipif(
    not HAVE_EXTRA, reason="the video extra (OpenCV, MediaPipe) is not installed: pip install '.[video]'"
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).parent / "artifacts"


def run_cli(args, capsys):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


def write_video(path, frames_rgb, fps: float, fourcc: str = "MJPG"):
    import cv2

    h, w = frames_rgb[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    assert writer.isOpened(), f"this OpenCV cannot write {fourcc}"
    for f in frames_rgb:
        writer.write(np.ascontiguousarray(f[..., ::-1]))
    writer.release()
    return path


@pytest.fixture(scope="module")
def clip_frames():
    from dancejax.video import open_video

    return [f.image for f in open_video(CLIP)]


# --- the shipped models -----------------------------------------------------------------------


def test_the_package_ships_a_refiner_and_a_2d_predictor_with_cards():
    models = {m.name: m for m in pretrained.available()}
    assert set(models) >= {pretrained.REFINER, pretrained.PREDICTOR}
    ref, pred = models[pretrained.REFINER], models[pretrained.PREDICTOR]
    assert (ref.task, ref.method, ref.preset, ref.dims) == ("recognition", "mkff_stgcn", "quick", 2)
    assert (pred.task, pred.preset, pred.dims) == ("prediction", "quick", 2)
    assert sum(m.size_bytes for m in models.values()) < 8e6  # a few MB in all
    for m in models.values():
        card = (m.path / pretrained.MODEL_CARD).read_text()
        assert m.command.startswith("dancejax train") and m.command in card
        assert m.scores and all(isinstance(v, (int, float)) for v in m.scores.values())
    refiner = pretrained.load(pretrained.REFINER)
    assert refiner.KIND == "refiner" and refiner.styles == list(ref.styles)
    assert pretrained.load(pretrained.PREDICTOR).cfg.model.dims == 2
    with pytest.raises(DataError, match="no shipped model named 'nope'; shipped: .*refiner_style"):
        pretrained.load("nope")


def test_models_command_lists_the_shipped_models(capsys):
    rc, out, _ = run_cli(["models"], capsys)
    assert rc == 0
    for name in (pretrained.REFINER, pretrained.PREDICTOR):
        assert re.search(rf"^{name}\s+(recognition|prediction)\s+\w+\s+quick\s+[\d.]+ [kM]B", out, re.M), out
    rc, out, _ = run_cli(["models", "--json"], capsys)
    rows = json.loads(out)
    assert {r["name"] for r in rows} >= {pretrained.REFINER, pretrained.PREDICTOR}
    assert all(r["scores"] for r in rows)


# --- pieces that need no video -------------------------------------------------------------------


def test_resampling_by_timestamps_matches_numpy_interp():
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.uniform(0.02, 0.07, 40))  # an irregular frame rate
    x = rng.normal(300, 50, (40, 14, 2)).astype(np.float32)
    c = rng.uniform(0, 1, (40, 14)).astype(np.float32)
    p, conf, t = resample_times(x, c, times)
    np.testing.assert_allclose(np.diff(t), 1 / 25, atol=1e-9)
    assert t[0] == times[0] and t[-1] <= times[-1] + 1e-9 and times[-1] - t[-1] < 1 / 25
    for j in (0, 7, 13):
        for d in (0, 1):
            np.testing.assert_allclose(p[:, j, d], np.interp(t, times, x[:, j, d]), rtol=1e-5, atol=1e-3)
    i1 = np.searchsorted(times, t, side="right").clip(1, 39)
    assert (conf <= np.maximum(c[i1 - 1], c[i1]) + 1e-6).all()
    assert (conf == np.minimum(c[i1 - 1], c[i1])).mean() > 0.95  # between two frames: the less confident


def test_filtered_keypoints_are_more_accurate_than_the_shipped_refiner_on_real_detections():
    """Why a video's keypoints are filtered by default: on the held-out real AIST++ detections
    (18 views × 240 frames, against the projected 3D ground truth) the filter keeps the
    detector's PCK and removes most of its jitter, and the shipped refiner lowers both."""
    from dancejax.maths.filters import apply_filter
    from dancejax.maths.metrics import pck_table

    sets = [d for d in load_dataset().detections if d.split == "test"]
    det, conf, gt = (np.concatenate([getattr(d, k) for d in sets]) for k in ("det", "conf", "gt"))
    refiner = pretrained.load(pretrained.REFINER)
    filtered = np.stack([filter_keypoints(x, c) for x, c in zip(det, conf)])
    # the same filter, with the same tuned parameters, as the refinement benchmark's
    np.testing.assert_allclose(filtered[0], apply_filter("gaussian", det[0], conf[0], **GAUSSIAN), atol=1e-9)
    refined = np.stack([refine_take(refiner, x, c)[0] for x, c in zip(det, conf)])

    def pck(p):
        return pck_table(p, gt, np.ones(gt.shape[:-1], np.float32), (0.05,))[0.05]["mean"]

    def accel(p):
        a = p[:, :-2] - 2 * p[:, 1:-1] + p[:, 2:] - (gt[:, :-2] - 2 * gt[:, 1:-1] + gt[:, 2:])
        return np.linalg.norm(a, axis=-1).mean()

    assert pck(filtered) > pck(refined) + 2.0 and accel(filtered) < accel(refined)
    assert pck(filtered) > pck(det) - 1.0 and accel(filtered) < 0.5 * accel(det)


def test_live_filter_is_the_one_euro_filter_over_held_detections():
    from dancejax.maths.filters import one_euro
    from dancejax.video.live import _State

    rng = np.random.default_rng(0)
    kp = 200 + np.cumsum(rng.normal(0, 3, (40, 14, 2)), 0)
    conf = rng.uniform(0.2, 1, (40, 14))
    conf[10:14, 3] = 0.0  # a joint without a detection for 4 frames: held
    kp[10:14, 3] = np.nan
    conf[20] = 0.0  # nobody detected
    kp[20] = np.nan
    state = _State(None, None, [], None, "filtered")
    got = []
    for x, c in zip(kp, conf):
        state._filter(x, c, 1)
        got.append(state.shown)
    held = kp.copy()
    held[10:14, 3] = kp[9, 3]
    held[20] = kp[19]
    np.testing.assert_allclose(np.array(got), one_euro(held, 25.0, **ONE_EURO), atol=1e-9)


def test_front_view_puts_the_dancers_left_on_the_images_right():
    take = load_dataset().take("05_06")
    seq = front_view(PoseSequence(take.positions, None, 25.0, "lsp14"))
    x, y = seq.positions[..., 0], seq.positions[..., 1]
    assert seq.positions.shape == take.positions.shape[:2] + (2,) and seq.labels["units"] == "px"
    j = LSP14.index
    # on average the dancer faces the camera: their left hip on the image's right
    assert np.mean(x[:, j("l_hip")] - x[:, j("r_hip")]) > 0.5 * np.abs(x[:, j("l_hip")] - x[:, j("r_hip")]).mean()
    assert np.mean(y[:, j("head_top")] < y[:, j("r_ankle")]) > 0.95  # image y grows downwards
    # the view follows the dancer: the take turned about the vertical is seen the same
    a = 2.0
    rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    turned = front_view(PoseSequence(take.positions @ rot.T, None, 25.0, "lsp14"))
    np.testing.assert_allclose(turned.positions, seq.positions, atol=1e-2)
    w, h = seq.labels["frame_size"]
    assert x.min() >= 0 and x.max() <= w and y.min() >= 0 and y.max() <= h


# --- feedback on videos ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_videos(tmp_path_factory):
    out = tmp_path_factory.mktemp("fb") / "report"
    rc = main(["feedback", str(CLIP), str(MIRRORED), "--out", str(out)])
    return rc, out


def _embedded_jpegs(page: str):
    import cv2

    imgs = re.findall(r'<img class="vframe"[^>]*src="data:image/jpeg;base64,([^"]+)"', page)
    return [cv2.imdecode(np.frombuffer(base64.b64decode(b), np.uint8), cv2.IMREAD_COLOR)[..., ::-1] for b in imgs]


def _near(img, color, tol=60):
    return (np.abs(img.astype(int) - np.array(color)).max(-1) < tol).mean()


@needs_extra
def test_feedback_on_two_videos_end_to_end(two_videos, clip_frames):
    rc, out = two_videos
    assert rc == 0
    page = (out / "report.html").read_text()
    assert 'id="video-feedback"' in page and "refiner_style (shipped with dancejax)" in page
    assert "drawn and compared: the detections, unseen joints interpolated in time" in page
    assert page.index('id="video-feedback"') < page.index("<h2", page.index("</section>"))
    assert 'id="score-timeline"' in page and 'href="side_by_side.mp4"' in page
    result = json.loads((out / "feedback.json").read_text())
    frames = _embedded_jpegs(page)
    assert len(frames) == 6 + len(result["moments"])  # aligned pairs and each ranked moment
    # the first aligned pair: the clip's first frame (not resized: both clips are 240 px high)
    # with the skeleton drawn over it in the side colours
    left = frames[0][:, : clip_frames[0].shape[1]]
    raw = clip_frames[0]
    changed = np.abs(left.astype(int) - raw.astype(int)).max(-1) > 60
    assert 0.005 < changed[30:-40].mean() < 0.2
    for side in ("left", "right"):
        assert _near(left[30:-40], PART_COLORS[side]) > _near(raw[30:-40], PART_COLORS[side]) + 0.001, side
    # the side-by-side video: one frame per take frame, both clips side by side
    from dancejax.video import open_video

    with open_video(out / "side_by_side.mp4") as v:
        assert v.fps == 25.0 and v.frame_size[1] == 240 and v.frame_size[0] >= 2 * 384
        assert len(list(v)) == result["frames"]["performance"] == CLIP_FRAMES


@needs_extra
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it for CI)")
def test_video_report_in_a_headless_browser(two_videos, tmp_path):
    """The report opens offline in a real browser and every embedded video frame decodes there;
    the screenshot is saved as tests/artifacts/video_feedback_report.png."""
    _, out = two_videos
    page = out / "report.html"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    flags += ["--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}"]
    flags += ["--virtual-time-budget=3000"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    loaded = int(re.search(r'id="video-feedback" data-video-frames-loaded="(\d+)"', dom.stdout).group(1))
    assert loaded == dom.stdout.count('class="vframe"') >= 6
    shot = ARTIFACTS / "video_feedback_report.png"
    shot.parent.mkdir(exist_ok=True)
    subprocess.run(
        [CHROMIUM, *flags, "--window-size=1100,1900", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 100_000


@needs_extra
def test_feedback_videos_of_different_rates_sizes_and_durations(tmp_path, clip_frames, capsys):
    import cv2

    small = [cv2.resize(f, (288, 180), interpolation=cv2.INTER_AREA) for f in clip_frames[::2]]  # 13 at 12.5 fps
    fast = [f for f in clip_frames[:20] for _ in (0, 1)]  # 40 frames at 50 fps: 0.8 s
    a = write_video(tmp_path / "small.avi", small, 12.5)
    b = write_video(tmp_path / "fast.avi", fast, 50.0)
    rc, out, _ = run_cli(["feedback", a, b, "--out", tmp_path / "r"], capsys)
    assert rc == 0 and "score" in out
    page = (tmp_path / "r" / "report.html").read_text()
    assert "13 frames at 12.5 fps" in page and "40 frames at 50 fps" in page
    r = json.loads((tmp_path / "r" / "feedback.json").read_text())
    assert r["frames"]["performance"] == 25 and r["frames"]["reference"] == 20  # both at 25 fps


@needs_extra
def test_feedback_and_live_with_the_refiners_keypoints(tmp_path, capsys):
    from dancejax.video.refine import read_video_take

    rc, out, _ = run_cli(["feedback", CLIP, BVH, "--keypoints", "refined", "--out", tmp_path / "r"], capsys)
    assert rc == 0
    page = (tmp_path / "r" / "report.html").read_text()
    assert "drawn and compared: the refiner&#x27;s output" in page
    refined = read_video_take(CLIP, keypoints="refined", progress=False)
    filtered = read_video_take(CLIP, progress=False)
    np.testing.assert_array_equal(refined.raw.positions, filtered.raw.positions)
    np.testing.assert_allclose(
        filtered.sequence.positions, filter_keypoints(filtered.raw.positions, filtered.raw.confidence), atol=1e-3
    )
    assert refined.style == filtered.style  # the refiner reads the style either way
    rc, _, _ = run_cli(
        ["live", "--video", CLIP, "--keypoints", "refined", "--fast", "--headless", "--out", tmp_path / "l"], capsys
    )
    assert rc == 0
    rec = json.loads((tmp_path / "l" / "live.jsonl").read_text().splitlines()[-1])
    assert rec["person"] and np.shape(rec["keypoints"]) == (14, 2)
    with pytest.raises(DataError, match="field 'keypoints': expected one of filtered, refined"):
        read_video_take(CLIP, keypoints="smoothed", progress=False)


@needs_extra
def test_feedback_video_against_a_bvh_reference(tmp_path, capsys):
    rc, out, _ = run_cli(["feedback", CLIP, BVH, "--out", tmp_path / "r"], capsys)
    assert rc == 0
    page = (tmp_path / "r" / "report.html").read_text()
    assert "motion capture seen from its front" in page
    r = json.loads((tmp_path / "r" / "feedback.json").read_text())
    assert r["dims"] == 2 and r["frames"]["reference"] == 50
    # rules that need 3D say so, one by one
    assert {f["rule"] for f in r["risk"]["flags"]} == {rule["name"] for rule in r["risk"]["rules"]}
    assert all(f.get("supported") is False for f in r["risk"]["flags"])


# --- live ---------------------------------------------------------------------------------------------


@needs_extra
def test_live_headless_writes_one_json_line_per_frame(tmp_path, capsys):
    out = tmp_path / "live"
    rc, stdout, _ = run_cli(["live", "--video", CLIP, "--reference", MIRRORED, "--headless", "--out", out], capsys)
    assert rc == 0
    for stage in ("decode", "detector", "refine + style + predict", "compare", "draw"):
        assert re.search(rf"^{re.escape(stage)}\s+[\d.]+\s+[\d.]+$", stdout, re.M), stage
    lines = (out / "live.jsonl").read_text().splitlines()
    assert len(lines) == CLIP_FRAMES
    recs = [json.loads(x) for x in lines]
    assert [r["frame"] for r in recs] == list(range(CLIP_FRAMES))
    styles = set(pretrained.load(pretrained.REFINER).styles)
    for r in recs:
        assert r["person"] and np.shape(r["keypoints"]) == (14, 2) and set(r["style"]) == styles
        assert np.shape(r["predicted"]) == (pretrained.load(pretrained.PREDICTOR).cfg.pred, 14, 2)
        assert set(r["deviation_deg"]) == set(PART_NAMES) and r["worst_part"] in PART_NAMES
        assert r["offset_s"] == pytest.approx((r["frame"] - r["reference_frame"]) / 25, abs=1e-3)
        assert r["risk"]["not_checked"] == [rule.name for rule in RULES] and not r["risk"]["flags"]
        assert set(r["latency_ms"]) == {"decode", "detector", "refine + style + predict", "compare", "draw"}
    assert recs[-1]["reference_frame"] >= recs[0]["reference_frame"]
    # a mirrored reference: the dancer's arms and legs are where the other side's were
    assert np.mean([max(r["deviation_deg"].values()) for r in recs]) > 30
    from dancejax.video import open_video

    with open_video(out / "live.mp4") as v:
        assert len(list(v)) == CLIP_FRAMES and v.frame_size == (384, 240)
    lat = json.loads((out / "latency.json").read_text())
    assert lat["frames"] == CLIP_FRAMES and lat["stages"]["detector"]["median_ms"] > 0
    assert not [p for p in out.iterdir() if p.name.startswith(".live-")]


@needs_extra
def test_live_with_the_detector_on_every_second_frame(tmp_path, capsys):
    out = tmp_path / "live"
    rc, stdout, _ = run_cli(["live", "--video", CLIP, "--every", "2", "--fast", "--headless", "--out", out], capsys)
    assert rc == 0 and "the detector ran on 13 and found the dancer in 13" in stdout
    recs = [json.loads(x) for x in (out / "live.jsonl").read_text().splitlines()]
    assert [r["status"] for r in recs] == ["detected" if i % 2 == 0 else "skipped" for i in range(CLIP_FRAMES)]
    assert all(r["person"] for r in recs) and all(r["latency_ms"]["detector"] == 0 for r in recs[1::2])
    # a skipped frame's skeleton stays with the dancer: close to its neighbours' detections
    kp = np.array([r["keypoints"] for r in recs])
    gap = np.linalg.norm(kp[1:-1:2] - 0.5 * (kp[0:-2:2] + kp[2::2]), axis=-1).mean()
    assert gap < 0.1 * 240, gap


@needs_extra
def test_live_without_headless_needs_a_display(monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if not sys.platform.startswith("linux"):
        pytest.skip("the display check is for Linux")
    rc, _, err = run_cli(["live", "--video", CLIP, "--max-frames", "2"], capsys)
    assert rc == 2 and "no display to show the video on: run with --headless --out DIR" in err


# --- bad input: one line, exit status 2, nothing written --------------------------------------------


def _bad(capsys, args, pattern, out):
    rc, _, err = run_cli(args, capsys)
    lines = [x for x in err.splitlines() if x.startswith("dancejax ")]
    assert rc == 2, err
    assert len(lines) == 1 and re.search(pattern, lines[0]), err
    assert "Traceback" not in err
    assert not Path(out).exists(), f"{out} was written"


def _both(tmp_path, video, pattern, capsys, reference=CLIP):
    _bad(capsys, ["feedback", video, reference, "--out", tmp_path / "fb"], pattern, tmp_path / "fb")
    _bad(capsys, ["live", "--video", video, "--headless", "--out", tmp_path / "lv"], pattern, tmp_path / "lv")


@needs_extra
def test_bad_input_missing_file(tmp_path, capsys):
    _both(tmp_path, tmp_path / "nothere.mp4", r"nothere\.mp4: no such file or folder", capsys)


@needs_extra
def test_bad_input_not_a_video(tmp_path, capsys):
    path = tmp_path / "notes.mp4"
    path.write_text("my dance notes\n" * 50)
    _both(tmp_path, path, r"notes\.mp4: not a video file", capsys)


@needs_extra
def test_bad_input_zero_frames(tmp_path, capsys):
    import cv2

    path = tmp_path / "empty.avi"
    cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (384, 240)).release()
    _both(tmp_path, path, r"empty\.avi: the video has zero frames", capsys)


@needs_extra
def test_bad_input_corrupt_video(tmp_path, capsys):
    path = tmp_path / "truncated.mp4"
    data = CLIP.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _both(tmp_path, path, r"truncated\.mp4: damaged video", capsys)


@needs_extra
def test_bad_input_no_person_in_any_frame(tmp_path, clip_frames, capsys):
    path = write_video(tmp_path / "nobody.avi", [np.full_like(clip_frames[0], 90)] * 6, 25.0)
    _both(tmp_path, path, r"nobody\.avi: no person found in any of the 6 frames", capsys)


@needs_extra
def test_bad_input_a_camera_that_does_not_exist(tmp_path, capsys):
    _bad(capsys, ["live", "--camera", "99", "--headless", "--out", tmp_path / "lv"], r"camera 99", tmp_path / "lv")


def test_bad_input_without_the_video_extra(tmp_path, monkeypatch, capsys):
    for name in ("cv2", "mediapipe", "mediapipe.python", "mediapipe.python.solutions.pose"):
        monkeypatch.setitem(sys.modules, name, None)  # makes `import name` raise ImportError
    pattern = re.escape(INSTALL)
    _both(tmp_path, CLIP, pattern, capsys)
    _bad(capsys, ["live", "--camera", "0", "--headless", "--out", tmp_path / "c"], pattern, tmp_path / "c")
