"""HBRNN-L in PyTorch, transcribed from Du, Wang & Wang (CVPR 2015): bidirectional tanh RNNs over
five parts (bl1), trunk+limb (bl2), upper/lower body (bl3), a bidirectional LSTM over the body
(bl4), a per-frame fully connected layer summed over time; plus dancejax's per-frame offset head.
Module names match ``dancejax.models.hbrnn`` (``l1_trunk``, ``l4_body``, ``fc``, ``offset``)."""

from __future__ import annotations

import torch
from torch import nn

from dancejax.skeleton import LSP14_PARTS

LIMBS = ("left_arm", "right_arm", "left_leg", "right_leg")


class TorchHBRNN(nn.Module):
    def __init__(self, num_styles=5, widths=(32, 32, 64, 64), joints=14, dims=2):
        super().__init__()
        w1, w2, w3, w4 = widths
        c = dims + 1
        birnn = lambda i, h: nn.RNN(i, h, batch_first=True, bidirectional=True, nonlinearity="tanh")
        for p, idx in LSP14_PARTS.items():
            setattr(self, f"l1_{p}", birnn(len(idx) * c, w1))
        for p in LIMBS:
            setattr(self, f"l2_{p}", birnn(4 * w1, w2))
        self.l3_upper, self.l3_lower = birnn(4 * w2, w3), birnn(4 * w2, w3)
        self.l4_body = nn.LSTM(4 * w3, w4, batch_first=True, bidirectional=True)
        self.offset = nn.Linear(2 * w4, joints * dims)
        self.fc = nn.Linear(2 * w4, num_styles)

    def forward(self, x, conf):
        n, t, j, d = x.shape
        inp = torch.cat([x, conf[..., None]], -1)
        part = {p: inp[:, :, list(idx)].reshape(n, t, -1) for p, idx in LSP14_PARTS.items()}
        l1 = {p: getattr(self, f"l1_{p}")(v)[0] for p, v in part.items()}
        l2 = {p: getattr(self, f"l2_{p}")(torch.cat([l1["trunk"], l1[p]], -1))[0] for p in LIMBS}
        upper = self.l3_upper(torch.cat([l2["left_arm"], l2["right_arm"]], -1))[0]
        lower = self.l3_lower(torch.cat([l2["left_leg"], l2["right_leg"]], -1))[0]
        body = self.l4_body(torch.cat([upper, lower], -1))[0]
        return x + self.offset(body).reshape(n, t, j, d), self.fc(body).sum(1)
