"""Feedback on videos: the takes read from video files (detected, resampled to 25 fps and refined,
``dancejax.video.refine``), and the report's video part: the real frames with the skeletons
drawn over them, performance and reference side by side at aligned moments, each ranked moment
with its two frames, a score per frame, and an annotated side-by-side MP4.

``read_takes(performance, reference)`` reads any pair: two videos, a video against a motion
capture reference (BVH, ASF/AMC, NPZ, JSON), or two motion files (then nothing changes: the
takes are read as ``dancejax feedback`` always read them).  A video gives 2D keypoints, so a 3D
reference beside a video is seen from its front (``front_view``) and the comparison is 2D: the
rules that need 3D then say, one by one, that they cannot be checked.

``write_video_report(result, pair, out)`` adds the video part to a written report folder: the
MP4 (``side_by_side.mp4``) and a section of the HTML page (``report.html``), placed before the
page's first section heading.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import os
import tempfile
from pathlib import Path

import numpy as np

from dancejax.errors import DataError
from dancejax.io.sequence import CANONICAL_FPS, PoseSequence, canonical
from dancejax.skeleton import HIPS, LSP14
from dancejax.video.draw import (
    blank_canvas,
    draw_skeleton,
    draw_text,
    encode_jpeg,
    side_by_side,
)
from dancejax.video.refine import VideoTake, is_video, read_video_take

CANVAS_HEIGHT = 480  # pixels of the drawing a motion-capture take is seen in
MP4_HEIGHT = 360  # the side-by-side video's height at most
ALIGNED_SHOWN = 6  # side-by-side pairs at evenly spaced moments in the report
MP4_NAME = "side_by_side.mp4"
SECTION_ID = "video-feedback"


@dataclasses.dataclass
class Side:
    """One side of the comparison: what was compared (a 2D or 3D LSP-14 take at 25 fps) and where
    its pictures come from (a video, or a drawing of the take)."""

    label: str
    path: str
    sequence: PoseSequence
    video: VideoTake | None = None
    note: str = ""


@dataclasses.dataclass
class VideoPair:
    performance: Side
    reference: Side

    @property
    def sides(self) -> tuple[Side, Side]:
        return self.performance, self.reference


def front_view(seq: PoseSequence, height: int = CANVAS_HEIGHT) -> PoseSequence:
    """A 3D LSP-14 take (metres, Y up) seen from its front, orthographic, in pixels of a drawing
    ``height`` pixels high: the view of a camera facing the way the dancer faces on average (the
    horizontal normal of the hip line), so that the dancer's left is on the image's right, as
    in a video of a dancer facing the camera."""
    x = np.asarray(seq.positions, np.float64)
    left = (x[:, HIPS[1]] - x[:, HIPS[0]]).mean(0)
    left[1] = 0.0
    n = np.linalg.norm(left)
    left = left / n if n > 1e-9 else np.array([1.0, 0.0, 0.0])
    u, v = x @ left, -x[..., 1]
    span = max(float(v.max() - v.min()), 1e-6)
    s = 0.8 * height / span
    width = int(np.ceil(max(float(u.max() - u.min()) * s + 0.2 * height, 0.75 * height)))
    width += width % 2
    px = np.stack([(u - 0.5 * (u.max() + u.min())) * s + width / 2, (v - v.min()) * s + 0.1 * height], -1)
    labels = {
        **seq.labels,
        "units": "px",
        "frame_size": [width, height],
        "view": "seen from its front (its mean facing direction), orthographic",
    }
    return dataclasses.replace(seq, positions=px.astype(np.float32), labels=labels)


def read_side(
    label: str, path, fps=None, scale=None, refiner=None, progress=True, keypoints: str = "filtered", **take_kw
) -> Side:
    """One take as a 2D comparison side: a video detected, resampled and smoothed (or refined:
    ``keypoints``, see ``dancejax.video.refine``), its style read by ``refiner`` (default the
    shipped one), a 3D motion file seen from its front (``front_view``), a 2D keypoint file as
    it is (LSP-14, 25 fps)."""
    from dancejax.data.user import read_take

    if is_video(path):
        name = None
        if refiner is None:
            from dancejax import pretrained

            name, refiner = pretrained.REFINER, pretrained.load(pretrained.REFINER)
        take = read_video_take(path, refiner, progress=progress, keypoints=keypoints)
        if name:
            take.sequence.labels["refined_by"] = f"{name} (shipped with dancejax): {take.refiner.split(': ', 1)[-1]}"
        done = "smoothed" if keypoints == "filtered" else "refined"
        return Side(label, str(path), take.sequence, take, f"detected by MediaPipe Pose Full, {done}")
    seq = canonical(read_take(path, fps, scale, **take_kw))
    if seq.positions.shape[-1] == 3:
        seq = front_view(seq)
        return Side(label, str(path), seq, None, "motion capture " + seq.labels["view"])
    return Side(label, str(path), seq, None, "keypoints from the file")


def read_takes(
    performance, reference, fps=None, scale=None, refiner=None, progress=True, keypoints: str = "filtered", **take_kw
):
    """The two takes ``dancejax feedback`` compares, and the video pair behind them (a video's
    keypoints: ``"filtered"`` or ``"refined"``, see ``dancejax.video.refine``).

    Returns ``(performance, reference, pair)``: two ``PoseSequence``s for
    ``dancejax.feedback.compare``, and a :class:`VideoPair` when either is a video (None
    otherwise, and the takes are read exactly as ``dancejax.data.user.read_take`` reads them).

    Raises:
        DataError: an unreadable video or take (each names its file), nobody in a video, the
            ``video`` extra not installed.
    """
    from dancejax.data.user import read_take

    if not (is_video(performance) or is_video(reference)):
        return read_take(performance, fps, scale, **take_kw), read_take(reference, fps, scale, **take_kw), None
    from dancejax.video.reader import open_video

    for p in (performance, reference):  # a file that does not open fails before any model loads
        if is_video(p):
            open_video(p).close()
    if refiner is None:
        from dancejax import pretrained

        pretrained.load(pretrained.REFINER)
    pair = VideoPair(
        read_side("performance", performance, fps, scale, refiner, progress, keypoints, **take_kw),
        read_side("reference", reference, fps, scale, refiner, progress, keypoints, **take_kw),
    )
    return pair.performance.sequence, pair.reference.sequence, pair


# ---------------------------------------------------------------- frames


class _Frames:
    """A side's pictures by take frame (25 fps), fetched in non-decreasing order: a video
    decoded once from the start, or a drawing of the take."""

    def __init__(self, side: Side):
        self.side = side
        self._reader = self._it = None
        self._index, self._image = -1, None
        if side.video is None:
            w, h = side.sequence.labels.get("frame_size") or self._extent()
            self._blank = blank_canvas(int(w), int(h))

    def _extent(self):
        p = self.side.sequence.positions
        return int(np.ceil(p[..., 0].max() + 20)), int(np.ceil(p[..., 1].max() + 20))

    def __call__(self, k: int) -> np.ndarray:
        if self.side.video is None:
            return self._blank
        from dancejax.video.reader import open_video

        want = int(self.side.video.video_frame(k))
        if want < self._index or self._it is None:
            self.close()
            self._reader = open_video(self.side.path)
            self._it = iter(self._reader)
            self._index, self._image = -1, None
        while self._index < want:
            try:
                f = next(self._it)
            except StopIteration:
                break
            self._index, self._image = f.index, f.image
        if self._image is None:
            raise DataError(f"{self.side.path}: frame {want} no longer decodes")
        return self._image

    def close(self) -> None:
        if self._it is not None:
            self._reader.close()
            self._it = None

    def drawn(self, k: int, highlight=()) -> np.ndarray:
        seq = self.side.sequence
        k = int(np.clip(k, 0, seq.num_frames - 1))
        conf = (self.side.video.raw if self.side.video is not None else seq).confidence[k]  # what the detector saw
        return draw_skeleton(self(k), seq.positions[k], conf, highlight=highlight)


def _pair_image(frames, k: int, j: int, height: int, caption, highlight=()):
    a = draw_text(frames[0].drawn(k, highlight), [f"performance {k / CANONICAL_FPS:.2f} s"])
    b = draw_text(frames[1].drawn(j, highlight), [f"reference {j / CANONICAL_FPS:.2f} s"])
    img = side_by_side(a, b, height)
    return draw_text(img, caption, (8, img.shape[0] - 30)) if caption else img


def _per_frame(result: dict):
    """(per-frame score, its definition, per-frame worst body part) from the comparison: its own
    per-frame scores where it has them, else its score's formula on its per-frame deviation."""
    score = result.get("score", {})
    dev = result.get("deviation", {})
    parts = dev.get("per_part_over_time", {})
    n = result["frames"]["performance"]
    if parts:
        names = list(parts)
        worst = [names[i].replace("_", " ") for i in np.asarray([parts[k] for k in names], np.float64).argmax(0)]
    else:
        worst = [""] * n
    if "per_frame" in score:
        s = np.asarray(score["per_frame"], np.float64)
        s = 100.0 * s if s.max(initial=0) <= 1.0 else s  # a share of the frame, or already per cent
        return s, score.get("definition", ""), worst
    d = np.asarray(dev["mean_over_time"], np.float64)
    return 100.0 * np.maximum(0.0, 1.0 - d / 0.5), score.get("definition", "") + ", per frame", worst


