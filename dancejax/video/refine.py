"""A whole video as an LSP-14 take at 25 fps: detection, resampling by the frames' true
times, smoothing, and the style a trained refiner reads (by default the one shipped in
``dancejax.pretrained``).

``read_video_take(path)`` returns a :class:`VideoTake`: the 2D sequence (pixels of the video,
25 fps, the form every dancejax model and the feedback take), the raw detections, the style
posterior the refiner's head gives, and what it needs to go back to the video's own frames
(``video_frame``).

**Keypoints.**  ``keypoints="filtered"`` (the default): the detections, each joint the
detector gave no position for (confidence 0) filled by linear interpolation in time from the
frames that saw it, then the Gaussian filter (a running median of ``GAUSSIAN["window"]``
frames, then a Gaussian of ``GAUSSIAN["sigma"]``: the values the refinement benchmark tuned on
real validation detections).  ``keypoints="refined"``: the refiner's output, as MKFF-ST-GCN's
paper has it.  On the held-out real AIST++ detections the filter keeps the detector's accuracy
and removes most of its jitter, and the shipped refiner does not yet (the figures:
``docs/feedback-and-live.md``, checked by ``tests/test_video_apps.py``), so the filtered
keypoints are what is drawn and compared unless asked otherwise.

**Resampling.**  Frame k of the take is at time ``t0 + k / 25`` s (``t0``: the first frame's
time); its keypoints are interpolated linearly between the two video frames around it, by their
timestamps, and a joint is as confident as the less confident of the two (0 when either was not
detected).  **Refinement** runs the refiner over the whole take in windows of its length
(``dancejax.tasks.recognition.refine_sequence``); a take shorter than one window is padded by
repeating its first and last frames, and the padding is cut off again.  Frames without a
detection (the gaps ``detect`` reports) reach the refiner with confidence 0; what is drawn and
compared there is the interpolation (or the refiner's estimate, ``"refined"``), and the take's
``labels['gaps']`` keeps them listed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from dancejax.errors import DataError
from dancejax.io.sequence import CANONICAL_FPS, PoseSequence
from dancejax.skeleton import LSP14
from dancejax.video.poses import VideoInfo, detect

KEYPOINTS = ("filtered", "refined")
# tuned by PCK@0.05 on the real validation detections (``dancejax refinement``'s filters)
GAUSSIAN = {"window": 5, "sigma": 0.5}
ONE_EURO = {"min_cutoff": 8.0, "beta": 0.3}  # the causal counterpart, for live streams
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".webm", ".mkv", ".mpg", ".mpeg", ".ogv", ".flv", ".wmv", ".3gp")


def is_video(path) -> bool:
    """Whether ``path`` names a video file (by its suffix; whether it decodes is ``open_video``'s
    question)."""
    return isinstance(path, (str, Path)) and Path(path).suffix.lower() in VIDEO_SUFFIXES


@dataclasses.dataclass(frozen=True)
class VideoTake:
    """A video take.

    ``sequence``: the LSP-14 take, (T25, 14, 2) pixels at 25 fps, confidence 1 on every joint
    (each one is an estimate: filtered or refined, ``labels['keypoints']`` says which).
    ``raw``: the detections resampled the same way, with the detector's confidences.
    ``times``: (T25,) each take frame's time in the video, seconds.  ``info``: what ``detect``
    saw.  ``refiner``: the model that read the style (and refined, if asked), in words.
    ``style``: {style name: mean posterior}.
    """

    path: str
    sequence: PoseSequence
    raw: PoseSequence
    times: np.ndarray
    info: VideoInfo
    refiner: str
    style: dict

    def video_frame(self, k) -> np.ndarray:
        """The video frame index nearest in time to take frame(s) ``k``."""
        ts = self.info.timestamps
        t = self.times[np.asarray(k)]
        i = np.clip(np.searchsorted(ts, t), 1, len(ts) - 1)
        return np.where(np.abs(ts[i - 1] - t) <= np.abs(ts[i] - t), i - 1, i)


def resample_times(positions, confidence, times, fps: float = CANONICAL_FPS):
    """(T, J, D) keypoints and (T, J) confidences at increasing ``times`` (s) -> the same at
    ``fps`` from the first time to the last, linearly interpolated (see the module docstring);
    returns (positions, confidence, new times)."""
    times = np.asarray(times, np.float64)
    if len(times) == 1:
        return positions[:1].astype(np.float32), confidence[:1].astype(np.float32), times[:1]
    out_t = times[0] + np.arange(int(np.floor((times[-1] - times[0]) * fps + 1e-6)) + 1) / fps
    i1 = np.clip(np.searchsorted(times, out_t, side="right"), 1, len(times) - 1)
    i0 = i1 - 1
    w = np.clip((out_t - times[i0]) / np.maximum(times[i1] - times[i0], 1e-9), 0.0, 1.0)
    p = positions[i0] * (1 - w)[:, None, None] + positions[i1] * w[:, None, None]
    exact = w < 1e-6  # on a source frame: its own confidence
    c = np.where(exact[:, None], confidence[i0], np.minimum(confidence[i0], confidence[i1]))
    return p.astype(np.float32), c.astype(np.float32), out_t


def refine_take(refiner, positions, confidence):
    """A (T, 14, 2) take (any T ≥ 1) through a windowed ``Refiner``: (refined, style posterior (S,)).
    Shorter than a window: padded with its edge frames (see the module docstring)."""
    from dancejax.tasks.recognition import refine_sequence

    t, w = len(positions), refiner.cfg.window
    before = max(0, (w - t) // 2)
    after = max(0, w - t - before)
    x = np.concatenate([np.repeat(positions[:1], before, 0), positions, np.repeat(positions[-1:], after, 0)])
    c = np.concatenate([np.repeat(confidence[:1], before, 0), confidence, np.repeat(confidence[-1:], after, 0)])
    refined, probs = refine_sequence(refiner, x.astype(np.float32), c.astype(np.float32))
    return np.asarray(refined)[before : before + t], np.asarray(probs)


def describe_refiner(refiner, name: str | None = None) -> str:
    """The refiner in words for reports: its name, method, preset and window."""
    meta = getattr(refiner, "meta", {}) or {}
    what = f"{meta.get('method', refiner.cfg.method)} ({meta.get('preset', refiner.cfg.preset)} preset, "
    what += f"{refiner.cfg.window}-frame windows at 25 fps)"
    return f"{name}: {what}" if name else what


def check_keypoints(keypoints: str, where) -> None:
    """A DataError naming ``where`` unless ``keypoints`` is one of ``KEYPOINTS``."""
    if keypoints not in KEYPOINTS:
        raise DataError(f"{where}: field 'keypoints': expected one of {', '.join(KEYPOINTS)}, got {keypoints!r}")


def filter_keypoints(positions, confidence) -> np.ndarray:
    """(T, 14, 2) detections and (T, 14) confidences -> the ``"filtered"`` keypoints (see the
    module docstring); a joint never seen keeps its placeholder."""
    from dancejax.maths.filters import fill_missing, gaussian

    filled = fill_missing(positions, np.asarray(confidence))
    return gaussian(filled, **GAUSSIAN) if len(filled) > 1 else filled


def read_video_take(
    path, refiner=None, *, detector=None, every: int = 1, progress=None, keypoints: str = "filtered"
) -> VideoTake:
    """Detect, resample to 25 fps, smooth (or refine) and read the style of one video (see the
    module docstring).

    Args:
        path: a video file, a folder of images (then give the detector's source fps via
            ``dancejax.video.open_video`` yourself) or one image.
        refiner: a recognition ``Refiner`` (default: the shipped ``refiner_style``).
        detector: a ``Detector`` (default: MediaPipe Pose Full).
        every: run the detector on every N-th frame only (the others are filled in).
        progress: passed to ``detect``.
        keypoints: ``"filtered"`` or ``"refined"``: what ``sequence`` holds.

    Raises:
        DataError: the extra is missing, the video cannot be read, nobody is in it, or the
            refiner is not a 2D LSP-14 recognition model.
    """
    check_keypoints(keypoints, path)
    name = None
    if refiner is None:
        from dancejax import pretrained

        name = pretrained.REFINER
        refiner = pretrained.load(name)
    if getattr(refiner, "KIND", None) != "refiner":
        raise DataError(f"{path}: refining a video needs a recognition model (a refiner), got {type(refiner).__name__}")
    seq, info = detect(path, detector, every=every, progress=progress)
    # detect's placeholders (held poses) carry confidence 0: the refiner treats them as missing
    pos, conf, times = resample_times(seq.positions, seq.confidence, info.timestamps)
    refined, probs = refine_take(refiner, pos, conf)
    styles = list(getattr(refiner, "styles", None) or [f"style {i}" for i in range(len(probs))])
    labels = {
        **seq.labels,
        "refined_by": describe_refiner(refiner, name),
        "keypoints": (
            f"the detections, unseen joints interpolated in time, median of {GAUSSIAN['window']} frames and "
            f"Gaussian σ {GAUSSIAN['sigma']} frame"
            if keypoints == "filtered"
            else "the refiner's output"
        ),
        "video_fps": info.fps,
        "resampled": f"{len(info.timestamps)} video frames at {info.fps:g} fps -> {len(times)} frames at 25 fps",
    }
    raw = PoseSequence(pos, conf, CANONICAL_FPS, LSP14.name, dict(labels), source=str(path))
    shown = filter_keypoints(pos, conf) if keypoints == "filtered" else refined
    # every joint of the take is an estimate: confidence 1 (the detector's are in ``raw``)
    shown = shown.astype(np.float32)
    out = PoseSequence(shown, np.ones_like(conf), CANONICAL_FPS, LSP14.name, labels, source=str(path))
    return VideoTake(str(path), out, raw, times, info, labels["refined_by"], dict(zip(styles, map(float, probs))))
