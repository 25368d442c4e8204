"""DMGNN (Li, Chen, Zhao, Zhang, Wang, Tian, "Dynamic Multiscale Graph Neural Networks for 3D
Skeleton-Based Human Motion Prediction", CVPR 2020), as its authors' code builds it
(limaosen0/DMGNN, ``h36m-short/net``: ``model.py``, ``utils/module.py``, ``utils/operation.py``).

**Encoder** (three of them, on positions, velocities and accelerations of the observed frames
but the last, as the original feeds them): a multiscale graph of body joints (s1), two-joint
parts (s2) and five bodies (s3), the coarser scales initialised by averaging joints.  Each scale
runs ST-GCN blocks (graph conv on a *distance* partition with learnable multiplicative and
additive edge weights, BN, ReLU, a 5×1 temporal conv, BN, dropout, residual): 32, 64 (stride 2),
128 (stride 2), 256 (stride 2) channels.  After the first two blocks the scales exchange
information through **dynamic cross-scale graphs** (``S1_to_S2`` …): every node of a scale is
embedded by a temporal conv and a node→edge→node message-passing MLP over the fully connected
graph of its scale (NRI style), and the softmax of the embeddings' inner products between two
scales is the graph that carries features from one scale to the other
(``x_s += cross_w · Σ incoming``).  The coarse scales are copied back to their joints and added
(weight ``lamda``), one more ST-GCN block (256) runs on the joints, and the time average is
the encoder's output.  The three encoders' outputs are concatenated, projected to the
decoder's width and passed through a ReLU.

**Decoder**: the graph-based GRU.  At each step the hidden state first passes messages over
the joint graph (a 1×1 conv to K·H channels, dropout, aggregation over the distance partition
with learnable ``emul``/``eadd``; for steps from the 10th on the original skips this), then GRU
gates take the input (pose, lagged velocity, acceleration); two leaky-ReLU layers with dropout
and a linear layer give a displacement that is added to the current pose.

Quirks of the original kept on purpose (they are the model): the node embedding reads the
(N, T, V, D) activations as (N, V, T·D) without moving V first; edge→node aggregation divides
by the number of nodes, not by the in-degree; the velocity fed to the decoder lags by one frame.

How it is traced (the compiled program's size, not the model): the three encoders run as one
``jax.vmap`` over their parameters, and in each fusion layer the cross-scale embeddings of one
scale (two of the joints, four of the parts, two of the bodies) run as one ``jax.vmap``; the
parameters are stacked at call time from the per-module subtrees, so the parameter tree keeps
the original's module names (``encoder_pos/j2p_1/embed_a`` …) for imports and saved models.
Initialisation builds the modules one by one to create that tree.

Departures (named): LSP-14 scales (7 two-joint parts, 5 bodies, ``LSP14_SCALES``) replace
H3.6M's 20-joint ones (10 parts, 5 bodies); the decoder's exploration noise (σ = 0.001 on the
pose input) is added in training only (the original also adds it when testing); the joint mask
that zeroes H3.6M's constant coordinates does not apply (no LSP-14 coordinate is constant).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from dancejax.errors import DataError
from dancejax.layers import functional as F
from dancejax.layers.modules import BatchNorm, Dense, Dropout, TemporalConv, torch_uniform
from dancejax.maths.graph import spatial_partition
from dancejax.models.stgcn import STGCNBlock
from dancejax.skeleton import LSP14, Layout
from dancejax.train.optim import OptimConfig

# Scales for LSP-14: joints -> 7 disjoint two-joint parts -> 5 disjoint bodies.
PARTS = ((0, 1), (5, 4), (2, 3), (6, 7), (11, 10), (8, 9), (12, 13))  # r/l shank, pelvis, r/l forearm, shoulders, head
BODIES = ((0, 1, 2), (3, 4, 5), (12, 13), (9, 10, 11), (6, 7, 8))  # r leg, l leg, torso, l arm, r arm
PART_LAYOUT = Layout(
    "dmgnn_parts_lsp14",
    ("r_shank", "l_shank", "pelvis", "r_forearm", "l_forearm", "shoulders", "head"),
    ((0, 2), (1, 2), (2, 5), (3, 5), (4, 5), (5, 6)),
    (),
    (),
    5,
)
BODY_LAYOUT = Layout(
    "dmgnn_bodies_lsp14", ("r_leg", "l_leg", "torso", "l_arm", "r_arm"), ((0, 2), (1, 2), (2, 3), (2, 4)), (), (), 2
)
LSP14_SCALES = {"joints": LSP14, "parts": PART_LAYOUT, "bodies": BODY_LAYOUT}
BLOCK_WIDTHS = (32, 64, 128, 256)
BLOCK_STRIDES = (1, 2, 2, 2)


def pooling(groups, num_joints: int) -> np.ndarray:
    """(groups, joints) averaging matrix."""
    p = np.zeros((len(groups), num_joints), np.float32)
    for i, g in enumerate(groups):
        p[i, list(g)] = 1.0 / len(g)
    return p


def unpooling(groups, num_joints: int) -> np.ndarray:
    """(groups, joints) 0/1 matrix: each joint takes its group's feature."""
    return (pooling(groups, num_joints) > 0).astype(np.float32)


