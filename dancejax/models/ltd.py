"""LTD (Mao, Liu, Salzmann, Li, "Learning Trajectory Dependencies for Human Motion Prediction",
ICCV 2019; the paper's "T-GCN"), as its authors' code builds it (wei-mao-2019/LearnTrajDep,
``utils/model.py`` and the 3D data pipeline of ``utils/h36motion3d.py``).

Every coordinate of every joint is one graph node (``J·D`` nodes).  Its trajectory over the
``obs + pred`` frames, with the future padded by repeating the last observed frame, is encoded by
the first ``dct_n`` coefficients of the orthonormal DCT-II.  A GCN over the nodes with learnable
dense adjacencies (``att``) maps these coefficients to the coefficients of the whole sequence:

* ``gc1``: ``att (X W) + b`` (dct_n → hidden), BatchNorm over nodes × features, tanh, dropout;
* ``stages`` residual blocks ``GC_Block``: twice (graph conv, BatchNorm, tanh, dropout), + input;
* ``gc7``: hidden → dct_n, plus the input coefficients (a residual in DCT space).

The inverse DCT (its first ``dct_n`` columns) gives all ``obs + pred`` frames; the original's loss
is the mean per-joint error over all of them (``full=True`` returns them).  Initialisation as the
original: ``U(−1/√out, 1/√out)`` for the weight, the adjacency and the bias of every graph conv.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from flax import linen as nn

from dancejax.layers.modules import BatchNorm, Dropout, torch_uniform
from dancejax.maths.dct import dct_matrix
from dancejax.train.optim import OptimConfig


class GraphConvolution(nn.Module):
    """LTD's ``GraphConvolution``: ``att (X W) + b`` over ``nodes`` with a learnable dense ``att``."""

    features: int

    @nn.compact
    def __call__(self, x):
        nodes, fin = x.shape[-2:]
        init = torch_uniform(self.features)  # the original uses stdv = 1/√(out features) for all three
        w = self.param("weight", init, (fin, self.features))
        att = self.param("att", init, (nodes, nodes))
        b = self.param("bias", init, (self.features,))
        return jnp.einsum("ij,njf->nif", att, x @ w) + b


class GCBlock(nn.Module):
    """``GC_Block``: two (graph conv, BatchNorm1d over nodes·features, tanh, dropout), plus the input."""

    dropout: Any = 0.5

    @nn.compact
    def __call__(self, x, train: bool):
        n, nodes, f = x.shape
        y = x
        for i in (1, 2):
            y = GraphConvolution(f, name=f"gc{i}")(y)
            y = BatchNorm(name=f"bn{i}")(y.reshape(n, nodes * f), train).reshape(n, nodes, f)
            y = Dropout(self.dropout)(jnp.tanh(y), deterministic=not train)
        return y + x


class LTD(nn.Module):
    """LTD as the original code builds it (see the module docstring).

    Fields: ``obs``/``pred`` frames, ``joints``/``dims`` of the poses, ``dct_n`` (coefficients
    kept; ``None`` = all ``obs + pred``; the original's 3D short-term command uses 15 for
    10 → 10), ``hidden`` (256), ``stages`` (12), ``dropout`` (0.5).
    """

    obs: int = 10
    pred: int = 10
    joints: int = 14
    dims: int = 3
    dct_n: int | None = None
    hidden: int = 256
    stages: int = 12
    dropout: Any = 0.5

    @property
    def coefficients(self) -> int:
        k = self.obs + self.pred if self.dct_n is None else self.dct_n
        if not 1 <= k <= self.obs + self.pred:
            raise ValueError(f"LTD dct_n must be in [1, obs + pred = {self.obs + self.pred}], got {k}")
        return k

    @nn.compact
    def __call__(self, obs, train: bool = False, full: bool = False):
        n, t, j, d = obs.shape
        length = t + self.pred
        k = self.coefficients
        padded = jnp.concatenate([obs, jnp.repeat(obs[:, -1:], self.pred, 1)], 1).reshape(n, length, j * d)
        dct = jnp.asarray(dct_matrix(length)[:k])  # (k, L); the inverse is its transpose
        x = jnp.einsum("kt,ntc->nck", dct, padded)  # (N, nodes, k)
        y = GraphConvolution(self.hidden, name="gc1")(x)
        y = BatchNorm(name="bn1")(y.reshape(n, -1), train).reshape(y.shape)
        y = Dropout(self.dropout)(jnp.tanh(y), deterministic=not train)
        for i in range(self.stages):
            y = GCBlock(self.dropout, name=f"gcbs_{i}")(y, train)
        y = GraphConvolution(k, name="gc7")(y) + x
        seq = jnp.einsum("kt,nck->ntc", dct, y).reshape(n, length, j, d)
        return seq if full else seq[:, t:]

    SIZES = {"test": {"hidden": 16, "stages": 2}}  # model fields per preset (dancejax.tasks)

    @staticmethod
    def recipe(preset: str, obs: int, pred: int) -> dict | None:
        """``'original'``: the authors' 3D recipe (``main_3d.py``, ``utils/opt.py``, the README's
        commands).  Adam 5e-4, ×0.96 every second epoch (``lr_decay`` at (epoch + 1) % 2 == 0),
        gradient norm clipped at 1, batch 16, 50 epochs, every window (stride 1), hidden 256,
        12 blocks, dropout 0.5; ``dct_n = obs + pred − 5`` (15 for 10 → 10, 30 for 10 → 25, 35
        for 10 → 30, as the README's 3D commands); loss = MPJPE over all obs + pred frames of
        the output; data: root-relative poses in millimetres, no augmentation.  Adapted to our
        data only in the joint count (J·D nodes); the original's root rotation is not removed
        (LSP-14 positions carry none); the original's validation split selects nothing."""
        if preset != "original":
            return None
        return dict(
            model={"dct_n": max(1, obs + pred - 5), "hidden": 256, "stages": 12, "dropout": 0.5},
            optim=OptimConfig("adam", lr=5e-4, lr_decay=0.96, decay_every=2, decay_offset=1, clip_norm=1.0),
            batch_size=16,
            epochs=50,
            stride=1,
            loss="mpjpe_all_frames",
            frame="root_relative",
            augment=(),
            units=1000.0,
            eval_every=5,
        )


def torch_rename(key: str) -> str:
    """Original state-dict keys (``gcbs.3.gc1.weight``) to dancejax module paths (``gcbs_3.gc1.weight``)."""
    parts = key.split(".")
    if parts[0] == "gcbs":
        parts = [f"gcbs_{parts[1]}"] + parts[2:]
    return ".".join(parts)
