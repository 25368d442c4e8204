"""The prediction task: the train step."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from dancejax.data.pipeline import (
    augment_prediction,
    pose_scale,
)
from dancejax.maths.losses import pose_loss
from dancejax.tasks.prediction.config import HParams, PredictionConfig
from dancejax.tasks.prediction.data import PredictionData, prepare, steps_per_epoch
from dancejax.tasks.prediction.infer import _standardise
from dancejax.train.optim import TrainState, make_optimizer, new_state, optimizer_update


def hparams(cfg: PredictionConfig) -> HParams:
    f = jnp.float32
    return HParams(f(cfg.optim.lr), f(cfg.optim.lr_decay), f(cfg.optim.weight_decay), f(cfg.model.dropout))


def init_state(cfg: PredictionConfig, key) -> TrainState:
    m = cfg.model
    x = jnp.zeros((1, m.obs, m.joints, m.dims))
    v = m.init({"params": key, "dropout": key}, x, train=False)
    return new_state(v.get("params", {}), v.get("batch_stats", {}), cfg.optim)


def make_train_step(cfg: PredictionConfig, data: PredictionData):
    """The task's one train step ``(state, batch, rng, hparams) -> (state, metrics)``, a pure
    function (the caller jits or vmaps it).  Augmentation, the coordinate frame, units,
    standardisation, forward, loss and the optimizer update all happen inside."""
    cfg = prepare(cfg, data)
    spe = steps_per_epoch(data, cfg)
    tx = make_optimizer(cfg.optim)
    o = cfg.obs
    to_model, _ = _standardise(cfg)
    full = cfg.loss == "mpjpe_all_frames"
    loss_kind = "mpjpe" if full else cfg.loss

    def step(state: TrainState, batch, rng, hp: HParams):
        model = cfg.model.clone(dropout=hp.dropout)  # the rate is an array
        k_aug, k_drop = jax.random.split(rng)
        w = batch["window"]
        w = jax.vmap(lambda k, x: augment_prediction(k, x, cfg.augment, o, cfg.frame))(
            jax.random.split(k_aug, w.shape[0]), w
        )
        w = to_model(w / pose_scale(w, o))

        def loss_fn(params):
            out, upd = model.apply(
                {"params": params, "batch_stats": state.batch_stats},
                w[:, :o],
                train=True,
                rngs={"dropout": k_drop},
                mutable=["batch_stats"],
                **({"full": True} if full else {}),
            )
            return pose_loss(out, w if full else w[:, o:], loss_kind), upd.get("batch_stats", {})

        (loss, new_bs), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        params, opt_state = optimizer_update(tx, cfg.optim, state, grads, hp, spe)
        return TrainState(state.step + 1, params, new_bs, opt_state), {"loss": loss}

    return step


def variables_template(cfg: PredictionConfig) -> dict:
    """The shapes of a model's variables (what a saved one restores into)."""
    template = jax.eval_shape(lambda: init_state(cfg, jax.random.key(0)))
    return {"params": template.params, "batch_stats": template.batch_stats}
