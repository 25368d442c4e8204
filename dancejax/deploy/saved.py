"""Saved models: a trained model with everything needed to use it again.

A saved model is a folder::

    model/
      dancejax_model.json   format, version, task, method, the full configuration, layout,
                            style names, preset, training-data summary, dancejax version
      variables/            the parameters and batch statistics (orbax)

``save_model(path, task, cfg, variables, ...)`` writes one; ``load_model(path)`` returns a
ready ``Refiner`` (recognition: refined keypoints and style scores) or ``Predictor``
(prediction), with ``.cfg``, ``.variables`` and ``.meta``.  What is saved is a *kind*: one of
the tasks (``dancejax.tasks.TASKS``) or a converted ST-GCN classifier
(``dancejax.deploy.classifier``); each kind says how its configuration is described and read
back, what its variables look like and how they become a ready callable, so nothing here
depends on which kind it is.  Training, studies, the checkpoint
converter and the command line all write this format.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp

from dancejax import __version__
from dancejax.deploy import classifier
from dancejax.errors import DataError
from dancejax.io.validate import load_versioned_json
from dancejax.tasks import TASKS

FORMAT = "dancejax-model"
VERSION = 1
META = "dancejax_model.json"


def save_model(
    path,
    task,
    cfg,
    variables,
    styles=None,
    data_summary: dict | None = None,
    extra: dict | None = None,
    overwrite: bool = True,
) -> Path:
    """Write ``variables`` and ``cfg`` of ``task`` (a task module or its name) to the folder ``path``.

    Args:
        path: the saved-model folder (created; an existing non-empty folder must be a saved model).
        task: ``dancejax.tasks.recognition``/``dancejax.tasks.prediction`` or its name.
        cfg: the run configuration (``task.make_config``).
        variables: ``{"params": ..., "batch_stats": ...}``.
        styles: the style names of a recognition model's classes.
        data_summary: what it was trained on (stored in the metadata).
        extra: more metadata.
        overwrite: replace an existing saved model at ``path``.

    Returns:
        The folder's resolved path.
    """
    task = kind_of(task) if isinstance(task, str) else task
    path = Path(path).resolve()
    if path.exists() and not path.is_dir():
        raise DataError(f"{path}: a file is in the way of the saved-model folder")
    if path.exists() and any(path.iterdir()):
        if not overwrite:
            raise DataError(f"{path}: folder exists and is not empty")
        if not (path / META).exists():
            raise DataError(f"{path}: folder exists and is not a saved model; refusing to overwrite it")
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "dancejax_version": __version__,
        "task": task.NAME,
        "method": cfg.method,
        "preset": cfg.preset,
        "config": task.describe(cfg),
        "layout": getattr(cfg, "layout", "lsp14"),
        "styles": list(styles) if styles is not None else None,
        "data": data_summary or {},
        **(extra or {}),
    }
    tmp = Path(tempfile.mkdtemp(prefix=".saving_", dir=path.parent if path.parent.exists() else None))
    try:
        with _local_checkpointer() as ck:
            ck.save(tmp / "variables", jax.tree_util.tree_map(np.asarray, dict(variables)))
        (tmp / META).write_text(json.dumps(meta, indent=1, default=_json_default))
        if path.exists():
            shutil.rmtree(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def _local_checkpointer():
    """An orbax checkpointer for this process alone (a saved model is written by one process,
    also in a multi-process run, so no cross-process barrier may be involved)."""
    me = jax.process_index()
    return ocp.StandardCheckpointer(
        multiprocessing_options=ocp.options.MultiprocessingOptions(primary_host=me, active_processes={me})
    )


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def read_meta(path) -> dict:
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no saved model here (folder not found)")
    if not path.is_dir():
        raise DataError(f"{path}: a saved model is a folder, this is a file")
    f = path / META
    if not f.exists():
        raise DataError(f"{path}: incomplete saved model: {META} is missing")
    meta = load_versioned_json(
        f,
        FORMAT,
        VERSION,
        lambda d, v: (
            f"the model was saved by a newer format (version {v}, written by dancejax "
            f"{d.get('dancejax_version')}; this is dancejax {__version__})"
        ),
    )
    for key in ("task", "config"):
        if key not in meta:
            raise DataError(f"{f}: field {key!r} is missing")
    if not (path / "variables").is_dir():
        raise DataError(f"{path}: incomplete saved model: the 'variables' folder is missing")
    return meta


KINDS = {**TASKS, classifier.NAME: classifier}


def save_classifier(path, cfg, variables, source: str | None = None) -> Path:
    """Write a converted ST-GCN classifier (``dancejax.deploy.classifier``) as a saved model."""
    return save_model(path, classifier, cfg, variables, extra={"converted_from": source}, styles=None)


def kind_of(name: str):
    """The task (or the converted classifier) that saved models of kind ``name`` belong to."""
    if name not in KINDS:
        raise DataError(f"unknown saved-model kind {name!r}; kinds are {', '.join(KINDS)}")
    return KINDS[name]


def load_model(path):
    """The saved model at ``path`` as a ready ``Refiner``, ``Predictor`` or (a converted ST-GCN)
    ``Classifier``.

    Args:
        path: a folder written by ``save_model`` (or ``dancejax train``/``convert``).

    Returns:
        A callable model with ``.cfg`` and ``.variables``.

    Raises:
        DataError: the folder is incomplete, damaged, or of a newer format version.
    """
    path = Path(path).resolve()
    meta = read_meta(path)
    kind = kind_of(meta["task"])
    try:
        cfg = kind.from_description(meta["config"])
    except (TypeError, ValueError, KeyError) as e:
        raise DataError(f"{path / META}: field 'config' cannot be read ({type(e).__name__}: {e})") from None
    abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, kind.variables_template(cfg))
    try:
        with _local_checkpointer() as ck:
            variables = ck.restore(path / "variables", abstract)
    except Exception as e:  # orbax/tensorstore errors differ by the kind of damage
        raise DataError(
            f"{path / 'variables'}: cannot restore the parameters ({type(e).__name__}: "
            f"{str(e).splitlines()[0][:300] if str(e) else ''})"
        ) from None
    model = kind.ready_model(cfg, variables, meta)
    model.meta = meta
    return model
