"""The training loop every run and every study uses.

``fit(task, cfgs, data)`` trains N settings that share one static configuration (the same
shapes, so one compiled program):

* N = 1 is an ordinary run: the task's train step under ``jax.jit``;
* N > 1 is a study: parameters, optimizer states and the array hyper-parameters (the task's
  ``HParams``) are stacked along a leading axis and the step runs under
  ``jax.jit(jax.vmap(step))``.  Every setting sees the same batches (the first setting's data
  seed); each has its own initialisation and step RNG from its own seed, so a study
  reproduces N separate runs.

Both resume from ``workdir`` (a run folder: checkpoints in ``workdir/checkpoints``, the layout
``dancejax train --run`` writes, ``dancejax.train.runs``): the data order of epoch e is a pure
function of (data seed, e) and the step RNG is ``fold_in(key, step)``, so a resumed run repeats an uninterrupted one bit
for bit.  Checkpoints are written after every validation (every ``cfg.eval_every`` epochs and
after the last), periodic and best-by-validation; a damaged latest checkpoint is skipped for
the newest intact one (``dancejax.train.checkpoint``).  With ``patience`` a setting whose
validation score has not improved for that many validations is frozen (its state is kept by
masking) while the others go on.

Epochs are counted from 1 in every message.  Ctrl-C (SIGINT) in the main thread stops the run
after the step in progress: the checkpointer finishes what it is writing, leaves no temporary
folder, and ``fit`` raises ``TrainingInterrupted`` (a ``KeyboardInterrupt``) that says where it
stopped and which checkpoint a rerun resumes from.  A second Ctrl-C interrupts at once.

The task is a module with ``init_state``, ``hparams``, ``make_train_step``, ``epoch_batches``,
``steps_per_epoch``, ``score`` and ``trainable`` (see ``dancejax.tasks``).
"""

from __future__ import annotations

