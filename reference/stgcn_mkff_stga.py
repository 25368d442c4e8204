"""PyTorch reference implementations for parity tests and benchmarks (needs the ``torch`` extra).

* ``TorchSTGCN``: ST-GCN in the original code's layout — input (N, C, T, V, M),
  ``data_bn``, ``st_gcn_networks`` with ``gcn.conv`` and ``tcn``, ``edge_importance``,
  ``fcn`` — so its state dict has the original key names and shapes.  The graph is
  built here independently of dancejax (hop distances by matrix powers, the original
  partition rule, its ``inf == inf`` quirk included).
* ``TorchMKFFSTGCN`` and ``TorchSTGANet``: the same architectures as dancejax's, in
  PyTorch idiom (nn.Linear, nn.Conv2d, nn.BatchNorm1d, nn.LayerNorm), channels last.
  Submodule names follow the Flax module names, so ``dancejax.deploy.convert.import_state_dict``
  maps their state dicts onto the Flax parameter trees.

Conventions matched on purpose: LayerNorm eps 1e-6 (Flax's default), tanh-approximate
GELU (Flax's default), BatchNorm momentum 0.1 with unbiased running variance.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dancejax.skeleton import get_layout

# ------------------------------------------------------------------ the original graph, rebuilt


def original_partition(layout: str, max_hop: int = 1, strategy: str = "spatial") -> np.ndarray:
    lay = get_layout(layout)
    n = lay.num_joints
    a = np.zeros((n, n))
    for i, j in list(lay.edges) + [(i, i) for i in range(n)]:
        a[i, j] = a[j, i] = 1
    hop = np.zeros((n, n)) + np.inf
    powers = [np.linalg.matrix_power(a, d) for d in range(max_hop + 1)]
    reach = np.stack(powers) > 0
    for d in range(max_hop, -1, -1):
        hop[reach[d]] = d
    adj = (hop <= max_hop).astype(float)
    deg = adj.sum(0)
    norm = adj @ np.diag(np.where(deg > 0, 1.0 / np.maximum(deg, 1e-12), 0))
    if strategy == "uniform":
        return norm[None].astype(np.float32)
    if strategy == "distance":
        return np.stack([np.where(hop == h, norm, 0.0) for h in range(max_hop + 1)]).astype(np.float32)
    out = []
    for h in range(max_hop + 1):
        root, close, further = (np.zeros((n, n)) for _ in range(3))
        for i in range(n):
            for j in range(n):
                if hop[j, i] == h:
                    if hop[j, lay.center] == hop[i, lay.center]:
                        root[j, i] = norm[j, i]
                    elif hop[j, lay.center] > hop[i, lay.center]:
                        close[j, i] = norm[j, i]
                    else:
                        further[j, i] = norm[j, i]
        out += [root] if h == 0 else [root + close, further]
    return np.stack(out).astype(np.float32)


# ------------------------------------------------------------------ ST-GCN, original layout


class ConvTemporalGraphical(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.k = k
        self.conv = nn.Conv2d(cin, cout * k, kernel_size=(1, 1))

    def forward(self, x, a):
        x = self.conv(x)
        n, kc, t, v = x.shape
        x = x.view(n, self.k, kc // self.k, t, v)
        return torch.einsum("nkctv,kvw->nctw", x, a).contiguous()


class STGCNUnit(nn.Module):
    def __init__(self, cin, cout, k, stride=1, dropout=0.0, residual=True, kt=9):
        super().__init__()
        pad = (kt - 1) // 2
        self.gcn = ConvTemporalGraphical(cin, cout, k)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(cout),
            nn.ReLU(inplace=False),
            nn.Conv2d(cout, cout, (kt, 1), (stride, 1), (pad, 0)),
            nn.BatchNorm2d(cout),
            nn.Dropout(dropout),
        )
        if not residual:
            self.residual = None
        elif cin == cout and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(nn.Conv2d(cin, cout, 1, (stride, 1)), nn.BatchNorm2d(cout))

    def forward(self, x, a):
        res = 0 if self.residual is None else self.residual(x)
        return F.relu(self.tcn(self.gcn(x, a)) + res)


class TorchSTGCN(nn.Module):
    """ST-GCN-10 as in the original code (input (N, C, T, V, M)); returns class scores."""

    def __init__(
        self,
        in_channels=3,
        num_class=60,
        layout="ntu25",
        dropout=0.0,
        widths=(64, 64, 64, 64, 128, 128, 128, 256, 256, 256),
        strides=(1, 1, 1, 1, 2, 1, 1, 2, 1, 1),
        strategy="spatial",
        max_hop=1,
        edge_importance=True,
    ):
        super().__init__()
        a = torch.tensor(original_partition(layout, max_hop, strategy))
        self.register_buffer("A", a)
        k, v = a.shape[0], a.shape[1]
        self.data_bn = nn.BatchNorm1d(in_channels * v)
        chans = [in_channels] + list(widths)
        self.st_gcn_networks = nn.ModuleList(
            [
                STGCNUnit(chans[i], chans[i + 1], k, strides[i], 0.0 if i == 0 else dropout, residual=i > 0)
                for i in range(len(widths))
            ]
        )
        self.edge_importance = (
            nn.ParameterList([nn.Parameter(torch.ones(a.shape)) for _ in widths])
            if edge_importance
            else [1] * len(widths)
        )
        self.fcn = nn.Conv2d(widths[-1], num_class, kernel_size=1)

    def forward(self, x):
        n, c, t, v, m = x.shape
        x = x.permute(0, 4, 3, 1, 2).contiguous().view(n * m, v * c, t)
        x = self.data_bn(x)
        x = x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).contiguous().view(n * m, c, t, v)
        for gcn, imp in zip(self.st_gcn_networks, self.edge_importance):
            x = gcn(x, self.A * imp)
        x = F.avg_pool2d(x, x.shape[2:]).view(n, m, -1, 1, 1).mean(dim=1)
        return self.fcn(x).view(n, -1)


class TorchTwoStreamSTGCN(nn.Module):
    """The original ``st_gcn_twostream.Model``: an ST-GCN on the poses and one on the motion
    ``x_t − (x_{t−1} + x_{t+1}) / 2`` (zero at both ends); class scores summed."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        self.origin_stream = TorchSTGCN(*args, **kwargs)
        self.motion_stream = TorchSTGCN(*args, **kwargs)

    def forward(self, x):
        z = torch.zeros_like(x[:, :, :1])
        m = torch.cat([z, x[:, :, 1:-1] - 0.5 * x[:, :, 2:] - 0.5 * x[:, :, :-2], z], 2)
        return self.origin_stream(x) + self.motion_stream(m)