def _caption(score, worst, k: int) -> str:
    return f"score {score[k]:.0f}" + (f", most off: {worst[k]}" if worst[k] else "")


def _matched(result: dict, n: int) -> np.ndarray:
    m = np.rint(np.asarray(result["alignment"]["matched_reference_frame"], np.float64)).astype(int)
    return m[:n]


def write_side_by_side(result: dict, pair: VideoPair, path: Path, height: int = MP4_HEIGHT) -> Path:
    """The annotated side-by-side MP4 (MPEG-4 Part 2, 25 fps): every performance frame of the
    take with its skeleton, beside the reference frame aligned with it, with the time, the
    deviation and the frame's score written on it.  Written to a temporary file first."""
    from dancejax.video._extra import require

    cv2 = require("cv2")
    n = pair.performance.sequence.num_frames
    ref_idx = _matched(result, n)
    score, _, worst = _per_frame(result)
    frames = (_Frames(pair.performance), _Frames(pair.reference))
    h = min(height, *(f(0).shape[0] for f in frames))
    first = _pair_image(frames, 0, int(ref_idx[0]), h, None)
    size = (first.shape[1], first.shape[0])
    fd, tmp = tempfile.mkstemp(suffix=".mp4", dir=path.parent)
    os.close(fd)
    writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*"mp4v"), CANONICAL_FPS, size)
    try:
        if not writer.isOpened():
            raise DataError(f"{path}: OpenCV cannot write MPEG-4 video here")
        for k in range(n):
            img = _pair_image(frames, k, int(ref_idx[k]), h, [_caption(score, worst, k)])
            if (img.shape[1], img.shape[0]) != size:
                img = cv2.resize(img, size)
            writer.write(np.ascontiguousarray(img[..., ::-1]))
    except BaseException:
        writer.release()
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        for f in frames:
            f.close()
    writer.release()
    os.chmod(tmp, 0o644)  # mkstemp made it private; the report's other files are not
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------- the report section