import dataclasses
import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from dancejax.train.checkpoint import Checkpointer
from dancejax.train.runs import checkpoint_folder


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped ``fit``: ``epoch`` (from 1) and ``step`` where it stopped, and the epoch
    (from 1) of the newest checkpoint a rerun resumes from (None: none)."""

    def __init__(self, epoch: int, step: int, last_checkpoint: int | None, workdir=None):
        self.epoch, self.step, self.last_checkpoint, self.workdir = epoch, step, last_checkpoint, workdir
        where = (
            "no checkpoint was written"
            if last_checkpoint is None
            else f"the last checkpoint is epoch {last_checkpoint}"
        )
        super().__init__(f"interrupted at epoch {epoch}, step {step}; {where}")


class _StopOnSigint:
    """The first SIGINT sets a flag the loop checks between steps; the second interrupts at once."""

    def __init__(self):
        self.hit, self._old = False, None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, *_):
        self.hit = True
        signal.signal(signal.SIGINT, self._old or signal.default_int_handler)

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


class Progress:
    """One line per log interval: epoch, step, loss, steps/s, ETA.  It counts steps on the
    host, so logging never waits for the device; metrics are read back only on printed lines."""

    def __init__(self, total_steps: int, name: str, every: int = 20, start_step: int = 0, log=None):
        self.total, self.name, self.every = total_steps, name, every
        self.log = log or (lambda m: print(m, file=sys.stdout, flush=True))
        self.t0 = time.perf_counter()
        self.step, self.done = start_step, 0

    def update(self, epoch: int, metrics: dict):
        self.step += 1
        self.done += 1
        if self.every <= 0 or (self.done % self.every and self.step != self.total):
            return
        rate = self.done / max(time.perf_counter() - self.t0, 1e-9)
        eta = (self.total - self.step) / max(rate, 1e-9)
        ms = " ".join(f"{k} {float(np.mean(np.asarray(v))):.4f}" for k, v in metrics.items())
        self.log(
            f"  [{self.name}] epoch {epoch + 1} step {self.step}/{self.total} {ms} | {rate:.1f} steps/s, ETA {eta:.0f}s"
        )


@dataclasses.dataclass
class FitResult:
    variables: list[dict]  # final {'params', 'batch_stats'} per setting
    best_variables: list[dict]  # best by validation per setting (the final ones without validation)
    histories: list[list[dict]]  # per setting: per-validation {epoch, loss, val}
    epochs_run: list[int]
    seconds: float
    step_losses: list[list[float]] = dataclasses.field(default_factory=list)  # per setting, steps run in this call


def selected_variables(result: FitResult, cfg, j: int = 0) -> dict:
    """The variables a run keeps for setting ``j``: the best by validation when ``cfg.select``
    is 'best', else the final ones."""
    return result.best_variables[j] if cfg.select == "best" else result.variables[j]


def stack(trees):
    return jax.tree_util.tree_map(lambda *x: jnp.stack(x), *trees)


def index(tree, i):
    return jax.tree_util.tree_map(lambda x: x[i], tree)


def _where(mask, new, old):
    return jax.tree_util.tree_map(lambda n, o: jnp.where(mask.reshape((-1,) + (1,) * (n.ndim - 1)), n, o), new, old)


def variables_of(state) -> dict:
    return {"params": state.params, "batch_stats": state.batch_stats}


def run_plan(task, cfg, data) -> tuple[int, int, int]:
    """(steps per epoch, epochs, total steps) of a configuration on ``data``."""
    spe = task.steps_per_epoch(data, cfg)
    total = cfg.iterations if getattr(cfg, "iterations", None) else cfg.epochs * spe
    return spe, math.ceil(total / spe), total


def fit(
    task,
    cfgs,
    data,
    workdir=None,
    keep: int = 3,
    patience: int | None = None,
    validate: bool = True,
    log: Callable[[str], Any] | None = print,
    log_every: int = 20,
    stop_after_epochs: int | None = None,
    mesh=None,
    name: str | None = None,
) -> FitResult:
    """Train the settings ``cfgs`` (one config or a list sharing ``task.static_key``).

    One setting runs the jitted train step; several run as one ``vmap``-ed program.  With a
    ``workdir`` it checkpoints periodically (and the best by validation) and resumes from the
    newest intact checkpoint.

    Args:
        task: the task module (``dancejax.tasks.recognition`` or ``dancejax.tasks.prediction``).
        cfgs: one configuration or a list of them.
        data: ``task.load_data(...)``.
        workdir: checkpoint folder (None: no checkpoints).
        keep: periodic checkpoints kept.
        patience: stop a setting after this many validations without improvement.
        validate: score on validation every ``cfg.eval_every`` epochs.
        log: progress printer (None: silent).
        log_every: steps between progress lines.
        stop_after_epochs: stop early (tests of resume).
        mesh: a ``jax.sharding.Mesh`` for data-parallel training of one setting.
        name: the name in progress lines.

    Returns:
        ``FitResult``: final and best variables per setting, histories, epochs run, seconds.

    Raises:
        TrainingInterrupted: Ctrl-C; the checkpoints are intact and a rerun resumes.
    """
    with _StopOnSigint() as stop:
        return _fit(
            task, cfgs, data, workdir, keep, patience, validate, log, log_every, stop_after_epochs, mesh, name, stop
        )


def _interrupted(ckpt, epoch: int, step: int):
    last = ckpt.latest_epoch() if ckpt is not None else None
    if ckpt is not None:
        ckpt.close()
    raise TrainingInterrupted(epoch + 1, step, None if last is None else last + 1, ckpt.workdir if ckpt else None)


def _fit(task, cfgs, data, workdir, keep, patience, validate, log, log_every, stop_after_epochs, mesh, name, stop):
    t0 = time.perf_counter()
    cfgs = list(cfgs) if isinstance(cfgs, (list, tuple)) else [cfgs]
    static = {task.static_key(c) for c in cfgs}
    if len(static) != 1:
        raise ValueError(
            "fit: the settings differ in more than array hyper-parameters and seeds; "
            "group them by task.static_key first (dancejax.studies.study does)"
        )
    cfg0, n = cfgs[0], len(cfgs)
    say = log or (lambda m: None)
    name = name or cfg0.method
    keys = [jax.random.key(c.seed) for c in cfgs]
    states = [task.init_state(c, k) for c, k in zip(cfgs, keys)]
    if not task.trainable(cfg0):
        vs = [variables_of(s) for s in states]
        return FitResult(vs, vs, [[] for _ in cfgs], [0] * n, time.perf_counter() - t0, [[] for _ in cfgs])
    spe, epochs, total = run_plan(task, cfg0, data)
    step_fn = task.make_train_step(cfg0, data)
    hps = [task.hparams(c) for c in cfgs]
    step_keys = [jax.random.fold_in(k, 1) for k in keys]
    put = None
    if n == 1:
        state, hp, step_key = states[0], hps[0], step_keys[0]
        if mesh is not None:
            from dancejax.train.parallel import check_batch, replicate, shard_batch

            check_batch(cfg0.batch_size, mesh)
            state = replicate(state, mesh)
            put = lambda b: shard_batch(b, mesh)
        jstep = jax.jit(step_fn)
        rngs_of = lambda st: jax.random.fold_in(step_key, st.step)
    else:
        state, hp, step_key = stack(states), stack(hps), jnp.stack(step_keys)
        jstep = jax.jit(jax.vmap(step_fn, in_axes=(0, None, 0, 0)))
        rngs_of = lambda st: jax.vmap(jax.random.fold_in)(step_key, st.step)
        if mesh is not None:
            raise ValueError("fit: data parallel over a mesh runs one setting at a time (N = 1)")
    best_state = state
    history = [[] for _ in cfgs]
    best = np.full(n, -np.inf)
    since = np.zeros(n, int)
    active = np.ones(n, bool)
    ran = np.zeros(n, int)
    step_losses = [[] for _ in cfgs]
    start = 0
    ckpt = Checkpointer(checkpoint_folder(workdir), keep) if workdir else None
    if ckpt is not None:
        template = {"state": state, "best": best_state}
        got = ckpt.restore_latest(template, log=say if log else None)
        if got is not None:
            last, restored, meta = got
            state, best_state = restored["state"], restored["best"]
            history, best = meta["history"], np.asarray(meta["best"], float)
            since, active = np.asarray(meta["since"], int), np.asarray(meta["active"], bool)
            ran = np.asarray(meta["epochs_run"], int)
            start = last + 1
            say(
                f"  [{name}] resumed from {ckpt.workdir} after epoch {last + 1}/{epochs}"
                + (f"; continuing with epoch {start + 1}" if start < epochs else "; training was complete")
            )
    if validate and log and start < epochs:
        say(f"  [{name}] 'val' is {task.SCORE}; higher is better")
    prog = Progress(total, name, log_every if log else 0, start_step=min(start * spe, total), log=say)
    eval_every = max(1, getattr(cfg0, "eval_every", 1))
    run_epochs = 0
    epoch = start
    while epoch < epochs and active.any():
        if stop.hit:  # Ctrl-C during the last validation or checkpoint
            _interrupted(ckpt, epoch, prog.step)
        losses = []
        for i, batch in enumerate(task.epoch_batches(data, cfg0, epoch)):
            if epoch * spe + i >= total:
                break
            if put is not None:
                batch = put(batch)
            new, metrics = jstep(state, batch, rngs_of(state), hp)
            state = new if active.all() else _where(jnp.asarray(active), new, state)
            losses.append(metrics["loss"])
            prog.update(epoch, metrics)
            if stop.hit:
                break
        if stop.hit:
            _interrupted(ckpt, epoch, prog.step)
        ran += active
        if losses:
            got = np.asarray(jax.device_get(jnp.stack(losses))).reshape(len(losses), n)
            for j in range(n):
                step_losses[j].extend(float(v) for v in got[:, j])
        last_epoch = epoch == epochs - 1
        if (epoch + 1) % eval_every == 0 or last_epoch:
            mean_loss = np.asarray(jnp.stack(losses).mean(0)).reshape(n) if losses else np.full(n, np.nan)
            improved = np.zeros(n, bool)
            for j in range(n):
                if not active[j]:
                    continue
                entry = {"epoch": epoch, "loss": float(mean_loss[j])}
                if validate:
                    sv = variables_of(state if n == 1 else index(state, j))
                    entry["val"] = float(task.score(cfgs[j], sv, data, "val"))
                    improved[j] = entry["val"] > best[j]
                    if improved[j]:
                        best[j], since[j] = entry["val"], 0
                    else:
                        since[j] += 1
                    if patience is not None and since[j] >= patience:
                        active[j] = False
                history[j].append(entry)
            if validate and improved.any():
                best_state = state if n == 1 else _where(jnp.asarray(improved), state, best_state)
            if ckpt is not None:
                meta = {
                    "history": history,
                    "best": [float(b) if np.isfinite(b) else -1e30 for b in best],
                    "since": since.tolist(),
                    "active": active.tolist(),
                    "epochs_run": ran.tolist(),
                }
                ckpt.save(epoch, {"state": state, "best": best_state}, meta, best=bool(improved.any()))
            say(
                f"  [{name}] epoch {epoch + 1}/{epochs}: "
                + " | ".join(
                    f"{'#' + str(j) + ' ' if n > 1 else ''}{'(stopped) ' if not active[j] else ''}loss "
                    f"{history[j][-1]['loss']:.4f}"
                    + (f" val {history[j][-1]['val']:.3f}" if "val" in history[j][-1] else "")
                    for j in range(n)
                    if history[j]
                )
                + f" [{time.perf_counter() - t0:.0f}s]"
            )
        run_epochs += 1
        epoch += 1
        if stop_after_epochs is not None and run_epochs >= stop_after_epochs:
            break
    if ckpt is not None:
        ckpt.close()
    finals = [variables_of(state)] if n == 1 else [variables_of(index(state, j)) for j in range(n)]
    bests = [variables_of(best_state)] if n == 1 else [variables_of(index(best_state, j)) for j in range(n)]
    if not validate:
        bests = finals
    return FitResult(finals, bests, history, ran.tolist(), time.perf_counter() - t0, step_losses)
