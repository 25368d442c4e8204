"""The recognition task: inference."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from dancejax.data.pipeline import normalize
from dancejax.errors import DataError
from dancejax.skeleton import LSP14
from dancejax.tasks.recognition.config import RecognitionConfig


def check_window(x, conf, joints: int = 14, source: str = "input"):
    """Validate a batch of windows (B, T, J, 2) + (B, T, J) before it reaches the model."""
    try:
        x, conf = np.asarray(x, np.float64), np.asarray(conf, np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{source}: fields 'keypoints' and 'confidence' must be numeric arrays") from None
    if x.ndim != 4 or x.shape[-1] != 2 or x.shape[-2] != joints:
        raise DataError(
            f"{source}: field 'keypoints': expected (batch, frames, {joints}, 2), got {x.shape}"
            + ("; add a batch axis: x[None]" if x.ndim == 3 else "")
        )
    if conf.shape != x.shape[:-1]:
        raise DataError(f"{source}: field 'confidence': expected shape {x.shape[:-1]}, got {conf.shape}")
    if not np.isfinite(x).all():
        raise DataError(
            f"{source}: field 'keypoints': {int((~np.isfinite(x)).sum())} NaN/inf values; "
            "give missing joints confidence 0 and a finite position"
        )
    if np.abs(x).max(initial=0) > 1e7:
        raise DataError(f"{source}: field 'keypoints': coordinates up to {np.abs(x).max():.3g}; expected pixels")
    nan = np.isnan(conf)
    if nan.any() or conf.min(initial=0) < 0 or conf.max(initial=0) > 1:
        raise DataError(
            f"{source}: field 'confidence': expected values in [0, 1], got "
            + (f"{int(nan.sum())} NaN values" if nan.any() else f"range [{conf.min():.3g}, {conf.max():.3g}]")
        )


def mirror_normalized(x, conf):
    """The horizontal mirror of normalised keypoints (B, T, J, 2) (centred on the mid-hip, so
    the mirror is about it) with the left/right joints swapped, and their confidences."""
    perm = jnp.asarray(LSP14.flip_permutation)
    return (x * jnp.array([-1.0, 1.0], x.dtype))[:, :, perm], conf[:, :, perm]


def apply_refiner(model, variables, xn, conf, flip_test: bool = False):
    """The model on normalised windows: (refined (B, T, J, 2), style logits (B, S)).

    ``flip_test``: also run the mirrored windows (``mirror_normalized``), mirror their output
    back and average both outputs and both logits (the flip test of pose estimation; training
    mirrors half of the windows, so the model sees both).  One call on a doubled batch."""
    if not flip_test:
        return model.apply(variables, xn, conf, train=False)
    b = xn.shape[0]
    xm, cm = mirror_normalized(xn, conf)
    out, logits = model.apply(variables, jnp.concatenate([xn, xm]), jnp.concatenate([conf, cm]), train=False)
    back, _ = mirror_normalized(out[b:], conf)
    return 0.5 * (out[:b] + back), 0.5 * (logits[:b] + logits[b:])


@functools.lru_cache(maxsize=32)
def _inference_fn(model, flip_test: bool = False, keep_uncertain: bool = False):
    """One jitted pixel-space inference function per architecture (compiled once per shape);
    ``keep_uncertain`` as the model was trained (``RecognitionConfig.keep_uncertain``)."""

    def run(variables, x, conf):
        xn, c, s = jax.vmap(lambda a, b: normalize(a, b, keep_uncertain))(x, conf)
        out, logits = apply_refiner(model, variables, xn, conf, flip_test)
        return out * s[:, None, None, None] + c[:, None, None], logits

    return jax.jit(run)


class Refiner:
    """A trained model as a callable on pixel windows: (B, T, J, 2) + (B, T, J) -> refined
    pixels (B, T, J, 2) and style scores (B, S).  ``T`` must be the window it was trained on."""

    KIND = "refiner"

    def __init__(self, cfg: RecognitionConfig, variables, styles=None):
        self.cfg, self.variables, self.styles = cfg, variables, styles
        self._run = _inference_fn(cfg.model.clone(dropout=0.0), cfg.flip_test, cfg.keep_uncertain)

    def __call__(self, x, conf):
        check_window(x, conf)
        if np.shape(x)[1] != self.cfg.window:
            raise DataError(
                f"input: field 'keypoints': the model was trained on windows of {self.cfg.window} "
                f"frames, got {np.shape(x)[1]}"
            )
        return self._run(self.variables, jnp.asarray(x, jnp.float32), jnp.asarray(conf, jnp.float32))


def predict_set(cfg: RecognitionConfig, variables, s: dict, batch: int = 64):
    """Predictions for a whole eval set, in fixed-size batches (the last one padded) so that
    inference compiles once."""
    ref = Refiner(cfg, variables)
    n = len(s["x"])
    batch = min(batch, n)
    pad = (-n) % batch
    x = np.concatenate([s["x"], np.repeat(s["x"][:1], pad, 0)])
    conf = np.concatenate([s["conf"], np.repeat(s["conf"][:1], pad, 0)])
    outs, logits = [], []
    for i in range(0, n + pad, batch):
        o, lg = ref(x[i : i + batch], conf[i : i + batch])
        outs.append(np.asarray(o))
        logits.append(np.asarray(lg))
    return np.concatenate(outs)[:n], np.concatenate(logits)[:n]


def ready_model(cfg: RecognitionConfig, variables, meta: dict) -> Refiner:
    """A saved recognition model as a ready ``Refiner`` with its style names."""
    return Refiner(cfg, variables, styles=meta.get("styles"))


def refine_sequence(model: Refiner, x, conf):
    """Refine a whole (T, J, 2) sequence with a windowed refiner: non-overlapping windows, the
    last one aligned to the end; returns (refined (T, J, 2), mean style posterior)."""
    w = model.cfg.window
    t = x.shape[0]
    if t < w:
        raise DataError(f"input: {t} frames at 25 fps; the refiner needs at least its window of {w}")
    starts = list(range(0, t - w + 1, w))
    if starts[-1] != t - w:
        starts.append(t - w)
    xs = np.stack([x[s : s + w] for s in starts])
    cs = np.stack([conf[s : s + w] for s in starts])
    out, logits = model(xs, cs)
    out = np.asarray(out)
    refined = np.empty_like(x)
    for k, s in enumerate(starts):
        refined[s : s + w] = out[k]
    probs = np.asarray(jax.nn.softmax(np.asarray(logits), -1)).mean(0)
    return refined, probs