def _img(image, alt: str) -> str:
    b64 = base64.b64encode(encode_jpeg(image)).decode()
    return f'<img class="vframe" alt="{html.escape(alt)}" src="data:image/jpeg;base64,{b64}" onload="vframeLoaded()">'


def _timeline_svg(score, marks, width: int = 900, height: int = 170) -> str:
    """The per-frame score as an inline SVG line over the performance's time, with ranked moments
    marked."""
    n = len(score)
    x = lambda k: 40 + (width - 50) * k / max(n - 1, 1)
    y = lambda s: 10 + (height - 40) * (1 - s / 100.0)
    pts = " ".join(f"{x(k):.1f},{y(s):.1f}" for k, s in enumerate(score))
    grid = "".join(
        f'<line x1="40" x2="{width - 10}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>'
        f'<text x="4" y="{y(v) + 4:.1f}" font-size="11">{v}</text>'
        for v in (0, 25, 50, 75, 100)
    )
    secs = n / CANONICAL_FPS
    step = max(1, int(np.ceil(secs / 10)))
    ticks = "".join(
        f'<text x="{x(t * CANONICAL_FPS):.1f}" y="{height - 12}" font-size="11" text-anchor="middle">{t} s</text>'
        for t in range(0, int(secs) + 1, step)
    )
    ms = "".join(
        f'<line x1="{x(k):.1f}" x2="{x(k):.1f}" y1="10" y2="{height - 30}" stroke="#c00" stroke-dasharray="3,3"/>'
        f'<text x="{x(k) + 3:.1f}" y="22" font-size="11" fill="#c00">{i + 1}</text>'
        for i, k in enumerate(marks)
    )
    return (
        f'<svg id="score-timeline" width="{width}" height="{height}" role="img" '
        f'aria-label="score per frame">{grid}{ticks}{ms}'
        f'<polyline fill="none" stroke="#4c72b0" stroke-width="2" points="{pts}"/></svg>'
    )


