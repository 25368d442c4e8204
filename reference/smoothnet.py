"""SmoothNet in PyTorch, transcribed from the paper (Zeng et al., ECCV 2022) and the authors'
``lib/models/smoothnet.py`` and ``lib/core/loss.py``.

Parameter names and shapes are the original's (``encoder.0`` = Linear(window, hidden),
``res_blocks.{i}.linear1`` / ``linear2``, ``decoder`` = Linear(hidden, window)), so its state
dict is the original's.  Input (N, C, T): one row per coordinate channel, as the original's
``forward`` takes it; ``smoothnet_loss`` is the original's position + acceleration L1 loss on
(N, T, C) sequences.
"""

from __future__ import annotations

from torch import nn


class ResBlock(nn.Module):
    def __init__(self, hidden: int, res_hidden: int, dropout: float):
        super().__init__()
        self.linear1 = nn.Linear(hidden, res_hidden)
        self.linear2 = nn.Linear(res_hidden, hidden)
        self.drop = nn.Dropout(dropout)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x):
        h = self.act(self.drop(self.linear1(x)))
        h = self.act(self.drop(self.linear2(h)))
        return h + x


class TorchSmoothNet(nn.Module):
    def __init__(self, window: int = 32, hidden: int = 512, res_hidden: int = 256, blocks: int = 3, dropout=0.5):
        super().__init__()
        self.window = window
        self.encoder = nn.Sequential(nn.Linear(window, hidden), nn.LeakyReLU(0.1))
        self.res_blocks = nn.Sequential(*[ResBlock(hidden, res_hidden, dropout) for _ in range(blocks)])
        self.decoder = nn.Linear(hidden, window)

    def forward(self, x):  # (N, C, T) -> (N, C, T)
        assert x.shape[-1] == self.window
        return self.decoder(self.res_blocks(self.encoder(x)))


def smoothnet_loss(pred, gt, w_pos: float = 1.0, w_accel: float = 0.1):
    """Mean L1 of the positions plus ``w_accel`` × mean L1 of the second differences in time;
    (N, T, C) tensors."""
    pos = (pred - gt).abs().mean()
    acc = lambda x: x[:, :-2] - 2 * x[:, 1:-1] + x[:, 2:]
    return w_pos * pos + w_accel * (acc(pred) - acc(gt)).abs().mean()
