"""ST-GCN (Yan, Xiong, Lin, AAAI 2018), channels-last.

Mirrors the original code's structure so that its checkpoints map one-to-one
(``dancejax.deploy.convert``): ``data_bn`` over joints×channels, blocks of
graph conv → BN → ReLU → temporal conv (9×1) → BN → dropout, a residual
(identity, or 1×1 conv + BN when the shape changes), learnable edge-importance
masks multiplied into the partition adjacency, global average pooling and a
1×1 classifier.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from dancejax.layers.modules import BatchNorm, Dense, Dropout, GraphConv, TemporalConv
from dancejax.maths.graph import spatial_partition

# The original 10-layer network (paper §III-A, Yan et al. Table/§4).
STGCN10_WIDTHS = (64, 64, 64, 64, 128, 128, 128, 256, 256, 256)
STGCN10_STRIDES = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1)
# A smaller, stride-free preset: the default for per-frame refinement.
SMALL_WIDTHS = (32, 32, 64, 64)
SMALL_STRIDES = (1, 1, 1, 1)


class STGCNBlock(nn.Module):
    features: int
    stride: int = 1
    residual: bool = True
    dropout: Any = 0.0
    kernel: int = 9
    impl: str = "conv1d"
    bn_momentum: float = 0.1
    layout: str = "vntc"
    conv_init: Any = None  # kernel initialiser of every conv (default: PyTorch's), biases then start at 0
    bn_scale_init: Any = None

    @nn.compact
    def __call__(self, x, a, train: bool):
        cin = x.shape[-1]
        bn = lambda name: BatchNorm(momentum=self.bn_momentum, scale_init=self.bn_scale_init, name=name)
        inits = dict(kernel_init=self.conv_init, bias_init=nn.initializers.zeros if self.conv_init else None)
        if not self.residual:
            res = 0.0
        elif cin == self.features and self.stride == 1:
            res = x
        else:
            res = TemporalConv(
                self.features, 1, self.stride, impl=self.impl, layout=self.layout, name="residual_conv", **inits
            )(x)
            res = bn("residual_bn")(res, train)
        h = GraphConv(self.features, layout=self.layout, name="gcn", **inits)(x, a)
        h = nn.relu(bn("tcn_bn0")(h, train))
        h = TemporalConv(
            self.features, self.kernel, self.stride, impl=self.impl, layout=self.layout, name="tcn_conv", **inits
        )(h)
        h = bn("tcn_bn1")(h, train)
        h = Dropout(self.dropout)(h, deterministic=not train)
        return nn.relu(h + res)


@dataclasses.dataclass(frozen=True)
class GraphConfig:
    layout: str = "lsp14"
    strategy: str = "spatial"
    max_hop: int = 1
    dilation: int = 1
    corrected: bool = False  # the original code's partition quirk by default (see dancejax.maths.graph)

    def adjacency(self) -> np.ndarray:
        return spatial_partition(self.layout, self.strategy, self.max_hop, self.dilation, self.corrected)


class STGCN(nn.Module):
    """ST-GCN backbone (+ optional classifier).

    Input (N, T, V, C) — or (N, M, T, V, C) with M persons, as the original code
    takes (N, C, T, V, M).  Returns ``(features, logits)``: features (N·M, T', V, C_last),
    logits (N, num_classes) averaged over persons, or None without a classifier.
    """

    graph: GraphConfig = GraphConfig()
    widths: Sequence[int] = STGCN10_WIDTHS
    strides: Sequence[int] = STGCN10_STRIDES
    num_classes: int | None = None
    dropout: float = 0.0
    edge_importance: bool = True
    data_bn: bool = True
    impl: str = "conv1d"
    bn_momentum: float = 0.1
    layout: str = "vntc"  # inside the backbone: 'vntc' or 'nvtc' (see the comment below)

    @nn.compact
    def __call__(self, x, train: bool = False):
        if x.ndim == 4:
            x = x[:, None]
        n, m, t, v, c = x.shape
        a0 = jnp.asarray(self.graph.adjacency())
        if a0.shape[1] != v:
            raise ValueError(f"graph layout {self.graph.layout!r} has {a0.shape[1]} joints, the input has {v}")
        h = x.reshape(n * m, t, v, c)
        if self.data_bn:
            h = BatchNorm(momentum=self.bn_momentum, name="data_bn")(h.reshape(n * m, t, v * c), train)
            h = h.reshape(n * m, t, v, c)
        # Inside the backbone the layout is (V, N, T, C) (or (N, V, T, C) with layout='nvtc'):
        # the temporal 1-D convolution then runs on (V·N, T, C), and with joints leading the
        # graph convolution is plain GEMMs, with no transposes in either (benchmarks/
        # formulation.py, op_profile.py); channels stay last.
        if self.layout not in ("vntc", "nvtc"):
            raise ValueError(f"STGCN layout must be 'vntc' or 'nvtc', got {self.layout!r}")
        perm, back = ((2, 0, 1, 3), (1, 2, 0, 3)) if self.layout == "vntc" else ((0, 2, 1, 3), (0, 2, 1, 3))
        h = h.transpose(perm)
        for i, (w, s) in enumerate(zip(self.widths, self.strides)):
            a = a0
            if self.edge_importance:
                a = a0 * self.param(f"edge_importance_{i}", nn.initializers.ones, a0.shape)
            h = STGCNBlock(
                w,
                s,
                residual=i > 0,
                dropout=0.0 if i == 0 else self.dropout,
                impl=self.impl,
                bn_momentum=self.bn_momentum,
                layout=self.layout,
                name=f"block_{i}",
            )(h, a, train)
        h = h.transpose(back)
        logits = None
        if self.num_classes is not None:
            pooled = h.mean(axis=(1, 2)).reshape(n, m, -1).mean(1)
            logits = Dense(self.num_classes, name="fcn")(pooled)
        return h, logits
