"""MKFF-ST-GCN (paper §III-B, SPEC §4): ST-GCN backbone + multi-kinematic feature fusion.

Input: a window of noisy 2D keypoints (N, T, J, 2), normalised (see
``dancejax.tasks.recognition.normalize``), and their confidences (N, T, J).
Outputs: refined keypoints (N, T, J, 2) = input + predicted offset, and style logits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
from flax import linen as nn

from dancejax.layers.functional import multi_head_attention
from dancejax.layers.modules import Dense, Dropout
from dancejax.maths.kinematics import kinematic_features
from dancejax.models.stgcn import SMALL_STRIDES, SMALL_WIDTHS, STGCN, STGCN10_STRIDES, STGCN10_WIDTHS, GraphConfig


class MKFFBlock(nn.Module):
    """Pre-LN transformer block over frames (eq. 8–9), with this block's own learned
    positional embedding added to the queries, keys and values."""

    heads: int = 4
    mlp_ratio: int = 2
    dropout: Any = 0.0

    @nn.compact
    def __call__(self, z, train: bool):
        t, c = z.shape[-2:]
        pos = self.param("pos_embedding", nn.initializers.normal(0.02), (t, c))
        h = nn.LayerNorm(name="ln_attn")(z)
        q = Dense(c, name="q")(h) + pos
        k = Dense(c, name="k")(h) + pos
        v = Dense(c, name="v")(h) + pos
        att = Dense(c, name="out")(multi_head_attention(q, k, v, self.heads))
        z = z + Dropout(self.dropout)(att, deterministic=not train)
        h = nn.LayerNorm(name="ln_mlp")(z)
        h = Dense(c, name="mlp_out")(nn.gelu(Dense(self.mlp_ratio * c, name="mlp_in")(h)))
        return z + Dropout(self.dropout)(h, deterministic=not train)


class MKFF(nn.Module):
    """Multi-kinematic feature fusion (eq. 7–9): velocity F1 and acceleration F2, flattened
    per frame to J·D, ``Z0 = concat(F1, F2) W0``, three pre-LN blocks, activation, dropout.

    ``features`` selects the kinematic inputs: ('velocity', 'acceleration') is the paper's;
    one of them alone gives the ablations.
    """

    width: int = 64
    blocks: int = 3
    heads: int = 4
    dropout: Any = 0.1
    interval: int = 1
    features: Sequence[str] = ("velocity", "acceleration")

    @nn.compact
    def __call__(self, x, train: bool):
        n, t, j, d = x.shape
        vel, acc = kinematic_features(x, self.interval)
        parts = {"velocity": vel, "acceleration": acc}
        f = jnp.concatenate([parts[k].reshape(n, t, j * d) for k in self.features], -1)
        z = Dense(self.width, use_bias=False, name="W0")(f)
        for i in range(self.blocks):
            z = MKFFBlock(self.heads, dropout=self.dropout, name=f"block_{i}")(z, train)
        return Dropout(self.dropout)(nn.gelu(z), deterministic=not train)


class MKFFSTGCN(nn.Module):
    """The ST-GCN backbone plus MKFF fusion, a per-joint offset decoder and a style head.

    Fields: ``num_styles``; the backbone's ``widths``/``strides`` and ``graph``; the MKFF
    module's ``mkff_width``, ``mkff_blocks``, ``mkff_heads`` and ``mkff_features`` (both
    kinematic features in the paper; one alone for the ablations); ``decoder_width``;
    ``dropout`` (may be a traced array).  With ``use_mkff=False`` it is the plain ST-GCN
    refinement baseline (same backbone, decoder and head).

    ``residual``: how the decoder's offset meets the input (the paper leaves this open):
    'plain' adds it (refined = input + offset); 'gated' adds ``g · offset`` with a per-joint
    gate ``g = σ(·)`` predicted from the fused features and the detector's confidence, so the
    model can learn to leave an already good joint alone.  ``skip_input``: the decoder also
    sees each joint's own (x, y, score) at its frame beside the backbone's and MKFF's features
    (the paper's decoder sees the fused features only; the strided ST-GCN-10 backbone's
    features are repeated in time, so without it the offset at a frame cannot see that frame's
    detection).
    """

    # model fields per preset (dancejax.tasks): the paper's ST-GCN-10 backbone (§IV-A) for its
    # recipe; a tiny network for the test suite
    SIZES = {
        "original": {"widths": STGCN10_WIDTHS, "strides": STGCN10_STRIDES},
        "test": {"widths": (8, 8), "strides": (1, 1), "mkff_width": 16, "mkff_heads": 2, "decoder_width": 16},
    }

    num_styles: int = 5
    widths: tuple[int, ...] = SMALL_WIDTHS
    strides: tuple[int, ...] = SMALL_STRIDES
    graph: GraphConfig = GraphConfig()
    mkff_width: int = 64
    mkff_blocks: int = 3
    mkff_heads: int = 4
    mkff_features: tuple[str, ...] = ("velocity", "acceleration")
    decoder_width: int = 64
    dropout: Any = 0.1
    use_mkff: bool = True
    residual: str = "plain"
    skip_input: bool = False
    impl: str = "conv1d"
    layout: str = "vntc"  # the backbone's internal layout (``STGCN.layout``)

    @nn.compact
    def __call__(self, x, conf, train: bool = False):
        n, t, j, d = x.shape
        inp = jnp.concatenate([x, conf[..., None]], -1)  # (x, y, score) like ST-GCN's input
        backbone = STGCN(
            self.graph,
            self.widths,
            self.strides,
            None,
            self.dropout,
            impl=self.impl,
            layout=self.layout,
            name="backbone",
        )
        feat, _ = backbone(inp, train)
        if feat.shape[1] != t:  # strided backbones: back to the window's temporal resolution
            feat = jnp.repeat(feat, -(-t // feat.shape[1]), axis=1)[:, :t]
        parts = [feat]
        if self.use_mkff:
            mk = MKFF(
                self.mkff_width,
                self.mkff_blocks,
                self.mkff_heads,
                self.dropout,
                features=self.mkff_features,
                name="mkff",
            )(x, train)
            parts.append(jnp.broadcast_to(mk[:, :, None, :], (n, t, j, mk.shape[-1])))
        if self.skip_input:  # the decoder also sees each joint's own input at its frame
            parts.append(inp)
        fused = nn.relu(Dense(self.decoder_width, name="fuse")(jnp.concatenate(parts, -1)))
        # per-joint decoder: shared MLP plus a learned per-joint embedding
        joint_emb = self.param("joint_embedding", nn.initializers.normal(0.02), (j, self.decoder_width))
        h = nn.relu(Dense(self.decoder_width, name="dec_hidden")(fused + joint_emb))
        offset = Dense(d, name="dec_out", use_bias=True)(h)
        if self.residual == "gated":
            # the gate starts nearly closed (σ(−2) ≈ 0.12): training begins from the detections themselves
            gate = jax.nn.sigmoid(
                Dense(1, bias_init=nn.initializers.constant(-2.0), name="gate")(
                    jnp.concatenate([h, conf[..., None]], -1)
                )
            )
            offset = gate * offset
        elif self.residual != "plain":
            raise ValueError(f"Unsupported residual: {self.residual!r}; use 'plain' or 'gated'")
        logits = Dense(self.num_styles, name="style_head")(fused.mean(axis=(1, 2)))
        return x + offset, logits


def plain_stgcn(**kw) -> MKFFSTGCN:
    """The plain ST-GCN refinement baseline: MKFF-ST-GCN without the MKFF branch."""
    return MKFFSTGCN(**{**kw, "use_mkff": False})


class MKFFNoTopK(MKFFSTGCN):
    """MKFF-ST-GCN trained without the hard-joint term of eq. 10 (the top-k ablation): the
    same network, with the task configuration ``CONFIG`` sets."""

    CONFIG = {"top_k": 0}  # task-configuration fields a registry entry sets (dancejax.tasks)
