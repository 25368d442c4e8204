"""Training machinery shared by every task: state, optimizers, checkpoints, the epoch loop.

* ``TrainState`` is a plain pytree (step, params, batch_stats, opt_state), so a
  train step is a pure function ``(state, batch, rng) -> (state, metrics)``.
* Optimizers are built with ``optax.inject_hyperparams`` so the learning rate and
  weight decay live in the optimizer state as arrays: one compiled step serves any
  value, and a study can vmap over them.
* ``Checkpointer`` writes orbax checkpoints: periodic (keep-last-N) and
  best-by-validation, both atomic (orbax writes to a temporary folder and renames).
* ``fit`` runs epochs with progress (step, loss, ETA), checkpoints, and resumes
  exactly: the data order of epoch e comes from (seed, e) and the step RNG from
  ``fold_in(key, step)``, so a resumed run repeats an uninterrupted one bit for bit.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
from flax import struct


@struct.dataclass
class TrainState:
    step: jnp.ndarray
    params: Any
    batch_stats: Any
    opt_state: Any


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    """``sgd``: SGD with momentum (the paper's preset); ``adam``: Adam (prediction presets)."""

    name: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    lr_decay: float = 0.95  # multiplied in once per epoch
    weight_decay: float = 0.0
    clip_norm: float = 0.0  # 0 = no clipping


def make_optimizer(cfg: OptimConfig) -> optax.GradientTransformation:
    if cfg.name not in ("sgd", "adam"):
        raise ValueError(f"Unsupported optimizer: {cfg.name!r}")

    def build(learning_rate, weight_decay):
        parts = [optax.clip_by_global_norm(cfg.clip_norm)] if cfg.clip_norm > 0 else []
        parts.append(optax.add_decayed_weights(weight_decay))
        if cfg.name == "sgd":
            parts.append(optax.sgd(learning_rate, momentum=cfg.momentum))
        else:
            parts.append(optax.adam(learning_rate))
        return optax.chain(*parts)

    return optax.inject_hyperparams(build)(learning_rate=cfg.lr, weight_decay=cfg.weight_decay)


def set_learning_rate(opt_state, lr):
    """Return ``opt_state`` with its injected learning rate replaced (traceable)."""
    hp = dict(opt_state.hyperparams)
    hp["learning_rate"] = jnp.asarray(lr, jnp.float32)
    return opt_state._replace(hyperparams=hp)


def epoch_learning_rate(base_lr, decay, step, steps_per_epoch: int):
    """lr × decay^epoch, the paper's per-epoch exponential decay."""
    return base_lr * decay ** (step // steps_per_epoch).astype(jnp.float32)


def optimizer_update(tx, state: TrainState, grads, hp: dict, steps_per_epoch: int):
    """Apply ``grads`` with the array hyper-parameters ``hp`` (lr, lr_decay, weight_decay)
    written into the injected optimizer state; returns (params, opt_state)."""
    opt_state = set_learning_rate(state.opt_state, epoch_learning_rate(hp["lr"], hp["lr_decay"], state.step,
                                                                       steps_per_epoch))
    hyper = dict(opt_state.hyperparams)
    hyper["weight_decay"] = hp["weight_decay"]
    updates, opt_state = tx.update(grads, opt_state._replace(hyperparams=hyper), state.params)
    return jax.tree_util.tree_map(lambda p, u: p + u, state.params, updates), opt_state


def place_on_mesh(state: TrainState, batch_size: int, mesh):
    """Data parallel: replicate the state over ``mesh`` and return a function that shards a
    batch's leading axis over it (the compiler then reduces the gradients)."""
    from dancejax.parallel import check_batch, replicate, shard_batch

    check_batch(batch_size, mesh)
    return replicate(state, mesh), lambda b: shard_batch(b, mesh)


_STEP_CACHE: dict = {}


def cached_step(key, build: Callable, keep_alive=None):
    """One compiled train step per *static* configuration.

    Values that enter the step as arrays (learning rate, loss weights, dropout, seeds)
    are normalised out of ``key`` by the caller, so runs that differ only in them reuse
    the same jitted function (and XLA's compilation cache behind it).  ``keep_alive``
    holds objects whose ``id`` is part of the key.
    """
    if key not in _STEP_CACHE:
        _STEP_CACHE[key] = (build(), keep_alive)
    return _STEP_CACHE[key][0]


def static_optim(o: OptimConfig) -> OptimConfig:
    return dataclasses.replace(o, lr=0.0, lr_decay=0.0, weight_decay=0.0)


def tree_l2(tree) -> jnp.ndarray:
    return jnp.sqrt(sum(jnp.vdot(x, x).real for x in jax.tree_util.tree_leaves(tree)))


class Checkpointer:
    """Periodic (keep-last-N) and best-by-validation orbax checkpoints in ``workdir``."""

    def __init__(self, workdir, keep: int = 3):
        self.workdir = Path(workdir).resolve()
        opts = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True)
        self.periodic = ocp.CheckpointManager(self.workdir / "periodic", options=opts)
        best_opts = ocp.CheckpointManagerOptions(max_to_keep=1, create=True)
        self.best = ocp.CheckpointManager(self.workdir / "best", options=best_opts)

    def save(self, epoch: int, state: TrainState, meta: dict, best: bool = False):
        args = ocp.args.Composite(state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(meta))
        self.periodic.save(epoch, args=args)
        if best:
            self.best.save(epoch, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                                          meta=ocp.args.JsonSave(meta)))
        self.periodic.wait_until_finished()
        self.best.wait_until_finished()

    def latest_epoch(self) -> int | None:
        return self.periodic.latest_step()

    def restore(self, template: TrainState, which: str = "periodic", epoch: int | None = None):
        mgr = self.periodic if which == "periodic" else self.best
        epoch = mgr.latest_step() if epoch is None else epoch
        if epoch is None:
            raise FileNotFoundError(f"no {which} checkpoint in {self.workdir}")
        abstract = jax.tree_util.tree_map(ocp.utils.to_shape_dtype_struct, template)
        out = mgr.restore(epoch, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract),
                                                         meta=ocp.args.JsonRestore()))
        return epoch, out["state"], out["meta"]

    def close(self):
        self.periodic.close()
        self.best.close()


