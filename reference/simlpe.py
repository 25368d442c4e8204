"""siMLPe in PyTorch, transcribed from the paper and the authors' ``exps/baseline_h36m`` model.

Parameter names and shapes are the original's (``motion_fc_in``, ``motion_mlp.mlps.{i}.fc0.fc``,
``motion_mlp.mlps.{i}.norm0.alpha`` of shape (1, C, 1), ``motion_fc_out``), so its state dict
is the original's.  Input (N, T, C) poses; the DCT, the offset from the last pose and the crop
to the horizon are done here, as the original's train/test scripts do around the model.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def dct_pair(n: int):
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    d = np.where(k == 0, np.sqrt(1 / n), np.sqrt(2 / n)) * np.cos(np.pi * (i + 0.5) * k / n)
    return torch.tensor(d, dtype=torch.float32), torch.tensor(np.linalg.inv(d), dtype=torch.float32)


class ChannelNorm(nn.Module):
    """LayerNorm over the channel axis of (N, C, T), learned alpha/beta of shape (1, C, 1)."""

    def __init__(self, c: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.alpha = nn.Parameter(torch.ones(1, c, 1))
        self.beta = nn.Parameter(torch.zeros(1, c, 1))

    def forward(self, x):
        mu = x.mean(dim=1, keepdim=True)
        var = ((x - mu) ** 2).mean(dim=1, keepdim=True)
        return (x - mu) / torch.sqrt(var + self.eps) * self.alpha + self.beta


class TemporalLinear(nn.Module):
    def __init__(self, t: int):
        super().__init__()
        self.fc = nn.Linear(t, t)

    def forward(self, x):
        return self.fc(x)


class Block(nn.Module):
    def __init__(self, c: int, t: int):
        super().__init__()
        self.fc0 = TemporalLinear(t)
        self.norm0 = ChannelNorm(c)
        nn.init.xavier_uniform_(self.fc0.fc.weight, gain=1e-8)
        nn.init.zeros_(self.fc0.fc.bias)

    def forward(self, x):
        return x + self.norm0(self.fc0(x))


class Stack(nn.Module):
    def __init__(self, c: int, t: int, blocks: int):
        super().__init__()
        self.mlps = nn.Sequential(*[Block(c, t) for _ in range(blocks)])

    def forward(self, x):
        return self.mlps(x)


class TorchSiMLPe(nn.Module):
    def __init__(self, obs: int = 10, joints: int = 14, dims: int = 3, blocks: int = 48, horizon: int = 10):
        super().__init__()
        c = joints * dims
        self.obs, self.horizon = obs, horizon
        self.motion_fc_in = nn.Linear(c, c)
        self.motion_mlp = Stack(c, obs, blocks)
        self.motion_fc_out = nn.Linear(c, c)
        nn.init.xavier_uniform_(self.motion_fc_out.weight, gain=1e-8)
        nn.init.zeros_(self.motion_fc_out.bias)
        self.dct, self.idct = dct_pair(obs)

    def forward(self, x):  # (N, T, C) -> (N, horizon, C)
        h = torch.matmul(self.dct, x)
        h = self.motion_fc_in(h).transpose(1, 2)
        h = self.motion_mlp(h)
        h = self.motion_fc_out(h.transpose(1, 2))
        return torch.matmul(self.idct, h)[:, : self.horizon] + x[:, -1:]
