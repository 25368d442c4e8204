"""The video subcommands: live (a camera or a video file, live feedback) and models (the
pretrained models shipped in the package)."""

from __future__ import annotations

import json
import sys

from dancejax.cli.common import positive_int


def cmd_live(a):
    from dancejax.video.live import run_live

    source = a.camera if a.camera is not None else a.video
    log = lambda m: print(m, file=sys.stderr, flush=True)
    summary = run_live(
        source,
        a.reference,
        out=a.out,
        headless=a.headless,
        real_speed=not a.fast,
        every=a.every,
        max_frames=a.max_frames,
        keypoints=a.keypoints,
        log=log,
    )
    print(
        f"{summary.source}: {summary.frames} frames; the detector ran on {summary.ran} and found the dancer in "
        f"{summary.detected}; {summary.seconds:.1f} s "
        f"({summary.fps_wall:.1f} fps{'' if a.fast or a.camera is not None else ', at the video speed'}; "
        f"the processing alone {summary.fps_processing:.1f} fps at its median)"
    )
    print("latency per frame (the first frame left out):")
    print(summary.table())
    if summary.files:
        print("wrote " + ", ".join(str(f) for f in summary.files.values()))
    return 0


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def cmd_models(a):
    from dancejax import pretrained

    models = pretrained.available()
    if a.json:
        rows = [
            {
                "name": m.name,
                "task": m.task,
                "method": m.method,
                "preset": m.preset,
                "dims": m.dims,
                "size_bytes": m.size_bytes,
                "scores": m.scores,
                "command": m.command,
                "path": str(m.path),
            }
            for m in models
        ]
        print(json.dumps(rows, indent=1))
        return 0
    if not models:
        print("no models shipped in this installation")
        return 0
    print(f"{'name':<16}{'task':<13}{'method':<12}{'preset':<8}{'size':>9}  scores")
    for m in models:
        scores = "; ".join(f"{k} {v}" for k, v in m.scores.items()) or "—"
        print(f"{m.name:<16}{m.task:<13}{m.method:<12}{m.preset:<8}{_size(m.size_bytes):>9}  {scores}")
    print(f"model cards: {pretrained.root()}/<name>/{pretrained.MODEL_CARD}")
    return 0


def add_parsers(sub) -> None:
    """Add this module's subcommands to the ``dancejax`` parser."""
    p = sub.add_parser(
        "live",
        help="live feedback on a camera or a video: skeleton, style, next poses, deviation from a reference",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--camera", type=int, default=None, metavar="N", help="camera index (0: the first camera)")
    src.add_argument("--video", default=None, metavar="FILE", help="a video file, played at its real speed")
    p.add_argument("--reference", default=None, help="the reference: a video or a take (BVH, ASF/AMC, NPZ, JSON)")
    p.add_argument("--headless", action="store_true", help="no window: write the annotated video and JSON lines")
    p.add_argument("--out", default=None, help="folder for live.mp4, live.jsonl (one line per frame), latency.json")
    p.add_argument("--every", type=positive_int, default=1, help="run the detector on every N-th frame")
    p.add_argument("--max-frames", type=positive_int, default=None)
    p.add_argument("--fast", action="store_true", help="a video file: do not wait for each frame's time")
    p.add_argument(
        "--keypoints",
        choices=["filtered", "refined"],
        default="filtered",
        help="what is drawn and compared: the detections through a One-Euro filter (default; the more accurate "
        "on real held-out detections) or the refiner's output",
    )
    p.set_defaults(fn=cmd_live)

    p = sub.add_parser("models", help="the pretrained models shipped in the package")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(fn=cmd_models)
