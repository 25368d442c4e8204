"""siMLPe (Guo et al., "Back to MLP: A Simple Baseline for Human Motion Prediction", WACV 2023),
as its authors' code builds it (dulucas/siMLPe, ``exps/baseline_h36m``: ``model.py``, ``mlp.py``).

The model, for an observed window of ``obs`` frames flattened to ``C = J·D`` coordinates:

1. DCT-II of the window along time (``C`` channels, ``obs`` coefficients);
2. ``motion_fc_in``: a spatial fully connected layer ``C → C``;
3. ``blocks`` MLP blocks on the (C, obs) map, each ``x + LN(x W_t + b_t)``: a temporal
   fully connected layer ``obs → obs`` and a LayerNorm over the C channels of each time step
   (``norm_axis='spatial'``, the published model), with a learned per-channel scale and shift;
4. ``motion_fc_out``: a spatial fully connected layer ``C → C``;
5. the inverse DCT, the first ``horizon`` frames, plus the last observed pose (the model
   predicts offsets from it).

The hidden width is ``C`` itself (the code ties ``motion_mlp.hidden_dim`` to the pose
dimension); only the depth is a setting.  Initialisation as the original: PyTorch's default for
``motion_fc_in``, Xavier-uniform with gain 1e-8 and zero bias for the temporal layers and
``motion_fc_out``.  The original predicts ``obs`` frames and keeps the first 10 in training;
longer horizons are rolled out autoregressively in chunks of ``horizon`` frames, as its test
script does (``lax.scan`` over chunks here).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from dancejax.layers.modules import Dense, torch_uniform
from dancejax.maths.dct import dct_matrix
from dancejax.train.optim import OptimConfig

NORM_AXES = ("spatial", "temporal", "all", "none")


def xavier_uniform(gain: float):
    """PyTorch's ``xavier_uniform_`` for an (in, out) kernel."""

    def init(key, shape, dtype=jnp.float32):
        bound = gain * np.sqrt(6.0 / (shape[0] + shape[1]))
        return jax.random.uniform(key, shape, dtype, -bound, bound)

    return init


class SpatialLayerNorm(nn.Module):
    """siMLPe's ``LN``: normalise each time step over the channel axis, learned ``alpha``/``beta``
    per channel (x: (N, C, T), statistics over C; biased variance; eps 1e-5)."""

    axis: str = "spatial"
    epsilon: float = 1e-5

    @nn.compact
    def __call__(self, x):
        n, c, t = x.shape
        if self.axis == "none":
            return x
        if self.axis == "spatial":
            axes, shape = (1,), (c,)
        elif self.axis == "temporal":
            axes, shape = (2,), (t,)
        else:  # 'all': nn.LayerNorm([dim, seq]) with elementwise affine
            axes, shape = (1, 2), (c, t)
        alpha = self.param("alpha", nn.initializers.ones, shape)
        beta = self.param("beta", nn.initializers.zeros, shape)
        mean = x.mean(axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axes, keepdims=True)
        y = (x - mean) / jnp.sqrt(var + self.epsilon)
        if self.axis == "spatial":
            return y * alpha[None, :, None] + beta[None, :, None]
        if self.axis == "temporal":
            return y * alpha[None, None, :] + beta[None, None, :]
        return y * alpha[None] + beta[None]


class MLPBlock(nn.Module):
    """``x + norm0(fc0(x))`` with ``fc0`` a temporal FC over the last axis (T → T)."""

    norm_axis: str = "spatial"

    @nn.compact
    def __call__(self, x):
        t = x.shape[-1]
        y = Dense(t, kernel_init=xavier_uniform(1e-8), bias_init=nn.initializers.zeros, name="fc0")(x)
        return x + SpatialLayerNorm(self.norm_axis, name="norm0")(y)


