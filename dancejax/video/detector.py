"""Pose detectors behind one small interface, and MediaPipe Pose (Full) as the first of them.

A :class:`Detector` takes one RGB frame and returns the keypoints of one person in pixels with
a confidence per joint, or ``None`` when it finds no person.  Its ``layout`` names its joints
(``"blazepose33"``, or a layout of ``dancejax.skeleton.LAYOUTS`` such as ``"coco17"``), which
``dancejax.video.joints.to_lsp14_frame`` maps to LSP-14.  Keypoint files written by other
detectors (OpenPose, MMPose, RTMPose) are read by ``dancejax.io`` instead.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from dancejax.errors import DataError
from dancejax.video._extra import require


@runtime_checkable
class Detector(Protocol):
    """One person's 2D pose in one frame.

    ``name``: what produced the keypoints (it goes into the sequence's labels).
    ``layout``: the keypoints' joint layout.
    ``__call__(image)``: ``image`` (H, W, 3) uint8 RGB -> ``(keypoints (K, 2) float pixels,
    confidence (K,) in [0, 1])``, or ``None`` when no person is found.
    """

    name: str
    layout: str

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None: ...


@contextlib.contextmanager
def _quiet_native_log():
    """MediaPipe's C++ graph writes its start-up log lines (TFLite delegate, absl warnings) to
    file descriptor 2 while the graph is built and on its first frame; they say nothing a user
    can act on.  Send them to a temporary file instead, and show them only if that step fails."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable descriptor 2 (an embedding host): nothing to quiet
        yield
        return
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


# The model files of MediaPipe Pose Full, inside the mediapipe wheel.
_FULL_MODEL_FILES = ("modules/pose_detection/pose_detection.tflite", "modules/pose_landmark/pose_landmark_full.tflite")


class MediaPipePose:
    """MediaPipe Pose, Full model (BlazePose GHUM 3D, 33 landmarks), through MediaPipe's
    ``solutions.pose.Pose`` with ``model_complexity=1``.

    Only the Full model is offered: it ships inside the wheel.  MediaPipe downloads the Lite
    and Heavy models on first use, and dancejax downloads nothing at run time.

    Args:
        model: ``"full"`` (the only one).
        static: treat every frame as an unrelated image (person detection on each frame); the
            default tracks the person from frame to frame (video).  ``detect`` sets it for a
            single image.
        smooth: MediaPipe's own temporal smoothing of the landmarks (tracking mode only).  Off
            by default so that the output is the raw detection that dancejax's refiners and
            filters expect.
        min_detection_confidence: MediaPipe's threshold for finding a person.
        min_tracking_confidence: MediaPipe's threshold for keeping track of the person from
            frame to frame (below it, it detects the person again; unused when ``static``).

    Confidence: each landmark's ``visibility`` (times its ``presence`` where MediaPipe fills it
    in; the legacy API fills in visibility only).  Keypoints are in pixels of the frame given
    and may lie outside it (MediaPipe extrapolates joints cut off by the frame's edge, with a
    low visibility).  Use it as a context manager, or call :meth:`close`, to free the graph.
    """

    name = "mediapipe-pose-full"
    layout = "blazepose33"

    def __init__(
        self,
        model: str = "full",
        *,
        static: bool = False,
        smooth: bool = False,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
    ):
        if model != "full":
            raise DataError(
                f"MediaPipe Pose model {model!r} is not offered: only 'full' ships inside the mediapipe "
                "wheel ('lite' and 'heavy' would be downloaded at run time)"
            )
        pose = require("mediapipe.python.solutions.pose")
        root = Path(require("mediapipe").__file__).parent
        absent = [f for f in _FULL_MODEL_FILES if not (root / f).is_file()]
        if absent:
            raise DataError(
                f"{root}: the installed mediapipe lacks {', '.join(absent)}; reinstall the extra: "
                "pip install 'dancejax[video]'"
            )
        self.static = bool(static)
        self._quiet_first = True  # the graph logs once more on its first frame
        with _quiet_native_log():
            self._pose = pose.Pose(
                static_image_mode=self.static,
                model_complexity=1,
                smooth_landmarks=bool(smooth),
                enable_segmentation=False,
                min_detection_confidence=float(min_detection_confidence),
                min_tracking_confidence=float(min_tracking_confidence),
            )

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3):
            raise DataError(
                f"{self.name}: expected an (H, W, 3) uint8 RGB image, got "
                f"{getattr(image, 'shape', None)} {getattr(image, 'dtype', type(image).__name__)}"
            )
        if self._quiet_first:
            with _quiet_native_log():
                result = self._pose.process(np.ascontiguousarray(image))
            self._quiet_first = False
        else:
            result = self._pose.process(np.ascontiguousarray(image))
        if result.pose_landmarks is None:
            return None
        h, w = image.shape[:2]
        marks = result.pose_landmarks.landmark
        keypoints = np.array([(m.x * w, m.y * h) for m in marks], np.float32)
        confidence = np.array(
            [m.visibility * (m.presence if m.HasField("presence") else 1.0) for m in marks], np.float32
        )
        return keypoints, np.clip(confidence, 0.0, 1.0)

    def close(self) -> None:
        self._pose.close()

    def __enter__(self) -> MediaPipePose:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
