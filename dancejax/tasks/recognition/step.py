"""The recognition task: the train step."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from dancejax.data.augment import flip, rotate, scale, temporal_blur
from dancejax.data.noise import simulate_detections
from dancejax.data.pipeline import augment_pair, normalize
from dancejax.maths.losses import class_weights_from_counts, refinement_objective, weighted_cross_entropy
from dancejax.tasks.recognition.config import HParams, RecognitionConfig
from dancejax.tasks.recognition.data import RecognitionData, steps_per_epoch
from dancejax.train.optim import TrainState, make_optimizer, new_state, optimizer_update


def hparams(cfg: RecognitionConfig) -> HParams:
    f = jnp.float32
    return HParams(
        f(cfg.optim.lr),
        f(cfg.optim.lr_decay),
        f(cfg.optim.weight_decay),
        f(cfg.lam),
        f(cfg.style_weight),
        f(cfg.noise_strength),
        f(cfg.model.dropout),
    )


def init_state(cfg: RecognitionConfig, key) -> TrainState:
    x = jnp.zeros((1, cfg.window, 14, 2))
    c = jnp.ones((1, cfg.window, 14))
    v = cfg.model.init({"params": key, "dropout": key}, x, c, train=False)
    return new_state(v["params"], v.get("batch_stats", {}), cfg.optim)


def make_train_step(cfg: RecognitionConfig, data: RecognitionData):
    """The task's one train step ``(state, batch, rng, hparams) -> (state, metrics)``, a pure
    function (the caller jits or vmaps it).  Augmentation, detector noise, normalisation,
    forward, loss (eq. 10 + a style cross-entropy) and the optimizer update happen inside, so
    the host only feeds clean (and real) windows."""
    spe = steps_per_epoch(data, cfg)
    tx = make_optimizer(cfg.optim)
    noise, aug = data.noise, cfg.augment
    cw = jnp.ones(len(data.styles)) if cfg.balanced else class_weights_from_counts(data.class_counts)

    def simulated_input(key, clean, strength):
        k = jax.random.split(key, 5)
        g = rotate(k[0], clean, aug.rotation_2d)
        g = scale(k[1], g, aug.scale)
        g = flip(k[2], g, p=aug.flip_p)
        if aug.blur_sigma > 0:
            g = temporal_blur(k[3], g, aug.blur_sigma)
        x, conf = simulate_detections(k[4], g, noise, strength=strength)
        xn, c, s = normalize(x, conf, cfg.keep_uncertain)
        return xn, conf, (g - c) / s

    def real_input(key, det, conf, gt):
        det, conf, gt = augment_pair(key, det, conf, gt, aug)
        xn, c, s = normalize(det, conf, cfg.keep_uncertain)
        return xn, conf, (gt - c) / s

    def step(state: TrainState, batch, rng, hp: HParams):
        model = cfg.model.clone(dropout=hp.dropout)  # the rate is an array
        k_sim, k_real, k_drop = jax.random.split(rng, 3)
        parts = []  # (inputs, confidences, targets, has ground truth, style) of the simulated and real windows
        if cfg.sim_batch:
            b = batch["clean"].shape[0]
            xs, cs, ts = jax.vmap(simulated_input, in_axes=(0, 0, None))(
                jax.random.split(k_sim, b), batch["clean"], hp.noise_strength
            )
            parts.append((xs, cs, ts, jnp.ones(b), batch["style"]))
        if cfg.real_batch:
            rx, rc, rt = jax.vmap(real_input)(
                jax.random.split(k_real, cfg.real_batch), batch["real_x"], batch["real_conf"], batch["real_gt"]
            )
            parts.append((rx, rc, rt, batch["real_has_gt"], batch["real_style"]))
        xn, conf, target, has_gt, style = (jnp.concatenate(p) for p in zip(*parts))
        # windows without ground truth (2D keypoint takes) teach the style only
        gt_mask = jnp.broadcast_to(has_gt[:, None, None].astype(jnp.float32), target.shape[:-1])

        def loss_fn(params):
            variables = {"params": params, "batch_stats": state.batch_stats}
            (out, logits), upd = model.apply(
                variables, xn, conf, train=True, rngs={"dropout": k_drop}, mutable=["batch_stats"]
            )
            refine = refinement_objective(
                out, target, gt_mask, cfg.top_k, hp.lam, cfg.vel_weight, cfg.accel_weight, cfg.causal_weight
            )
            ce = weighted_cross_entropy(logits, style, cw)
            return refine + hp.style_weight * ce, (refine, ce, logits, upd.get("batch_stats", {}))

        (loss, (refine, ce, logits, new_bs)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        params, opt_state = optimizer_update(tx, cfg.optim, state, grads, hp, spe)
        acc = (logits.argmax(-1) == style).mean()
        return TrainState(state.step + 1, params, new_bs, opt_state), {
            "loss": loss,
            "refine": refine,
            "ce": ce,
            "acc": acc,
        }

    return step


def variables_template(cfg: RecognitionConfig) -> dict:
    """The shapes of a model's variables (what a saved one restores into)."""
    template = jax.eval_shape(lambda: init_state(cfg, jax.random.key(0)))
    return {"params": template.params, "batch_stats": template.batch_stats}
