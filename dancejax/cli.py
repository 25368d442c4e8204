"""The ``dancejax`` command.

    dancejax summary                                   # the shipped dataset, and the detector-noise statistics
    dancejax train --task prediction --method stga_net --preset quick --run runs/stga
    dancejax train --task prediction --data takes/ --manifest takes/manifest.csv --run runs/mine
    dancejax evaluate runs/stga                        # tables for a trained run (or a saved-model folder)
    dancejax predict runs/stga observed.bvh --out next.json
    dancejax refine runs/mkff keypoints.json --out refined.json
    dancejax study --config experiments/configs/study_recognition16.json --out results/study
    dancejax compare --task prediction --preset quick --seeds 0 1 2 --out results
    dancejax convert st_gcn.ntu-xsub.pth --layout ntu25 --out converted/
    dancejax feedback performance.bvh reference.bvh --out report/   # alignment, deviations, risk flags, HTML
    dancejax export runs/stga exported/ && dancejax run-exported exported/ inputs.npz

Every subcommand has ``--help``.  A run folder holds ``run.json`` (the command and the full
configuration), ``checkpoints/`` (periodic and best, resumable), ``model/`` (the saved model,
``dancejax.load_model``), ``history.json`` and ``evaluation.json``.  Bad input ends with one
line naming the file and the field, and exit status 2.

The persistent XLA compilation cache is on (in ``$DANCEJAX_CACHE`` or the user cache folder);
``--no-cache`` turns it off.  On Linux the C allocator keeps freed memory for reuse
(``keep_freed_memory``; ``DANCEJAX_MALLOC=system`` leaves it as the system sets it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from dancejax.errors import DataError

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8


def keep_freed_memory(log=None) -> bool:
    """Make glibc's allocator keep freed memory for reuse instead of returning it to the system.

    XLA:CPU allocates each step's buffers anew, from its worker threads.  By default glibc serves
    allocations of more than a few MB with fresh ``mmap`` pages (and thread arenas cap their heaps
    at 64 MB), so every step pays page faults on hundreds of MB that it has just freed: about
    112 000 minor faults (≈ 440 MB) per ST-GCN-10 train step, measured with ``getrusage``.  One
    arena, no ``mmap`` below 1 GB and no trimming of the heap keep the pages mapped: once the heap
    has grown, 161 faults per step, and the train steps of ST-GCN-10, MKFF-ST-GCN and STGA-Net
    16, 13 and 2 % faster on the 2-core CPU (``benchmarks/allocator.py``).  The cost: the
    process keeps its peak heap.

    Only for command-line entry points (the ``dancejax`` command, the experiment and benchmark
    scripts, the test suite), called before JAX starts its threads; never on import of the
    library.  ``DANCEJAX_MALLOC=system`` skips it.  Returns whether the settings were applied
    (False off glibc, e.g. macOS, or when skipped).
    """
    if os.environ.get("DANCEJAX_MALLOC", "").lower() == "system" or not sys.platform.startswith("linux"):
        return False
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    ok = all(
        mallopt(param, value) == 1
        for param, value in ((_M_ARENA_MAX, 1), (_M_MMAP_THRESHOLD, 1 << 30), (_M_TRIM_THRESHOLD, (1 << 31) - 1))
    )
    if log is not None and not ok:
        log("warning: glibc's mallopt refused an allocator setting; running with the system's")
    return ok


def enable_compilation_cache(path=None, log=print) -> str | None:
    """Turn on JAX's persistent compilation cache in ``path`` (default ``$DANCEJAX_CACHE`` or
    ``~/.cache/dancejax/jax``); if the folder cannot be written, warn and run uncached."""
    import jax

    path = Path(path or os.environ.get("DANCEJAX_CACHE") or Path.home() / ".cache" / "dancejax" / "jax")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write_test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as e:
        log(f"warning: compilation cache folder {path} is not writable ({e.strerror or e}); running uncached")
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return str(path)


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0.0 <= v < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {v}")
    return v


def run_folder(path) -> Path:
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise DataError(f"{p}: the run folder is a file, not a folder")
    return p


def dataset_from(args, log=print):
    """The shipped dataset, a user folder with a manifest, or an AIST++ annotation folder."""
    from dancejax.data import load_dataset
    from dancejax.data.build import load_aistpp
    from dancejax.data.user import from_folder

    if getattr(args, "aistpp", None):
        return load_aistpp(args.aistpp)
    if getattr(args, "data", None):
        return from_folder(args.data, args.manifest, log=log)
    if getattr(args, "manifest", None):
        raise DataError(f"{args.manifest}: --manifest needs --data (the folder the manifest's files are in)")
    return load_dataset()


def add_data_args(p):
    p.add_argument("--data", default=None, help="a folder of your own takes (BVH, ASF/AMC, NPZ, JSON, NTU)")
    p.add_argument("--manifest", default=None, help="CSV/JSON listing file, style, ... (default DATA/manifest.csv)")
    p.add_argument("--aistpp", default=None, help="an official AIST++ annotation folder")


# ---------------------------------------------------------------- subcommands


def cmd_summary(a):
    from dancejax.data.summary import print_summary

    print_summary(dataset_from(a), a.out)
    return 0


def cmd_train(a):
    from dancejax.parallel import initialize_distributed

    run = run_folder(a.run)
    initialize_distributed(a.coordinator, a.num_processes, a.process_id)
    import jax

    from dancejax.parallel import data_mesh
    from dancejax.saved import save_model
    from dancejax.tasks import get_task
    from dancejax.train.loop import fit

    task = get_task(a.task)
    method = a.method or ("mkff_stgcn" if a.task == "recognition" else "stga_net")
    over = {
        k: v
        for k, v in (
            ("epochs", a.epochs),
            ("batch_size", a.batch_size),
            ("seed", a.seed),
            ("max_train_windows", a.max_train_windows),
        )
        if v is not None
    }
    if a.task == "recognition" and a.real_fraction is not None:
        over.update(real_fraction=a.real_fraction, select_on="real_val", select="best")
    ds = dataset_from(a)
    kw = {"num_styles": len(ds.styles)} if a.task == "recognition" else {}
    cfg = task.make_config(method, a.preset, **kw, **over)
    data = task.load_data(ds, cfg)
    task.steps_per_epoch(data, cfg)  # batch against data: a clear error before any compilation
    mesh = data_mesh() if jax.device_count() > 1 else None
    main = jax.process_index() == 0
    if main:
        print(
            f"{jax.process_count()} process(es), {jax.device_count()} device(s) in the mesh "
            f"({jax.local_device_count()} local, backend {jax.default_backend()})",
            flush=True,
        )
        run.mkdir(parents=True, exist_ok=True)
        (run / "run.json").write_text(
            json.dumps(
                {
                    "command": sys.argv,
                    "task": task.NAME,
                    "method": method,
                    "preset": a.preset,
                    "data": _data_record(a),
                    "config": task.describe(cfg),
                },
                indent=1,
                default=str,
            )
        )
    res = fit(
        task,
        cfg,
        data,
        workdir=run / "checkpoints",
        mesh=mesh,
        validate=jax.process_count() == 1,
        log_every=a.log_every,
        log=print if main else None,
    )
    cfg = task.prepare(cfg, data)
    variables = res.best_variables[0] if cfg.select == "best" else res.variables[0]
    if main:
        summary = {"takes": len(ds.takes), "styles": ds.styles, "source": str(ds.path)}
        save_model(run / "model", task, cfg, variables, styles=ds.styles, data_summary=summary)
        (run / "history.json").write_text(
            json.dumps({"validations": res.histories[0], "step_losses": res.step_losses[0]}, indent=1)
        )
        print(f"trained {method} ({a.preset}) in {res.seconds:.1f}s; saved model {run / 'model'}")
        if a.losses_json:
            Path(a.losses_json).write_text(json.dumps(res.step_losses[0]))
        if not a.no_eval and jax.process_count() == 1:
            _evaluate_and_print(task, cfg, variables, data, run)
    return 0


def _data_record(a) -> dict:
    return {"data": a.data, "manifest": a.manifest, "aistpp": a.aistpp}


def _evaluate_and_print(task, cfg, variables, data, run: Path | None):
    ev = task.evaluate(cfg, variables, data)
    if task.NAME == "prediction":
        print(f"\nMPJPE (mm, root-relative), {data.protocol}")
        hz = ev["horizons_ms"]
        print(f"{'style':<16}" + "".join(f"{str(h) + ' ms':>10}" for h in hz))
        for st, e in list(ev["per_style"].items()) + [("overall", ev["overall"])]:
            print(f"{st:<16}" + "".join(f"{e['mpjpe_rel'][h]:>10.1f}" for h in hz))
        out = {k: v for k, v in ev.items() if k != "predictions"}
    else:
        print("\nmean PCK (%, GT-bbox normaliser) and style accuracy (% of windows)")
        print(f"{'set':<12}{'PCK@0.2':>9}{'PCK@0.1':>9}{'PCK@0.05':>10}{'style':>8}{'balanced':>10}")
        for name, e in ev.items():
            print(
                f"{name:<12}{e['pck'][0.2]['mean']:>9.1f}{e['pck'][0.1]['mean']:>9.1f}{e['pck'][0.05]['mean']:>10.1f}"
                f"{e.get('style_acc', float('nan')):>8.1f}{e.get('balanced_acc', float('nan')):>10.1f}"
            )
        out = {n: {k: v for k, v in e.items() if k not in ("prediction", "logits")} for n, e in ev.items()}
    if run is not None:
        (run / "evaluation.json").write_text(json.dumps(out, indent=1, default=float))
        print(f"saved {run / 'evaluation.json'}")
    return ev


def _model_folder(path) -> Path:
    p = Path(path)
    return p / "model" if (p / "model").is_dir() else p


def cmd_evaluate(a):
    from dancejax.saved import _task_of, load_model

    model = load_model(_model_folder(a.run))
    task = _task_of(model.meta["task"])
    if task.NAME == "classification":
        raise DataError(
            f"{a.run}: a converted ST-GCN classifier has no dancejax evaluation set; call it on "
            "NTU/Kinetics skeletons (dancejax.io.ntu / dancejax.io.kinetics stgcn_input)"
        )
    record = {}
    rj = Path(a.run) / "run.json"
    if rj.exists() and not (a.data or a.aistpp):
        record = json.loads(rj.read_text()).get("data", {})
    ns = argparse.Namespace(
        data=a.data or record.get("data"),
        manifest=a.manifest or record.get("manifest"),
        aistpp=a.aistpp or record.get("aistpp"),
    )
    ds = dataset_from(ns)
    data = task.load_data(ds, model.cfg)
    out = Path(a.out) if a.out else (Path(a.run) if Path(a.run).is_dir() and (Path(a.run) / "model").is_dir() else None)
    _evaluate_and_print(task, model.cfg, model.variables, data, out)
    return 0


def cmd_predict(a):
    import numpy as np

    from dancejax.data.user import read_sequence
    from dancejax.io.jsonfmt import write_frames_json
    from dancejax.saved import load_model
    from dancejax.sequence import PoseSequence, canonical

    model = load_model(_model_folder(a.run))
    if model.meta["task"] != "prediction":
        raise DataError(f"{a.run}: a {model.meta['task']} model; 'predict' needs a prediction model")
    seq = canonical(read_sequence(a.observed, a.fps, a.scale))
    if seq.positions.shape[-1] != model.cfg.model.dims:
        raise DataError(
            f"{a.observed}: field 'positions': the model predicts {model.cfg.model.dims}D poses, the file "
            f"has {seq.positions.shape[-1]}D"
        )
    if seq.num_frames < model.cfg.obs:
        raise DataError(
            f"{a.observed}: {seq.num_frames} frames at 25 fps; the model needs {model.cfg.obs} observed frames"
        )
    out = np.asarray(model(seq.positions[None], a.horizon))[0]
    result = PoseSequence(
        out,
        None,
        25.0,
        "lsp14",
        {"units": "m", "predicted_from": str(a.observed), "observed_frames": model.cfg.obs},
        source=str(a.observed),
    )
    dest = Path(a.out or Path(a.observed).with_suffix(".predicted.json"))
    if dest.suffix == ".npz":
        from dancejax.io.jsonfmt import write_npz

        write_npz(result, dest)
    else:
        write_frames_json(result, dest)
    print(
        f"predicted {out.shape[0]} frames ({out.shape[0] * 40} ms at 25 fps) after the last {model.cfg.obs} observed "
        f"frames of {a.observed}; wrote {dest}"
    )
    return 0


def cmd_refine(a):
    import numpy as np

    from dancejax.data.user import read_sequence
    from dancejax.io.jsonfmt import write_frames_json
    from dancejax.saved import load_model
    from dancejax.sequence import canonical

    model = load_model(_model_folder(a.run))
    if model.meta["task"] != "recognition":
        raise DataError(f"{a.run}: a {model.meta['task']} model; 'refine' needs a recognition model")
    seq = canonical(read_sequence(a.keypoints, a.fps))
    if seq.positions.shape[-1] != 2:
        raise DataError(
            f"{a.keypoints}: field 'positions': the refiner takes 2D keypoints, got {seq.positions.shape[-1]}D"
        )
    refined, probs = refine_sequence(model, seq.positions, seq.confidence)
    styles = model.styles or [str(i) for i in range(probs.shape[-1])]
    seq.positions, seq.labels = (
        refined,
        {**seq.labels, "refined_by": str(a.run), "style_posterior": dict(zip(styles, map(float, probs)))},
    )
    dest = Path(a.out or Path(a.keypoints).with_suffix(".refined.json"))
    write_frames_json(seq, dest)
    top = int(np.argmax(probs))
    print(
        f"refined {seq.num_frames} frames of {a.keypoints}; style: {styles[top]} ({100 * probs[top]:.0f} %); "
        f"wrote {dest}"
    )
    return 0


def refine_sequence(model, x, conf):
    """Refine a whole (T, J, 2) sequence with a windowed refiner: non-overlapping windows, the
    last one aligned to the end; returns (refined (T, J, 2), mean style posterior)."""
    import jax
    import numpy as np

    w = model.cfg.window
    t = x.shape[0]
    if t < w:
        raise DataError(f"input: {t} frames at 25 fps; the refiner needs at least its window of {w}")
    starts = list(range(0, t - w + 1, w))
    if starts[-1] != t - w:
        starts.append(t - w)
    xs = np.stack([x[s : s + w] for s in starts])
    cs = np.stack([conf[s : s + w] for s in starts])
    out, logits = model(xs, cs)
    out = np.asarray(out)
    refined = np.empty_like(x)
    for k, s in enumerate(starts):
        refined[s : s + w] = out[k]
    probs = np.asarray(jax.nn.softmax(np.asarray(logits), -1)).mean(0)
    return refined, probs


def cmd_study(a):
    from dancejax.study import run_config

    chunk = a.chunk_size
    if chunk is not None and chunk != "auto":
        try:
            chunk = int(chunk)
        except ValueError:
            raise DataError(f"--chunk-size: expected a positive integer or 'auto', got {chunk!r}") from None
    run_config(a.config, Path(a.out), chunk_size=chunk)
    return 0


def cmd_compare(a):
    from dancejax.compare import compare_prediction, compare_recognition

    if a.task == "prediction":
        compare_prediction(a.methods or _all("prediction"), a.preset or "quick", a.seeds, Path(a.out))
    else:
        compare_recognition(
            a.methods or _all("recognition"), a.preset or "quick", a.seeds, Path(a.out), sim_only=a.sim_only
        )
    return 0


def _all(task):
    from dancejax.tasks import get_task

    return list(get_task(task).METHODS)


def _read_take(path, fps=None, scale=None):
    from dancejax.data.user import SUFFIXES, read_sequence

    p = Path(path)
    if p.is_dir():
        files = sorted(
            f
            for f in p.iterdir()
            if f.suffix.lower() in SUFFIXES
            and f.suffix.lower() != ".json"
            or f.name.endswith(".json")
            and f.name != "manifest.json"
        )
        if len(files) != 1:
            raise DataError(f"{p}: a take folder must hold exactly one readable take; found {[f.name for f in files]}")
        p = files[0]
    return read_sequence(p, fps, scale)


def cmd_feedback(a):
    from dancejax.feedback import compare, write_report

    predictor = None
    if a.predictor:
        from dancejax.saved import load_model

        predictor = load_model(_model_folder(a.predictor))
        if predictor.meta["task"] != "prediction":
            raise DataError(f"{a.predictor}: --predictor needs a prediction model")
    perf, ref = _read_take(a.performance, a.fps, a.scale), _read_take(a.reference, a.fps, a.scale)
    result = compare(perf, ref, band=None if a.band <= 0 else a.band, predictor=predictor)
    files = write_report(result, Path(a.out), title=f"{Path(a.performance).name} against {Path(a.reference).name}")
    print(
        f"score {result['score']['value']:.0f}/100; mean deviation {result['deviation']['mean_position']:.3f} torso "
        f"lengths, {result['deviation']['mean_angle']:.1f} degrees; mean timing offset "
        f"{result['timing_offset_s']['mean']:+.2f} s (+ = behind); "
        f"{sum(1 for f in result['risk']['flags'] if 'frame' in f)} risk flag(s) on {result['risk']['checked_on']}"
    )
    for m in result["moments"]:
        print(
            f"  largest deviation at {m['time_s']:.2f} s (frame {m['frame']}): {m['deviation_torso']:.3f} torso "
            f"lengths, worst joint {m['worst_joint']}"
        )
    print("wrote " + ", ".join(str(f) for f in files.values()))
    return 0


def cmd_export(a):
    from dancejax.export import export_model
    from dancejax.saved import load_model

    model = load_model(_model_folder(a.run))
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

    from dancejax.export import run_exported

    src = Path(a.input)
    if not src.exists():
        raise DataError(f"{src}: input file not found")
    try:
        with np.load(src, allow_pickle=False) as z:
            inputs = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{src}: not a readable .npz of named input arrays ({e})") from None
    t0 = _time.perf_counter()
    out = run_exported(a.model, inputs)
    import jax

    flat = {
        "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path): np.asarray(v)
        for path, v in jax.tree_util.tree_leaves_with_path(out)
    }
    dest = Path(a.out or src.with_suffix(".out.npz"))
    np.savez(dest, **{k.replace("/", "_") or "output": v for k, v in flat.items()})
    print(
        f"ran {a.model} in {(_time.perf_counter() - t0) * 1000:.0f} ms; wrote {dest}: "
        + ", ".join(f"{k} {v.shape}" for k, v in flat.items())
    )
    return 0


def cmd_convert(a):
    from dancejax.convert import main as convert_main

    return convert_main(a.rest)


def build_parser() -> argparse.ArgumentParser:
    from dancejax.parallel import distributed_flags

    ap = argparse.ArgumentParser(
        prog="dancejax", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--no-cache", action="store_true", help="do not use the persistent compilation cache")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("summary", help="dataset summary and detector-noise statistics")
    add_data_args(p)
    p.add_argument("--out", default=None, help="folder for dataset_summary.{json,csv}")
    p.set_defaults(fn=cmd_summary)

    p = sub.add_parser("train", help="train one model into a run folder (resumes if the folder has checkpoints)")
    p.add_argument("--task", choices=["recognition", "prediction"], default="prediction")
    p.add_argument("--method", default=None, help="a registered model (default: the paper's: stga_net / mkff_stgcn)")
    p.add_argument(
        "--preset", default="quick", help="default/quick/original/test (prediction), paper/quick/test (recognition)"
    )
    add_data_args(p)
    p.add_argument("--epochs", type=positive_int, default=None)
    p.add_argument("--batch-size", type=positive_int, default=None)
    p.add_argument("--max-train-windows", type=positive_int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument(
        "--real-fraction", type=fraction, default=None, help="recognition: share of real detections per batch"
    )
    p.add_argument("--run", "--workdir", dest="run", required=True, help="the run folder")
    p.add_argument("--log-every", type=positive_int, default=20)
    p.add_argument("--losses-json", default=None, help="write the per-epoch losses here")
    p.add_argument("--no-eval", action="store_true", help="skip the evaluation after training")
    distributed_flags(p)
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser("evaluate", help="tables for a run folder or saved model")
    p.add_argument("run")
    add_data_args(p)
    p.add_argument("--out", default=None, help="folder for evaluation.json (default: the run folder)")
    p.set_defaults(fn=cmd_evaluate)

    p = sub.add_parser("predict", help="predicted next poses after an observed 3D take")
    p.add_argument("run")
    p.add_argument("observed", help="BVH, ASF/AMC, NPZ, JSON or NTU file")
    p.add_argument("--horizon", type=positive_int, default=None, help="frames to predict (≤ the model's)")
    p.add_argument("--fps", type=float, default=None, help="frame rate, for formats that carry none")
    p.add_argument("--scale", type=float, default=None, help="metres per file unit (default: detected)")
    p.add_argument("--out", default=None, help=".json (frame JSON) or .npz")
    p.set_defaults(fn=cmd_predict)

    p = sub.add_parser("refine", help="refined 2D keypoints and the style posterior of a keypoint file")
    p.add_argument("run")
    p.add_argument("keypoints", help="frame JSON, COCO JSON, NPZ or Kinetics JSON")
    p.add_argument("--fps", type=float, default=None)
    p.add_argument("--out", default=None)
    p.set_defaults(fn=cmd_refine)

    p = sub.add_parser("study", help="a hyper-parameter study as vmapped programs")
    p.add_argument("--config", required=True)
    p.add_argument("--out", default="results/study")
    p.add_argument("--chunk-size", default=None, help="settings per program: a positive integer or 'auto'")
    p.set_defaults(fn=cmd_study)

    p = sub.add_parser("compare", help="the paper's comparison tables, mean ± std over seeds")
    p.add_argument("--task", choices=["recognition", "prediction"], required=True)
    p.add_argument("--preset", default=None)
    p.add_argument("--methods", nargs="+", default=None)
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--sim-only", action="store_true", help="recognition: simulated detections only")
    p.add_argument("--out", default="results")
    p.set_defaults(fn=cmd_compare)

    p = sub.add_parser("feedback", help="a performance against a reference: alignment, deviations, risk flags, HTML")
    p.add_argument("performance", help="a take file (BVH, ASF/AMC, NPZ, JSON) or a folder holding one")
    p.add_argument("reference")
    p.add_argument("--out", default="feedback", help="the report folder")
    p.add_argument("--predictor", default=None, help="a prediction run: risk flags on its predicted next poses")
    p.add_argument("--band", type=float, default=0.25, help="Sakoe-Chiba band (fraction of the length; 0 = none)")
    p.add_argument("--fps", type=float, default=None)
    p.add_argument("--scale", type=float, default=None)
    p.set_defaults(fn=cmd_feedback)

    p = sub.add_parser("export", help="a trained model as a jax.export (StableHLO) artifact")
    p.add_argument("run")
    p.add_argument("out")
    p.add_argument("--kind", default=None, choices=["refiner", "predictor", "stream"])
    p.set_defaults(fn=cmd_export)

    p = sub.add_parser("run-exported", help="run an exported model on an .npz of named inputs (no model code)")
    p.add_argument("model")
    p.add_argument("input")
    p.add_argument("--out", default=None)
    p.set_defaults(fn=cmd_run_exported)

    p = sub.add_parser("convert", help="an original ST-GCN checkpoint to a saved model", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(fn=cmd_convert)
    return ap


def main(argv=None) -> int:
    ap = build_parser()
    a = ap.parse_args(argv)
    keep_freed_memory(log=lambda m: print(m, file=sys.stderr))
    if not a.no_cache:
        enable_compilation_cache()
    t0 = time.perf_counter()
    try:
        rc = a.fn(a)
    except DataError as e:
        print(f"dancejax {a.command}: error: {e}", file=sys.stderr)
        return 2
    if a.command not in ("convert",):
        print(f"[{a.command}: {time.perf_counter() - t0:.0f}s]", file=sys.stderr)
    return rc or 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
