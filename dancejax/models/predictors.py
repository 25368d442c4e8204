"""Motion-prediction models (SPEC §5): STGA-Net and the learned baselines LTD, DMGNN, siMLPe.

Every model maps observed poses (N, T_obs, J, D) to the next (N, T_pred, J, D), in
coordinates relative to the last observed mid-hip (``dancejax.prediction``).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from dancejax.dct import dct_matrix
from dancejax.graph import connection_graph, symmetric_graph
from dancejax.layers.functional import masked_softmax
from dancejax.layers.modules import BatchNorm, Dense, Dropout, TemporalConv
from dancejax.models.ggru import GraphGRUDecoder
from dancejax.skeleton import LSP14_PARTS, get_layout


@dataclasses.dataclass(frozen=True)
class PredictionModelConfig:
    kind: str = "stga_net"  # 'stga_net' | 'ltd' | 'dmgnn' | 'simlpe'
    layout: str = "lsp14"
    obs: int = 10
    pred: int = 10
    dims: int = 3
    width: int = 64  # STGA-Net / DMGNN channels; LTD and siMLPe hidden size
    blocks: int = 3  # STGA-Net encoder blocks (dilations 1, 2, 4, ...)
    heads: int = 4  # global attention subsets K
    ltd_blocks: int = 12
    simlpe_blocks: int = 8
    dropout: float = 0.1
    impl: str = "conv1d"


# ------------------------------------------------------------------ STGA-Net

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
    dropout: float = 0.1
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
    """STGA-Net (paper §III-C): GAST-Net-style graph-attention encoder + G-GRU decoder."""

    cfg: PredictionModelConfig

    @nn.compact
    def __call__(self, obs, train: bool = False):
        c = self.cfg
        vel = jnp.concatenate([jnp.zeros_like(obs[:, :1]), obs[:, 1:] - obs[:, :-1]], 1)
        h = Dense(c.width, name="embed")(jnp.concatenate([obs, vel], -1))
        for i in range(c.blocks):
            h = STGABlock(c.width, 2 ** i, c.heads, c.dropout, c.layout, c.impl, name=f"block_{i}")(h, train)
        h0 = jnp.tanh(Dense(c.width, name="to_hidden")(jnp.concatenate([h[:, -1], h.mean(1)], -1)))
        return GraphGRUDecoder(c.width, obs.shape[2], obs.shape[3], name="decoder")(h0, obs[:, -1], obs[:, -2], c.pred)


# ------------------------------------------------------------------ LTD

class LTDGraphConv(nn.Module):
    """LTD's graph convolution over coordinate nodes: ``A (X W) + b`` with a learnable dense A."""

    features: int

    @nn.compact
    def __call__(self, x):
        nodes, fin = x.shape[-2:]
        init = torch_init(self.features)
        w = self.param("W", init, (fin, self.features))
        a = self.param("A", init, (nodes, nodes))
        b = self.param("b", init, (self.features,))
        return jnp.einsum("ij,njf->nif", a, x @ w) + b


def torch_init(out_features: int):
    stdv = 1.0 / np.sqrt(out_features)
    return lambda k, s, dtype=jnp.float32: jax.random.uniform(k, s, dtype, -stdv, stdv)


class LTDBlock(nn.Module):
    features: int
    dropout: float

    @nn.compact
    def __call__(self, x, train: bool):
        n, nodes, f = x.shape
        h = x
        for i in range(2):
            h = LTDGraphConv(f, name=f"gc{i}")(h)
            h = BatchNorm(name=f"bn{i}")(h.reshape(n, nodes * f), train).reshape(n, nodes, f)
            h = Dropout(self.dropout)(jnp.tanh(h), deterministic=not train)
        return h + x


class LTD(nn.Module):
    """LTD (Mao et al. ICCV 2019; the paper's "T-GCN"): orthonormal DCT-II of the observed
    frames padded with the last frame, a GCN over the J·D coordinate nodes with learnable
    dense graphs and ``ltd_blocks`` residual blocks, and a residual in DCT space."""

    cfg: PredictionModelConfig

    @nn.compact
    def __call__(self, obs, train: bool = False):
        c = self.cfg
        n, t, j, d = obs.shape
        length = t + c.pred
        padded = jnp.concatenate([obs, jnp.repeat(obs[:, -1:], c.pred, 1)], 1).reshape(n, length, j * d)
        dct = jnp.asarray(dct_matrix(length))
        coef = jnp.einsum("kt,ntc->nck", dct, padded)  # (N, nodes, L)
        h = LTDGraphConv(c.width, name="gc_in")(coef)
        h = BatchNorm(name="bn_in")(h.reshape(n, -1), train).reshape(h.shape)
        h = Dropout(c.dropout)(jnp.tanh(h), deterministic=not train)
        for i in range(c.ltd_blocks):
            h = LTDBlock(c.width, c.dropout, name=f"block_{i}")(h, train)
        out = LTDGraphConv(length, name="gc_out")(h) + coef
        seq = jnp.einsum("kt,nck->ntc", dct, out).reshape(n, length, j, d)
        return seq[:, t:]


# ------------------------------------------------------------------ DMGNN

