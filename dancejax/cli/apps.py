"""The subcommands that use a trained model: predict, refine, export, run-exported, convert."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dancejax.cli.common import model_folder
from dancejax.errors import DataError


def cmd_predict(a):
    from dancejax.data.user import read_sequence
    from dancejax.deploy.saved import load_model
    from dancejax.deploy.takes import plot_prediction, predict_take, write_prediction
    from dancejax.io.sequence import canonical

    model = load_model(model_folder(a.run))
    if getattr(model, "KIND", None) != "predictor":
        raise DataError(f"{a.run}: a {model.meta['task']} model; 'predict' needs a prediction model")
    seq = canonical(read_sequence(a.observed, a.fps, a.scale, a.skeleton, log=print, joint_map=a.joint_map))
    if seq.positions.shape[-1] != model.cfg.model.dims:
        raise DataError(
            f"{a.observed}: field 'positions': the model predicts {model.cfg.model.dims}D poses, the file "
            f"has {seq.positions.shape[-1]}D"
        )
    if seq.num_frames < model.cfg.obs:
        raise DataError(
            f"{a.observed}: {seq.num_frames} frames at 25 fps; the model needs {model.cfg.obs} observed frames"
        )
    try:
        result = predict_take(model, seq.positions, a.every, a.horizon)
    except DataError as e:
        raise DataError(f"{a.observed}: {str(e).removeprefix('input: ')}") from None
    fmt = a.format or (Path(a.out).suffix.lstrip(".").lower() if a.out else "json") or "json"
    dest = Path(a.out or Path(a.observed).with_suffix(f".predicted.{fmt}"))
    write_prediction(result, dest, fmt, str(a.observed))
    h, n = result["horizon"], len(result["starts"])
    if n == 1:
        print(
            f"predicted {h} frames ({h * 40} ms at 25 fps) after the last {model.cfg.obs} observed frames of "
            f"{a.observed}; wrote {dest}"
        )
    else:
        import numpy as np

        err, zero = result["mpjpe_mm"], result["zero_velocity_mm"]
        scored = ~np.isnan(err)
        print(
            f"predicted {h} frames after every {a.every} frames of {a.observed}: {n} predictions; wrote {dest}"
            + (
                f"; mean MPJPE {np.mean(err[scored]):.1f} mm over the {int(scored.sum())} the take covers "
                f"(zero velocity: {np.mean(zero[scored]):.1f} mm; root-relative)"
                if scored.any()
                else ""
            )
        )
    if a.plot:
        print(f"wrote {plot_prediction(result, a.plot, title=Path(a.observed).name)}")
    return 0


def cmd_refine(a):
    import numpy as np

    from dancejax.data.user import read_sequence
    from dancejax.deploy.saved import load_model
    from dancejax.deploy.takes import refine_take
    from dancejax.io.jsonfmt import write_frames_json

    model = load_model(model_folder(a.run))
    if getattr(model, "KIND", None) != "refiner":
        raise DataError(f"{a.run}: a {model.meta['task']} model; 'refine' needs a recognition model")
    seq = read_sequence(a.keypoints, a.fps, person=a.person)
    if any("no ground truth" in n for n in model.meta.get("data", {}).get("notes", [])):
        print(
            "note: this model learned styles from 2D keypoint takes without ground truth; its refined "
            "keypoints are untrained"
        )
    out, probs = refine_take(model, seq, a.keypoints)
    styles = model.styles or [str(i) for i in range(probs.shape[-1])]
    out.labels.update(refined_by=str(a.run), style_posterior=dict(zip(styles, map(float, probs))))
    dest = Path(a.out or Path(a.keypoints).with_suffix(".refined.json"))
    write_frames_json(out, dest)
    order = np.argsort(-probs)
    print(
        f"refined {out.num_frames} frames of {a.keypoints} ({out.fps:g} fps, its own frames); style: "
        + ", ".join(f"{styles[k]} {100 * probs[k]:.0f} %" for k in order[:3])
        + f" (of the model's {len(styles)} styles: {', '.join(styles)}); wrote {dest}"
    )
    return 0


def cmd_export(a):
    from dancejax.deploy.export import export_model
    from dancejax.deploy.saved import load_model

    model = load_model(model_folder(a.run))
    out = export_model(model, a.out, a.kind)
    sig = json.loads((out / "signature.json").read_text())
    print(
        f"exported {sig['kind']} ({sig['method']}) to {out}: {sig['bytes'] / 1e3:.0f} kB of StableHLO; inputs "
        + ", ".join(f"{k} {v['shape']}" for k, v in sig["inputs"].items())
    )
    return 0


def cmd_run_exported(a):
    import time as _time

    import numpy as np

    from dancejax.deploy.export import run_exported

    src = Path(a.input)
    if not src.exists():
        raise DataError(f"{src}: input file not found")
    from dancejax.io.validate import load_npz

    inputs = load_npz(src, ".npz of named input arrays")
    from dancejax.deploy.export import named_outputs

    t0 = _time.perf_counter()
    out = run_exported(a.model, inputs)
    flat = named_outputs(a.model, out)
    dest = Path(a.out or src.with_suffix(".out.npz"))
    np.savez(dest, **flat)
    print(
        f"ran {a.model} in {(_time.perf_counter() - t0) * 1000:.0f} ms; wrote {dest}: "
        + ", ".join(f"{k} {v.shape}" for k, v in flat.items())
    )
    return 0


def cmd_convert(a):
    from dancejax.deploy.convert import main as convert_main

    return convert_main(a.rest)


def add_parsers(sub) -> None:
    """Add this module's subcommands to the ``dancejax`` parser."""
    from dancejax.cli.common import positive_int

    p = sub.add_parser(
        "predict",
        help="predicted next poses after an observed 3D take",
        description="Predicts the next poses after the last observed frames of a 3D take, or with --every N "
        "after every N-th frame of the whole take (each scored against what the take did next).  Outputs "
        "carry the LSP-14 joint names and units (metres, 25 fps).",
    )
    p.add_argument("run")
    p.add_argument("observed", help="BVH, ASF/AMC (with --skeleton), NPZ, JSON or NTU file")
    p.add_argument("--horizon", type=positive_int, default=None, help="frames to predict (≤ the model's)")
    p.add_argument("--every", type=positive_int, default=None, help="predict after every N frames of the take")
    p.add_argument("--fps", type=float, default=None, help="frame rate, for formats that carry none")
    p.add_argument("--scale", type=float, default=None, help="metres per file unit (default: from the skeleton)")
    p.add_argument("--skeleton", default=None, help="the .asf skeleton of an .amc take")
    p.add_argument("--joint-map", default=None, help="a BVH's LSP-14 name -> joint name (JSON or two-column CSV)")
    p.add_argument("--format", choices=["json", "npz", "bvh"], default=None, help="default: --out's suffix, or json")
    p.add_argument("--out", default=None, help="output file (default: OBSERVED.predicted.FORMAT)")
    p.add_argument("--plot", default=None, help="also draw the observed and predicted poses into this PNG")
    p.set_defaults(fn=cmd_predict)

    p = sub.add_parser(
        "refine",
        help="refined 2D keypoints and the style posterior of a keypoint file",
        description="Refines 2D keypoints and reports the style posterior over the model's own style names.  "
        "The output has the input's frames and frame rate (LSP-14 joints).  A clip shorter than the model's "
        "window is padded by repeating its first and last frames; a single image is refused (the refiner "
        "needs motion).  In a COCO file with several people per image, --person K keeps the K-th by score "
        "(detections) or area (annotations) in each image, 0 (the default) being the highest; ranks follow "
        "no identity across frames.",
    )
    p.add_argument("run")
    p.add_argument("keypoints", help="frame JSON, COCO JSON, NPZ or Kinetics JSON")
    p.add_argument("--fps", type=float, default=None)
    p.add_argument("--person", type=int, default=None, help="COCO files: the rank of the person kept (default 0)")
    p.add_argument("--out", default=None)
    p.set_defaults(fn=cmd_refine)

    p = sub.add_parser("export", help="a trained model as a jax.export (StableHLO) artifact")
    p.add_argument("run")
    p.add_argument("out")
    p.add_argument("--kind", default=None, choices=["refiner", "predictor", "stream"])
    p.set_defaults(fn=cmd_export)

    p = sub.add_parser(
        "run-exported",
        help="run an exported model on an .npz of named inputs (no model code)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""Runs an exported model (dancejax export) on the arrays of an .npz file.

The .npz holds one array per input that MODEL/signature.json lists, under the same name and
with its shape ("b" is any batch size).  A predictor takes 'observed' (b, obs, 14, 3), metres,
25 fps; a refiner 'keypoints' (b, window, 14, 2), pixels, and 'confidence' (b, window, 14).
In Python:

    import numpy as np
    np.savez("inputs.npz", observed=observed.astype(np.float32))          # a predictor
    np.savez("inputs.npz", keypoints=x.astype(np.float32),
             confidence=c.astype(np.float32))                             # a refiner

The outputs are saved under the signature's output names (predicted; refined and
style_scores; ...).""",
    )
    p.add_argument("model")
    p.add_argument("input")
    p.add_argument("--out", default=None)
    p.set_defaults(fn=cmd_run_exported)

    p = sub.add_parser("convert", help="an original ST-GCN checkpoint to a saved model", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_convert)