def fully_connected_relations(n: int) -> tuple[np.ndarray, np.ndarray]:
    """NRI-style receiver / sender one-hot matrices (n(n-1), n) over every ordered pair i ≠ j,
    in the original's order (``np.where(ones - eye)``)."""
    send, rec = np.where(np.ones((n, n)) - np.eye(n))
    eye = np.eye(n, dtype=np.float32)
    return eye[rec], eye[send]


def xavier_normal(key, shape, dtype=jnp.float32):
    std = np.sqrt(2.0 / (shape[0] + shape[1]))
    return std * jax.random.normal(key, shape, dtype)


def normal(mean: float, std: float):
    return lambda key, shape, dtype=jnp.float32: mean + std * jax.random.normal(key, shape, dtype)


def conv_init():
    return normal(0.0, 0.02)  # the original's weights_init for Conv1d/Conv2d weights


class JpTransMLP(nn.Module):
    """``Mlp_JpTrans``: fc1, leaky ReLU (0.01), dropout, fc2 on [h, input], BatchNorm over nodes,
    optional leaky ReLU.  Xavier-normal weights, bias 0.1."""

    hidden: int
    out: int
    dropout: float = 0.2
    out_act: bool = True

    @nn.compact
    def __call__(self, x, train: bool):
        dense = lambda n, name: Dense(n, kernel_init=xavier_normal, bias_init=nn.initializers.constant(0.1), name=name)
        h = Dropout(self.dropout)(nn.leaky_relu(dense(self.hidden, "fc1")(x), 0.01), deterministic=not train)
        h = dense(self.out, "fc2")(jnp.concatenate([h, x], -1))
        h = BatchNorm(scale_init=normal(1.0, 0.02), name="bn")(h.reshape(-1, self.out), train).reshape(h.shape)
        return nn.leaky_relu(h, 0.01) if self.out_act else h


class ScaleEmbedding(nn.Module):
    """``S1AttInform`` / ``S2AttInform`` / ``S3AttInform``: temporal conv (5×1, stride 2) + BN +
    dropout, then node→edge→node message passing over the scale's fully connected graph."""

    hidden: int = 256
    dropout: float = 0.2

    @nn.compact
    def __call__(self, x, train: bool):  # x (N, T, V, C)
        n, t, v, c = x.shape
        h = TemporalConv(
            c,
            5,
            2,
            impl="conv1d",
            layout="ntvc",
            kernel_init=conv_init(),
            bias_init=nn.initializers.zeros,
            name="time_conv_conv",
        )(x)
        h = BatchNorm(name="time_conv_bn", scale_init=normal(1.0, 0.02))(h, train)
        h = Dropout(self.dropout)(h, deterministic=not train)
        h = h.reshape(n, v, -1)  # the original's view of (N, T', V, C) memory as (N, V, T'·C)
        node = JpTransMLP(self.hidden, self.hidden, self.dropout, name="mlp1")(h, train)
        rec, send = (jnp.asarray(m) for m in fully_connected_relations(v))
        receivers = jnp.einsum("ev,nvc->nec", rec, node)
        senders = jnp.einsum("ev,nvc->nec", send, node)
        edge = JpTransMLP(self.hidden, self.hidden, self.dropout, name="mlp2")(
            jnp.concatenate([receivers, receivers - senders], -1), train
        )
        incoming = jnp.einsum("ev,nec->nvc", rec, edge) / v  # the original divides by the node count
        return JpTransMLP(self.hidden, self.hidden, self.dropout, out_act=False, name="mlp3")(
            jnp.concatenate([incoming, node], -1), train
        )


