"""Frames from a video file, a folder of images, one image or a camera, one at a time.

``open_video(source)`` returns a :class:`VideoReader`; iterating it yields :class:`Frame`
objects (index, time in seconds, RGB image), so a live consumer takes each frame as it
arrives::

    with open_video("dance.mp4") as video:
        print(video.fps, video.frame_size)
        for frame in video:
            ...  # frame.index, frame.time, frame.image (H, W, 3) uint8 RGB

Sources:

* a **video file** (mp4, avi, webm, mov, mkv, ... whatever OpenCV's FFmpeg backend decodes):
  the container's frame rate, and each frame's presentation time as the container gives it;
* a **folder of images** (jpg, png, bmp, tif, webp), in name order with numbers compared as
  numbers (``img2`` before ``img10``), at the frame rate ``fps`` (required: images carry none);
* **one image**: a one-frame source;
* a **camera**, by its integer index: the driver's frame rate (else ``fps``, else 30) and
  each frame's capture time, measured from the first frame.

Every failure is a :class:`~dancejax.errors.DataError` that names the source: a missing file,
a file that is not a video, a video with no frames, a video whose frames stop decoding before
the count its container lists (truncated or corrupt), a camera that does not open (within
``open_timeout`` seconds, so that a missing device cannot hang the caller).
"""

from __future__ import annotations

import dataclasses
import math
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from dancejax.errors import DataError
from dancejax.video._extra import quiet_opencv, require

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
CAMERA_FPS = 30.0  # a camera whose driver reports no frame rate, and no fps given
IMAGE_FPS = 25.0  # a single image (its frame rate only labels the one-frame sequence)

# Leading bytes of the common containers: a file that starts like a video but does not open
# is reported as damaged rather than as "not a video".
_SIGNATURES = {
    "MP4/MOV": lambda b: b[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"),
    "AVI": lambda b: b[:4] == b"RIFF" and b[8:12] == b"AVI ",
    "WebM/Matroska": lambda b: b[:4] == b"\x1a\x45\xdf\xa3",
    "MPEG": lambda b: b[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"),
    "Ogg": lambda b: b[:4] == b"OggS",
    "FLV": lambda b: b[:3] == b"FLV",
}


@dataclasses.dataclass(frozen=True)
class Frame:
    """One frame: its index from 0, its time in seconds, and the image, (H, W, 3) uint8 RGB."""

    index: int
    time: float
    image: np.ndarray


class VideoReader:
    """An open source of frames; iterate it once to get :class:`Frame` objects in order.

    Attributes: ``source`` (the path, or ``camera N``), ``kind`` (``"video"``, ``"images"``,
    ``"image"`` or ``"camera"``), ``fps``, ``frame_size`` (width, height) in pixels, and
    ``frame_count`` (as the container lists it; the number of images; None for a camera).
    Use it as a context manager, or call :meth:`close`, to release a file or camera early.
    """

    def __init__(self, source: str, kind: str, fps: float, frame_size, frame_count, frames: Iterator[Frame], close):
        self.source = source
        self.kind = kind
        self.fps = float(fps)
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        self.frame_count = frame_count
        self._frames = frames
        self._close = close

    def __iter__(self) -> Iterator[Frame]:
        return self._frames

    def close(self) -> None:
        self._close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"VideoReader({self.source!r}, kind={self.kind!r}, fps={self.fps:g}, "
            f"frame_size={self.frame_size}, frame_count={self.frame_count})"
        )


def open_video(source, *, fps: float | None = None, open_timeout: float = 5.0) -> VideoReader:
    """Open a video file, a folder of images, one image (a path) or a camera (an int index).

    Args:
        source: a path (str or ``Path``), or an ``int`` camera index.
        fps: the frame rate of a folder of images (required there); for a video or a camera,
            used only when the source reports none.
        open_timeout: seconds a camera may take to open and deliver its first frame.

    Raises:
        DataError: the extra is not installed; or a bad source (see the module docstring).
    """
    cv2 = require("cv2")
    if fps is not None and (isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps > 0):
        raise DataError(f"{source}: fps must be a positive number, got {fps!r}")
    if isinstance(source, bool) or not isinstance(source, (str, Path, int)):
        raise DataError(f"expected a path or a camera index, got {type(source).__name__}: {source!r}")
    if isinstance(source, int):
        return _open_camera(cv2, source, fps, open_timeout)
    path = Path(source)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir():
        return _open_images(cv2, path, _image_files(path), fps, "images")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return _open_images(cv2, path, [path], fps or IMAGE_FPS, "image")
    return _open_file(cv2, path, fps)


def _natural_key(path: Path):
    return [int(s) if s.isdigit() else s.lower() for s in re.split(r"(\d+)", path.name)]


def _image_files(folder: Path) -> list[Path]:
    files = [
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    ]
    if not files:
        raise DataError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) in the folder")
    return sorted(files, key=_natural_key)


