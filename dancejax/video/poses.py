"""From frames to LSP-14 poses: frame by frame (``poses``, for live use) or a whole source
(``detect``, a :class:`~dancejax.io.sequence.PoseSequence`).

A frame gets one of three statuses: ``"detected"`` (the detector found a person), ``"missed"``
(the detector ran and found nobody) or ``"skipped"`` (``every=N`` left it out).  Frames without
a detection are never filled in here: in ``poses`` their keypoints are NaN with confidence 0
(how ``dancejax.deploy.stream`` takes a missing joint); in ``detect``'s sequence they carry
confidence 0 (see ``detect``).  A :class:`Gap` is a run of frames without a detection that
contains at least one missed frame: the person was not there, or was lost.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from dancejax.errors import DataError
from dancejax.io.sequence import PoseSequence
from dancejax.skeleton import LSP14
from dancejax.video._extra import require
from dancejax.video.detector import Detector, MediaPipePose
from dancejax.video.joints import to_lsp14_frame
from dancejax.video.reader import Frame, VideoReader, open_video

DETECTED, MISSED, SKIPPED = "detected", "missed", "skipped"
PROGRESS_EVERY = 100  # frames between two progress lines when progress=True


@dataclasses.dataclass(frozen=True)
class FramePose:
    """One frame's LSP-14 pose: ``keypoints`` (14, 2) pixels (NaN unless detected),
    ``confidence`` (14,), ``status`` (detected / missed / skipped) and ``ms``, the detector's
    time on this frame in milliseconds (None when skipped)."""

    index: int
    time: float
    keypoints: np.ndarray
    confidence: np.ndarray
    status: str
    ms: float | None

    @property
    def detected(self) -> bool:
        return self.status == DETECTED


@dataclasses.dataclass(frozen=True)
class Gap:
    """Frames ``first`` to ``last`` (inclusive) without a detection; ``start`` and ``end``
    are those frames' times in seconds."""

    first: int
    last: int
    start: float
    end: float

    @property
    def frames(self) -> int:
        return self.last - self.first + 1

    def as_label(self) -> dict:
        return {"first": self.first, "last": self.last, "start_s": round(self.start, 6), "end_s": round(self.end, 6)}


def find_gaps(status, times) -> list[Gap]:
    """The gaps of a run: maximal runs of not-detected frames with at least one missed frame."""
    gaps, start = [], None
    status = list(status)
    for i, s in enumerate([*status, DETECTED]):
        if s != DETECTED and start is None:
            start = i
        elif s == DETECTED and start is not None:
            if MISSED in status[start:i]:
                gaps.append(Gap(start, i - 1, float(times[start]), float(times[i - 1])))
            start = None
    return gaps


def _check_every(every) -> int:
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise DataError(f"every must be a positive integer (run the detector on every N-th frame), got {every!r}")
    return int(every)


def poses(frames: Iterable[Frame], detector: Detector, every: int = 1) -> Iterator[FramePose]:
    """Run ``detector`` on ``frames`` (every ``every``-th one, from the first) and yield each
    frame's LSP-14 pose as soon as it is computed.  Not-detected frames are NaN with
    confidence 0, for a refiner or ``StreamEngine`` to treat as missing."""
    every = _check_every(every)
    nan = np.full((LSP14.num_joints, 2), np.nan, np.float32)
    zero = np.zeros(LSP14.num_joints, np.float32)
    for frame in frames:
        if frame.index % every:
            yield FramePose(frame.index, frame.time, nan, zero, SKIPPED, None)
            continue
        t0 = time.perf_counter()
        found = detector(frame.image)
        ms = 1000.0 * (time.perf_counter() - t0)
        if found is None:
            yield FramePose(frame.index, frame.time, nan, zero, MISSED, ms)
            continue
        try:
            kp, conf = found
        except (TypeError, ValueError):
            raise DataError(
                f"detector {detector.name!r}: expected (keypoints, confidence) or None, got {type(found).__name__}"
            ) from None
        try:
            kp, conf = to_lsp14_frame(kp, conf, detector.layout)
        except DataError as e:
            raise DataError(f"detector {detector.name!r}: {e}") from None
        yield FramePose(frame.index, frame.time, kp, conf, DETECTED, ms)


@dataclasses.dataclass(frozen=True)
class VideoInfo:
    """What ``detect`` saw: the source, per-frame times and statuses, gaps and timings.

    ``timestamps`` (T,) seconds; ``status`` (T,) detected / missed / skipped; ``detect_ms``
    the detector's time per call in milliseconds; ``mean_confidence`` the mean LSP-14
    confidence over detected frames.
    """

    source: str
    kind: str
    fps: float
    frame_size: tuple[int, int]
    detector: str
    every: int
    timestamps: np.ndarray
    status: np.ndarray
    gaps: tuple[Gap, ...]
    detect_ms: np.ndarray
    mean_confidence: float

    @property
    def num_frames(self) -> int:
        return len(self.status)

    @property
    def detection_rate(self) -> float:
        """Detected frames over the frames the detector ran on."""
        ran = int((self.status != SKIPPED).sum())
        return float((self.status == DETECTED).sum()) / ran if ran else 0.0


def _progress_printer(source: str, total: int | None):
    t0 = time.perf_counter()

    def report(done: int, _total):
        if done % PROGRESS_EVERY and done != total:
            return
        rate = done / max(time.perf_counter() - t0, 1e-9)
        of = f"/{total} ({100 * done / total:.0f} %)" if total else ""
        print(f"{source}: {done}{of} frames, {rate:.1f} frames/s", file=sys.stderr, flush=True)

    return report


