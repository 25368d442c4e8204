"""Hyper-parameter studies as vmapped, jit-compiled programs (paper §IV, SPEC §6).

A study is a grid over

* **array settings** — ``seed`` and the fields of the task's ``HParams`` (learning rate,
  decay, weight decay, dropout, and for recognition the loss weights and the detector-noise
  strength): settings that differ only in these are stacked along a leading axis and trained
  together by ``jax.jit(jax.vmap(train_step))``, one compilation for all of them;
* **shape settings** — any other model field (``width``, ``blocks``, ``widths`` …) or
  configuration field (``window``, ``top_k``, ``batch_size`` …): each combination is its own
  compiled program.

Every group runs through the ordinary training loop (``dancejax.train.loop.fit``), so a study
checkpoints and resumes from its work directory as a run does, and supports per-setting early
stopping (``patience``).  ``chunk_size`` caps the settings per program; ``'auto'`` measures the
per-setting cost of chunks of 1, 2, 4, … settings on a few steps first and runs with the
cheapest, printing its choice (on a 2-core CPU that is often 1: a vmapped program costs about as
much per setting as separate runs; on a GPU the widest chunk that fits).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np

from dancejax.errors import DataError
from dancejax.io.tables import write_csv
from dancejax.models import model_fields
from dancejax.train.loop import fit, selected_variables, stack

INT_FIELDS = {"seed"}


def array_params(task) -> tuple[str, ...]:
    return ("seed",) + tuple(f.name for f in dataclasses.fields(task.HParams))


def shape_params(task, base) -> tuple[str, ...]:
    cfg_fields = {f.name for f in dataclasses.fields(base)} - {
        "model",
        "method",
        "preset",
        "seed",
        "data_seed",
        "optim",
    }
    return tuple(sorted((set(model_fields(base.model)) | cfg_fields) - set(array_params(task))))


def validate_grid(task, base, grid, source: str = "study grid") -> None:
    """Clear errors for unknown names, empty or non-list values and wrong types."""
    if not isinstance(grid, dict) or not grid:
        raise DataError(
            f"{source}: expected a non-empty mapping of hyper-parameter names to lists of values, "
            f"got {type(grid).__name__}"
        )
    arrays, shapes = array_params(task), shape_params(task, base)
    for name, values in grid.items():
        if name not in arrays + shapes:
            raise DataError(
                f"{source}: unknown hyper-parameter {name!r} for {task.NAME}; array settings: "
                f"{', '.join(arrays)}; shape settings: {', '.join(shapes)}"
            )
        if not isinstance(values, (list, tuple)) or not values:
            raise DataError(f"{source}: {name!r} must be a non-empty list of values, got {values!r}")
        for v in values:
            if name in INT_FIELDS or (
                name in shapes and isinstance(_current(base, name), int) and not isinstance(_current(base, name), bool)
            ):
                ok, want = isinstance(v, int) and not isinstance(v, bool), "an integer"
            elif name in arrays:
                ok, want = isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v), "a finite number"
            else:
                ok, want = True, ""
            if not ok:
                raise DataError(f"{source}: {name!r} values must be {want}, got {v!r} ({type(v).__name__})")
            if name in shapes and isinstance(v, int) and not isinstance(v, bool) and v < 1 and name != "top_k":
                raise DataError(f"{source}: {name!r} must be positive, got {v}")


def _current(base, name):
    fields = model_fields(base.model)
    return fields[name] if name in fields else getattr(base, name, None)


def expand(grid: dict[str, list]) -> list[dict[str, Any]]:
    names = sorted(grid)
    return [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]


def setting_config(task, base, setting: dict):
    """The ordinary-run configuration of one study setting (the study's data seed kept)."""
    arrays = set(array_params(task))
    mf = model_fields(base.model)
    model_kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in setting.items() if k in mf and k not in arrays}
    cfg_kw = {k: v for k, v in setting.items() if k not in mf and k not in arrays}
    cfg = dataclasses.replace(
        base,
        model=base.model.clone(**model_kw) if model_kw else base.model,
        **cfg_kw,
        data_seed=base.seed if base.data_seed is None else base.data_seed,
    )
    return task.with_hparams(cfg, **{k: v for k, v in setting.items() if k in arrays})


@dataclasses.dataclass
class StudyResult:
    rows: list[dict]  # one per setting, ranked by validation score
    curves: dict[int, list[dict]]  # setting index -> per-validation {epoch, loss, val}
    seconds: float
    configs: dict[int, Any]
    variables: dict[int, dict]  # setting index -> the evaluated variables (final or best, per cfg.select)
    chunk_choices: list[str]

    @property
    def best(self) -> int:
        return self.rows[0]["setting"]


