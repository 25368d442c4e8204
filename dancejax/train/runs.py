"""The run folder: one layout for ``fit(workdir=...)`` and ``dancejax train --run``.

::

    RUN/
      run.json          the command, task, method, preset, the data (absolute paths), the
                        resolved split (take -> split) and the full configuration
      checkpoints/      periodic/ and best/ (orbax; ``dancejax.train.checkpoint``)
      model/            the saved model (``dancejax.load_model``)
      history.json      validations and step losses
      evaluation.json   the evaluation tables

A run folder remembers its data: ``dancejax evaluate RUN`` from any directory reads the same
takes with the same split, and ``--data`` re-points it to data that moved.
"""

from __future__ import annotations

import json
from pathlib import Path

from dancejax.errors import DataError

RUN_JSON = "run.json"
CHECKPOINTS = "checkpoints"
MODEL = "model"
SPLITS = ("train", "val", "test")


def checkpoint_folder(workdir) -> Path:
    """Where a run's checkpoints live: ``workdir/checkpoints``, or ``workdir`` itself when it is
    a checkpoint folder of the earlier layout (``periodic/`` or ``best/`` at its top)."""
    w = Path(workdir)
    if w.exists() and not w.is_dir():
        raise DataError(f"{w}: work directory is a file, not a folder")
    if w.name == CHECKPOINTS or (w / "periodic").is_dir() or (w / "best").is_dir():
        return w
    return w / CHECKPOINTS


def data_record(data=None, manifest=None, aistpp=None, joint_map=None) -> dict:
    """The data arguments with absolute paths (None: the shipped dataset)."""
    absolute = lambda p: None if p is None else str(Path(p).resolve())
    return {
        "data": absolute(data),
        "manifest": absolute(manifest),
        "aistpp": absolute(aistpp),
        "joint_map": absolute(joint_map),
    }


def split_record(ds) -> dict[str, str]:
    """take -> split of every take and 2D detection set of ``ds``."""
    return {name: split for name, (_, split) in ds.split_of().items()}


def split_table(ds) -> list[str]:
    """Lines of a table of takes per style and split, with the takes' names where few."""
    rows = ds.split_of()
    styles = sorted({st for st, _ in rows.values()})
    width = max([len(s) for s in styles] + [5]) + 2
    lines = [f"split of {len(rows)} takes ({ds.path}):", f"  {'style':<{width}}{'train':>7}{'val':>7}{'test':>7}"]
    for st in styles:
        counts = [sum(1 for s, sp in rows.values() if s == st and sp == split) for split in SPLITS]
        lines.append(f"  {st:<{width}}" + "".join(f"{c:>7}" for c in counts))
    if len(rows) <= 40:
        for split in SPLITS:
            names = [n for n, (_, sp) in rows.items() if sp == split]
            lines.append(f"  {split}: {', '.join(names) if names else '(none)'}")
    return lines


def check_splits(ds, strict: bool = False, log=print) -> list[str]:
    """Warnings about styles a split leaves out: a style with no test take is never measured;
    no validation take at all means validation falls back on test.  ``strict`` makes a style
    without a test take an error."""
    rows = ds.split_of()
    problems = []
    for st in sorted({s for s, _ in rows.values()}):
        have = {sp for s, sp in rows.values() if s == st}
        n = sum(1 for s, _ in rows.values() if s == st)
        if "test" not in have:
            problems.append(
                f"style {st!r} has {n} take(s), none in the test split: it is trained on but never evaluated "
                "(add takes, or set the manifest's split column)"
            )
    warnings = list(problems)
    if not any(sp == "val" for _, sp in rows.values()):
        warnings.append("no validation takes: validation (model selection) uses the test takes")
    if strict and problems:
        raise DataError(f"{ds.path}: " + "; ".join(problems) + " (--strict)")
    for w in warnings:
        log(f"warning: {w}")
    return warnings


def apply_splits(ds, record: dict[str, str]):
    """``ds`` with the split a run recorded (take -> split), so that a moved or re-read dataset is
    split as it was in training.  Every recorded take must be there."""
    import dataclasses

    missing = sorted(set(record) - set(ds.split_of()))
    if missing:
        raise DataError(
            f"{ds.path}: the run was trained on takes that are not in this data: {missing[:10]}"
            + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        )
    takes = [dataclasses.replace(t, split=record.get(t.name, t.split)) for t in ds.takes]
    dets = [dataclasses.replace(d, split=record.get(d.name, d.split)) for d in ds.detections]
    return type(ds).from_takes(takes, ds.path, dets, split_seed=ds.split_seed)


def write_run_json(run, record: dict) -> Path:
    run = Path(run)
    run.mkdir(parents=True, exist_ok=True)
    (run / RUN_JSON).write_text(json.dumps(record, indent=1, default=str))
    return run / RUN_JSON


def read_run_json(run) -> dict:
    """A run folder's ``run.json`` ({} when there is none, as in a saved-model folder)."""
    f = Path(run) / RUN_JSON
    if not f.exists():
        return {}
    try:
        d = json.loads(f.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"{f}: cannot read the run record ({e})") from None
    if not isinstance(d, dict):
        raise DataError(f"{f}: expected an object")
    return d
