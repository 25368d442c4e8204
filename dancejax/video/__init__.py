"""Video front end (the optional extra ``dancejax[video]``): frames in, LSP-14 poses out.

Install with ``pip install 'dancejax[video]'`` (OpenCV and MediaPipe).  ``import dancejax.video``
works without them; every entry point then raises a ``DataError`` that says how to install.

* ``open_video(source)``: frames from a video file, a folder of images, one image or a camera,
  with the frame rate and each frame's time (``reader``);
* ``MediaPipePose()``: MediaPipe Pose Full behind the :class:`Detector` protocol (``detector``);
* ``to_lsp14_frame``: BlazePose-33 (or any ``dancejax.skeleton`` layout) to LSP-14 (``joints``);
* ``poses(frames, detector)`` frame by frame, and ``detect(source)`` for a whole source, with
  gaps (frames without a person) reported, never filled in (``poses``).

Example::

    from dancejax.video import detect

    seq, info = detect("dance.mp4", progress=True)
    print(seq.positions.shape, seq.fps, info.detection_rate, seq.labels["gaps"])
"""

from dancejax.video._extra import INSTALL
from dancejax.video.detector import Detector, MediaPipePose
from dancejax.video.joints import BLAZEPOSE33, BLAZEPOSE33_TO_COCO17, to_lsp14_frame
from dancejax.video.poses import FramePose, Gap, VideoInfo, detect, find_gaps, poses
from dancejax.video.reader import Frame, VideoReader, open_video

__all__ = [
    "INSTALL",
    "Detector",
    "MediaPipePose",
    "BLAZEPOSE33",
    "BLAZEPOSE33_TO_COCO17",
    "to_lsp14_frame",
    "FramePose",
    "Gap",
    "VideoInfo",
    "detect",
    "find_gaps",
    "poses",
    "Frame",
    "VideoReader",
    "open_video",
]
