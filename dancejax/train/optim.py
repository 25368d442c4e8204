"""Train state and optimizers shared by every task.

* ``TrainState`` is a plain pytree (step, params, batch_stats, opt_state), so a train step is
  a pure function ``(state, batch, rng, hparams) -> (state, metrics)``.
* Optimizers are built with ``optax.inject_hyperparams``: the learning rate and the weight
  decay live in the optimizer state as arrays, so one compiled step serves any value and a
  study can vmap over them.
* ``learning_rate`` is the schedule every original recipe needs, as one formula of the step:
  ``lr × decay^⌊(epoch + offset) / every⌋`` (or ``⌊step / every_steps⌋``), times the scales of
  the step ``boundaries`` already passed.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import struct

OPTIMIZERS = ("sgd", "adam")


@struct.dataclass
class TrainState:
    step: jnp.ndarray
    params: Any
    batch_stats: Any
    opt_state: Any


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    """Optimizer and learning-rate schedule.

    ``name``: 'sgd' (with ``momentum``; the paper's) or 'adam' (PyTorch's Adam: ``weight_decay``
    is an L2 term added to the gradient, as ``torch.optim.Adam(weight_decay=...)`` does).
    ``lr_decay`` multiplies the rate once every ``decay_every`` epochs, shifted by
    ``decay_offset`` epochs, or every ``decay_every_steps`` steps when that is set.
    ``boundaries``: ((step, scale), ...) multiply the rate by ``scale`` from ``step`` on.
    ``clip_norm``: global gradient-norm clipping before the update (0 = none).
    ``amsgrad``: Adam's AMSGrad variant as PyTorch computes it (``torch_amsgrad``; SmoothNet's).
    """

    name: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    lr_decay: float = 0.95
    decay_every: int = 1
    decay_offset: int = 0
    decay_every_steps: int | None = None
    boundaries: tuple[tuple[int, float], ...] = ()
    weight_decay: float = 0.0
    clip_norm: float = 0.0
    amsgrad: bool = False

    def __post_init__(self):
        if self.name not in OPTIMIZERS:
            raise ValueError(f"Unsupported optimizer: {self.name!r}; use one of {OPTIMIZERS}")
        if self.decay_every < 1 or (self.decay_every_steps is not None and self.decay_every_steps < 1):
            raise ValueError(f"decay intervals must be at least 1, got {self.decay_every}, {self.decay_every_steps}")

    def static(self) -> OptimConfig:
        """The parts that shape the compiled program (array hyper-parameters zeroed)."""
        return dataclasses.replace(self, lr=0.0, lr_decay=0.0, weight_decay=0.0)


class AmsgradState(NamedTuple):
    count: jnp.ndarray
    mu: Any
    nu: Any
    nu_max: Any


def torch_amsgrad(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> optax.GradientTransformation:
    """Adam's AMSGrad scaling as ``torch.optim.Adam(amsgrad=True)`` computes it: the running
    maximum is taken over the raw second moment, which is then bias-corrected, and ``eps`` is
    added after the square root (optax's ``scale_by_amsgrad`` takes the maximum of the
    bias-corrected moment, a different update after the first step)."""

    def init(params):
        z = lambda: jax.tree_util.tree_map(jnp.zeros_like, params)
        return AmsgradState(jnp.zeros([], jnp.int32), z(), z(), z())

    def update(grads, state, params=None):
        count = state.count + 1
        mu = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, state.mu, grads)
        nu = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state.nu, grads)
        nu_max = jax.tree_util.tree_map(jnp.maximum, state.nu_max, nu)
        t = count.astype(jnp.float32)
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        upd = jax.tree_util.tree_map(lambda m, v: (m / bc1) / (jnp.sqrt(v) / jnp.sqrt(bc2) + eps), mu, nu_max)
        return upd, AmsgradState(count, mu, nu, nu_max)

    return optax.GradientTransformation(init, update)


def make_optimizer(cfg: OptimConfig) -> optax.GradientTransformation:
    def build(learning_rate, weight_decay):
        parts = [optax.clip_by_global_norm(cfg.clip_norm)] if cfg.clip_norm > 0 else []
        parts.append(optax.add_decayed_weights(weight_decay))
        if cfg.name == "sgd":
            parts.append(optax.sgd(learning_rate, momentum=cfg.momentum))
        elif cfg.amsgrad:
            parts += [torch_amsgrad(), optax.scale_by_learning_rate(learning_rate)]
        else:
            parts.append(optax.adam(learning_rate))
        return optax.chain(*parts)

    return optax.inject_hyperparams(build)(learning_rate=cfg.lr, weight_decay=cfg.weight_decay)


def learning_rate(cfg: OptimConfig, lr, lr_decay, step, steps_per_epoch: int):
    """The rate at ``step`` (traceable; ``lr`` and ``lr_decay`` may be per-setting arrays)."""
    step = jnp.asarray(step, jnp.int32)
    if cfg.decay_every_steps is not None:
        k = step // cfg.decay_every_steps
    else:
        k = (step // steps_per_epoch + cfg.decay_offset) // cfg.decay_every
    rate = lr * jnp.asarray(lr_decay, jnp.float32) ** k.astype(jnp.float32)
    for at, scale in cfg.boundaries:
        rate = jnp.where(step >= at, rate * scale, rate)
    return rate


def optimizer_update(tx, cfg: OptimConfig, state: TrainState, grads, hp, steps_per_epoch: int):
    """Apply ``grads`` with the array hyper-parameters of ``hp`` (fields lr, lr_decay,
    weight_decay) written into the injected optimizer state; returns (params, opt_state)."""
    hyper = dict(state.opt_state.hyperparams)
    hyper["learning_rate"] = learning_rate(cfg, hp.lr, hp.lr_decay, state.step, steps_per_epoch).astype(jnp.float32)
    hyper["weight_decay"] = jnp.asarray(hp.weight_decay, jnp.float32)
    updates, opt_state = tx.update(grads, state.opt_state._replace(hyperparams=hyper), state.params)
    return jax.tree_util.tree_map(lambda p, u: p + u, state.params, updates), opt_state


def new_state(params, batch_stats, cfg: OptimConfig) -> TrainState:
    return TrainState(jnp.int32(0), params, batch_stats, make_optimizer(cfg).init(params))
