"""HBRNN baseline (Du, Wang, Wang, CVPR 2015): hierarchical bidirectional RNN over five body parts.

Layer 1 runs a bidirectional RNN over each part (trunk, two arms, two legs);
layer 2 over the trunk fused with each limb; layer 3 over the upper and the lower
body; layer 4 over the whole body.  Here every layer is a bidirectional GRU
(the paper's last layer is an LSTM; a GRU keeps one recurrent cell type) run with
``jax.lax.scan`` through ``flax.linen.RNN``.  Two heads: per-frame keypoint
offsets (refinement) and style logits from the time-averaged top layer.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from dancejax.layers.modules import Dense
from dancejax.skeleton import LSP14_PARTS


def _birnn(width: int, name: str):
    return nn.Bidirectional(nn.RNN(nn.GRUCell(width)), nn.RNN(nn.GRUCell(width)), name=name)


class HBRNN(nn.Module):
    num_styles: int = 5
    width: int = 32

    @nn.compact
    def __call__(self, x, conf, train: bool = False):
        n, t, j, d = x.shape
        inp = jnp.concatenate([x, conf[..., None]], -1)
        part = {p: inp[:, :, np.asarray(idx)].reshape(n, t, -1) for p, idx in LSP14_PARTS.items()}
        l1 = {p: _birnn(self.width, f"l1_{p}")(v) for p, v in part.items()}
        limbs = ("left_arm", "right_arm", "left_leg", "right_leg")
        l2 = {p: _birnn(self.width, f"l2_{p}")(jnp.concatenate([l1["trunk"], l1[p]], -1)) for p in limbs}
        upper = _birnn(self.width, "l3_upper")(jnp.concatenate([l2["left_arm"], l2["right_arm"]], -1))
        lower = _birnn(self.width, "l3_lower")(jnp.concatenate([l2["left_leg"], l2["right_leg"]], -1))
        body = _birnn(2 * self.width, "l4_body")(jnp.concatenate([upper, lower], -1))
        offset = Dense(j * d, name="offset")(body).reshape(n, t, j, d)
        logits = Dense(self.num_styles, name="style_head")(body.mean(1))
        return x + offset, logits