def _side_rows(pair: VideoPair) -> str:
    rows = []
    for s in pair.sides:
        seq = s.sequence
        if s.video is not None:
            i = s.video.info
            gaps = seq.labels.get("gaps", [])
            gap_txt = (
                "none"
                if not gaps
                else "; ".join(f"frames {g['first']}–{g['last']} ({g['start_s']:.2f}–{g['end_s']:.2f} s)" for g in gaps)
            )
            style = max(s.video.style.items(), key=lambda kv: kv[1]) if s.video.style else ("—", 0.0)
            what = (
                f"video, {i.frame_size[0]}×{i.frame_size[1]} px, {i.num_frames} frames at {i.fps:g} fps "
                f"({seq.labels['resampled']}); a person found in {100 * i.detection_rate:.0f} % of the frames; "
                f"frames without a person (their keypoints estimated): {gap_txt}; style: {style[0]} "
                f"({100 * style[1]:.0f} %)"
            )
        else:
            what = f"{seq.num_frames} frames at 25 fps, {s.note}"
        rows.append(f"<tr><td>{s.label}</td><td>{html.escape(Path(s.path).name)}</td><td>{html.escape(what)}</td></tr>")
    return "\n".join(rows)


def video_section(result: dict, pair: VideoPair, mp4_name: str | None = MP4_NAME) -> str:
    """The report's video part as an HTML fragment (images embedded)."""
    n = pair.performance.sequence.num_frames
    ref_idx = _matched(result, n)
    score, definition, worst_part = _per_frame(result)
    frames = (_Frames(pair.performance), _Frames(pair.reference))
    h = min(240, *(f(0).shape[0] for f in frames))
    aligned = sorted({int(k) for k in np.linspace(0, n - 1, min(ALIGNED_SHOWN, n)).round()})
    moments = list(result.get("moments", []))
    wanted = [(k, ("a", k), int(ref_idx[k]), [_caption(score, worst_part, k)], ()) for k in aligned]
    for i, m in enumerate(moments):
        k = int(m["frame"])
        worst = _moment_joint(m)
        hi = (LSP14.index(worst),) if worst in LSP14.joints else ()
        j = int(m.get("reference_frame", ref_idx[k]))
        wanted.append((k, ("m", i), j, [f"#{i + 1}: {_caption(score, worst_part, k)}"], hi))
    # in time order: one decoding pass through each video
    shots = {key: _pair_image(frames, k, j, h, cap, hi) for k, key, j, cap, hi in sorted(wanted, key=lambda w: w[0])}
    for f in frames:
        f.close()
    labels = [s.sequence.labels for s in (pair.performance, pair.reference) if s.video is not None]
    refined_by = next((lb["refined_by"] for lb in labels if lb.get("refined_by")), None)
    shown = next((lb["keypoints"] for lb in labels if lb.get("keypoints")), "the refiner's output")
    grid_a = "\n".join(
        f"<figure>{_img(shots[('a', k)], f'aligned frames at {k / CANONICAL_FPS:.2f} s')}<figcaption>performance "
        f"{k / CANONICAL_FPS:.2f} s against reference {ref_idx[k] / CANONICAL_FPS:.2f} s</figcaption></figure>"
        for k in aligned
    )
    grid_m = (
        "\n".join(
            f"<figure>{_img(shots[('m', i)], f'moment {i + 1}')}<figcaption>"
            f"#{i + 1} at {m['frame'] / CANONICAL_FPS:.2f} s"
            f"{html.escape(_moment_words(m))}</figcaption></figure>"
            for i, m in enumerate(moments)
        )
        or "<p>No ranked moments.</p>"
    )
    mp4 = (
        f'<p>The whole comparison as a video: <a href="{mp4_name}">{mp4_name}</a> (MPEG-4, 25 fps).</p>'
        if mp4_name
        else ""
    )
    return f"""
<section id="{SECTION_ID}" data-video-frames-loaded="0">
<style>
#{SECTION_ID} figure {{ display: inline-block; margin: 6px; vertical-align: top; }}
#{SECTION_ID} figcaption {{ font-size: 12px; color: #444; max-width: 600px; }}
#{SECTION_ID} img.vframe {{ border: 1px solid #ccc; width: 470px; max-width: 100%; }}
#{SECTION_ID} figcaption {{ max-width: 470px; }}
</style>
<h2>On the video</h2>
<p>Keypoints: {html.escape(str(pair.performance.sequence.labels.get("detector") or "MediaPipe Pose Full"))}
detections, resampled to 25 fps by the frames' times; drawn and compared: {html.escape(shown)}; style read by
<b>{html.escape(str(refined_by or "no refiner"))}</b>.  Skeletons: the dancer's left orange, right blue;
a hollow joint was not seen by the detector (its position is an estimate).  The comparison is 2D
(image keypoints): rules that need 3D positions are not checked.</p>
<table><tr><th></th><th>file</th><th>what was compared</th></tr>
{_side_rows(pair)}
</table>
<h3>Side by side at aligned moments</h3>
{grid_a}
<h3>Moments of largest deviation, on the video</h3>
{grid_m}
<h3>Score per frame</h3>
<p>{html.escape(definition)}; dashed: the ranked moments.</p>
{_timeline_svg(score, [int(m["frame"]) for m in moments])}
{mp4}
<script>
function vframeLoaded() {{
  const s = document.getElementById("{SECTION_ID}");
  s.dataset.videoFramesLoaded = String(Number(s.dataset.videoFramesLoaded) + 1);
}}
</script>
</section>
"""


