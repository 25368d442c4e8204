"""STGA-Net (paper §III-C, SPEC §5): a GAST-Net-style spatio-temporal graph-attention encoder
(local attention on the symmetric and connection graphs, eq. 11; global attention, eq. 12;
dilated temporal convolutions) and the G-GRU decoder (``dancejax.models.ggru``)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from dancejax.layers.functional import masked_softmax
from dancejax.layers.modules import BatchNorm, Dense, Dropout, TemporalConv
from dancejax.maths.graph import connection_graph, symmetric_graph
from dancejax.models.ggru import GraphGRUDecoder


def local_attention_weights(m, graph):
    """``softmax(M ⊙ Ã)`` row-wise over the graph's entries only (zero elsewhere)."""
    a = jnp.asarray(graph, jnp.float32)
    return masked_softmax(m * a, a > 0)


class LocalGraphAttention(nn.Module):
    """``softmax(M ⊙ Ã) X W`` (paper eq. 11), masked to the graph's entries, with separate
    weights for the self term (diagonal) and the neighbour term."""

    graph: tuple  # (J, J) 0/1 as nested tuples (hashable)
    features: int

    @nn.compact
    def __call__(self, x):
        a = np.asarray(self.graph, np.float32)
        att = local_attention_weights(self.param("M", nn.initializers.ones, a.shape), a)
        eye = jnp.eye(att.shape[0])
        xs = Dense(self.features, name="W_self")(x)
        xn = Dense(self.features, use_bias=False, name="W_neigh")(x)
        return jnp.diag(att)[:, None] * xs + jnp.einsum("ij,ntjc->ntic", att * (1 - eye), xn)


class GlobalGraphAttention(nn.Module):
    """``concat_k (B_k + C_k) X W_k`` (paper eq. 12): B_k from the input (embedded pairwise
    similarity over the window, softmax over joints), C_k a learnable J×J matrix."""

    features: int
    heads: int = 4
    embed: int = 16

    @nn.compact
    def __call__(self, x):
        n, t, j, c = x.shape
        k = self.heads
        theta = Dense(k * self.embed, name="theta")(x).reshape(n, t, j, k, self.embed)
        phi = Dense(k * self.embed, name="phi")(x).reshape(n, t, j, k, self.embed)
        b = jax.nn.softmax(jnp.einsum("ntike,ntjke->nkij", theta, phi) / np.sqrt(t * self.embed), axis=-1)
        cmat = self.param("C", nn.initializers.zeros, (k, j, j))
        v = Dense(self.features, name="W")(x).reshape(n, t, j, k, self.features // k)
        y = jnp.einsum("nkij,ntjkc->ntikc", b + cmat[None], v)
        return y.reshape(n, t, j, self.features)


class STGABlock(nn.Module):
    features: int
    dilation: int = 1
    heads: int = 4
    dropout: Any = 0.1
    layout: str = "lsp14"
    impl: str = "conv1d"

    @nn.compact
    def __call__(self, x, train: bool):
        to_t = lambda a: tuple(map(tuple, a.astype(int).tolist()))
        sym = LocalGraphAttention(to_t(symmetric_graph(self.layout)), self.features, name="local_symmetric")(x)
        con = LocalGraphAttention(to_t(connection_graph(self.layout)), self.features, name="local_connection")(x)
        local = Dense(self.features, name="local_fuse")(jnp.concatenate([sym, con], -1))
        glob = GlobalGraphAttention(self.features, self.heads, name="global")(x)
        h = nn.relu(BatchNorm(name="bn_spatial")(local + glob, train))
        h = TemporalConv(self.features, 3, 1, self.dilation, impl=self.impl, name="tcn")(h)
        h = BatchNorm(name="bn_temporal")(h, train)
        h = Dropout(self.dropout)(h, deterministic=not train)
        return nn.relu(h + x)


class STGANet(nn.Module):
    """STGA-Net (paper §III-C): GAST-Net-style graph-attention encoder + G-GRU decoder.

    Fields: ``obs``/``pred`` frames, ``joints``/``dims``, ``width`` (channels), ``blocks``
    (encoder blocks, dilations 1, 2, 4, ...), ``heads`` (global-attention subsets K),
    ``dropout``, ``layout`` (the skeleton whose graphs the local attention uses).
    """

    obs: int = 10
    pred: int = 10
    joints: int = 14
    dims: int = 3
    width: int = 64
    blocks: int = 3
    heads: int = 4
    dropout: Any = 0.1
    layout: str = "lsp14"
    impl: str = "conv1d"

    @nn.compact
    def __call__(self, obs, train: bool = False):
        vel = jnp.concatenate([jnp.zeros_like(obs[:, :1]), obs[:, 1:] - obs[:, :-1]], 1)
        h = Dense(self.width, name="embed")(jnp.concatenate([obs, vel], -1))
        for i in range(self.blocks):
            h = STGABlock(self.width, 2**i, self.heads, self.dropout, self.layout, self.impl, name=f"block_{i}")(
                h, train
            )
        h0 = jnp.tanh(Dense(self.width, name="to_hidden")(jnp.concatenate([h[:, -1], h.mean(1)], -1)))
        return GraphGRUDecoder(self.width, obs.shape[2], obs.shape[3], name="decoder")(
            h0, obs[:, -1], obs[:, -2], self.pred
        )

    SIZES = {"test": {"width": 16, "blocks": 2}}  # model fields per preset (dancejax.tasks)

    @staticmethod
    def recipe(preset: str, obs: int, pred: int) -> dict | None:
        """``'original'``: the paper gives no code or schedule beyond its architecture, so the
        original recipe is dancejax's default preset (``dancejax.tasks.prediction``)."""
        return {} if preset == "original" else None
