"""The video front end (dancejax.video) on a real clip: reading, MediaPipe Pose, LSP-14 mapping,
gaps and bad input.  Tests that need OpenCV/MediaPipe skip without the ``video`` extra."""

import importlib.util
import sys
import time

import numpy as np
import pytest

from dancejax.errors import DataError
from dancejax.skeleton import COCO17, HEAD_TOP_EXTRAPOLATION, LSP14
from dancejax.video import (
    BLAZEPOSE33,
    BLAZEPOSE33_TO_COCO17,
    INSTALL,
    Detector,
    MediaPipePose,
    detect,
    find_gaps,
    open_video,
    poses,
    to_lsp14_frame,
)
from tests.conftest import FIXTURES

VIDEO = FIXTURES / "video"
CLIP, MIRRORED, STILL = VIDEO / "clip.mp4", VIDEO / "clip_mirrored.mp4", VIDEO / "messi5.jpg"
CLIP_FRAMES, CLIP_SIZE = 25, (384, 240)

HAVE_EXTRA = all(importlib.util.find_spec(m) is not None for m in ("cv2", "mediapipe"))
needs_extra = pytest.mark.skipif(
    not HAVE_EXTRA, reason="the video extra (OpenCV, MediaPipe) is not installed: pip install '.[video]'"
)

J = {name: LSP14.index(name) for name in LSP14.joints}