class CrossScale(nn.Module):
    """``S1_to_S2`` and its siblings: features of scale ``a`` carried to scale ``b`` by the
    softmax (over ``a``'s nodes) of the two scales' node-embedding inner products."""

    dropout: float = 0.2

    @nn.compact
    def __call__(self, xa, xb, train: bool):  # (N, T, Va, C), (N, T, Vb, C) -> (N, T, Vb, C)
        ea = ScaleEmbedding(dropout=self.dropout, name="embed_a")(xa, train)
        eb = ScaleEmbedding(dropout=self.dropout, name="embed_b")(xb, train)
        return carry(ea, eb, xa)


def carry(ea, eb, xa):
    """Scale ``a``'s features (N, T, Va, C) carried to scale ``b`` by the softmax over ``a``'s
    nodes of the embeddings' inner products (``ea`` (N, Va, E), ``eb`` (N, Vb, E))."""
    att = jax.nn.softmax(jnp.einsum("nbe,nae->nba", eb, ea), axis=-1)
    n, t, va, c = xa.shape
    flat = xa.transpose(0, 2, 1, 3).reshape(n, va, t * c)
    out = jnp.einsum("nba,nad->nbd", att, flat)
    return out.reshape(n, -1, t, c).transpose(0, 2, 1, 3)


def stack_trees(trees):
    return jax.tree_util.tree_map(lambda *a: jnp.stack(a), *trees)


# The cross-scale modules of one fusion layer: (scale a, scale b); each embeds both of its scales.
CROSS = {"j2p": ("joints", "parts"), "p2j": ("parts", "joints"), "p2b": ("parts", "bodies"), "b2p": ("bodies", "parts")}


