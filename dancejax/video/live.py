"""Live feedback: a camera or a video file in, the annotated picture out, frame by frame.

``run_live(source, reference=...)`` reads frames (``open_video``), finds the dancer
(``MediaPipePose``), and feeds the LSP-14 keypoints to one jitted streaming step
(``dancejax.deploy.stream.StreamEngine``: the shipped refiner, its style head and the shipped 2D
predictor).  Each frame is drawn with the skeleton, the style and its probability, the
predicted next poses as a ghost, the deviation from the reference per body part with the worst
part named, and the risk rules' state.  It is shown in a window, or (``headless``) written as an
annotated video and one JSON line per frame.

**Keypoints.**  ``keypoints="filtered"`` (the default): what is drawn, compared and checked by
the risk rules is the detections through a causal One-Euro filter (``dancejax.video.refine.
ONE_EURO``, tuned on real validation detections), a joint without a detection held where it
was; ``"refined"``: the refiner's output.  On the held-out real AIST++ detections, streamed,
the filter is the more accurate and the smoother of the two (``python -m
benchmarks.video_latency`` measures both).  The refiner reads the style in both.

**Time.**  The models run at 25 fps.  A frame is pushed into the engine when its timestamp
reaches the next 1/25 s tick; a faster source's frames in between reuse the last outputs, and a
slower source's missing ticks reach the engine as missing frames (the refiner fills them in).
With ``every=N`` a frame the detector skips enters the engine as the last detection, held with
its confidences: on the held-out AIST++ detections, the shipped refiner placed skipped frames
far worse when they entered as missing (``python -m benchmarks.video_latency`` measures both).
A video file plays at its real speed (frames wait for their time) unless ``real_speed`` is
off; a camera runs as fast as frames arrive.  **Causality**: every output at frame t comes
from frames ≤ t, the comparison too: ``dancejax.feedback.online.OnlineAligner``, the report's DTW
run forward only, gives the matched reference frame, the timing offset and each body part's
deviation in degrees.

**Latency** is measured per frame and stage: decode, detector, refine + style + predict (the
engine's one step), compare, draw (drawing, writing, showing).  The first frame is left out of
the statistics (it includes the detector's start-up); the engine is compiled before the first.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dancejax.errors import DataError
from dancejax.io.sequence import CANONICAL_FPS
from dancejax.video._extra import require
from dancejax.video.detector import MediaPipePose
from dancejax.video.draw import draw_ghost, draw_skeleton, draw_text
from dancejax.video.poses import SKIPPED, poses
from dancejax.video.reader import open_video

STAGES = ("decode", "detector", "refine + style + predict", "compare", "draw")
LOST_AFTER = 12  # ticks (0.48 s) without a detection before the dancer counts as gone
VIDEO_NAME, JSON_NAME, LATENCY_NAME = "live.mp4", "live.jsonl", "latency.json"


@dataclasses.dataclass
class LiveSummary:
    """What a live run did: frames read, frames the detector ran on and found the dancer in,
    wall time, per-stage latency (median and p99 ms per frame), frames per second (wall, and of
    the processing alone), the files written."""

    source: str
    frames: int
    ran: int
    detected: int
    seconds: float
    latency: dict
    fps_wall: float
    fps_processing: float
    files: dict

    def table(self) -> str:
        lines = [f"{'stage':<28}{'median ms':>10}{'p99 ms':>10}"]
        for k, v in self.latency.items():
            lines.append(f"{k:<28}{v['median_ms']:>10.2f}{v['p99_ms']:>10.2f}")
        return "\n".join(lines)


def _stat(a) -> dict:
    a = np.asarray(a, np.float64)
    return {"median_ms": float(np.median(a)), "p99_ms": float(np.percentile(a, 99)), "frames": int(len(a))}


def _percentiles(times: dict[str, list[float]]) -> dict:
    """Median and p99 per stage and of their sum per frame, the first frame left out."""
    n = min(len(v) for v in times.values())  # a run stopped mid-frame has its last frame partly timed
    rows = {k: np.asarray(v[1:n] if n > 1 else v[:n], np.float64) for k, v in times.items()}
    return {**{k: _stat(v) for k, v in rows.items()}, "total": _stat(np.sum(list(rows.values()), axis=0))}


def _reference(reference, refiner, keypoints, log):
    from dancejax.feedback.online import OnlineAligner
    from dancejax.feedback.video import read_side

    side = read_side("reference", reference, refiner=refiner, progress=False, keypoints=keypoints)
    log(f"reference {reference}: {side.sequence.num_frames} frames at 25 fps ({side.note})")
    return side, OnlineAligner(side.sequence.positions)


def _risk(pose, predicted):
    """The risk rules on the newest pose followed by its predicted next poses: the flags
    that fire, and the rules that cannot be checked on this input (2D)."""
    from dancejax.feedback.rules import risk_flags

    seq = np.concatenate([pose[None], predicted], 0) if predicted is not None else pose[None]
    flags = risk_flags(seq)
    unsupported = [f["rule"] for f in flags if f.get("supported") is False]
    fired = [f for f in flags if f.get("supported") is not False and "frame" in f]
    return fired, unsupported


class _Display:
    def __init__(self, cv2, name: str):
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            raise DataError("no display to show the video on: run with --headless --out DIR")
        self.cv2, self.name = cv2, name

    def show(self, image) -> bool:
        self.cv2.imshow(self.name, np.ascontiguousarray(image[..., ::-1]))
        return (self.cv2.waitKey(1) & 0xFF) != ord("q")

    def close(self):
        self.cv2.destroyWindow(self.name)


def run_live(
    source,
    reference=None,
    *,
    out=None,
    headless: bool = False,
    real_speed: bool = True,
    every: int = 1,
    max_frames: int | None = None,
    refiner=None,
    predictor=None,
    detector=None,
    keypoints: str = "filtered",
    log=print,
    open_timeout: float = 5.0,
) -> LiveSummary:
    """Live feedback on a camera (an int index) or a video file (see the module docstring).

    Args:
        source: a camera index or a video path.
        reference: a reference take to compare with (a video, or a BVH/ASF-AMC/NPZ/JSON take);
            None: no comparison.
        out: a folder for the annotated video (``live.mp4``), one JSON line per frame
            (``live.jsonl``) and the latency table (``latency.json``); required when headless.
        headless: no window; write to ``out`` only.
        real_speed: a video file's frames wait for their time.
        every: run the detector on every N-th frame (the others enter the engine as the last detection).
        max_frames: stop after this many frames.
        refiner: a recognition model (default: the shipped ``refiner_style``).
        predictor: a 2D prediction model (default: the shipped ``predictor_2d``).
        detector: a ``Detector`` (default MediaPipe Pose Full, tracking).
        keypoints: ``"filtered"`` or ``"refined"``: what is drawn and compared (see above).
        log: where progress lines go.

    Returns:
        A :class:`LiveSummary`.

    Raises:
        DataError: the extra is missing; the source cannot be opened; no person in any frame
            (then nothing is left in ``out``); headless without ``out``; no display.
    """
    from dancejax.video.refine import check_keypoints

    check_keypoints(keypoints, "live")
    cv2 = require("cv2")
    if headless and out is None:
        raise DataError("--headless needs --out DIR (where the annotated video and the JSON lines go)")
    reader = open_video(source, open_timeout=open_timeout)
    try:
        models = (refiner, predictor, detector)
        return _run(cv2, reader, reference, out, headless, real_speed, every, max_frames, models, keypoints, log)
    finally:
        reader.close()


def _run(cv2, reader, reference, out, headless, real_speed, every, max_frames, models, keypoints, log):
    from dancejax import pretrained
    from dancejax.deploy.stream import StreamEngine

    refiner, predictor, detector = models
    refiner = refiner or pretrained.load(pretrained.REFINER)
    predictor = predictor or pretrained.load(pretrained.PREDICTOR)
    ref_side, aligner = _reference(reference, refiner, keypoints, log) if reference is not None else (None, None)
    display = None if headless else _Display(cv2, f"dancejax live: {reader.source}")
    engine = StreamEngine(refiner=refiner, predictor=predictor, dims=2, fps=CANONICAL_FPS)
    t0 = time.perf_counter()
    engine.push(np.zeros((14, 2), np.float32) + 100.0)  # compiles the step before the first frame
    engine.reset()
    log(f"compiled the streaming step in {time.perf_counter() - t0:.1f} s")
    own = detector is None
    detector = detector or MediaPipePose()
    made = out is not None and not Path(out).exists()
    staging = Path(tempfile.mkdtemp(prefix=".live-", dir=_ensure(out))) if out is not None else None
    state = _State(engine, aligner, list(refiner.styles or []), ref_side, keypoints)
    sinks = _Sinks(cv2, staging, reader.fps, display)
    times = {k: [] for k in STAGES}
    pace = real_speed and reader.kind == "video"
    finished = False
    start = time.perf_counter()
    try:
        frames = iter(reader)
        _loop(frames, detector, every, pace, start, max_frames, state, times, sinks, log)
        finished = True
    finally:
        sinks.close()
        if own:
            detector.close()
        if not finished:
            _discard(staging, out, made)
    seconds = time.perf_counter() - start
    if state.detected == 0:
        _discard(staging, out, made)
        raise DataError(f"{reader.source}: no person found in any of the {state.ran} frames the detector ran on")
    latency = _percentiles(times)
    files = {}
    if staging is not None:
        (staging / LATENCY_NAME).write_text(json.dumps({"stages": latency, "frames": state.frames}, indent=1))
        for name in (VIDEO_NAME, JSON_NAME, LATENCY_NAME):
            files[name] = Path(out) / name
            os.replace(staging / name, files[name])
        shutil.rmtree(staging, ignore_errors=True)
    n = state.frames
    return LiveSummary(
        str(reader.source),
        n,
        state.ran,
        state.detected,
        seconds,
        latency,
        n / seconds,
        1000.0 / latency["total"]["median_ms"],
        files,
    )


def _loop(frames, detector, every, pace, start, max_frames, state, times, sinks, log) -> None:
    """Frames until the source ends, ``max_frames``, the window's "q", or Ctrl-C (a live run's
    normal end: what was written is kept)."""
    try:
        while max_frames is None or state.frames < max_frames:
            t = time.perf_counter()
            frame = next(frames, None)
            if frame is None:
                break
            times["decode"].append(1000 * (time.perf_counter() - t))
            if pace:  # a file plays at its real speed: a frame waits for its time
                wait = start + frame.time - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            fp = next(poses([frame], detector, every))
            times["detector"].append(fp.ms or 0.0)
            keep = state.step(frame.image, fp, times, sinks)
            if state.frames % 50 == 0:
                log(f"frame {state.frames}: {state.frames / (time.perf_counter() - start):.1f} fps")
            if not keep:
                break
    except KeyboardInterrupt:
        log("stopped")


class _State:
    """The per-frame work after detection: the engine at 25 fps ticks, the comparison, the
    drawing, and the frame's record."""

    def __init__(self, engine, aligner, styles, ref_side, keypoints="filtered"):
        from dancejax.maths.filters import OneEuro
        from dancejax.video.refine import ONE_EURO

        self.engine, self.aligner, self.styles, self.ref_side = engine, aligner, styles, ref_side
        self.filter = OneEuro(CANONICAL_FPS, **ONE_EURO) if keypoints == "filtered" else None
        self.seen = self.shown = None  # the last position of each joint, and the filtered pose
        self.frames = self.detected = self.ran = 0
        self.last_tick, self.since_seen = -1, LOST_AFTER + 1
        self.outputs = self.match = None
        self.held = None  # the last detection (keypoints, confidences): a skipped frame's input

    def _filter(self, kp, kc, ticks: int) -> None:
        """The filtered pose after this frame's ``ticks`` 25 fps ticks: each joint with a detection
        (confidence > 0) at its new position, the others held, through the One-Euro filter."""
        if kp is None or not np.isfinite(kp).any():
            if self.seen is None:
                return
            x = self.seen
        else:
            ok = (np.asarray(kc) > 0) & np.isfinite(kp).all(-1)
            x = np.where(ok[:, None], kp, self.seen if self.seen is not None else np.nanmean(kp[ok], 0))
        self.seen = np.asarray(x, np.float64)
        for _ in range(max(ticks, 1)):
            self.shown = self.filter(self.seen)

    def step(self, image, fp, times, sinks) -> bool:
        t = time.perf_counter()
        self.detected += int(fp.detected)
        self.ran += int(fp.ms is not None)
        tick = int(round(fp.time * CANONICAL_FPS))
        advanced = 0  # 25 fps ticks this frame moves the models' clock by
        if tick > self.last_tick:
            advanced = 1 if self.last_tick < 0 else min(tick - self.last_tick, self.engine.max_gap)
            self.since_seen = 0 if fp.detected else self.since_seen + max(1, tick - self.last_tick)
            kp, kc = fp.keypoints, fp.confidence
            if fp.detected:
                self.held = (kp, kc)
            elif fp.status == SKIPPED and self.held is not None:
                kp, kc = self.held  # see the module docstring: better than a missing frame here
            self.outputs = self.engine.push(kp, kc, timestamp=tick / CANONICAL_FPS)
            self.last_tick = tick
            if self.filter is not None:
                self._filter(kp, kc, advanced)
        out = self.outputs
        pose = np.asarray(out["refined"][0], np.float64) if self.shown is None else self.shown
        conf = np.asarray(self.engine.state.conf[0, -1], np.float64)
        predicted = np.asarray(out["predicted"][0], np.float64) if "predicted" in out else None
        probs = np.asarray(out["style"][0], np.float64) if "style" in out else None
        times["refine + style + predict"].append(1000 * (time.perf_counter() - t))

        t = time.perf_counter()
        lost = self.since_seen > LOST_AFTER
        rec = {"frame": fp.index, "time_s": round(fp.time, 4), "status": fp.status, "person": not lost}
        lines, colors = [f"{fp.time:6.2f} s  frame {fp.index}"], [(255, 255, 255)]
        j = None
        if lost:
            lines.append("no dancer in view")
            colors.append((255, 200, 60))
        else:
            rec["keypoints"] = np.round(pose, 1).tolist()
            rec["confidence"] = np.round(conf, 3).tolist()
            if probs is not None:
                names = self.styles or [str(i) for i in range(len(probs))]
                rec["style"] = {s: round(float(p), 4) for s, p in zip(names, probs)}
                k = int(probs.argmax())
                lines.append(f"style: {names[k].replace('_', ' ')} {100 * probs[k]:.0f}%")
                colors.append((255, 255, 255))
            if predicted is not None:
                rec["predicted"] = np.round(predicted, 1).tolist()
            if self.aligner is not None:
                for _ in range(advanced):  # one update per tick: a tick the source skipped holds the pose
                    self.match = self.aligner.update(pose)
            if self.match is not None:
                m = self.match
                j, dev = m.reference_index, m.deviation
                worst = max(dev, key=dev.get)
                rec.update(
                    reference_frame=int(j),
                    offset_s=round(m.offset_s, 3),
                    deviation_deg={k: round(v, 2) for k, v in dev.items()},
                    worst_part=worst,
                )
                lines.append(f"most off: {worst} {dev[worst]:.0f} deg; timing {m.offset_s:+.2f} s")
                colors.append((255, 200, 60))
                lines += [f"  {k} {v:.0f} deg" for k, v in dev.items()]
                colors += [(255, 255, 255)] * len(dev)
            fired, unsupported = _risk(pose, predicted)
            rec["risk"] = {"flags": fired, "not_checked": unsupported}
            for f in fired:
                lines.append(f"RISK: {f['rule'].replace('_', ' ')} {f['value']:.0f} {f['unit']}")
                colors.append((255, 80, 80))
            if unsupported:
                lines.append("risk rules need 3D: not checked")
                colors.append((170, 170, 170))
        times["compare"].append(1000 * (time.perf_counter() - t))

        t = time.perf_counter()
        if not lost:
            if predicted is not None:
                image = draw_ghost(image, predicted[::3])
            image = draw_skeleton(image, pose, conf)
        if j is not None:
            image = _inset(image, self.ref_side.sequence.positions[j])
        image = draw_text(image, lines, colors=colors)
        keep = sinks.frame(image)
        times["draw"].append(1000 * (time.perf_counter() - t))
        rec["latency_ms"] = {k: round(v[-1], 3) for k, v in times.items()}
        sinks.record(rec)
        self.frames += 1
        return keep


