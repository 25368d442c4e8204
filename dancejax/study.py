"""Hyper-parameter studies as one vmapped, jit-compiled program (SPEC §6).

A study is a grid over

* vmappable settings — ``seed`` and the per-run hyper-parameters that enter the
  train step as arrays (``lr``, ``lr_decay``, ``weight_decay``, ``dropout``, and for
  recognition the loss's ``lam`` (weight of the top-k term), ``style_weight`` and the
  augmentation's detector-``noise_strength``): they are stacked along a leading axis
  with the parameters and optimizer states, and trained together by
  ``jax.jit(jax.vmap(train_step))`` — one compilation for all of them;
* shape settings — ``width``, ``depth``, ``window`` (recognition) or ``obs`` (prediction),
  ``top_k``: they change array shapes, so each combination is its own compiled program.

Every setting sees the same batches (the study's data seed); each has its own
initialisation and step RNG from its seed, exactly as an ordinary run with that seed
and that data seed, so a study reproduces N separate runs.  Settings run in chunks of
``chunk_size`` when N is larger than memory allows.  With ``patience`` a setting whose
validation score stopped improving is frozen by masking while the others go on.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dancejax import prediction, recognition
from dancejax.data import load_dataset
from dancejax.errors import DataError
from dancejax.metrics import pck_table
from dancejax.parallel import shard_batch
from dancejax.report import write_csv
from dancejax.train.common import Checkpointer, TrainState

SHAPE_PARAMS = {
    "recognition": ("width", "depth", "window", "top_k"),
    "prediction": ("width", "depth", "obs"),
}
VMAP_PARAMS = {
    "recognition": ("seed",) + recognition.HPARAMS,
    "prediction": ("seed",) + prediction.HPARAMS,
}
INT_PARAMS = {"seed", "width", "depth", "window", "top_k", "obs"}


def validate_grid(task: str, grid: dict[str, list]) -> None:
    if task not in VMAP_PARAMS:
        raise DataError(f"unknown study task {task!r}; use 'recognition' or 'prediction'")
    known = VMAP_PARAMS[task] + SHAPE_PARAMS[task]
    for name, values in grid.items():
        if name not in known:
            raise DataError(f"study grid: unknown hyper-parameter {name!r} for {task}; known: {', '.join(known)}")
        if not isinstance(values, (list, tuple)) or not values:
            raise DataError(f"study grid: {name!r} must be a non-empty list of values, got {values!r}")
        for v in values:
            ok = isinstance(v, int) and not isinstance(v, bool) if name in INT_PARAMS else \
                isinstance(v, (int, float)) and not isinstance(v, bool)
            if not ok:
                want = "an integer" if name in INT_PARAMS else "a number"
                raise DataError(f"study grid: {name!r} values must be {want}, got {v!r} ({type(v).__name__})")
            if name in INT_PARAMS - {"seed"} and v < 1:
                raise DataError(f"study grid: {name!r} must be positive, got {v}")


def expand(grid: dict[str, list]) -> list[dict[str, Any]]:
    names = sorted(grid)
    return [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]


def shaped_config(task: str, base, shape: dict):
    """The base config with one combination of shape settings applied."""
    cfg = base
    m = cfg.model
    if "width" in shape or "depth" in shape:
        if task == "recognition":
            depth = shape.get("depth", len(m.widths))
            width = shape.get("width", m.widths[0])
            widths = tuple(width * (2 if i >= depth // 2 else 1) for i in range(depth))
            m = dataclasses.replace(m, widths=widths, strides=(1,) * depth)
        else:
            m = dataclasses.replace(m, width=shape.get("width", m.width), blocks=shape.get("depth", m.blocks),
                                    ltd_blocks=shape.get("depth", m.ltd_blocks),
                                    simlpe_blocks=shape.get("depth", m.simlpe_blocks))
    if "obs" in shape:
        m = dataclasses.replace(m, obs=shape["obs"])
    cfg = dataclasses.replace(cfg, model=m)
    if "window" in shape:
        cfg = dataclasses.replace(cfg, window=shape["window"])
    if "top_k" in shape:
        cfg = dataclasses.replace(cfg, top_k=shape["top_k"])
    return cfg


def setting_config(task: str, base_shaped, setting: dict):
    """The ordinary-run config equivalent to one study setting (for reruns and checkpoints)."""
    cfg = dataclasses.replace(base_shaped, seed=setting.get("seed", base_shaped.seed),
                              data_seed=base_shaped.seed if base_shaped.data_seed is None else base_shaped.data_seed)
    o = cfg.optim
    o = dataclasses.replace(o, lr=setting.get("lr", o.lr), lr_decay=setting.get("lr_decay", o.lr_decay),
                            weight_decay=setting.get("weight_decay", o.weight_decay))
    cfg = dataclasses.replace(cfg, optim=o, model=dataclasses.replace(cfg.model, dropout=setting.get("dropout", cfg.model.dropout)))
    if task == "recognition":
        cfg = dataclasses.replace(cfg, lam=setting.get("lam", cfg.lam), style_weight=setting.get("style_weight", cfg.style_weight),
                                  noise_strength=setting.get("noise_strength", cfg.noise_strength))
    return cfg


def _task(task):
    return recognition if task == "recognition" else prediction


def _stack(trees):
    return jax.tree_util.tree_map(lambda *x: jnp.stack(x), *trees)


def _index(tree, i):
    return jax.tree_util.tree_map(lambda x: x[i], tree)


def _score(task, cfg, variables, data, which: str) -> float:
    """Higher is better: PCK@0.05 (%) for recognition, −MPJPE (mm) for prediction."""
    if task == "recognition":
        s = data.sets[which]
        pred, _ = recognition.predict_set(cfg, variables, s)
        return float(pck_table(pred, s["gt"], s["visible"], (0.05,))[0.05]["mean"])
    w = data.val if which == "val" else np.concatenate(list(data.eval_sets.values()))
    out = prediction.Predictor(cfg.model, variables)(w[:, :cfg.model.obs])
    return -1000.0 * float(jnp.linalg.norm(out - w[:, cfg.model.obs:], axis=-1).mean())


@dataclasses.dataclass
class StudyResult:
    rows: list[dict]  # one per setting, ranked
    curves: dict[int, list[dict]]  # setting index -> per-epoch {loss, val}
    seconds: float
    best_config: Any = None
    best_variables: Any = None
    variables: dict | None = None  # setting index -> variables, with keep_variables=True


def run_study(task: str, base, grid: dict[str, list], epochs: int, data=None, chunk_size: int | None = None,
              patience: int | None = None, mesh=None, log=print, keep_variables: bool = False) -> StudyResult:
    """Train every setting of ``grid``; returns ranked rows with validation and test scores."""
    validate_grid(task, grid)
    mod = _task(task)
    t0 = time.perf_counter()
    settings = expand(grid)
    shape_names = [n for n in SHAPE_PARAMS[task] if n in grid]
    groups: dict[tuple, list[int]] = {}
    for i, s in enumerate(settings):
        groups.setdefault(tuple(s[n] for n in shape_names), []).append(i)
    log(f"study: {len(settings)} settings of {task} in {len(groups)} compiled program(s) "
        f"(shape settings {shape_names or 'none'}), {epochs} epochs, chunks of {chunk_size or 'all'}")
    rows, curves, kept = [None] * len(settings), {}, {}
    best = (-np.inf, None, None)
    for key, idx in groups.items():
        shaped = shaped_config(task, dataclasses.replace(base, epochs=epochs), dict(zip(shape_names, key)))
        if task == "recognition":
            gdata = data if data is not None and data.train3d.positions.shape[1] == shaped.window else \
                recognition.load_data(load_dataset(), shaped.window, shaped.stride, shaped.seed)
        else:
            gdata = data if data is not None and data.train.shape[1] == shaped.model.obs + shaped.model.pred else \
                prediction.load_data(load_dataset(), shaped.model.obs, shaped.model.pred)
        spe = mod.steps_per_epoch(gdata, shaped)
        step = mod.make_train_step(shaped, gdata, spe, jit=False) if task == "recognition" else \
            mod.make_train_step(shaped, spe, jit=False)
        vstep = jax.jit(jax.vmap(step, in_axes=(0, None, 0, 0)))
        chunks = [idx[i:i + (chunk_size or len(idx))] for i in range(0, len(idx), chunk_size or len(idx))]
        for chunk in chunks:
            cfgs = [setting_config(task, shaped, settings[i]) for i in chunk]
            keys = [jax.random.key(c.seed) for c in cfgs]
            states = _stack([mod.init_state(c, k) for c, k in zip(cfgs, keys)])
            hps = _stack([mod.default_hparams(c) for c in cfgs])
            step_keys = jnp.stack([jax.random.fold_in(k, 1) for k in keys])
            active = np.ones(len(chunk), bool)
            best_val = np.full(len(chunk), -np.inf)
            since = np.zeros(len(chunk), int)
            hist = {i: [] for i in chunk}
            data_cfg = cfgs[0]
            for epoch in range(epochs):
                losses = []
                for batch in mod.epoch_batches(gdata, data_cfg, epoch):
                    if mesh is not None:
                        batch = shard_batch(batch, mesh)
                    rngs = jax.vmap(jax.random.fold_in)(step_keys, states.step)
                    new, metrics = vstep(states, batch, rngs, hps)
                    if active.all():
                        states = new
                    else:  # frozen (early-stopped) settings keep their state
                        mask = jnp.asarray(active)
                        states = jax.tree_util.tree_map(
                            lambda n, o: jnp.where(mask.reshape((-1,) + (1,) * (n.ndim - 1)), n, o), new, states)
                    losses.append(metrics["loss"])
                mean_loss = np.asarray(jnp.stack(losses).mean(0))
                for j, i in enumerate(chunk):
                    if not active[j]:
                        continue
                    v = {"params": _index(states.params, j), "batch_stats": _index(states.batch_stats, j)}
                    val = _score(task, cfgs[j], v, gdata, "sim_val" if task == "recognition" else "val")
                    hist[i].append({"epoch": epoch, "loss": float(mean_loss[j]), "val": val})
                    if val > best_val[j]:
                        best_val[j], since[j] = val, 0
                    else:
                        since[j] += 1
                    if patience is not None and since[j] >= patience:
                        active[j] = False
                log("  " + " | ".join(
                    f"#{i} {'·' if not active[j] else ''}loss {hist[i][-1]['loss']:.4f} val {hist[i][-1]['val']:.2f}"
                    for j, i in enumerate(chunk) if hist[i]) + f"  [epoch {epoch + 1}/{epochs}, "
                    f"{time.perf_counter() - t0:.0f}s]")
                if not active.any():
                    break
            for j, i in enumerate(chunk):
                v = {"params": _index(states.params, j), "batch_stats": _index(states.batch_stats, j)}
                test = _score(task, cfgs[j], v, gdata, "aist_real" if task == "recognition" else "test")
                rows[i] = {"setting": i, **settings[i], "val": hist[i][-1]["val"], "test": test,
                           "epochs_run": len(hist[i])}
                curves[i] = hist[i]
                if keep_variables:
                    kept[i] = v
                if hist[i][-1]["val"] > best[0]:
                    best = (hist[i][-1]["val"], cfgs[j], v)
    ranked = sorted(rows, key=lambda r: -r["val"])
    return StudyResult(ranked, curves, time.perf_counter() - t0, best[1], best[2], kept if keep_variables else None)


def save_best(result: StudyResult, workdir) -> Path:
    """Write the best setting as an ordinary checkpoint (the normal ``Checkpointer`` layout)."""
    cfg, v = result.best_config, result.best_variables
    mod = recognition if isinstance(cfg, recognition.RecognitionConfig) else prediction
    template = mod.init_state(cfg, jax.random.key(cfg.seed))
    state = TrainState(jnp.int32(0), v["params"], v["batch_stats"], template.opt_state)
    ck = Checkpointer(workdir, keep=1)
    ck.save(0, state, {"history": result.curves[result.rows[0]["setting"]], "best": result.rows[0]["val"],
                       "config": repr(cfg)}, best=True)
    ck.close()
    return Path(workdir)


def save_tables(result: StudyResult, task: str, out: Path, grid: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / f"study_{task}.csv", [{**row, "rank": r} for r, row in enumerate(result.rows, 1)],
              ["rank", "setting"] + sorted(grid) + ["val", "test", "epochs_run"])
    (out / f"study_{task}.json").write_text(json.dumps({"grid": grid, "rows": result.rows, "curves": result.curves,
                                                        "seconds": result.seconds}, indent=1, default=float))