def _read_image(cv2, path: Path) -> np.ndarray:
    data = np.fromfile(path, np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise DataError(f"{path}: not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _open_images(cv2, path: Path, files: list[Path], fps, kind: str) -> VideoReader:
    if fps is None:
        raise DataError(f"{path}: a folder of images has no frame rate; give fps=...")
    first = _read_image(cv2, files[0])
    h, w = first.shape[:2]

    def frames():
        for i, f in enumerate(files):
            image = first if i == 0 else _read_image(cv2, f)
            if image.shape[:2] != (h, w):
                raise DataError(
                    f"{f}: image size {image.shape[1]}x{image.shape[0]} differs from the first image's {w}x{h}"
                )
            yield Frame(i, i / fps, image)

    return VideoReader(str(path), kind, fps, (w, h), len(files), frames(), lambda: None)


def _unopenable(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(16)
    if not head:
        return f"{path}: empty file, not a video"
    for name, looks_like in _SIGNATURES.items():
        if looks_like(head):
            return (
                f"{path}: damaged video: it starts as {name} but OpenCV cannot read its streams (truncated or corrupt)"
            )
    return f"{path}: not a video file (OpenCV's FFmpeg backend does not recognise its format)"


# A container's frame count may be an estimate (duration × frame rate); a shortfall up to this
# fraction of it (and at least 2 frames) is taken as that estimate's error, not as damage.
_COUNT_SLACK = 0.02


def _open_file(cv2, path: Path, fps) -> VideoReader:
    with quiet_opencv(cv2):
        cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise DataError(_unopenable(path))
    listed = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    count = int(listed) if math.isfinite(listed) and listed >= 0 else None
    rate = cap.get(cv2.CAP_PROP_FPS)
    if not (math.isfinite(rate) and rate > 0):
        if fps is None:
            cap.release()
            raise DataError(f"{path}: the video states no frame rate; give fps=...")
        rate = fps
    ok, first = cap.read()
    if not ok or first is None:
        cap.release()
        if not count:
            raise DataError(f"{path}: the video has zero frames")
        raise DataError(f"{path}: corrupt video: its container lists {count} frames but none decodes")
    h, w = first.shape[:2]

    def frames():
        image, index, last = first, 0, -math.inf
        try:
            while True:
                ms = cap.get(cv2.CAP_PROP_POS_MSEC)
                t = ms / 1000.0 if math.isfinite(ms) and ms >= 0 else index / rate
                if t <= last:  # no usable timestamp: one frame period after the previous frame
                    t = last + 1.0 / rate
                last = t
                yield Frame(index, t, cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
                index += 1
                ok, image = cap.read()
                if not ok or image is None:
                    break
        finally:
            cap.release()
        if count and count - index > max(2, _COUNT_SLACK * count):
            raise DataError(
                f"{path}: corrupt or truncated video: only {index} of the {count} frames its container lists decode"
            )

    return VideoReader(str(path), "video", rate, (w, h), count, frames(), cap.release)


def _in_time(fn, timeout: float, what: str):
    """``fn()`` on a helper thread, waiting at most ``timeout`` seconds: a camera driver that
    never answers leaves that thread behind, not the caller."""
    out: dict = {}

    def run():
        try:
            out["value"] = fn()
        except Exception as e:  # reported to the caller below
            out["error"] = e

    th = threading.Thread(target=run, daemon=True)
    th.start()
    th.join(timeout)
    if th.is_alive():
        raise DataError(f"{what} did not answer within {timeout:g} s")
    if "error" in out:
        raise DataError(f"{what} failed: {out['error']}")
    return out["value"]


def _open_camera(cv2, index: int, fps, timeout: float) -> VideoReader:
    name = f"camera {index}"

    def open_():
        with quiet_opencv(cv2):
            return cv2.VideoCapture(index)

    cap = _in_time(open_, timeout, f"{name}: opening it")
    if not cap.isOpened():
        cap.release()
        raise DataError(f"{name}: no such camera, or it cannot be opened")
    ok, first = _in_time(cap.read, timeout, f"{name}: reading its first frame")
    t0 = time.monotonic()
    if not ok or first is None:
        cap.release()
        raise DataError(f"{name}: the camera opened but delivers no frames")
    rate = cap.get(cv2.CAP_PROP_FPS)
    if not (math.isfinite(rate) and rate > 0):
        rate = fps or CAMERA_FPS
    h, w = first.shape[:2]

    def frames():
        image, index_ = first, 0
        t = 0.0
        try:
            while True:
                yield Frame(index_, t, cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
                index_ += 1
                ok, image = cap.read()
                t = time.monotonic() - t0
                if not ok or image is None:
                    return
        finally:
            cap.release()

    return VideoReader(name, "camera", rate, (w, h), None, frames(), cap.release)