class _Sinks:
    """Where annotated frames go: the staged video and JSON lines, and the window."""

    def __init__(self, cv2, staging: Path | None, fps: float, display):
        self.cv2, self.staging, self.fps, self.display = cv2, staging, fps, display
        self.writer = self.jsonl = None

    def frame(self, image) -> bool:
        if self.staging is not None:
            if self.writer is None:
                self.writer = _video_writer(self.cv2, self.staging / VIDEO_NAME, self.fps, image)
                self.jsonl = open(self.staging / JSON_NAME, "w")
            self.writer.write(np.ascontiguousarray(image[..., ::-1]))
        return self.display.show(image) if self.display is not None else True

    def record(self, rec: dict) -> None:
        if self.jsonl is not None:
            self.jsonl.write(json.dumps(rec) + "\n")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()
        if self.jsonl is not None:
            self.jsonl.close()
        if self.display is not None:
            self.display.close()


def _discard(staging, out, made: bool) -> None:
    """Nothing half-written: the staged files go, and the output folder too if this run made it."""
    if staging is not None:
        shutil.rmtree(staging, ignore_errors=True)
    if made and Path(out).is_dir() and not any(Path(out).iterdir()):
        Path(out).rmdir()


def _ensure(out) -> Path:
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise DataError(f"{p}: --out must be a folder; a file is in the way")
    p.mkdir(parents=True, exist_ok=True)
    return p


def _video_writer(cv2, path: Path, fps: float, image):
    h, w = image.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h))
    if not writer.isOpened():
        raise DataError(f"{path}: OpenCV cannot write MPEG-4 video here")
    return writer


def _inset(image, pose, size: float = 0.28):
    """The reference's matched pose drawn small in the top-right corner."""
    h, w = image.shape[:2]
    box = int(size * min(h, w))
    p = np.asarray(pose, np.float64)
    lo, hi = p.min(0), p.max(0)
    s = 0.8 * box / max(float((hi - lo).max()), 1e-6)
    q = (p - 0.5 * (lo + hi)) * s + np.array([w - box / 2 - 6, box / 2 + 6])
    out = image.copy()
    out[6 : 6 + box, w - box - 6 : w - 6] = (0.4 * out[6 : 6 + box, w - box - 6 : w - 6] + 0.6 * 235).astype(np.uint8)
    out = draw_skeleton(out, q, thickness=1.5)
    return draw_text(out, ["reference"], (w - box - 6, 6 + box))
