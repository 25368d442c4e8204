"""The subcommands that train and measure: summary, train, evaluate, study, compare."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dancejax.cli.common import dataset_from, model_folder, run_folder
from dancejax.errors import DataError


def cmd_summary(a):
    from dancejax.data.summary import print_summary

    print_summary(dataset_from(a), a.out)
    return 0


def cmd_train(a):
    from dancejax.train.parallel import initialize_distributed

    run = run_folder(a.run)
    initialize_distributed(a.coordinator, a.num_processes, a.process_id)
    import jax

    from dancejax.deploy.saved import save_model
    from dancejax.tasks import get_task
    from dancejax.train.loop import fit, selected_variables
    from dancejax.train.parallel import data_mesh

    task = get_task(a.task)
    method = a.method or task.DEFAULT_METHOD
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
    if a.dims is not None:
        over["model"] = {"dims": a.dims}
    from dancejax.train.runs import check_splits, data_record, split_record, split_table, write_run_json

    ds = dataset_from(a)
    main = jax.process_index() == 0
    say = print if main else (lambda m: None)
    for line in split_table(ds):
        say(line)
    check_splits(ds, strict=a.strict, log=say)
    try:
        cfg = task.config_for_data(method, a.preset, ds, real_fraction=a.real_fraction, **over)
    except ValueError as e:  # a model without the field --dims sets
        if a.dims is None:
            raise
        raise DataError(f"--dims: {e}") from None
    data = task.load_data(ds, cfg)
    for note in getattr(data, "notes", ()):
        say(note)
    task.steps_per_epoch(data, cfg)  # batch against data: a clear error before any compilation
    mesh = data_mesh() if jax.device_count() > 1 else None
    if main:
        print(
            f"{jax.process_count()} process(es), {jax.device_count()} device(s) in the mesh "
            f"({jax.local_device_count()} local, backend {jax.default_backend()})",
            flush=True,
        )
        write_run_json(
            run,
            {
                "command": sys.argv,
                "cwd": str(Path.cwd()),
                "task": task.NAME,
                "method": method,
                "preset": a.preset,
                "data": data_record(a.data, a.manifest, a.aistpp, a.joint_map),
                "data_notes": list(getattr(data, "notes", ())),
                "splits": split_record(ds),
                "config": task.describe(cfg),
            },
        )
    res = fit(
        task,
        cfg,
        data,
        workdir=run,
        mesh=mesh,
        validate=jax.process_count() == 1,
        log_every=a.log_every,
        log=print if main else None,
    )
    cfg = task.prepare(cfg, data)
    variables = selected_variables(res, cfg)
    if main:
        summary = {
            "takes": len(ds.takes),
            "styles": ds.styles,
            "source": str(ds.path),
            "notes": list(getattr(data, "notes", ())),
        }
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


def _evaluate_and_print(task, cfg, variables, data, run: Path | None):
    ev = task.evaluate(cfg, variables, data)
    out = task.print_evaluation(ev, data)
    if run is not None:
        (run / "evaluation.json").write_text(json.dumps(out, indent=1, default=float))
        print(f"saved {run / 'evaluation.json'}")
    return ev


def cmd_evaluate(a):
    from dancejax.deploy.saved import kind_of, load_model
    from dancejax.tasks import TASKS

    model = load_model(model_folder(a.run))
    task = kind_of(model.meta["task"])
    if task not in TASKS.values():
        raise DataError(f"{a.run}: {task.NO_EVALUATION}")
    from dancejax.train.runs import RUN_JSON, apply_splits, read_run_json, split_table

    run = read_run_json(a.run)
    record = {} if (a.data or a.aistpp) else run.get("data", {})
    ns = argparse.Namespace(
        data=a.data or record.get("data"),
        manifest=a.manifest or record.get("manifest"),
        aistpp=a.aistpp or record.get("aistpp"),
        joint_map=a.joint_map or record.get("joint_map"),
    )
    for key in ("data", "aistpp"):
        where = getattr(ns, key)
        if where and key in record and not Path(where).is_dir():
            raise DataError(
                f"{where} (the data recorded in {Path(a.run) / RUN_JSON}): not a folder; give --data (or --aistpp) "
                "to re-point the run to where the data is now"
            )
    ds = dataset_from(ns)
    if run.get("splits"):
        ds = apply_splits(ds, run["splits"])
    for line in split_table(ds):
        print(line)
    data = task.load_data(ds, model.cfg)
    out = Path(a.out) if a.out else (Path(a.run) if Path(a.run).is_dir() and (Path(a.run) / "model").is_dir() else None)
    _evaluate_and_print(task, model.cfg, model.variables, data, out)
    return 0


def cmd_study(a):
    from dancejax.studies.study import run_config

    chunk = a.chunk_size
    if chunk is not None and chunk != "auto":
        try:
            chunk = int(chunk)
        except ValueError:
            raise DataError(f"--chunk-size: expected a positive integer or 'auto', got {chunk!r}") from None
    run_config(a.config, Path(a.out), chunk_size=chunk)
    return 0


def cmd_compare(a):
    from dancejax.studies.compare import compare_task
    from dancejax.tasks import get_task

    compare_task(get_task(a.task), a.methods, a.preset or "quick", a.seeds, Path(a.out), sim_only=a.sim_only)
    return 0


def cmd_refinement(a):
    from dancejax.studies.refinement import benchmark

    benchmark(a.preset, a.seeds, Path(a.out), dataset_from(a), a.methods, smoothnet=not a.no_smoothnet)
    return 0


def add_parsers(sub) -> None:
    """Add this module's subcommands to the ``dancejax`` parser."""
    from dancejax.cli.common import add_data_args, fraction, positive_int
    from dancejax.tasks import TASKS
    from dancejax.train.parallel import distributed_flags

    p = sub.add_parser("summary", help="dataset summary and detector-noise statistics")
    add_data_args(p)
    p.add_argument("--out", default=None, help="folder for dataset_summary.{json,csv}")
    p.set_defaults(fn=cmd_summary)

    p = sub.add_parser("train", help="train one model into a run folder (resumes if the folder has checkpoints)")
    p.add_argument("--task", choices=list(TASKS), default="prediction")
    p.add_argument("--method", default=None, help="a registered model (default: the paper's: stga_net / mkff_stgcn)")
    p.add_argument("--preset", default="quick", help="test/quick/default/original (the authors' recipe; also 'paper')")
    add_data_args(p)
    p.add_argument("--epochs", type=positive_int, default=None)
    p.add_argument("--batch-size", type=positive_int, default=None)
    p.add_argument("--max-train-windows", type=positive_int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument(
        "--dims",
        type=int,
        choices=(2, 3),
        default=None,
        help="prediction: the pose dimension (3: metres; 2: pixels, the takes through random virtual cameras)",
    )
    p.add_argument(
        "--real-fraction", type=fraction, default=None, help="recognition: share of real detections per batch"
    )
    p.add_argument("--run", "--workdir", dest="run", required=True, help="the run folder")
    p.add_argument("--log-every", type=positive_int, default=20)
    p.add_argument("--losses-json", default=None, help="write the per-epoch losses here")
    p.add_argument("--no-eval", action="store_true", help="skip the evaluation after training")
    p.add_argument("--strict", action="store_true", help="a style with no test take is an error (by default a warning)")
    distributed_flags(p)
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser(
        "evaluate",
        help="tables for a run folder or saved model",
        description="Tables for a run folder (its data and split, from run.json, from any directory) or a "
        "saved model.  --data re-points a run to data that moved (the manifest in the new folder).",
    )
    p.add_argument("run")
    add_data_args(p)
    p.add_argument("--out", default=None, help="folder for evaluation.json (default: the run folder)")
    p.set_defaults(fn=cmd_evaluate)

    p = sub.add_parser("study", help="a hyper-parameter study as vmapped programs")
    p.add_argument("--config", required=True)
    p.add_argument("--out", default="results/study")
    p.add_argument("--chunk-size", default=None, help="settings per program: a positive integer or 'auto'")
    p.set_defaults(fn=cmd_study)

    p = sub.add_parser("compare", help="the paper's comparison tables, mean ± std over seeds")
    p.add_argument("--task", choices=list(TASKS), required=True)
    p.add_argument("--preset", default=None)
    p.add_argument("--methods", nargs="+", default=None)
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--sim-only", action="store_true", help="recognition: simulated detections only")
    p.add_argument("--out", default="results")
    p.set_defaults(fn=cmd_compare)

    p = sub.add_parser("refinement", help="the refinement benchmark on real detections: accuracy, jitter, look-ahead")
    p.add_argument("--preset", default="quick", help="test/quick/original (SmoothNet's own recipe at original)")
    p.add_argument("--methods", nargs="+", default=["hbrnn", "stgcn", "mkff_stgcn"], help="recognition refiners")
    p.add_argument("--no-smoothnet", action="store_true", help="leave out the SmoothNet rows")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    add_data_args(p)
    p.add_argument("--out", default="results/refinement")
    p.set_defaults(fn=cmd_refinement)
