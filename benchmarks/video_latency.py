"""Per-stage latency of live video feedback on this CPU, end-to-end frames per second, and what
running the detector on every second frame costs in accuracy.

    python -m benchmarks.video_latency                    # the fixture clip, looped to 10 s
    python -m benchmarks.video_latency --video dance.mp4 --seconds 30

**Latency.**  ``dancejax.video.live.run_live`` (the same code as ``dancejax live --video ...
--headless --fast``) on a video: decode, detector (MediaPipe Pose Full), refine + style +
predict (the shipped refiner and 2D predictor in the streaming engine's one jitted step),
compare (the causal alignment with a reference and the deviation per body part), draw (the
annotated frame drawn and written).  Median and 99th percentile ms per frame, the first frame
left out; end-to-end frames per second = frames / wall time of the run.  The default video is
the real fixture clip (``tests/fixtures/video/clip.mp4``, 384×240) played forwards and
backwards to ``--seconds``, its mirrored copy the reference.  The run is repeated with the
detector on every second frame (``--every 2``).  The refine / style and predict parts of the
engine's step are also timed on their own (``dancejax.deploy.stream.latency``).

Targets: dancejax's own stages (refine + style + predict + compare) ≤ 10 ms per frame for one
dancer; end to end, detector included, ≥ 15 fps.

**Accuracy of every second frame.**  The real AIST++ detections of the held-out sequences (the
shipped dataset: 2 sequences × 9 views, 25 fps) against their projected 3D ground truth, PCK with
the ground-truth box's larger side as the normaliser (as ``dancejax evaluate`` reports the
refiner), all frames scored:

* raw detections on every frame;
* the detections through live's One-Euro filter, frame by frame (what ``live`` draws and
  compares by default), on every frame;
* the shipped refiner in the streaming engine (causal, as ``live --keypoints refined`` runs it)
  on every frame;
* the detector on every second frame only, the frames between reaching the engine as missing
  (confidence 0: the refiner fills them in);
* the same, the frames between reaching the engine as the detection before them, held with its
  confidences (what ``live --every 2 --keypoints refined`` does), and through the One-Euro
  filter instead (``live --every 2``);
* every second frame with the last detection held and no refiner.

PCK@0.05 is also given on the frames the detector ran on and on the frames it skipped.

Results: ``benchmarks/results/video_latency.json``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import save_results

TARGET_OWN_MS = 10.0
TARGET_FPS = 15.0
ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "tests" / "fixtures" / "video" / "clip.mp4"
MIRRORED = ROOT / "tests" / "fixtures" / "video" / "clip_mirrored.mp4"
OWN = ("refine + style + predict", "compare")


def looped_video(path: Path, seconds: float, folder: Path) -> Path:
    """The video played forwards and backwards until ``seconds`` long, as an MJPG AVI."""
    import cv2

    from dancejax.video import open_video

    with open_video(path) as v:
        frames, fps = [f.image for f in v], v.fps
    cycle = frames + frames[-2:0:-1]
    n = int(round(seconds * fps))
    out = folder / f"{path.stem}_looped.avi"
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for i in range(n):
        writer.write(np.ascontiguousarray(cycle[i % len(cycle)][..., ::-1]))
    writer.release()
    return out


def live_run(video, reference, every: int, out: Path) -> dict:
    from dancejax.video.live import run_live

    s = run_live(str(video), str(reference), out=out, headless=True, real_speed=False, every=every, log=lambda m: None)
    own = sum(s.latency[k]["median_ms"] for k in OWN)
    return {
        "every": every,
        "frames": s.frames,
        "detector_ran": s.ran,
        "detected": s.detected,
        "seconds": s.seconds,
        "fps_end_to_end": s.fps_wall,
        "stages": s.latency,
        "own_stages_median_ms": own,
    }


def engine_parts(frames: int) -> dict:
    """The engine's step with the refiner (and style head) alone, the predictor alone, both."""
    from dancejax import pretrained
    from dancejax.deploy.stream import StreamEngine, latency

    ref, pred = pretrained.load(pretrained.REFINER), pretrained.load(pretrained.PREDICTOR)
    parts = {
        "refine + style": dict(refiner=ref),
        "predict": dict(predictor=pred),
        "all three": dict(refiner=ref, predictor=pred),
    }
    return {k: latency(StreamEngine(dims=2, **kw), frames=frames) for k, kw in parts.items()}