class Progress:
    """One line per log interval: epoch, step, loss, steps/s, ETA.

    It counts steps on the host, so logging never waits for the device; metrics are
    only read back on the lines it prints.
    """

    def __init__(self, total_steps: int, name: str, every: int = 20, start_step: int = 0, stream=sys.stdout):
        self.total, self.name, self.every, self.stream = total_steps, name, every, stream
        self.t0 = time.perf_counter()
        self.step, self.done = start_step, 0

    def update(self, epoch: int, metrics: dict):
        self.step += 1
        self.done += 1
        if self.done % self.every and self.step != self.total:
            return
        rate = self.done / max(time.perf_counter() - self.t0, 1e-9)
        eta = (self.total - self.step) / max(rate, 1e-9)
        ms = " ".join(f"{k} {float(v):.4f}" for k, v in metrics.items())
        print(f"  [{self.name}] epoch {epoch} step {self.step}/{self.total} {ms} | {rate:.1f} steps/s, ETA {eta:.0f}s",
              file=self.stream, flush=True)


def fit(
    state: TrainState,
    train_step: Callable,
    epoch_batches: Callable[[int], Iterable],
    epochs: int,
    key,
    validate: Callable[[TrainState], float] | None = None,
    workdir=None,
    keep: int = 3,
    name: str = "train",
    stop_after_epochs: int | None = None,
    log_every: int = 20,
    steps_per_epoch: int | None = None,
    put_batch: Callable | None = None,
):
    """Train for ``epochs``, resuming from ``workdir`` if it holds a checkpoint.

    ``epoch_batches(e)`` yields the batches of epoch e (a pure function of e).
    ``validate(state)`` returns a score, higher is better, for best-checkpointing.
    ``stop_after_epochs`` ends this call early (as if interrupted) after that many epochs.
    ``put_batch`` places each batch (e.g. ``dancejax.parallel.shard_batch`` over a mesh).
    Returns (state, history) with per-epoch mean loss, per-step losses and validation score.
    """
    ckpt = Checkpointer(workdir, keep) if workdir else None
    start, history, best = 0, [], -np.inf
    if ckpt is not None and ckpt.latest_epoch() is not None:
        last, state, meta = ckpt.restore(state)
        start, history, best = last + 1, meta["history"], meta["best"]
        print(f"  [{name}] resumed from {ckpt.workdir} after epoch {last}", flush=True)
    spe = steps_per_epoch
    prog = Progress(spe * epochs, name, log_every, start_step=start * spe) if spe else None
    run_epochs = 0
    for epoch in range(start, epochs):
        losses = []
        for batch in epoch_batches(epoch):
            if put_batch is not None:
                batch = put_batch(batch)
            state, metrics = train_step(state, batch, jax.random.fold_in(key, state.step))
            losses.append(metrics["loss"])
            if prog is not None:
                prog.update(epoch, metrics)
        step_losses = [float(x) for x in jax.device_get(losses)]
        entry = {"epoch": epoch, "loss": float(np.mean(step_losses)), "step_losses": step_losses}
        if validate is not None:
            entry["val"] = float(validate(state))
        history.append(entry)
        is_best = validate is not None and entry["val"] > best
        best = max(best, entry.get("val", -np.inf))
        if ckpt is not None:
            ckpt.save(epoch, state, {"history": history, "best": best if np.isfinite(best) else -1e30},
                      best=is_best)
        run_epochs += 1
        if stop_after_epochs is not None and run_epochs >= stop_after_epochs:
            break
    if ckpt is not None:
        ckpt.close()
    return state, history


def fit_task(state: TrainState, step: Callable, hp: dict, epoch_batches: Callable[[int], Iterable], epochs: int,
             key, batch_size: int, validate: Callable[[TrainState], float] | None = None, workdir=None,
             name: str = "train", steps_per_epoch: int | None = None, stop_after_epochs: int | None = None,
             log_every: int = 20, mesh=None):
    """``fit`` as both tasks run it: the task's ``step(state, batch, rng, hp)`` with the run's
    array hyper-parameters bound, the loop's key folded from the run's ``key``, and data
    parallel over ``mesh`` when one is given.  Returns (variables, history)."""
    put = None
    if mesh is not None:
        state, put = place_on_mesh(state, batch_size, mesh)
    state, history = fit(state, lambda s, b, r: step(s, b, r, hp), epoch_batches, epochs, jax.random.fold_in(key, 1),
                         validate, workdir, name=name, stop_after_epochs=stop_after_epochs,
                         steps_per_epoch=steps_per_epoch, log_every=log_every, put_batch=put)
    return {"params": state.params, "batch_stats": state.batch_stats}, history


def save_json(path, obj):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(obj, indent=1, default=float))