def _moment_joint(m: dict):
    """The joint a ranked moment names (circled on its frames)."""
    return m.get("worst_joint") or (m.get("displacement") or {}).get("joint")


def _moment_words(m: dict) -> str:
    for key in ("sentence", "text", "words"):
        if isinstance(m.get(key), str):
            return ": " + m[key]
    worst = _moment_joint(m)
    return f", worst joint {worst.replace('_', ' ')} (circled)" if worst else ""


def insert_section(page: Path, fragment: str) -> None:
    """Put ``fragment`` into the HTML file ``page`` before its first ``<h2`` (else before
    ``</body>``), replacing an earlier video section; written to a temporary file first."""
    text = page.read_text()
    start = text.find(f'<section id="{SECTION_ID}"')
    if start >= 0:
        end = text.find("</section>", start) + len("</section>")
        text = text[:start] + text[end:]
    at = text.find("<h2")
    if at < 0:
        at = text.rfind("</body>")
    if at < 0:
        at = len(text)
    tmp = page.with_name(page.name + ".tmp")
    tmp.write_text(text[:at] + fragment + text[at:])
    os.replace(tmp, page)


def write_video_report(result: dict, pair: VideoPair, out) -> dict[str, Path]:
    """Add the video part to the report folder ``out`` (written by ``write_report``): the MP4
    and the HTML section.  Returns {"video": the MP4, "html": the page}."""
    out = Path(out)
    page = out / "report.html"
    if not page.is_file():
        raise DataError(f"{out}: no report.html to add the video section to; write the report first")
    mp4 = write_side_by_side(result, pair, out / MP4_NAME)
    insert_section(page, video_section(result, pair, mp4.name))
    return {"video": mp4, "html": page}
