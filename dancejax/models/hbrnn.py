"""HBRNN (Du, Wang, Wang, "Hierarchical Recurrent Neural Network for Skeleton Based Action
Recognition", CVPR 2015), the HBRNN-L variant the paper recommends.

The skeleton is split into five parts (trunk, two arms, two legs; ``LSP14_PARTS``).

* bl1: a bidirectional tanh RNN over each part;
* fl1: the trunk's representation concatenated with each limb's; bl2: a bidirectional tanh
  RNN over each of the four;
* fl2: the two arm–trunk streams concatenated (upper body), the two leg–trunk streams (lower
  body); bl3: a bidirectional tanh RNN over each;
* fl3: upper and lower body concatenated; bl4: a bidirectional **LSTM** (the paper's last
  layer);
* a fully connected layer on every frame, accumulated (summed) over time, gives the class
  scores (the paper's "temporally accumulated output of the perceptron").

Each RNN is written as a pure function stepped with ``jax.lax.scan``, with PyTorch's
parameter names and layouts (``weight_ih_l0`` (H, in), ``weight_hh_l0``, ``bias_ih_l0``,
``bias_hh_l0`` and their ``_reverse`` twins; LSTM gates in PyTorch's i, f, g, o order), so an
``nn.RNN``/``nn.LSTM`` state dict loads unchanged.  The paper leaves open: the widths (its
neuron counts are per dataset; ours are ``widths``, doubling from the third level); the
refinement head, which is ours (per-frame joint offsets from bl4, beside the paper's
classifier).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from dancejax.layers.modules import Dense, torch_uniform
from dancejax.skeleton import LSP14_PARTS

LIMBS = ("left_arm", "right_arm", "left_leg", "right_leg")


def rnn_step(p: dict, sfx: str, h, x):
    """One tanh RNN step: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (PyTorch ``nn.RNN``)."""
    return jnp.tanh(
        x @ p[f"weight_ih_l0{sfx}"].T + p[f"bias_ih_l0{sfx}"] + h @ p[f"weight_hh_l0{sfx}"].T + p[f"bias_hh_l0{sfx}"]
    )


def lstm_step(p: dict, sfx: str, carry, x):
    """One LSTM step in PyTorch's gate order (input, forget, cell, output)."""
    h, c = carry
    g = x @ p[f"weight_ih_l0{sfx}"].T + p[f"bias_ih_l0{sfx}"] + h @ p[f"weight_hh_l0{sfx}"].T + p[f"bias_hh_l0{sfx}"]
    i, f, gg, o = jnp.split(g, 4, axis=-1)
    c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(gg)
    return jax.nn.sigmoid(o) * jnp.tanh(c), c


def run_direction(p: dict, x, hidden: int, cell: str, reverse: bool):
    """(N, T, in) -> (N, T, H) for one direction of a one-layer RNN/LSTM with zero initial state."""
    sfx = "_reverse" if reverse else ""
    xs = jnp.moveaxis(x[:, ::-1] if reverse else x, 1, 0)
    zeros = jnp.zeros((x.shape[0], hidden), x.dtype)
    if cell == "rnn":

        def body(h, xt):
            h = rnn_step(p, sfx, h, xt)
            return h, h

        _, hs = jax.lax.scan(body, zeros, xs)
    else:

        def body(carry, xt):
            h, c = lstm_step(p, sfx, carry, xt)
            return (h, c), h

        _, hs = jax.lax.scan(body, (zeros, zeros), xs)
    hs = jnp.moveaxis(hs, 0, 1)
    return hs[:, ::-1] if reverse else hs


class BiRNN(nn.Module):
    """A one-layer bidirectional tanh RNN (``cell='rnn'``) or LSTM (``'lstm'``), PyTorch-style
    parameters (initialised ``U(−1/√H, 1/√H)`` as PyTorch does); output (N, T, 2H)."""

    hidden: int
    cell: str = "rnn"

    @nn.compact
    def __call__(self, x):
        gates = 4 if self.cell == "lstm" else 1
        init = torch_uniform(self.hidden)
        p = {}
        for sfx in ("", "_reverse"):
            p[f"weight_ih_l0{sfx}"] = self.param(f"weight_ih_l0{sfx}", init, (gates * self.hidden, x.shape[-1]))
            p[f"weight_hh_l0{sfx}"] = self.param(f"weight_hh_l0{sfx}", init, (gates * self.hidden, self.hidden))
            p[f"bias_ih_l0{sfx}"] = self.param(f"bias_ih_l0{sfx}", init, (gates * self.hidden,))
            p[f"bias_hh_l0{sfx}"] = self.param(f"bias_hh_l0{sfx}", init, (gates * self.hidden,))
        fwd = run_direction(p, x, self.hidden, self.cell, False)
        bwd = run_direction(p, x, self.hidden, self.cell, True)
        return jnp.concatenate([fwd, bwd], -1)


class HBRNN(nn.Module):
    """HBRNN-L over LSP-14 (see the module docstring).  Input (N, T, J, 2) keypoints and (N, T, J)
    confidences; returns (refined keypoints, class scores).

    Fields: ``num_styles``; ``widths`` of bl1..bl4 (per direction); ``dropout`` is accepted for
    the contract and unused (the paper trains without it).
    """

    SIZES = {"test": {"widths": (4, 4, 8, 8)}}  # model fields per preset (dancejax.tasks)

    num_styles: int = 5
    widths: tuple[int, int, int, int] = (32, 32, 64, 64)
    dropout: Any = 0.0

    @nn.compact
    def __call__(self, x, conf, train: bool = False):
        n, t, j, d = x.shape
        inp = jnp.concatenate([x, conf[..., None]], -1)
        w1, w2, w3, w4 = self.widths
        part = {p: inp[:, :, np.asarray(idx)].reshape(n, t, -1) for p, idx in LSP14_PARTS.items()}
        l1 = {p: BiRNN(w1, "rnn", name=f"l1_{p}")(v) for p, v in part.items()}
        l2 = {p: BiRNN(w2, "rnn", name=f"l2_{p}")(jnp.concatenate([l1["trunk"], l1[p]], -1)) for p in LIMBS}
        upper = BiRNN(w3, "rnn", name="l3_upper")(jnp.concatenate([l2["left_arm"], l2["right_arm"]], -1))
        lower = BiRNN(w3, "rnn", name="l3_lower")(jnp.concatenate([l2["left_leg"], l2["right_leg"]], -1))
        body = BiRNN(w4, "lstm", name="l4_body")(jnp.concatenate([upper, lower], -1))
        offset = Dense(j * d, name="offset")(body).reshape(n, t, j, d)
        logits = Dense(self.num_styles, name="fc")(body).sum(1)
        return x + offset, logits