class DMGNNEncoder(nn.Module):
    """One multiscale encoder (positions, velocities or accelerations)."""

    dropout: Any = 0.5
    fusion_layers: int = 2
    cross_w: float = 0.3
    lamda: float = 0.6
    att_dropout: float = 0.2

    @nn.compact
    def __call__(self, x, train: bool):  # x (N, T, J, D)
        j = x.shape[2]
        graphs = {s: jnp.asarray(spatial_partition(lay, "distance", 1)) for s, lay in LSP14_SCALES.items()}
        depth = {"joints": 5, "parts": 4, "bodies": 4}

        def edge(scale, i):
            a = graphs[scale]
            mul = self.param(f"emul_{scale}_{i}", nn.initializers.ones, a.shape)
            add = self.param(f"eadd_{scale}_{i}", nn.initializers.zeros, a.shape)
            return a * mul + add

        def block(scale, i, h, width, stride):
            return STGCNBlock(
                width,
                stride,
                residual=i > 0,
                dropout=self.dropout,
                kernel=5,
                layout="ntvc",
                conv_init=conv_init(),
                bn_scale_init=normal(1.0, 0.02),
                name=f"{scale}_l{i + 1}",
            )(h, edge(scale, i), train)

        feats = {
            "joints": x,
            "parts": jnp.einsum("pj,ntjc->ntpc", pooling(PARTS, j), x),
            "bodies": jnp.einsum("bj,ntjc->ntbc", pooling(BODIES, j), x),
        }
        for i, (width, stride) in enumerate(zip(BLOCK_WIDTHS, BLOCK_STRIDES)):
            feats = {s: block(s, i, feats[s], width, stride) for s in LSP14_SCALES}
            if i < self.fusion_layers:
                if self.is_initializing():
                    c = {
                        k: CrossScale(self.att_dropout, name=f"{k}_{i + 1}")(feats[a], feats[b], train)
                        for k, (a, b) in CROSS.items()
                    }
                else:
                    c = self._fuse(i + 1, feats, train)
                j2p, p2j, p2b, b2p = c["j2p"], c["p2j"], c["p2b"], c["b2p"]
                feats = {
                    "joints": feats["joints"] + self.cross_w * p2j,
                    "parts": feats["parts"] + self.cross_w * (j2p + b2p),
                    "bodies": feats["bodies"] + self.cross_w * p2b,
                }
        back_p = jnp.einsum("pj,ntpc->ntjc", unpooling(PARTS, j), feats["parts"])
        back_b = jnp.einsum("bj,ntbc->ntjc", unpooling(BODIES, j), feats["bodies"])
        h = feats["joints"] + self.lamda * back_p + self.lamda * back_b
        h = block("joints", depth["joints"] - 1, h, BLOCK_WIDTHS[-1], 1)
        return h.mean(1)  # (N, J, C)

    def _fuse(self, layer: int, feats, train: bool) -> dict:
        """The cross-scale modules of fusion ``layer``: the embeddings of one scale (two for the
        joints and the bodies, four for the parts) run as one ``jax.vmap`` over their parameters,
        stacked here from the per-module subtrees (``j2p_1/embed_a`` …, the original's names)."""
        embed = ScaleEmbedding(dropout=self.att_dropout, parent=None)
        out, new_stats = {}, {f"{k}_{layer}": {} for k in CROSS}
        keys = jax.random.split(self.make_rng("dropout"), 3) if train else [None] * 3
        for s, key in zip(LSP14_SCALES, keys):
            users = [
                (f"{k}_{layer}", slot)
                for k, ab in CROSS.items()
                for slot, sc in zip(("embed_a", "embed_b"), ab)
                if sc == s
            ]
            params = stack_trees([self.variables["params"][m][slot] for m, slot in users])
            stats = stack_trees([self.variables["batch_stats"][m][slot] for m, slot in users])
            if train:

                def one(p, b, k, x=feats[s]):
                    return embed.apply(
                        {"params": p, "batch_stats": b}, x, True, rngs={"dropout": k}, mutable=["batch_stats"]
                    )

                e, upd = jax.vmap(one)(params, stats, jax.random.split(key, len(users)))
                for j, (m, slot) in enumerate(users):
                    new_stats[m][slot] = jax.tree_util.tree_map(lambda a, j=j: a[j], upd["batch_stats"])
            else:
                e = jax.vmap(lambda p, b, x=feats[s]: embed.apply({"params": p, "batch_stats": b}, x, False))(
                    params, stats
                )
            out.update({u: e[j] for j, u in enumerate(users)})
        if train and self.is_mutable_collection("batch_stats"):
            for m, tree in new_stats.items():
                self.put_variable("batch_stats", m, tree)
        return {
            k: carry(out[(f"{k}_{layer}", "embed_a")], out[(f"{k}_{layer}", "embed_b")], feats[a])
            for k, (a, _) in CROSS.items()
        }


class LinearParams(nn.Module):
    """The parameters of one linear layer, returned as arrays (kernel (in, out), bias) so that a
    ``jax.lax.scan`` body can use them as plain values."""

    features: int
    use_bias: bool = True
    kernel_init: Any = None
    bias_init: Any = None

    @nn.compact
    def __call__(self, fan_in: int):
        init = torch_uniform(fan_in)
        w = self.param("kernel", self.kernel_init or init, (fan_in, self.features))
        b = self.param("bias", self.bias_init or init, (self.features,)) if self.use_bias else 0.0
        return w, b


def _lin(p, x):
    return x @ p[0] + p[1]