def write_video(path, frames_rgb, fourcc: str, fps: float = 25.0):
    """Write RGB frames with OpenCV; skip the test when this OpenCV cannot encode ``fourcc``
    into ``path``'s container."""
    import cv2

    h, w = frames_rgb[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    if not writer.isOpened():
        pytest.skip(f"this OpenCV build cannot write {fourcc} into {path.suffix}")
    for f in frames_rgb:
        writer.write(np.ascontiguousarray(f[..., ::-1]))
    writer.release()
    return path


@pytest.fixture(scope="module")
def clip_frames():
    return [f.image for f in open_video(CLIP)]


@pytest.fixture(scope="module")
def clip_poses():
    return detect(CLIP), detect(MIRRORED)


# --- without the extra: always runs -------------------------------------------------------


def test_without_the_extra_every_entry_point_says_how_to_install(monkeypatch, tmp_path):
    for name in ("cv2", "mediapipe", "mediapipe.python", "mediapipe.python.solutions.pose"):
        monkeypatch.setitem(sys.modules, name, None)  # makes `import name` raise ImportError
    calls = {
        "open_video": lambda: open_video(CLIP),
        "open_video(folder)": lambda: open_video(tmp_path, fps=25),
        "open_video(camera)": lambda: open_video(0),
        "MediaPipePose": lambda: MediaPipePose(),
        "detect": lambda: detect(CLIP),
    }
    for what, call in calls.items():
        with pytest.raises(DataError) as e:
            call()
        msg = str(e.value)
        assert INSTALL in msg and "pip install 'dancejax[video]'" in msg and "\n" not in msg, what


def test_only_the_full_model_is_offered():
    for model in ("lite", "heavy"):
        with pytest.raises(DataError, match="only 'full' ships inside the mediapipe wheel"):
            MediaPipePose(model)


# --- joint mapping: NumPy only -------------------------------------------------------------


def test_blazepose_to_lsp14_picks_the_named_joints_and_documents_the_head_top():
    rng = np.random.default_rng(0)
    kp = rng.uniform(0, 500, (33, 2)).astype(np.float32)
    conf = rng.uniform(0.5, 1.0, 33).astype(np.float32)
    out, c = to_lsp14_frame(kp, conf, "blazepose33")
    b = BLAZEPOSE33.index
    for side in ("l", "r"):  # MediaPipe's LEFT_* is the person's left, LSP's l_*
        for joint in ("ankle", "knee", "hip", "wrist", "elbow", "shoulder"):
            name = f"{side}_{joint}"
            np.testing.assert_allclose(out[J[name]], kp[b(name)], rtol=1e-6)
            assert c[J[name]] == conf[b(name)]
    shoulders = 0.5 * (kp[b("l_shoulder")] + kp[b("r_shoulder")])
    ears = 0.5 * (kp[b("l_ear")] + kp[b("r_ear")])
    np.testing.assert_allclose(out[J["neck"]], shoulders, rtol=1e-5)
    np.testing.assert_allclose(out[J["head_top"]], ears + HEAD_TOP_EXTRAPOLATION * (ears - shoulders), rtol=1e-5)
    assert c[J["head_top"]] == min(conf[b(n)] for n in ("l_ear", "r_ear", "l_shoulder", "r_shoulder"))
    # a missing source joint: the LSP joints built from it are NaN with confidence 0
    kp[b("l_ear")] = np.nan
    out, c = to_lsp14_frame(kp, conf, "blazepose33")
    assert np.isnan(out[J["head_top"]]).all() and c[J["head_top"]] == 0
    assert np.isfinite(np.delete(out, J["head_top"], 0)).all()


def test_blazepose_layout_is_mediapipes_landmark_order():
    assert [BLAZEPOSE33.joints[i] for i in BLAZEPOSE33_TO_COCO17] == list(COCO17.joints)
    assert BLAZEPOSE33_TO_COCO17.tolist() == [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
    if importlib.util.find_spec("mediapipe") is None:
        pytest.skip("mediapipe is not installed: the comparison with its landmark enum needs it")
    from mediapipe.python.solutions import pose

    names = [m.name.lower().replace("left_", "l_").replace("right_", "r_") for m in pose.PoseLandmark]
    names = [{"mouth_left": "l_mouth", "mouth_right": "r_mouth"}.get(n, n) for n in names]
    assert tuple(names) == BLAZEPOSE33.joints
    assert {tuple(sorted(e)) for e in pose.POSE_CONNECTIONS} == set(BLAZEPOSE33.edges)


def test_find_gaps_reports_runs_with_a_missed_frame():
    s = ["detected", "missed", "missed", "detected", "skipped", "detected", "skipped", "missed", "skipped"]
    gaps = find_gaps(s, np.arange(len(s)) / 10)
    assert [(g.first, g.last, g.frames) for g in gaps] == [(1, 2, 2), (6, 8, 3)]
    assert gaps[1].start == pytest.approx(0.6) and gaps[1].end == pytest.approx(0.8)


# --- the real clip ---------------------------------------------------------------------------


@needs_extra
def test_mediapipe_finds_the_person_in_the_real_clip(clip_poses):
    (seq, info), _ = clip_poses
    assert seq.layout == "lsp14" and seq.positions.shape == (CLIP_FRAMES, 14, 2)
    assert seq.fps == 25.0 and info.frame_size == CLIP_SIZE and seq.labels["frame_size"] == list(CLIP_SIZE)
    np.testing.assert_allclose(info.timestamps, np.arange(CLIP_FRAMES) / 25.0, atol=1e-6)
    assert info.detection_rate >= 0.9 and info.mean_confidence > 0.8
    assert seq.labels["gaps"] == [] and seq.labels["units"] == "px" and seq.labels["source"] == str(CLIP)
    # every joint inside the frame (the whole player is in every crop)
    w, h = CLIP_SIZE
    found = info.status == "detected"
    assert ((seq.positions[found] >= -5) & (seq.positions[found] <= np.array([w, h]) + 5)).all()


@needs_extra
def test_mediapipes_start_up_log_is_kept_off_the_terminal(capfd, clip_frames):
    """The C++ graph's start-up lines (TFLite delegate, absl warnings) go to descriptor 2 while it
    is built and on its first frame; a user sees none of them, and a failure there shows them."""
    with MediaPipePose() as det:
        assert det(clip_frames[0]) is not None and det(clip_frames[1]) is not None
    err = capfd.readouterr().err
    assert "W0000" not in err and "XNNPACK" not in err and "absl" not in err, err
    import os

    from dancejax.video.detector import _quiet_native_log

    with pytest.raises(RuntimeError, match="graph failed"), _quiet_native_log():
        os.write(2, b"E0000 native detail\n")
        raise RuntimeError("graph failed")
    assert "E0000 native detail" in capfd.readouterr().err


@needs_extra
def test_left_and_right_on_the_real_photograph():
    seq, info = detect(STILL)  # the player faces the camera: his left is on the image's right
    assert info.kind == "image" and info.detection_rate == 1.0
    x = seq.positions[0, :, 0]
    for joint in ("shoulder", "hip", "elbow", "wrist"):
        assert x[J[f"l_{joint}"]] > x[J[f"r_{joint}"]], joint
    y = seq.positions[0, :, 1]
    assert y[J["head_top"]] < y[J["neck"]] < y[J["l_hip"]] < y[J["l_knee"]]


@needs_extra
def test_mirrored_clip_swaps_left_and_right(clip_poses):
    (seq, info), (mir, mir_info) = clip_poses
    w = CLIP_SIZE[0]
    both = (info.status == "detected") & (mir_info.status == "detected")
    assert both.mean() >= 0.9
    a, b = seq.positions[both], mir.positions[both]
    # the mirrored person's left wrist is where the original's right wrist is, mirrored
    np.testing.assert_allclose(b[:, J["l_wrist"], 0], w - a[:, J["r_wrist"], 0], atol=0.03 * w)
    np.testing.assert_allclose(b[:, J["r_wrist"], 0], w - a[:, J["l_wrist"], 0], atol=0.03 * w)
    # and so for the whole body, with the left/right permutation
    body = [J[n] for n in LSP14.joints if n != "head_top"]
    flipped = a[:, LSP14.flip_permutation]
    err = np.abs(b[:, body, 0] - (w - flipped[:, body, 0]))
    assert np.median(err) < 0.02 * w
    np.testing.assert_allclose(b[:, body, 1], flipped[:, body, 1], atol=0.05 * CLIP_SIZE[1])


# --- reading ---------------------------------------------------------------------------------


CONTAINERS = [("mp4", "mp4v"), ("avi", "MJPG"), ("webm", "VP80"), ("mov", "mp4v")]


@needs_extra
@pytest.mark.parametrize("ext,fourcc", CONTAINERS)
def test_reads_video_containers(tmp_path, clip_frames, ext, fourcc):
    path = write_video(tmp_path / f"clip.{ext}", clip_frames, fourcc, fps=20.0)
    with open_video(path) as video:
        assert video.kind == "video" and video.fps == pytest.approx(20.0) and video.frame_size == CLIP_SIZE
        frames = list(video)
    assert [f.index for f in frames] == list(range(CLIP_FRAMES))
    np.testing.assert_allclose([f.time for f in frames], np.arange(CLIP_FRAMES) / 20.0, atol=1e-3)
    diff = np.mean([np.abs(f.image.astype(int) - g.astype(int)).mean() for f, g in zip(frames, clip_frames)])
    assert diff < 10, f"{ext}: decoded frames differ from the written ones by {diff:.1f} grey levels"
    seq, info = detect(path, every=6)
    assert info.detection_rate >= 0.75 and seq.num_frames == CLIP_FRAMES
    assert (info.status == "skipped").sum() == CLIP_FRAMES - len(range(0, CLIP_FRAMES, 6))
    assert (seq.confidence[info.status == "skipped"] == 0).all()


@needs_extra
def test_reads_a_folder_of_images_in_number_order(tmp_path, clip_frames):
    import cv2

    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(clip_frames[:12]):
        cv2.imwrite(str(folder / f"img_{i}.png"), f[..., ::-1])  # img_2 must come before img_10
    (folder / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match="no frame rate; give fps"):
        open_video(folder)
    with open_video(folder, fps=12.5) as video:
        assert video.kind == "images" and video.frame_count == 12 and video.frame_size == CLIP_SIZE
        frames = list(video)
    for i, f in enumerate(frames):
        assert f.index == i and f.time == pytest.approx(i / 12.5)
        np.testing.assert_array_equal(f.image, clip_frames[i])
    seq, info = detect(folder, fps=12.5, every=4)
    assert seq.fps == 12.5 and info.kind == "images" and info.detection_rate == 1.0
    (folder / "img_5.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"img_5\.png: not a readable image"):
        list(open_video(folder, fps=12.5))


@needs_extra
def test_gaps_are_reported_with_frame_ranges_never_filled(tmp_path, clip_frames):
    blank = np.full_like(clip_frames[0], 128)
    frames = clip_frames[:8] + [blank] * 5 + clip_frames[8:16]
    path = write_video(tmp_path / "gap.avi", frames, "MJPG")
    seq, info = detect(path)
    assert seq.labels["gaps"] == [{"first": 8, "last": 12, "start_s": 0.32, "end_s": 0.48}]
    assert [(g.first, g.last) for g in info.gaps] == [(8, 12)]
    assert (info.status[8:13] == "missed").all() and (info.status[:8] == "detected").all()
    assert (seq.confidence[8:13] == 0).all() and (seq.confidence[:8] > 0).any()
    # the placeholder is the last detected pose, held, not an interpolation towards frame 13
    np.testing.assert_array_equal(seq.positions[8:13], np.repeat(seq.positions[7:8], 5, 0))
    # frame by frame (live use): the gap's frames are NaN with confidence 0
    with MediaPipePose() as detector:
        assert isinstance(detector, Detector)
        live = list(poses(open_video(path), detector))
    assert [p.detected for p in live] == [s == "detected" for s in info.status]
    assert all(np.isnan(p.keypoints).all() and (p.confidence == 0).all() for p in live[8:13])


@needs_extra
def test_progress_is_reported(clip_frames, tmp_path, capsys):
    path = write_video(tmp_path / "short.avi", clip_frames[:6], "MJPG")
    calls = []
    detect(path, every=3, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 6) for i in range(1, 7)]
    detect(path, every=3, progress=True)
    assert "short.avi: 6/6 (100 %) frames" in capsys.readouterr().err


# --- bad input -------------------------------------------------------------------------------


@needs_extra
def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nothere\.mp4: no such file or folder"):
        detect(tmp_path / "nothere.mp4")


@needs_extra
def test_text_file_named_mp4(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("these are my dance notes, not a video\n" * 20)
    with pytest.raises(DataError, match=r"notes\.mp4: not a video file"):
        open_video(path)


@needs_extra
def test_video_with_zero_frames(tmp_path):
    import cv2

    path = tmp_path / "empty.avi"
    cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, CLIP_SIZE).release()
    with pytest.raises(DataError, match=r"empty\.avi: the video has zero frames"):
        detect(path)


@needs_extra
def test_corrupt_videos(tmp_path):
    data = CLIP.read_bytes()
    rng = np.random.default_rng(0)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"truncated\.mp4: damaged video: it starts as MP4/MOV"):
        open_video(truncated)
    garbled = tmp_path / "garbled.mp4"  # the header and first frame intact, garbage after them
    g = bytearray(data)
    g[4096 : 4096 + len(data) // 3] = rng.integers(0, 256, len(data) // 3, dtype=np.uint8).tobytes()
    garbled.write_bytes(bytes(g))
    with pytest.raises(DataError, match=r"garbled\.mp4: corrupt or truncated video: only \d+ of the 25 frames"):
        detect(garbled)


@needs_extra
def test_no_person_in_any_frame(tmp_path, clip_frames):
    path = write_video(tmp_path / "nobody.avi", [np.full_like(clip_frames[0], 90)] * 7, "MJPG")
    with pytest.raises(DataError, match=r"nobody\.avi: no person found in any of the 7 frames"):
        detect(path)


@needs_extra
def test_a_camera_that_does_not_exist_fails_fast():
    t0 = time.perf_counter()
    with pytest.raises(DataError, match="camera 99: no such camera"):
        open_video(99, open_timeout=5.0)
    with pytest.raises(DataError, match="camera 99"):
        detect(99, max_frames=10, open_timeout=5.0)
    assert time.perf_counter() - t0 < 12
    with pytest.raises(DataError, match="needs max_frames for a camera"):
        detect(99)


@needs_extra
def test_a_camera_that_hangs_is_time_limited(monkeypatch):
    import cv2

    real = cv2.VideoCapture

    def hanging(source, *args):
        if isinstance(source, int):
            time.sleep(3)
        return real(source, *args)

    monkeypatch.setattr(cv2, "VideoCapture", hanging)
    t0 = time.perf_counter()
    with pytest.raises(DataError, match=r"camera 7: opening it did not answer within 0\.3 s"):
        open_video(7, open_timeout=0.3)
    assert time.perf_counter() - t0 < 2