# ------------------------------------------------------------------ channels-last helpers


class BN(nn.BatchNorm1d):
    """Batch norm over every axis but the last (channels-last), PyTorch conventions."""

    def __init__(self, c):
        super().__init__(c, momentum=0.1, eps=1e-5)

    def forward(self, x):
        return super().forward(x.reshape(-1, x.shape[-1])).reshape(x.shape)


class TConv(nn.Conv2d):
    """k×1 temporal conv on (N, T, V, C) via Conv2d on (N, C, T, V)."""

    def __init__(self, cin, cout, k, stride=1, dilation=1, bias=True):
        super().__init__(cin, cout, (k, 1), (stride, 1), (dilation * (k - 1) // 2, 0), (dilation, 1), bias=bias)

    def forward(self, x):
        return super().forward(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


class GConv(nn.Conv2d):
    """ST-GCN graph conv, channels last, with the original 1×1 conv (K·C_out outputs)."""

    def __init__(self, cin, cout, k):
        super().__init__(cin, cout * k, 1)
        self.k, self.cout = k, cout

    def forward(self, x, a):
        h = super().forward(x.permute(0, 3, 1, 2))  # (N, K·C, T, V)
        n, _, t, v = h.shape
        h = h.view(n, self.k, self.cout, t, v)
        return torch.einsum("nkctv,kvw->ntwc", h, a)


class Block(nn.Module):
    def __init__(self, cin, cout, k, stride=1, residual=True):
        super().__init__()
        self.gcn = GConv(cin, cout, k)
        self.tcn_bn0, self.tcn_bn1 = BN(cout), BN(cout)
        self.tcn_conv = TConv(cout, cout, 9, stride)
        self.kind = "none" if not residual else ("identity" if cin == cout and stride == 1 else "conv")
        if self.kind == "conv":
            self.residual_conv = TConv(cin, cout, 1, stride)
            self.residual_bn = BN(cout)

    def forward(self, x, a):
        res = 0 if self.kind == "none" else x if self.kind == "identity" else self.residual_bn(self.residual_conv(x))
        h = F.relu(self.tcn_bn0(self.gcn(x, a)))
        return F.relu(self.tcn_bn1(self.tcn_conv(h)) + res)


class Backbone(nn.Module):
    def __init__(self, cin, widths, strides, a):
        super().__init__()
        self.register_buffer("A", torch.tensor(a))
        k, v = a.shape[:2]
        self.data_bn = BN(v * cin)
        chans = [cin] + list(widths)
        for i in range(len(widths)):
            self.add_module(f"block_{i}", Block(chans[i], chans[i + 1], k, strides[i], residual=i > 0))
            self.register_parameter(f"edge_importance_{i}", nn.Parameter(torch.ones(a.shape)))
        self.n = len(widths)

    def forward(self, x):
        n, t, v, c = x.shape
        h = self.data_bn(x.reshape(n, t, v * c)).reshape(n, t, v, c)
        for i in range(self.n):
            h = getattr(self, f"block_{i}")(h, self.A * getattr(self, f"edge_importance_{i}"))
        return h


def flow(p, d=1):
    t = p.shape[1]
    idx = lambda o: torch.clamp(torch.arange(t) + o, 0, t - 1)
    return (p[:, idx(-d)] + p + p[:, idx(d)]) / 3


def kin(p, d=1):
    t = p.shape[1]
    prev = lambda z: z[:, torch.clamp(torch.arange(t) - d, 0, t - 1)]
    f = flow(p, d)
    v = (f - prev(f)) / d
    return v, (v - prev(v)) / d


class MKFFBlock(nn.Module):
    def __init__(self, t, c, heads, mlp_ratio=2):
        super().__init__()
        self.heads = heads
        self.pos_embedding = nn.Parameter(torch.randn(t, c) * 0.02)
        self.ln_attn, self.ln_mlp = nn.LayerNorm(c, eps=1e-6), nn.LayerNorm(c, eps=1e-6)
        self.q, self.k, self.v, self.out = (nn.Linear(c, c) for _ in range(4))
        self.mlp_in, self.mlp_out = nn.Linear(c, mlp_ratio * c), nn.Linear(mlp_ratio * c, c)

    def forward(self, z):
        n, t, c = z.shape
        h = self.ln_attn(z)
        split = lambda y: y.view(n, t, self.heads, c // self.heads).transpose(1, 2)
        q, k, v = (split(lin(h) + self.pos_embedding) for lin in (self.q, self.k, self.v))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(c // self.heads), -1)
        z = z + self.out((att @ v).transpose(1, 2).reshape(n, t, c))
        return z + self.mlp_out(F.gelu(self.mlp_in(self.ln_mlp(z)), approximate="tanh"))


class MKFF(nn.Module):
    def __init__(self, t, j, d, width, blocks, heads):
        super().__init__()
        self.W0 = nn.Linear(2 * j * d, width, bias=False)
        for i in range(blocks):
            self.add_module(f"block_{i}", MKFFBlock(t, width, heads))
        self.blocks = blocks

    def forward(self, x):
        n, t, j, d = x.shape
        v, a = kin(x)
        z = self.W0(torch.cat([v.reshape(n, t, j * d), a.reshape(n, t, j * d)], -1))
        for i in range(self.blocks):
            z = getattr(self, f"block_{i}")(z)
        return F.gelu(z, approximate="tanh")


class TorchMKFFSTGCN(nn.Module):
    """MKFF-ST-GCN with the same configuration fields as ``RecognitionModelConfig``."""

    def __init__(self, cfg, t=32, j=14, d=2):
        super().__init__()
        self.backbone = Backbone(d + 1, cfg.widths, cfg.strides, cfg.graph.adjacency())
        self.mkff = MKFF(t, j, d, cfg.mkff_width, cfg.mkff_blocks, cfg.mkff_heads)
        self.fuse = nn.Linear(cfg.widths[-1] + cfg.mkff_width, cfg.decoder_width)
        self.joint_embedding = nn.Parameter(torch.randn(j, cfg.decoder_width) * 0.02)
        self.dec_hidden = nn.Linear(cfg.decoder_width, cfg.decoder_width)
        self.dec_out = nn.Linear(cfg.decoder_width, d)
        self.style_head = nn.Linear(cfg.decoder_width, cfg.num_styles)

    def forward(self, x, conf):
        n, t, j, _ = x.shape
        feat = self.backbone(torch.cat([x, conf[..., None]], -1))
        mk = self.mkff(x)[:, :, None].expand(n, t, j, -1)
        fused = F.relu(self.fuse(torch.cat([feat, mk], -1)))
        h = F.relu(self.dec_hidden(fused + self.joint_embedding))
        return x + self.dec_out(h), self.style_head(fused.mean(dim=(1, 2)))


# ------------------------------------------------------------------ STGA-Net


def masked_softmax(logits, mask):
    logits = logits.masked_fill(~mask, float("-inf"))
    return torch.softmax(logits, -1)


class LocalAtt(nn.Module):
    def __init__(self, graph, cin, cout):
        super().__init__()
        self.register_buffer("graph", torch.tensor(graph, dtype=torch.float32))
        self.M = nn.Parameter(torch.ones(graph.shape) + 0.1 * torch.randn(graph.shape))
        self.W_self = nn.Linear(cin, cout)
        self.W_neigh = nn.Linear(cin, cout, bias=False)

    def forward(self, x):
        att = masked_softmax(self.M * self.graph, self.graph > 0)
        eye = torch.eye(att.shape[0])
        return torch.diagonal(att)[:, None] * self.W_self(x) + torch.einsum(
            "ij,ntjc->ntic", att * (1 - eye), self.W_neigh(x)
        )


class GlobalAtt(nn.Module):
    def __init__(self, j, cin, cout, heads, embed=16):
        super().__init__()
        self.heads, self.embed, self.cout = heads, embed, cout
        self.theta, self.phi = nn.Linear(cin, heads * embed), nn.Linear(cin, heads * embed)
        self.C = nn.Parameter(0.1 * torch.randn(heads, j, j))
        self.W = nn.Linear(cin, cout)

    def forward(self, x):
        n, t, j, _ = x.shape
        k = self.heads
        th = self.theta(x).view(n, t, j, k, self.embed)
        ph = self.phi(x).view(n, t, j, k, self.embed)
        b = torch.softmax(torch.einsum("ntike,ntjke->nkij", th, ph) / math.sqrt(t * self.embed), -1)
        v = self.W(x).view(n, t, j, k, self.cout // k)
        return torch.einsum("nkij,ntjkc->ntikc", b + self.C[None], v).reshape(n, t, j, self.cout)


class STGABlock(nn.Module):
    def __init__(self, c, dilation, heads, sym, con):
        super().__init__()
        j = sym.shape[0]
        self.local_symmetric, self.local_connection = LocalAtt(sym, c, c), LocalAtt(con, c, c)
        self.local_fuse = nn.Linear(2 * c, c)
        self.add_module("global", GlobalAtt(j, c, c, heads))
        self.bn_spatial, self.bn_temporal = BN(c), BN(c)
        self.tcn = TConv(c, c, 3, 1, dilation)

    def forward(self, x):
        local = self.local_fuse(torch.cat([self.local_symmetric(x), self.local_connection(x)], -1))
        h = F.relu(self.bn_spatial(local + getattr(self, "global")(x)))
        return F.relu(self.bn_temporal(self.tcn(h)) + x)


class GGRU(nn.Module):
    def __init__(self, j, hidden, d):
        super().__init__()
        self.A_h = nn.Parameter(torch.eye(j) + 0.05 * torch.randn(j, j))
        self.W = nn.Parameter(torch.empty(2 * d, 3 * hidden).uniform_(-1 / math.sqrt(2 * d), 1 / math.sqrt(2 * d)))
        self.U = nn.Parameter(torch.empty(hidden, 3 * hidden).uniform_(-1 / math.sqrt(hidden), 1 / math.sqrt(hidden)))
        self.b = nn.Parameter(0.1 * torch.randn(3 * hidden))
        self.W_out = nn.Parameter(0.05 * torch.randn(hidden, d))
        self.b_out = nn.Parameter(0.01 * torch.randn(d))

    def forward(self, h, pose, prev, steps):
        hs = h.shape[-1]
        outs = []
        for _ in range(steps):
            x = torch.cat([pose, pose - prev], -1)
            m = torch.einsum("ij,njh->nih", self.A_h, h)
            gx, gm = x @ self.W + self.b, m @ self.U
            r = torch.sigmoid(gx[..., :hs] + gm[..., :hs])
            z = torch.sigmoid(gx[..., hs : 2 * hs] + gm[..., hs : 2 * hs])
            nn_ = torch.tanh(gx[..., 2 * hs :] + r * gm[..., 2 * hs :])
            h = (1 - z) * nn_ + z * h
            prev, pose = pose, pose + h @ self.W_out + self.b_out
            outs.append(pose)
        return torch.stack(outs, 1)


class TorchSTGANet(nn.Module):
    """STGA-Net with the same configuration fields as ``PredictionModelConfig``."""

    def __init__(self, cfg, j=14):
        super().__init__()
        from dancejax.maths.graph import connection_graph, symmetric_graph

        self.cfg = cfg
        c, d = cfg.width, cfg.dims
        self.embed = nn.Linear(2 * d, c)
        sym, con = symmetric_graph(cfg.layout), connection_graph(cfg.layout)
        for i in range(cfg.blocks):
            self.add_module(f"block_{i}", STGABlock(c, 2**i, cfg.heads, sym, con))
        self.to_hidden = nn.Linear(2 * c, c)
        self.decoder = GGRU(j, c, d)

    def forward(self, obs):
        vel = torch.cat([torch.zeros_like(obs[:, :1]), obs[:, 1:] - obs[:, :-1]], 1)
        h = self.embed(torch.cat([obs, vel], -1))
        for i in range(self.cfg.blocks):
            h = getattr(self, f"block_{i}")(h)
        h0 = torch.tanh(self.to_hidden(torch.cat([h[:, -1], h.mean(1)], -1)))
        return self.decoder(h0, obs[:, -1], obs[:, -2], self.cfg.pred)