class DMGNNDecoder(nn.Module):
    """The graph-based GRU decoder, stepped with ``jax.lax.scan``."""

    hidden: int = 256
    dims: int = 3
    dropout: float = 0.3
    msg_dropout: float = 0.5
    noise: float = 0.001

    @nn.compact
    def __call__(self, h0, current, previous, previous2, steps: int, train: bool):
        hs, d = self.hidden, self.dims
        a = jnp.asarray(spatial_partition(LSP14, "distance", 1))
        kk = a.shape[0]
        graph = a * self.param("emul", nn.initializers.ones, a.shape) + self.param(
            "eadd", nn.initializers.ones, a.shape
        )
        p = {
            "msg_in": LinearParams(kk * hs, kernel_init=conv_init(), bias_init=nn.initializers.zeros, name="msg_in")(hs)
        }
        for g in ("r", "i", "n"):
            p[f"input_{g}"] = LinearParams(hs, name=f"input_{g}")(3 * d)
        for g in ("r", "i", "h"):
            p[f"hidden_{g}"] = LinearParams(hs, use_bias=False, name=f"hidden_{g}")(hs)
        p["out_fc1"] = LinearParams(hs, name="out_fc1")(hs)
        p["out_fc2"] = LinearParams(hs, name="out_fc2")(hs)
        p["out_fc3"] = LinearParams(d, name="out_fc3")(hs)
        key = self.make_rng("dropout") if train else None

        def drop(k, x, rate, tag):
            return x if key is None else F.dropout(jax.random.fold_in(k, tag), x, rate)

        def step(carry, s):
            h, cur, prev, prev2 = carry
            k = None if key is None else jax.random.fold_in(key, s)
            m = drop(k, _lin(p["msg_in"], h), self.msg_dropout, 0).reshape(*h.shape[:2], kk, hs)
            msg = jnp.where(s < 10, jnp.einsum("nvkc,kvw->nwc", m, graph), h)  # the original stops at step 10
            vel = prev - prev2
            acc = cur - prev - vel
            pos = cur if k is None else cur + self.noise * jax.random.normal(jax.random.fold_in(k, 3), cur.shape)
            x = jnp.concatenate([pos, vel, acc], -1)
            r = jax.nn.sigmoid(_lin(p["input_r"], x) + _lin(p["hidden_r"], msg))
            z = jax.nn.sigmoid(_lin(p["input_i"], x) + _lin(p["hidden_i"], msg))
            n = jnp.tanh(_lin(p["input_n"], x) + r * _lin(p["hidden_h"], msg))
            h = (1 - z) * n + z * h
            o = drop(k, nn.leaky_relu(_lin(p["out_fc1"], h), 0.1), self.dropout, 1)
            o = drop(k, nn.leaky_relu(_lin(p["out_fc2"], o), 0.1), self.dropout, 2)
            nxt = x[..., :d] + _lin(p["out_fc3"], o)
            return (h, nxt, cur, prev), nxt

        _, poses = jax.lax.scan(step, (h0, current, previous, previous2), jnp.arange(steps))
        return jnp.moveaxis(poses, 0, 1)


