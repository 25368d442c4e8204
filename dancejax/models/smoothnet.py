"""SmoothNet (Zeng et al., "SmoothNet: A Plug-and-Play Network for Refining Human Poses in
Videos", ECCV 2022), the temporal-only refiner of the field.

Every coordinate of every joint is one channel; the network sees each channel's window of
``window`` frames as a vector and maps it to a refined window, with no exchange between
joints or coordinates:

* encoder: a linear layer over time (window -> ``hidden``), LeakyReLU(0.1);
* ``blocks`` residual blocks: linear (``hidden`` -> ``res_hidden``), dropout, LeakyReLU(0.2),
  linear (``res_hidden`` -> ``hidden``), dropout, LeakyReLU(0.2), plus the block's input;
* decoder: a linear layer (``hidden`` -> window).

Parameters use the original's names and layouts (``encoder.0``, ``res_blocks.{i}.linear1``,
``res_blocks.{i}.linear2``, ``decoder``; ``torch_rename``), so its state dict loads with
``dancejax.deploy.convert.import_state_dict``.  The refiner contract (``REFINERS``): a model
maps normalised keypoint windows (N, T, J, D) to refined windows of the same shape; it takes no
confidences (SmoothNet does not).
"""

from __future__ import annotations

from typing import Any

from flax import linen as nn

from dancejax.errors import DataError
from dancejax.layers.modules import Dense, Dropout


class SmoothNetBlock(nn.Module):
    """One residual block (``SmoothNetResBlock`` in the original)."""

    hidden: int
    res_hidden: int
    dropout: Any = 0.5

    @nn.compact
    def __call__(self, x, train: bool):
        h = Dropout(self.dropout)(Dense(self.res_hidden, name="linear1")(x), deterministic=not train)
        h = nn.leaky_relu(h, 0.2)
        h = Dropout(self.dropout)(Dense(self.hidden, name="linear2")(h), deterministic=not train)
        return nn.leaky_relu(h, 0.2) + x


class SmoothNet(nn.Module):
    """SmoothNet on (N, T, J, D) windows with T = ``window``; output (N, T, J, D).

    Fields: ``window`` (the original's ``window_size`` = ``output_size``), ``hidden``,
    ``res_hidden``, ``blocks``, ``dropout`` (may be a traced array).  The class defaults are
    the original class's (512, 256, 3, 0.5); ``SIZES['original']`` is the configuration the
    authors trained their Human3.6M model with (``configs/h36m_fcn_3D.yaml``: 512, 128, 5,
    0.25), the one their 2D results use.
    """

    SIZES = {
        "original": {"hidden": 512, "res_hidden": 128, "blocks": 5, "dropout": 0.25},
        "quick": {"hidden": 512, "res_hidden": 128, "blocks": 5, "dropout": 0.25},
        "test": {"hidden": 16, "res_hidden": 8, "blocks": 1, "dropout": 0.25},
    }

    window: int = 32
    hidden: int = 512
    res_hidden: int = 256
    blocks: int = 3
    dropout: Any = 0.5

    @nn.compact
    def __call__(self, x, train: bool = False):
        if x.ndim != 4:
            raise DataError(f"SmoothNet input: expected (batch, frames, joints, dims), got shape {x.shape}")
        n, t, j, d = x.shape
        if t != self.window:
            raise DataError(f"SmoothNet input: windows of {t} frames, the model takes its window of {self.window}")
        h = x.reshape(n, t, j * d).transpose(0, 2, 1)  # (N, C, T): one row per coordinate channel
        h = nn.leaky_relu(Dense(self.hidden, name="encoder")(h), 0.1)
        for i in range(self.blocks):
            h = SmoothNetBlock(self.hidden, self.res_hidden, self.dropout, name=f"res_blocks_{i}")(h, train)
        h = Dense(self.window, name="decoder")(h)
        return h.transpose(0, 2, 1).reshape(n, t, j, d)


def torch_rename(key: str) -> str:
    """Original state-dict keys to dancejax module paths: ``encoder.0.weight`` ->
    ``encoder.weight``, ``res_blocks.2.linear1.bias`` -> ``res_blocks_2.linear1.bias``."""
    parts = key.split(".")
    if parts[0] == "encoder" and len(parts) == 3:
        return f"encoder.{parts[2]}"
    if parts[0] == "res_blocks" and len(parts) == 4:
        return ".".join([f"res_blocks_{parts[1]}", parts[2], parts[3]])
    return key
