"""LTD in PyTorch, transcribed from the paper and the authors' ``utils/model.py`` (GCN over
coordinate nodes in DCT space).  Parameter names and shapes are the original's (``gc1.weight``
(in, out), ``gc1.att``, ``gc1.bias``, ``bn1``, ``gcbs.{i}.gc1`` ..., ``gc7``).  ``TorchLTD.predict``
adds the padding, DCT and inverse DCT that the original's data pipeline and loss do."""

from __future__ import annotations

import math

import torch
from torch import nn

from reference.simlpe import dct_pair


class GraphConv(nn.Module):
    def __init__(self, fin: int, fout: int, nodes: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(fin, fout))
        self.att = nn.Parameter(torch.empty(nodes, nodes))
        self.bias = nn.Parameter(torch.empty(fout))
        bound = 1.0 / math.sqrt(fout)
        for p in (self.weight, self.att, self.bias):
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x):
        return torch.matmul(self.att, torch.matmul(x, self.weight)) + self.bias


class Block(nn.Module):
    def __init__(self, f: int, nodes: int, p: float):
        super().__init__()
        self.gc1, self.bn1 = GraphConv(f, f, nodes), nn.BatchNorm1d(nodes * f)
        self.gc2, self.bn2 = GraphConv(f, f, nodes), nn.BatchNorm1d(nodes * f)
        self.do = nn.Dropout(p)

    def forward(self, x):
        b, n, f = x.shape
        y = self.do(torch.tanh(self.bn1(self.gc1(x).reshape(b, -1)).reshape(b, n, f)))
        y = self.do(torch.tanh(self.bn2(self.gc2(y).reshape(b, -1)).reshape(b, n, f)))
        return y + x


class TorchLTD(nn.Module):
    def __init__(self, dct_n: int, hidden: int, stages: int, nodes: int, p: float = 0.5):
        super().__init__()
        self.dct_n = dct_n
        self.gc1, self.bn1 = GraphConv(dct_n, hidden, nodes), nn.BatchNorm1d(nodes * hidden)
        self.gcbs = nn.ModuleList([Block(hidden, nodes, p) for _ in range(stages)])
        self.gc7 = GraphConv(hidden, dct_n, nodes)
        self.do = nn.Dropout(p)

    def forward(self, x):  # (N, nodes, dct_n) coefficients
        b, n, _ = x.shape
        y = self.gc1(x)
        y = self.do(torch.tanh(self.bn1(y.reshape(b, -1)).reshape(y.shape)))
        for blk in self.gcbs:
            y = blk(y)
        return self.gc7(y) + x

    def predict(self, obs, pred: int):
        """(N, T, J·D) observed -> (N, T + pred, J·D): the whole reconstructed sequence."""
        t = obs.shape[1]
        padded = torch.cat([obs, obs[:, -1:].repeat(1, pred, 1)], 1)
        dct, idct = dct_pair(t + pred)
        coef = torch.matmul(dct[: self.dct_n], padded).transpose(1, 2)
        out = self(coef)
        return torch.matmul(idct[:, : self.dct_n], out.transpose(1, 2))