def _number(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def check_fields(m) -> None:
    """``DataError`` naming the first invalid field of a DMGNN configuration.  Rates given as
    arrays (a study's traced dropout) are not checked here."""
    rates = ("dropout", "att_dropout", "dec_dropout", "msg_dropout")
    checks = [
        (isinstance(m.obs, int) and m.obs >= 3, "obs", "an int ≥ 3 (the decoder reads the last three frames)"),
        (isinstance(m.pred, int) and m.pred >= 1, "pred", "an int ≥ 1"),
        (m.joints == LSP14.num_joints, "joints", "14 (DMGNN's scales are defined for LSP-14)"),
        (m.dims in (2, 3), "dims", "2 or 3"),
        (isinstance(m.hidden, int) and m.hidden >= 1, "hidden", "an int ≥ 1"),
        (m.fusion_layers in (0, 1, 2), "fusion_layers", "0, 1 or 2 (the original's choices)"),
        *((not _number(getattr(m, r)) or 0 <= getattr(m, r) < 1, r, "a rate in [0, 1)") for r in rates),
        (_number(m.cross_w) and np.isfinite(m.cross_w), "cross_w", "a finite number"),
        (_number(m.lamda) and np.isfinite(m.lamda), "lamda", "a finite number"),
        (_number(m.noise) and 0 <= m.noise < np.inf, "noise", "a finite number ≥ 0"),
    ]
    for ok, field, expected in checks:
        if not ok:
            raise DataError(f"DMGNN: field {field!r} is {getattr(m, field)!r}; expected {expected}")


class DMGNN(nn.Module):
    """DMGNN as the original code builds it (see the module docstring).

    Fields: ``obs``/``pred`` frames, ``joints``/``dims`` (LSP-14 scales only), ``hidden``
    (the decoder's width, 256), ``dropout`` (the ST-GCN blocks', 0.5), ``fusion_layers`` (2),
    ``cross_w`` (0.3), ``lamda`` (0.6); the other dropout rates of the original
    (``att_dropout`` 0.2 in the cross-scale embeddings, ``dec_dropout`` 0.3 and ``msg_dropout``
    0.5 in the decoder) and the decoder's exploration ``noise`` (0.001).
    """

    obs: int = 10
    pred: int = 10
    joints: int = 14
    dims: int = 3
    hidden: int = 256
    dropout: Any = 0.5
    fusion_layers: int = 2
    cross_w: float = 0.3
    lamda: float = 0.6
    att_dropout: float = 0.2
    dec_dropout: float = 0.3
    msg_dropout: float = 0.5
    noise: float = 0.001

    def __post_init__(self):
        check_fields(self)
        super().__post_init__()

    @nn.compact
    def __call__(self, obs, train: bool = False):
        enc = obs[:, :-1]
        vel = jnp.concatenate([jnp.zeros_like(enc[:, :1]), enc[:, 1:] - enc[:, :-1]], 1)
        acc = jnp.concatenate([jnp.zeros_like(vel[:, :1]), vel[:, 1:] - vel[:, :-1]], 1)
        kw = dict(
            dropout=self.dropout,
            fusion_layers=self.fusion_layers,
            cross_w=self.cross_w,
            lamda=self.lamda,
            att_dropout=self.att_dropout,
        )
        names = ("encoder_pos", "encoder_vel", "encoder_acl")
        if self.is_initializing():
            hs = [DMGNNEncoder(**kw, name=n)(x, train) for n, x in zip(names, (enc, vel, acc))]
        else:
            hs = self._encoders(DMGNNEncoder(**kw, parent=None), names, jnp.stack([enc, vel, acc]), train)
        h0 = nn.relu(Dense(self.hidden, name="linear")(jnp.concatenate(hs, -1)))
        return DMGNNDecoder(self.hidden, self.dims, self.dec_dropout, self.msg_dropout, self.noise, name="decoder")(
            h0, obs[:, -1], obs[:, -2], obs[:, -3], self.pred, train
        )

    def _encoders(self, encoder: nn.Module, names, xs, train: bool):
        """The three encoders as one ``jax.vmap`` over their parameters, stacked here from the
        usual per-encoder subtrees (``encoder_pos`` …): the program holds one encoder, not three,
        and the parameter tree (imports, saved models) stays as the original names it."""
        params = stack_trees([self.variables["params"][n] for n in names])
        stats = stack_trees([self.variables["batch_stats"][n] for n in names])
        if not train:
            out = jax.vmap(lambda p, b, x: encoder.apply({"params": p, "batch_stats": b}, x, False))(params, stats, xs)
            return list(out)

        def one(p, b, x, key):
            return encoder.apply(
                {"params": p, "batch_stats": b}, x, True, rngs={"dropout": key}, mutable=["batch_stats"]
            )

        keys = jax.random.split(self.make_rng("dropout"), len(names))
        out, upd = jax.vmap(one)(params, stats, xs, keys)
        if self.is_mutable_collection("batch_stats"):
            for i, n in enumerate(names):
                self.put_variable("batch_stats", n, jax.tree_util.tree_map(lambda a: a[i], upd["batch_stats"]))
        return list(out)

    SIZES = {"test": {"hidden": 16}, "quick": {"hidden": 64}}  # model fields per preset (dancejax.tasks)

    @staticmethod
    def recipe(preset: str, obs: int, pred: int) -> dict | None:
        """``'original'``: the authors' short-term recipe (``config/H36M/short/train.yaml``,
        ``processor/recognition.py``).  Adam 1e-4 with L2 weight decay 1e-4, ×0.98 every 1000
        steps, gradient norm clipped at 0.5, batch 32, 40 000 steps, loss = mean absolute error
        of the standardised coordinates (per-dimension mean and std of the training data, as the
        original's ``normalize_data``); data: root-relative positions, no augmentation.  Adapted:
        positions rather than the original's exponential maps (our data has no joint angles);
        windows drawn by shuffled epochs rather than uniformly with replacement per step."""
        if preset != "original":
            return None
        return dict(
            model={"hidden": 256, "dropout": 0.5, "fusion_layers": 2, "cross_w": 0.3, "lamda": 0.6},
            optim=OptimConfig("adam", lr=1e-4, lr_decay=0.98, decay_every_steps=1000, weight_decay=1e-4, clip_norm=0.5),
            batch_size=32,
            iterations=40000,
            stride=1,
            loss="l1",
            frame="root_relative",
            augment=(),
            normalize=True,
            eval_every=20,
        )


_TORCH_RENAMES = [
    (r"\.s1_l(\d)\.", r".joints_l\1."),
    (r"\.s2_l(\d)\.", r".parts_l\1."),
    (r"\.s3_l(\d)\.", r".bodies_l\1."),
    (r"\.gcn\.conv\.", ".gcn."),
    (r"\.tcn\.0\.", ".tcn_bn0."),
    (r"\.tcn\.2\.", ".tcn_conv."),
    (r"\.tcn\.3\.", ".tcn_bn1."),
    (r"\.residual\.0\.", ".residual_conv."),
    (r"\.residual\.1\.", ".residual_bn."),
    (r"\.emul_s1\.(\d)$", r".emul_joints_\1"),
    (r"\.eadd_s1\.(\d)$", r".eadd_joints_\1"),
    (r"\.emul_s2\.(\d)$", r".emul_parts_\1"),
    (r"\.eadd_s2\.(\d)$", r".eadd_parts_\1"),
    (r"\.emul_s3\.(\d)$", r".emul_bodies_\1"),
    (r"\.eadd_s3\.(\d)$", r".eadd_bodies_\1"),
    (r"\.(j2p_\d)\.embed_s1\.", r".\1.embed_a."),
    (r"\.(j2p_\d)\.embed_s2\.", r".\1.embed_b."),
    (r"\.(p2j_\d)\.embed_s2\.", r".\1.embed_a."),
    (r"\.(p2j_\d)\.embed_s1\.", r".\1.embed_b."),
    (r"\.(p2b_\d)\.embed_s2\.", r".\1.embed_a."),
    (r"\.(p2b_\d)\.embed_s3\.", r".\1.embed_b."),
    (r"\.(b2p_\d)\.embed_s3\.", r".\1.embed_a."),
    (r"\.(b2p_\d)\.embed_s2\.", r".\1.embed_b."),
    (r"\.time_conv\.0\.", ".time_conv_conv."),
    (r"\.time_conv\.1\.", ".time_conv_bn."),
    (r"^decoder\.msg_in\.conv\.", "decoder.msg_in."),
]
TORCH_BUFFERS = (
    "encoder_pos.A_j",
    "encoder_pos.A_p",
    "encoder_pos.A_b",
    "encoder_vel.A_j",
    "encoder_vel.A_p",
    "encoder_vel.A_b",
    "encoder_acl.A_j",
    "encoder_acl.A_p",
    "encoder_acl.A_b",
    "decoder.A_j",
)


def torch_rename(key: str) -> str:
    """Original state-dict keys (``encoder_pos.s2_l3.tcn.2.weight``, ``encoder_vel.j2p_1.embed_s1.mlp1.fc1.weight``,
    ``decoder.msg_in.conv.weight`` ...) to dancejax module paths."""
    import re

    for pat, rep in _TORCH_RENAMES:
        key = re.sub(pat, rep, key)
    return key


def import_original(state_dict, model: DMGNN) -> dict:
    """The variables of ``model`` from a state dict of the original code's ``Model`` (or of
    ``reference/dmgnn.py``): keys renamed by ``torch_rename``, the graph buffers ignored.
    Raises ``DataError`` naming the keys that are missing or unexpected, or a key whose shape
    differs from the parameter's (e.g. a state dict of another hidden width or window length)."""
    from dancejax.deploy.convert import import_state_dict  # deploy imports the models package

    x = jnp.zeros((1, model.obs, model.joints, model.dims))
    template = jax.eval_shape(lambda: model.init({"params": jax.random.key(0), "dropout": jax.random.key(1)}, x))
    return import_state_dict(state_dict, template, rename=torch_rename, ignore=TORCH_BUFFERS)