def detect(
    source,
    detector: Detector | None = None,
    *,
    every: int = 1,
    fps: float | None = None,
    max_frames: int | None = None,
    progress: bool | Callable[[int, int | None], None] | None = None,
    open_timeout: float = 5.0,
) -> tuple[PoseSequence, VideoInfo]:
    """Detect one person's 2D pose in every frame of a video, a folder of images, one image or
    a camera, as an LSP-14 :class:`PoseSequence` in pixels at the source's own frame rate.

    Args:
        source: a path (video file, folder of images, image), a camera index, or an open
            :class:`VideoReader` (closed at the end).
        detector: a :class:`Detector`; default MediaPipe Pose Full (:class:`MediaPipePose`),
            tracking across frames (static for a single image), closed at the end.
        every: run the detector on frames 0, N, 2N, ... only.  The frames in between are marked
            not detected (confidence 0, status "skipped"), for a refiner to fill in later.
        fps: the frame rate of a folder of images (required there), see ``open_video``.
        max_frames: stop after this many frames (required for a camera).
        progress: ``True`` prints a line to stderr every ``PROGRESS_EVERY`` frames and at the
            end; a callable is called after every frame with (frames done, total or None).
        open_timeout: seconds a camera may take to open (see ``open_video``).

    Returns:
        ``(sequence, info)``.  ``sequence``: positions (T, 14, 2), confidence (T, 14), layout
        "lsp14", ``labels`` with ``units`` "px", ``source``, ``frame_size`` [width, height],
        ``detector``, ``every`` and ``gaps`` (a list of ``{"first", "last", "start_s",
        "end_s"}``, frames inclusive).  A frame without a detection has confidence 0 on every
        joint and, since a sequence's positions are finite, the pose of the last detected frame
        before it (of the first detected frame, before any): a placeholder, never an
        interpolation.  ``info``: a :class:`VideoInfo` (timestamps, statuses, timings).

    Raises:
        DataError: the extra is not installed, a bad source (see ``open_video``), a bad
            argument, or no person found in any frame the detector ran on.
    """
    require("cv2")
    if detector is None:
        require("mediapipe")
    every = _check_every(every)
    if max_frames is not None and (isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1):
        raise DataError(f"max_frames must be a positive integer, got {max_frames!r}")
    if isinstance(source, int) and not isinstance(source, bool) and max_frames is None:
        raise DataError(
            f"camera {source}: detect() needs max_frames for a camera; for live use iterate "
            "poses(open_video(camera), detector) instead"
        )
    reader = source if isinstance(source, VideoReader) else open_video(source, fps=fps, open_timeout=open_timeout)
    own = detector is None
    with reader:
        if own:
            detector = MediaPipePose(static=reader.kind == "image")
        try:
            total = reader.frame_count if max_frames is None else min(max_frames, reader.frame_count or max_frames)
            if progress is True:
                progress = _progress_printer(reader.source, total)
            out: list[FramePose] = []
            for p in poses(reader, detector, every):
                out.append(p)
                if callable(progress):
                    progress(len(out), total)
                if max_frames is not None and len(out) >= max_frames:
                    break
        finally:
            if own:
                detector.close()
    return _assemble(reader, detector.name, every, out)


def _assemble(reader: VideoReader, detector_name: str, every: int, out: list[FramePose]):
    status = np.array([p.status for p in out])
    times = np.array([p.time for p in out], np.float64)
    found = status == DETECTED
    ran = int((status != SKIPPED).sum())
    if not found.any():
        what = "the image" if reader.kind == "image" else f"any of the {ran} frames the detector ran on"
        if every > 1:
            what += f" (every {every}-th of {len(out)} frames)"
        raise DataError(f"{reader.source}: no person found in {what} (detector: {detector_name})")
    kp = np.stack([p.keypoints for p in out])
    valid = found[:, None] & np.isfinite(kp).all(-1)  # a custom detector may leave joints NaN
    # the placeholder where a joint has no detection: its last detected position (its first
    # before any); a joint never detected is put at 0
    t = np.arange(len(out))[:, None]
    held = np.maximum.accumulate(np.where(valid, t, -1), axis=0)
    held = np.where(held < 0, np.argmax(valid, axis=0)[None], held)
    kp = np.nan_to_num(kp[held, np.arange(LSP14.num_joints)[None]])
    conf = np.where(valid, np.stack([p.confidence for p in out]), 0.0)
    gaps = tuple(find_gaps(status, times))
    w, h = reader.frame_size
    labels = {
        "units": "px",
        "source": reader.source,
        "frame_size": [w, h],
        "detector": detector_name,
        "every": every,
        "gaps": [g.as_label() for g in gaps],
    }
    seq = PoseSequence(kp, conf, reader.fps, LSP14.name, labels, source=reader.source)
    ms = np.array([p.ms for p in out if p.ms is not None], np.float64)
    info = VideoInfo(
        source=reader.source,
        kind=reader.kind,
        fps=reader.fps,
        frame_size=(w, h),
        detector=detector_name,
        every=every,
        timestamps=times,
        status=status,
        gaps=gaps,
        detect_ms=ms,
        mean_confidence=float(conf[found].mean()),
    )
    return seq, info