def choose_chunk(task, cfgs, data, log, steps: int = 3) -> int:
    """The chunk size with the lowest measured per-setting step cost among 1, 2, 4, … (≤ N).

    Doubling stops at the first chunk that costs more per setting than the one before (the cost
    curve falls while the device has idle capacity and rises after): every size tried is one
    more compilation, which the study pays for.  Each size's cost is its fastest of ``steps``
    timed steps after an untimed one: on a shared machine the other load only ever adds time,
    and a slow step in the probe would otherwise pick the wrong size."""
    step = task.make_train_step(cfgs[0], data)
    batch = next(iter(task.epoch_batches(data, cfgs[0], 0)))
    costs = {}
    c = 1
    while c <= len(cfgs):
        sub = cfgs[:c]
        states = stack([task.init_state(x, jax.random.key(x.seed)) for x in sub])
        hp = stack([task.hparams(x) for x in sub])
        keys = jax.random.split(jax.random.key(0), c)
        fn = jax.jit(jax.vmap(step, in_axes=(0, None, 0, 0)))
        for _ in range(2):  # compile, then one untimed run (first runs pay one-off costs)
            s, m = fn(states, batch, keys, hp)
            jax.block_until_ready(m)
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            s, m = fn(s, batch, keys, hp)
            jax.block_until_ready(m)
            times.append(time.perf_counter() - t0)
        costs[c] = min(times) / c
        if c > 1 and costs[c] > costs[c // 2]:
            break
        c *= 2
    best = min(costs, key=costs.get)
    log(
        "  chunk size by measurement: per-setting step cost "
        + ", ".join(f"{k}: {v * 1000:.1f} ms" for k, v in costs.items())
        + f" -> chunks of {best}"
    )
    return best


def run_study(
    task,
    base,
    grid: dict[str, list],
    data=None,
    dataset=None,
    chunk_size: int | str | None = None,
    patience: int | None = None,
    workdir=None,
    log=print,
    source: str = "study grid",
) -> StudyResult:
    """Train every setting of ``grid`` over ``base``; returns ranked rows with validation and
    test scores (``task.SCORE``, higher is better).

    Args:
        task: the task module.
        base: the configuration every setting starts from.
        grid: field -> list of values; array hyper-parameters (``task.HParams``) vary inside
            one compiled program, other fields group the settings into separate programs.
        data: ``task.load_data(...)`` (built from ``dataset`` when None).
        dataset: a ``DanceDataset`` (the shipped one when None).
        chunk_size: settings per program: an int, ``'auto'`` (measured), or None (all).
        patience: per-setting early stopping, in validations.
        workdir: checkpoint folder; a rerun resumes every chunk from it.
        log: progress printer.
        source: how errors name the grid.

    Returns:
        ``StudyResult``: ranked rows, curves, configs and variables per setting.
    """
    validate_grid(task, base, grid, source)
    if (
        chunk_size is not None
        and chunk_size != "auto"
        and (not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1)
    ):
        raise DataError(f"{source}: chunk_size must be a positive integer, 'auto' or null (all), got {chunk_size!r}")
    t0 = time.perf_counter()
    settings = expand(grid)
    cfgs = [setting_config(task, base, s) for s in settings]
    groups: dict[Any, list[int]] = {}
    for i, c in enumerate(cfgs):
        groups.setdefault(task.static_key(c), []).append(i)
    log(
        f"study: {len(settings)} settings of {task.NAME} ({base.method}) in {len(groups)} compiled program(s), "
        f"chunks of {chunk_size or 'all'}"
    )
    rows, curves, kept, choices = [None] * len(settings), {}, {}, []
    for g, idx in enumerate(groups.values()):
        gcfgs = [cfgs[i] for i in idx]
        gdata = data
        try:
            if gdata is None:
                raise DataError("no data")
            task.steps_per_epoch(gdata, gcfgs[0])
        except DataError:
            if dataset is None:
                from dancejax.data import load_dataset

                dataset = load_dataset()
            gdata = task.load_data(dataset, gcfgs[0])
        size = chunk_size
        if size == "auto":
            size = choose_chunk(task, gcfgs, gdata, log)
            choices.append(f"group {g}: {size}")
        size = size or len(idx)
        for c0 in range(0, len(idx), size):
            chunk = idx[c0 : c0 + size]
            wd = None if workdir is None else Path(workdir) / f"group{g}_chunk{c0 // size}"
            res = fit(
                task,
                [cfgs[i] for i in chunk],
                gdata,
                workdir=wd,
                patience=patience,
                log=log,
                name=f"{base.method} #{','.join(map(str, chunk))}",
            )
            for j, i in enumerate(chunk):
                cfg = task.prepare(cfgs[i], gdata)
                v = selected_variables(res, cfg, j)
                hist = res.histories[j]
                vals = [h["val"] for h in hist if "val" in h]
                val = (max(vals) if cfg.select == "best" else vals[-1]) if vals else float("nan")
                rows[i] = {
                    "setting": i,
                    **settings[i],
                    "val": val,
                    "test": float(task.score(cfg, v, gdata, "test")),
                    "epochs_run": res.epochs_run[j],
                }
                curves[i], kept[i] = hist, v
                cfgs[i] = cfg
    ranked = sorted(rows, key=lambda r: -r["val"] if np.isfinite(r["val"]) else np.inf)
    return StudyResult(ranked, curves, time.perf_counter() - t0, dict(enumerate(cfgs)), kept, choices)


def seed_summary(rows: list[dict], keys: list[str]) -> dict[str, tuple[float, float]]:
    """Mean and sample standard deviation over rows (seeds) of each numeric key."""
    out = {}
    for k in keys:
        a = np.array([r[k] for r in rows], float)
        out[k] = (float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0)
    return out


def save_tables(result: StudyResult, task, out: Path, grid: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_csv(
        out / f"study_{task.NAME}.csv",
        [{**row, "rank": r} for r, row in enumerate(result.rows, 1)],
        ["rank", "setting"] + sorted(grid) + ["val", "test", "epochs_run"],
    )
    (out / f"study_{task.NAME}.json").write_text(
        json.dumps(
            {
                "grid": grid,
                "score": task.SCORE,
                "rows": result.rows,
                "curves": {str(k): v for k, v in result.curves.items()},
                "seconds": result.seconds,
                "chunk_choices": result.chunk_choices,
            },
            indent=1,
            default=float,
        )
    )


CONFIG_KEYS = {"_doc", "task", "method", "preset", "epochs", "grid", "chunk_size", "patience", "overrides"}


def read_config(path) -> dict:
    """A study config file, checked: JSON object, known keys, types of every field."""
    from dancejax.tasks import TASKS

    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: study config not found")
    try:
        cfg = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise DataError(f"{path}: not a valid JSON study config ({type(e).__name__}: {e})") from None
    if not isinstance(cfg, dict):
        raise DataError(f"{path}: expected a JSON object, got {type(cfg).__name__}")
    unknown = sorted(set(cfg) - CONFIG_KEYS)
    if unknown:
        raise DataError(f"{path}: unknown key(s) {unknown}; keys are {sorted(CONFIG_KEYS - {'_doc'})}")
    for key in ("task", "epochs", "grid"):
        if key not in cfg:
            raise DataError(f"{path}: field {key!r} is required")
    if cfg["task"] not in TASKS:
        raise DataError(f"{path}: field 'task': expected one of {sorted(TASKS)}, got {cfg['task']!r}")
    e = cfg["epochs"]
    if not isinstance(e, int) or isinstance(e, bool) or e < 1:
        raise DataError(f"{path}: field 'epochs': expected a positive integer, got {e!r}")
    if not isinstance(cfg["grid"], dict):
        raise DataError(
            f"{path}: field 'grid': expected an object of name -> list of values, got {type(cfg['grid']).__name__}"
        )
    c = cfg.get("chunk_size")
    if c is not None and c != "auto" and (not isinstance(c, int) or isinstance(c, bool) or c < 1):
        raise DataError(f"{path}: field 'chunk_size': expected a positive integer, 'auto' or null, got {c!r}")
    pt = cfg.get("patience")
    if pt is not None and (not isinstance(pt, int) or isinstance(pt, bool) or pt < 0):
        raise DataError(f"{path}: field 'patience': expected a non-negative integer or null, got {pt!r}")
    for key in ("method", "preset"):
        if key in cfg and not isinstance(cfg[key], str):
            raise DataError(f"{path}: field {key!r}: expected a string, got {cfg[key]!r}")
    if not isinstance(cfg.get("overrides", {}), dict):
        raise DataError(f"{path}: field 'overrides': expected an object of config fields")
    return cfg


def run_config(path, out: Path, chunk_size=None, log=print) -> StudyResult:
    """Run the study a config file describes; print the ranked table; save CSV/JSON, two plots and
    the best setting as a saved model (``out/best_<task>``), evaluated by the normal code."""
    from dancejax.deploy.saved import load_model, save_model
    from dancejax.tasks import get_task

    spec = read_config(path)
    task = get_task(spec["task"])
    method = spec.get("method") or task.METHODS[0]
    try:
        base = task.make_config(method, spec.get("preset", "quick"), epochs=spec["epochs"], **spec.get("overrides", {}))
    except DataError as e:
        raise DataError(f"{path}: {e}") from None
    result = run_study(
        task,
        base,
        spec["grid"],
        chunk_size=chunk_size if chunk_size is not None else spec.get("chunk_size"),
        patience=spec.get("patience"),
        log=log,
        source=f"{path}: field 'grid'",
        workdir=Path(out) / "checkpoints",
    )
    names = sorted(spec["grid"])
    log(
        f"\nRanked settings ({task.NAME}, {method}, preset {spec.get('preset', 'quick')}, {spec['epochs']} epochs; "
        f"val/test = {task.SCORE}; {result.seconds:.0f}s for {len(result.rows)} settings)"
    )
    log(f"{'rank':>4} {'#':>3} " + "".join(f"{n:>14}" for n in names) + f"{'val':>10}{'test':>10}{'epochs':>8}")
    for r, row in enumerate(result.rows, 1):
        log(
            f"{r:>4} {row['setting']:>3} "
            + "".join(f"{str(row[n]):>14}" for n in names)
            + f"{row['val']:>10.2f}{row['test']:>10.2f}{row['epochs_run']:>8}"
        )
    out = Path(out)
    save_tables(result, task, out, spec["grid"])
    plots(result, spec["grid"], out, task.NAME, task.SCORE)
    best = result.best
    from dancejax.data import load_dataset

    best_dir = save_model(
        out / f"best_{task.NAME}", task, result.configs[best], result.variables[best], styles=load_dataset().styles
    )
    restored = load_model(best_dir)
    log(
        f"best setting #{best} saved as {best_dir}; restored, its test score is "
        f"{result.rows[0]['test']:.2f} ({task.SCORE}); evaluate it with: dancejax evaluate {best_dir}"
    )
    log(f"saved {out}/study_{task.NAME}.csv, .json, study_{task.NAME}_curves.png, study_{task.NAME}_hparams.png")
    del restored
    return result


def curve_label(row: dict, varied: list[str], i: int) -> str:
    """A study curve's legend: the settings it varies (``lr=0.001, dropout=0.1``), not an index."""
    text = lambda v: f"{v:g}" if isinstance(v, float) else str(v)
    return ", ".join(f"{n}={text(row[n])}" for n in varied if n in row) or f"#{i}"


def plots(result: StudyResult, grid, out: Path, name: str, score: str):
    import matplotlib

    matplotlib.use("Agg")
    import textwrap

    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    varied = [n for n in sorted(grid) if len(grid[n]) > 1]
    by_setting = {r["setting"]: r for r in result.rows}

    def label(i):
        return curve_label(by_setting.get(i, {}), varied, i)

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, hist in sorted(result.curves.items()):
        ax.plot([h["epoch"] + 1 for h in hist], [h.get("val", np.nan) for h in hist], "o-", ms=3, label=label(i))
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("\n".join(textwrap.wrap(f"validation {score}", 32)), fontsize=9)
    ax.grid(alpha=0.3)
    if len(result.curves) <= 16:
        ax.legend(fontsize=6, ncol=1 if len(result.curves) <= 8 else 2)
    fig.tight_layout()
    fig.savefig(out / f"study_{name}_curves.png", dpi=100)
    plt.close(fig)
    fig, axes = plt.subplots(
        1, max(len(varied), 1), figsize=(3.2 * max(len(varied), 1), 3.2), sharey=True, squeeze=False
    )
    for ax, n in zip(axes[0], varied):
        xs = [r[n] if np.isscalar(r[n]) else str(r[n]) for r in result.rows]
        ax.scatter(xs, [r["val"] for r in result.rows], s=14)
        ax.set_xlabel(n)
        if n in ("lr", "weight_decay") and all(np.isscalar(v) for v in grid[n]) and min(grid[n]) > 0:
            ax.set_xscale("log")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("\n".join(textwrap.wrap(f"final validation {score}", 32)), fontsize=9)
    fig.tight_layout()
    fig.savefig(out / f"study_{name}_hparams.png", dpi=100)
    plt.close(fig)
