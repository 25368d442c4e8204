"""Drawing on video frames: LSP-14 skeletons (solid, or a faint "ghost" for predicted poses),
text panels, and frames side by side.  OpenCV draws; every function takes and returns
(H, W, 3) uint8 RGB images and never changes its input.

Colours follow the body's sides as a dancer names them: the person's **left** limbs orange,
**right** limbs blue, the trunk and head grey (``PART_COLORS``).  A joint whose confidence is at
or below ``MISSING`` is drawn hollow, and a bone touching it thin: the detector did not see it
and what is drawn there came from the refiner.
"""

from __future__ import annotations

import numpy as np

from dancejax.skeleton import LSP14
from dancejax.video._extra import require

MISSING = 0.1  # confidence at or below which a joint is drawn as not seen
PART_COLORS = {"left": (255, 140, 0), "right": (30, 120, 255), "centre": (200, 200, 200)}
GHOST = (255, 0, 255)
TEXT_BG = (20, 20, 20)


def _side(joint: str) -> str:
    return "left" if joint.startswith("l_") else "right" if joint.startswith("r_") else "centre"


def bone_color(a: int, b: int):
    """The colour of the bone between joints ``a`` and ``b``: its side's, the trunk's when the two
    joints are on different sides."""
    sa, sb = _side(LSP14.joints[a]), _side(LSP14.joints[b])
    return PART_COLORS[sa if sa == sb else "centre"]


def _scale(image) -> float:
    """Line widths follow the frame's size (2 px at 480 px high), and stay visible on small frames."""
    return max(0.8, max(image.shape[0], image.shape[1] * 0.6) / 480.0)


def _pt(p) -> tuple[int, int]:
    return int(round(float(p[0]))), int(round(float(p[1])))


def draw_skeleton(image, keypoints, confidence=None, *, color=None, thickness: float = 2.0, highlight=()):
    """``image`` with the LSP-14 skeleton ``keypoints`` (14, 2) pixels drawn over it.

    ``color``: one colour for every bone (default: by side, ``PART_COLORS``).  ``highlight``:
    joint indices circled in red (the worst joint of a moment).  Non-finite keypoints are
    skipped."""
    cv2 = require("cv2")
    out = np.ascontiguousarray(image).copy()
    kp = np.asarray(keypoints, np.float64)
    conf = np.ones(len(kp)) if confidence is None else np.asarray(confidence, np.float64)
    s = _scale(out)
    ok = np.isfinite(kp).all(-1)
    for a, b in LSP14.edges:
        if not (ok[a] and ok[b]):
            continue
        seen = conf[a] > MISSING and conf[b] > MISSING
        w = max(1, int(round(thickness * s * (1.0 if seen else 0.5))))
        cv2.line(out, _pt(kp[a]), _pt(kp[b]), color or bone_color(a, b), w, cv2.LINE_AA)
    for j in np.nonzero(ok)[0]:
        c = color or PART_COLORS[_side(LSP14.joints[j])]
        r = max(2, int(round(2.2 * s)))
        cv2.circle(out, _pt(kp[j]), r, c, -1 if conf[j] > MISSING else max(1, int(s)), cv2.LINE_AA)
    for j in highlight:
        if ok[j]:
            cv2.circle(out, _pt(kp[j]), max(6, int(round(9 * s))), (255, 0, 0), max(2, int(round(2 * s))), cv2.LINE_AA)
    return out


def draw_ghost(image, poses, alpha: float = 0.7):
    """``image`` with predicted poses (K, 14, 2) drawn as thin magenta skeletons blended over it
    (the first pose the thickest)."""
    cv2 = require("cv2")
    out = np.ascontiguousarray(image).copy()
    layer = out.copy()
    poses = np.asarray(poses, np.float64)
    for k, pose in enumerate(poses):
        w = max(1, int(round(1.6 * _scale(out) * (1.0 - 0.5 * k / max(len(poses) - 1, 1)))))
        for a, b in LSP14.edges:
            if np.isfinite(pose[[a, b]]).all():
                cv2.line(layer, _pt(pose[a]), _pt(pose[b]), GHOST, w, cv2.LINE_AA)
    return cv2.addWeighted(layer, alpha, out, 1.0 - alpha, 0.0)


def draw_text(image, lines, origin=(8, 8), *, scale: float | None = None, colors=None):
    """``image`` with ``lines`` of text in a dark box from ``origin`` (top-left, pixels).
    ``colors``: one RGB colour per line (default white)."""
    cv2 = require("cv2")
    out = np.ascontiguousarray(image).copy()
    lines = [str(x) for x in lines]
    if not lines:
        return out
    fs = scale if scale is not None else 0.45 * _scale(out)
    th = max(1, int(round(fs * 2)))
    sizes = [cv2.getTextSize(t, cv2.FONT_HERSHEY_SIMPLEX, fs, th)[0] for t in lines]
    step = int(max(h for _, h in sizes) * 1.7) + 2
    x0, y0 = origin
    w = max(wd for wd, _ in sizes) + 10
    box = out[y0 : y0 + step * len(lines) + 6, x0 : x0 + w]
    box[:] = (0.35 * box + 0.65 * np.array(TEXT_BG)).astype(np.uint8)
    for i, t in enumerate(lines):
        c = (255, 255, 255) if colors is None else colors[i]
        cv2.putText(out, t, (x0 + 5, y0 + step * (i + 1) - 2), cv2.FONT_HERSHEY_SIMPLEX, fs, c, th, cv2.LINE_AA)
    return out


def fit_height(image, height: int):
    """``image`` resized to ``height`` pixels high, its aspect ratio kept; and the factor."""
    cv2 = require("cv2")
    f = height / image.shape[0]
    if f == 1.0:
        return image, 1.0
    w = max(1, int(round(image.shape[1] * f)))
    return cv2.resize(image, (w, height), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR), f


def side_by_side(left, right, height: int | None = None, gap: int = 4):
    """Two images next to each other at one height (the smaller one's, or ``height``), with a
    dark ``gap`` between them; the width is rounded up to an even number (for video codecs)."""
    height = height or min(left.shape[0], right.shape[0])
    height += height % 2
    a, _ = fit_height(left, height)
    b, _ = fit_height(right, height)
    w = a.shape[1] + gap + b.shape[1]
    out = np.full((height, w + w % 2, 3), 30, np.uint8)
    out[:, : a.shape[1]] = a
    out[:, a.shape[1] + gap : a.shape[1] + gap + b.shape[1]] = b
    return out


def blank_canvas(width: int, height: int, shade: int = 245):
    """A plain frame to draw a skeleton on where there is no video (a motion-capture reference)."""
    return np.full((height, width, 3), shade, np.uint8)


def encode_jpeg(image, quality: int = 82) -> bytes:
    """An RGB image as JPEG bytes."""
    cv2 = require("cv2")
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(image[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    return buf.tobytes()