class SiMLPe(nn.Module):
    """siMLPe as the original code builds it (see the module docstring).

    Fields: ``obs``/``pred`` frames, ``joints``/``dims`` of the poses, ``blocks`` (48 in the
    published model), ``norm_axis`` (the LayerNorm's axis, 'spatial' published), ``horizon``
    (frames kept per pass; the original trains with 10; ``None`` = min(obs, pred)).
    """

    obs: int = 10
    pred: int = 10
    joints: int = 14
    dims: int = 3
    blocks: int = 48
    norm_axis: str = "spatial"
    horizon: int | None = None
    dropout: Any = 0.0  # the original has no dropout; kept so every predictor takes the same rate

    def setup(self):
        if self.norm_axis not in NORM_AXES:
            raise ValueError(f"Unsupported siMLPe norm_axis: {self.norm_axis!r}; use one of {NORM_AXES}")
        c = self.joints * self.dims
        self.motion_fc_in = Dense(c, kernel_init=torch_uniform(c), bias_init=torch_uniform(c))
        self.mlps = [MLPBlock(self.norm_axis, name=f"mlps_{i}") for i in range(self.blocks)]
        self.motion_fc_out = Dense(c, kernel_init=xavier_uniform(1e-8), bias_init=nn.initializers.zeros)

    @property
    def step_frames(self) -> int:
        h = self.horizon if self.horizon is not None else min(self.obs, self.pred)
        if not 1 <= h <= self.obs:
            raise ValueError(f"siMLPe horizon must be in [1, obs={self.obs}], got {h}")
        return h

    def one_pass(self, x):
        """(N, obs, C) observed window -> (N, obs, C) poses: the offsets plus the last pose."""
        d = jnp.asarray(dct_matrix(self.obs))
        h = jnp.einsum("kt,ntc->nkc", d, x)
        h = self.motion_fc_in(h).transpose(0, 2, 1)  # (N, C, T)
        for block in self.mlps:
            h = block(h)
        h = self.motion_fc_out(h.transpose(0, 2, 1))
        return jnp.einsum("kt,nkc->ntc", d, h) + x[:, -1:]

    def __call__(self, obs, train: bool = False):
        n, t, j, dd = obs.shape
        x = obs.reshape(n, t, j * dd)
        step = self.step_frames
        chunks = -(-self.pred // step)
        if chunks == 1:
            return self.one_pass(x)[:, : self.pred].reshape(n, self.pred, j, dd)

        def body(mdl, window, _):
            out = mdl.one_pass(window)[:, :step]
            return jnp.concatenate([window[:, step:], out], 1), out

        scan = nn.scan(body, variable_broadcast="params", split_rngs={"params": False}, length=chunks)
        _, outs = scan(self, x, None)
        outs = jnp.moveaxis(outs, 0, 1).reshape(n, chunks * step, j * dd)
        return outs[:, : self.pred].reshape(n, self.pred, j, dd)

    SIZES = {"test": {"blocks": 2}, "quick": {"blocks": 16}}  # model fields per preset (dancejax.tasks)

    @staticmethod
    def recipe(preset: str, obs: int, pred: int) -> dict | None:
        """``'original'``: the authors' training recipe (``exps/baseline_h36m``: ``config.py``,
        ``train.py``, ``run.sh``, 48 blocks).  Adam with L2 weight decay 1e-4; the learning rate
        starts at 1e-5 for the first step, is 3e-4 from then on and 1e-5 after step 30 001
        (``update_lr_multistep`` runs after each step); batch 256, 40 000 steps, every window
        (stride 1); loss = MPJPE + MPJPE of the frame-to-frame differences; data: root-relative
        poses in metres, reversed in time with p = 0.5.  Adapted to our data only in the observed
        length (``obs``, 10 at 25 fps against the original's 50) and the joint count (C = J·D);
        the original's root rotation is not removed (LSP-14 positions carry none)."""
        if preset != "original":
            return None
        return dict(
            model={"blocks": 48, "norm_axis": "spatial", "horizon": min(10, obs, pred)},
            optim=OptimConfig(
                "adam", lr=1e-5, lr_decay=1.0, boundaries=((1, 30.0), (30002, 1.0 / 30.0)), weight_decay=1e-4
            ),
            batch_size=256,
            iterations=40000,
            stride=1,
            loss="mpjpe_velocity",
            frame="root_relative",
            augment=("reverse",),
            units=1.0,
            eval_every=200,
        )


def torch_rename(key: str) -> str:
    """Original state-dict keys to dancejax module paths: ``motion_mlp.mlps.3.fc0.fc.weight`` ->
    ``mlps_3.fc0.weight`` (``motion_fc_in``/``motion_fc_out`` keep their names)."""
    parts = key.split(".")
    if parts[:2] == ["motion_mlp", "mlps"] and len(parts) > 3:
        return ".".join([f"mlps_{parts[2]}"] + [p for p in parts[3:] if p != "fc"])
    return key