def every_second_frame_accuracy() -> dict:
    """PCK on the held-out AIST++ detections: every frame, and every second frame (see the module docstring)."""
    from dancejax import pretrained
    from dancejax.data import load_dataset
    from dancejax.deploy.stream import StreamEngine
    from dancejax.maths.metrics import pck_table

    refiner = pretrained.load(pretrained.REFINER)
    sets = [d for d in load_dataset().detections if d.split == "test"]
    det = np.concatenate([d.det for d in sets])  # (V, T, 14, 2): views of equal length
    conf = np.concatenate([d.conf for d in sets])
    gt = np.concatenate([d.gt for d in sets])
    v, t = det.shape[:2]
    ran = (np.arange(t) % 2 == 0)[None, :, None]

    def stream(x, c):
        eng = StreamEngine(refiner=refiner, dancers=v, dims=2)
        return np.stack([np.asarray(eng.push(x[:, k], c[:, k])["refined"]) for k in range(t)], 1)

    held, held_conf = det.copy(), conf.copy()  # each skipped frame: the detection before it
    held[:, 1::2] = det[:, 0:-1:2][:, : held[:, 1::2].shape[1]]
    held_conf[:, 1::2] = conf[:, 0:-1:2][:, : held[:, 1::2].shape[1]]

    def filtered(x, c):  # what live draws and compares by default: its own filter, frame by frame
        from dancejax.video.live import _State

        out = np.empty_like(x, dtype=np.float64)
        for i in range(v):
            state = _State(None, None, [], None, "filtered")
            for k in range(t):
                state._filter(x[i, k], c[i, k], 1)
                out[i, k] = state.shown
        return out

    cases = {
        "raw detections, every frame": det,
        "One-Euro on the detections (live default), every frame": filtered(det, conf),
        "refined (stream), every frame": stream(det, conf),
        "every 2nd: skipped frames missing, refined": stream(
            np.where(ran[..., None], det, np.nan), np.where(ran, conf, 0.0)
        ),
        "every 2nd: skipped frames held, refined (live --keypoints refined)": stream(held, held_conf),
        "every 2nd: skipped frames held, One-Euro (live default)": filtered(held, held_conf),
        "every 2nd: last detection held, no refiner": held,
    }
    visible = np.ones(gt.shape[:-1], np.float32)
    table = {k: pck_table(p, gt, visible) for k, p in cases.items()}
    split = {
        k: {
            name: pck_table(p[:, sl], gt[:, sl], visible[:, sl], (0.05,))[0.05]["mean"]
            for name, sl in (("detected frames", slice(0, None, 2)), ("skipped frames", slice(1, None, 2)))
        }
        for k, p in cases.items()
    }
    return {
        "data": f"AIST++ held-out sequences {', '.join(d.name for d in sets)}: {v} views × {t} frames at 25 fps, "
        "real detector keypoints against projected 3D ground truth",
        "pck": {k: {str(a): row["mean"] for a, row in tab.items()} for k, tab in table.items()},
        "pck_0.05_even_odd_frames": split,
        "pck_per_group_0.05": {k: tab[0.05] for k, tab in table.items()},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", default=None, help="a video (default: the fixture clip, looped)")
    ap.add_argument("--reference", default=str(MIRRORED), help="the reference take")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the looped fixture clip")
    ap.add_argument("--frames", type=int, default=300, help="frames for the engine-only timings")
    ap.add_argument("--out", default="benchmarks/results/video_latency.json")
    a = ap.parse_args()
    from dancejax.runtime import keep_freed_memory

    keep_freed_memory()
    import jax

    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(a.video) if a.video else looped_video(CLIP, a.seconds, Path(tmp))
        t0 = time.perf_counter()
        runs = [live_run(video, a.reference, every, Path(tmp) / f"every{every}") for every in (1, 2)]
        print(f"live runs: {time.perf_counter() - t0:.0f} s")
    parts = engine_parts(a.frames)
    acc = every_second_frame_accuracy()

    print(
        f"\nvideo latency: {video.name if a.video else f'{CLIP.name} looped to {a.seconds:g} s'} "
        f"({runs[0]['frames']} frames), reference {Path(a.reference).name}; {jax.default_backend()}, {cores} core(s); "
        "ms per frame, the first frame left out"
    )
    stages = list(runs[0]["stages"])
    heads = ["every " + str(r["every"]) + ": median" for r in runs]
    print(f"{'stage':<28}" + "".join(f"{h:>18}{'p99':>8}" for h in heads))
    for k in stages:
        print(
            f"{k:<28}" + "".join(f"{r['stages'][k]['median_ms']:>18.2f}{r['stages'][k]['p99_ms']:>8.2f}" for r in runs)
        )
    for r in runs:
        own, fps = r["own_stages_median_ms"], r["fps_end_to_end"]
        print(
            f"detector on every {r['every']} frame(s): dancejax's own stages {own:.2f} ms (target ≤ {TARGET_OWN_MS:g}: "
            f"{'met' if own <= TARGET_OWN_MS else 'not met'}); end to end {fps:.1f} fps (target ≥ {TARGET_FPS:g}: "
            f"{'met' if fps >= TARGET_FPS else 'not met'})"
        )
    print(f"\nthe engine's step on its own ({a.frames} frames after warm-up, 1 dancer)")
    for k, r in parts.items():
        print(f"{k:<28}{r['median_ms']:>10.2f}{r['p99_ms']:>8.2f}")
    print(f"\naccuracy, {acc['data']}: mean PCK (%)")
    print(f"{'':<68}{'@0.2':>7}{'@0.1':>7}{'@0.05':>7}   @0.05 on frames 0, 2, 4, ... / 1, 3, 5, ...")
    for k, row in acc["pck"].items():
        e, o = acc["pck_0.05_even_odd_frames"][k].values()
        print(f"{k:<68}{row['0.2']:>7.1f}{row['0.1']:>7.1f}{row['0.05']:>7.1f}{e:>12.1f} / {o:.1f}")
    save_results(
        a.out,
        {
            "command": "python -m benchmarks.video_latency" + (f" --video {a.video}" if a.video else ""),
            "backend": jax.default_backend(),
            "cores": cores,
            "video": str(video.name),
            "targets": {"own_stages_ms": TARGET_OWN_MS, "end_to_end_fps": TARGET_FPS},
            "runs": runs,
            "engine_parts": parts,
            "every_second_frame_accuracy": acc,
        },
    )
    print(f"saved {a.out}")


if __name__ == "__main__":
    main()
