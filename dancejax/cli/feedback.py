"""The feedback subcommands: a performance compared with a reference (``feedback``), and the
known-answer validation of that comparison on real takes (``feedback-validate``)."""

from __future__ import annotations

from pathlib import Path

from dancejax.cli.common import model_folder
from dancejax.errors import DataError


def cmd_feedback(a):
    from dancejax.feedback import compare, write_report
    from dancejax.feedback.video import read_takes, write_video_report

    predictor = None
    if a.predictor:
        from dancejax.deploy.saved import load_model

        predictor = load_model(model_folder(a.predictor))
        if getattr(predictor, "KIND", None) != "predictor":
            raise DataError(f"{a.predictor}: --predictor needs a prediction model")
    take_kw = {"skeleton": a.skeleton, "joint_map": a.joint_map}  # ASF/AMC and BVH takes
    perf, ref, video = read_takes(a.performance, a.reference, a.fps, a.scale, keypoints=a.keypoints, **take_kw)
    band = "auto" if a.band is None else None if a.band <= 0 else a.band
    result = compare(perf, ref, band=band, predictor=predictor, mirror=a.mirror)
    files = write_report(result, Path(a.out), title=f"{Path(a.performance).name} against {Path(a.reference).name}")
    if video is not None:
        files.update(write_video_report(result, video, Path(a.out)))
    print(f"score {result['score']['value']:.0f}/100: {result['score']['definition']}")
    for ph in result["score"]["phrases"]:
        print(
            f"  phrase {ph['reference_start_s']:.0f}-{ph['reference_end_s']:.0f} s of the reference: "
            f"{ph['score']:.0f}/100 (most off: {ph['worst_part']}, {ph['worst_part_deg']:.0f}° on average)"
        )
    off = result["timing_offset_s"]
    print(
        f"timing: {off['mean']:+.2f} s on average (+ = behind), "
        f"from {off['max_ahead']:+.2f} to {off['max_behind']:+.2f} s"
    )
    for i, m in enumerate(result["moments"], 1):
        print(f"  {i}. {m['sentence']}")
    flags = [f for f in result["risk"]["flags"] if "frame" in f]
    print(f"{len(flags)} risk flag(s), checked on {result['risk']['checked_on']}")
    for f in flags:
        print(f"  - {f['sentence']}")
    for f in result["risk"]["flags"]:
        if "note" in f:
            print(f"  - {f['rule']}: {f['note']}")
    print("wrote " + ", ".join(str(f) for f in files.values()))
    return 0


def add_parsers(sub) -> None:
    """Add this module's subcommands to the ``dancejax`` parser."""
    p = sub.add_parser("feedback", help="a performance against a reference: alignment, deviations, risk flags, HTML")
    p.add_argument("performance", help="a take file (BVH, ASF/AMC, NPZ, JSON) or a folder holding one")
    p.add_argument("reference")
    p.add_argument("--out", default="feedback", help="the report folder")
    p.add_argument("--predictor", default=None, help="a prediction run: risk flags on its predicted next poses")
    p.add_argument(
        "--band",
        type=float,
        default=None,
        help="most the timing may differ, as a fraction of the longer take (0 = no limit; default: 0.25 plus the "
        "difference in length)",
    )
    p.add_argument("--fps", type=float, default=None)
    p.add_argument("--scale", type=float, default=None)
    p.add_argument("--skeleton", default=None, help="the .asf skeleton of .amc takes")
    p.add_argument("--joint-map", default=None, help="BVH takes: LSP-14 name -> joint name (JSON or two-column CSV)")
    p.add_argument(
        "--mirror", action="store_true", help="compare with the mirror image of the reference (a teacher facing you)"
    )
    p.add_argument(
        "--keypoints",
        choices=["filtered", "refined"],
        default="filtered",
        help="a video's keypoints: the detections smoothed (default; the more accurate on real held-out "
        "detections) or the refiner's output",
    )
    p.set_defaults(fn=cmd_feedback)
    v = sub.add_parser(
        "feedback-validate",
        help="known-answer validation of the feedback on real takes: timing, localisation, score, risk flags",
    )
    v.add_argument("--out", default="results/feedback_validation", help="folder for validation.json and the CSVs")
    v.add_argument("--quick", action="store_true", help="one take per style and fewer pairs (a few minutes)")
    v.add_argument("--seed", type=int, default=0)
    v.set_defaults(fn=cmd_feedback_validate)


def cmd_feedback_validate(a):
    import sys

    from dancejax.data import load_dataset
    from dancejax.data.noise import calibrate
    from dancejax.feedback.validate import report_text, run_all, write_tables

    ds = load_dataset()
    result = run_all(ds, calibrate(ds), quick=a.quick, seed=a.seed, log=lambda m: print(m, file=sys.stderr))
    print(report_text(result))
    files = write_tables(result, Path(a.out))
    print("wrote " + ", ".join(str(f) for f in files))
    return 0