def part_matrices(layout: str):
    """Averaging matrices joints -> 5 parts -> 2 halves (upper, lower) for DMGNN's scales."""
    lay = get_layout(layout)
    parts = list(LSP14_PARTS.values()) if lay.name == "lsp14" else [tuple(range(lay.num_joints))]
    p = np.zeros((len(parts), lay.num_joints), np.float32)
    for i, idx in enumerate(parts):
        p[i, list(idx)] = 1.0 / len(idx)
    halves = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 1, 1]], np.float32) if len(parts) == 5 else np.ones((1, 1))
    halves /= halves.sum(1, keepdims=True)
    # broadcasting back: each joint takes the mean of the parts / halves it belongs to
    mem = (p > 0).astype(np.float32)
    mem_h = (((halves > 0).astype(np.float32) @ mem) > 0).astype(np.float32)
    return p, halves, mem / mem.sum(0, keepdims=True), mem_h / mem_h.sum(0, keepdims=True)


class ScaleGraphConv(nn.Module):
    """Graph conv at one scale with a learnable dense adjacency, then a k=3 temporal conv."""

    features: int
    impl: str = "conv1d"

    @nn.compact
    def __call__(self, x, train: bool):
        nodes = x.shape[2]
        a = self.param("A", lambda k, s: jnp.eye(s[0]) + 0.01 * jax.random.normal(k, s), (nodes, nodes))
        h = jnp.einsum("ij,ntjc->ntic", a, Dense(self.features, name="W")(x))
        h = nn.relu(BatchNorm(name="bn")(h, train))
        return nn.relu(BatchNorm(name="bn_t")(TemporalConv(self.features, 3, impl=self.impl, name="tcn")(h), train))


class DMGNN(nn.Module):
    """DMGNN (Li et al. CVPR 2020), simplified.  Kept: a multiscale graph encoder over joints,
    body parts and body halves with cross-scale fusion, and the G-GRU decoder.
    Simplified (stated): each scale's adjacency is a learned static matrix (DMGNN infers
    dynamic graphs per sample); cross-scale fusion averages joints into parts/halves and
    broadcasts back with learned gates (DMGNN uses feature-similarity fusion graphs); the
    decoder is our G-GRU over joints only (no multiscale decoding)."""

    cfg: PredictionModelConfig

    @nn.compact
    def __call__(self, obs, train: bool = False):
        c = self.cfg
        p, halves, up_part, up_half = part_matrices(c.layout)
        vel = jnp.concatenate([jnp.zeros_like(obs[:, :1]), obs[:, 1:] - obs[:, :-1]], 1)
        x = jnp.concatenate([obs, vel], -1)
        xj = x
        xp = jnp.einsum("pj,ntjc->ntpc", p, x)
        xh = jnp.einsum("hp,ntpc->nthc", halves, xp)
        for i in range(2):
            hj = ScaleGraphConv(c.width, c.impl, name=f"joint_{i}")(xj, train)
            hp = ScaleGraphConv(c.width, c.impl, name=f"part_{i}")(xp, train)
            hh = ScaleGraphConv(c.width, c.impl, name=f"half_{i}")(xh, train)
            gate = self.param(f"fusion_gate_{i}", nn.initializers.zeros, (2,))
            up_p = jnp.einsum("pj,ntpc->ntjc", up_part, hp)
            up_h = jnp.einsum("hj,nthc->ntjc", up_half, hh)
            xj = hj + jnp.tanh(gate[0]) * up_p + jnp.tanh(gate[1]) * up_h
            xp, xh = hp, hh
        h0 = jnp.tanh(Dense(c.width, name="to_hidden")(jnp.concatenate([xj[:, -1], xj.mean(1)], -1)))
        return GraphGRUDecoder(c.width, obs.shape[2], obs.shape[3], name="decoder")(h0, obs[:, -1], obs[:, -2], c.pred)


# ------------------------------------------------------------------ siMLPe

class SiMLPe(nn.Module):
    """siMLPe (Guo et al. WACV 2023): DCT over the observed frames, a spatial FC, blocks of
    temporal FC + LayerNorm with residuals, a spatial FC, IDCT, and a residual to the last
    observed frame.  The observed length maps to the predicted length with one final
    temporal FC (siMLPe keeps T_in = T_out and crops; ours allows T_pred > T_obs)."""

    cfg: PredictionModelConfig

    @nn.compact
    def __call__(self, obs, train: bool = False):
        c = self.cfg
        n, t, j, d = obs.shape
        x = obs.reshape(n, t, j * d)
        dct = jnp.asarray(dct_matrix(t))
        h = jnp.einsum("kt,ntc->nkc", dct, x)
        h = Dense(j * d, name="fc_in")(h)
        for i in range(c.simlpe_blocks):
            y = Dense(t, name=f"temporal_fc_{i}")(h.transpose(0, 2, 1)).transpose(0, 2, 1)
            h = h + nn.LayerNorm(name=f"ln_{i}")(y)
        h = Dense(j * d, name="fc_out")(h)
        h = jnp.einsum("kt,nkc->ntc", dct, h)
        h = Dense(c.pred, name="to_horizon")(h.transpose(0, 2, 1)).transpose(0, 2, 1)
        return h.reshape(n, c.pred, j, d) + obs[:, -1:]


MODELS = {"stga_net": STGANet, "ltd": LTD, "dmgnn": DMGNN, "simlpe": SiMLPe}


def build_predictor(cfg: PredictionModelConfig) -> nn.Module:
    if cfg.kind not in MODELS:
        raise ValueError(f"Unsupported model: {cfg.kind!r}; use one of {sorted(MODELS)}")
    return MODELS[cfg.kind](cfg)
