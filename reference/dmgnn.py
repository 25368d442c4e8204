"""DMGNN in PyTorch, transcribed from the paper and the authors' ``h36m-short/net`` code, on the
LSP-14 scales of ``dancejax.models.dmgnn`` (7 parts, 5 bodies).

Module and parameter names follow the original (``encoder_pos.s1_l1.gcn.conv``,
``encoder_pos.j2p_1.embed_s1.mlp1.fc1``, ``encoder_pos.emul_s1.0``, ``decoder.msg_in.conv``,
``decoder.input_r`` ...), so its state dict has the original's keys.  Layout (N, C, T, V) as
the original.  The decoder's exploration noise is applied in training mode only.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dancejax.maths.graph import spatial_partition
from dancejax.models.dmgnn import BODIES, LSP14_SCALES, PARTS, fully_connected_relations


class StGcn(nn.Module):
    def __init__(self, cin, cout, k, stride=1, residual=True, dropout=0.5):
        super().__init__()
        self.k = k
        self.gcn = nn.Module()
        self.gcn.conv = nn.Conv2d(cin, cout * k, 1)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(cout),
            nn.ReLU(),
            nn.Conv2d(cout, cout, (5, 1), (stride, 1), (2, 0)),
            nn.BatchNorm2d(cout),
            nn.Dropout(dropout),
        )
        self.mode = "none" if not residual else "identity" if cin == cout and stride == 1 else "conv"
        if self.mode == "conv":
            self.residual = nn.Sequential(nn.Conv2d(cin, cout, 1, (stride, 1)), nn.BatchNorm2d(cout))

    def forward(self, x, a):
        r = 0 if self.mode == "none" else x if self.mode == "identity" else self.residual(x)
        h = self.gcn.conv(x)
        n, kc, t, v = h.shape
        h = torch.einsum("nkctv,kvw->nctw", h.view(n, self.k, kc // self.k, t, v), a)
        return torch.relu(self.tcn(h) + r)


class Mlp(nn.Module):
    def __init__(self, n_in, n_hid, n_out, p=0.2, out_act=True):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(n_in, n_hid), nn.Linear(n_hid + n_in, n_out)
        self.bn, self.dropout, self.out_act = nn.BatchNorm1d(n_out), nn.Dropout(p), out_act

    def forward(self, x):
        h = self.dropout(F.leaky_relu(self.fc1(x), 0.01))
        h = self.fc2(torch.cat([h, x], -1))
        h = self.bn(h.reshape(-1, h.shape[-1])).reshape(h.shape)
        return F.leaky_relu(h, 0.01) if self.out_act else h


class AttInform(nn.Module):
    def __init__(self, c, n_in, hidden=256, p=0.2):
        super().__init__()
        self.time_conv = nn.Sequential(nn.Conv2d(c, c, (5, 1), (2, 1), (2, 0)), nn.BatchNorm2d(c), nn.Dropout(p))
        self.mlp1 = Mlp(n_in, hidden, hidden, p)
        self.mlp2 = Mlp(hidden * 2, hidden, hidden, p)
        self.mlp3 = Mlp(hidden * 2, hidden, hidden, p, out_act=False)

    def forward(self, x, rec, send):
        n, d, t, v = x.shape
        h = self.time_conv(x).permute(0, 2, 3, 1).contiguous().view(n, v, -1)
        node = self.mlp1(h)
        recv, snd = torch.matmul(rec, node), torch.matmul(send, node)
        edge = self.mlp2(torch.cat([recv, recv - snd], -1))
        incoming = torch.matmul(rec.t(), edge) / v
        return self.mlp3(torch.cat([incoming, node], -1))


class Cross(nn.Module):
    """``Sa_to_Sb``: named embed_s<a>, embed_s<b> as the original."""

    def __init__(self, a: int, b: int, c: int, n_in: int):
        super().__init__()
        self.names = (f"embed_s{a}", f"embed_s{b}")
        setattr(self, self.names[0], AttInform(c, n_in))
        setattr(self, self.names[1], AttInform(c, n_in))

    def forward(self, xa, xb, rel_a, rel_b):
        ea = getattr(self, self.names[0])(xa, *rel_a)
        eb = getattr(self, self.names[1])(xb, *rel_b)
        att = torch.softmax(torch.matmul(ea, eb.permute(0, 2, 1)).permute(0, 2, 1), dim=-1)
        n, d, t, va = xa.shape
        flat = xa.permute(0, 3, 2, 1).contiguous().view(n, va, -1)
        out = torch.einsum("nba,nad->nbd", att, flat)
        return out.contiguous().view(n, xb.shape[3], -1, d).permute(0, 3, 2, 1)


def pool(groups, j):
    p = np.zeros((len(groups), j), np.float32)
    for i, g in enumerate(groups):
        p[i, list(g)] = 1.0 / len(g)
    return torch.tensor(p)


class Encoder(nn.Module):
    def __init__(self, t: int, cross_w=0.3, lamda=0.6, dropout=0.5):
        super().__init__()
        a = {s: torch.tensor(spatial_partition(lay, "distance", 1)) for s, lay in LSP14_SCALES.items()}
        self.register_buffer("A_j", a["joints"])
        self.register_buffer("A_p", a["parts"])
        self.register_buffer("A_b", a["bodies"])
        k = self.A_j.shape[0]
        widths, strides = (32, 64, 128, 256), (1, 2, 2, 2)
        for s in (1, 2, 3):
            cin = 3
            for i, (w, st) in enumerate(zip(widths, strides)):
                setattr(self, f"s{s}_l{i + 1}", StGcn(cin, w, k, st, residual=i > 0, dropout=dropout))
                cin = w
        self.s1_l5 = StGcn(256, 256, k, 1, dropout=dropout)
        t1 = (t - 1) // 2 + 1
        t2 = ((t - 1) // 2) // 2 + 1
        for i, (c, tt) in enumerate(((32, t1), (64, t2)), start=1):
            setattr(self, f"j2p_{i}", Cross(1, 2, c, c * tt))
            setattr(self, f"p2j_{i}", Cross(2, 1, c, c * tt))
            setattr(self, f"p2b_{i}", Cross(2, 3, c, c * tt))
            setattr(self, f"b2p_{i}", Cross(3, 2, c, c * tt))
        self.emul_s1 = nn.ParameterList([nn.Parameter(torch.ones_like(self.A_j)) for _ in range(5)])
        self.eadd_s1 = nn.ParameterList([nn.Parameter(torch.zeros_like(self.A_j)) for _ in range(5)])
        self.emul_s2 = nn.ParameterList([nn.Parameter(torch.ones_like(self.A_p)) for _ in range(4)])
        self.eadd_s2 = nn.ParameterList([nn.Parameter(torch.zeros_like(self.A_p)) for _ in range(4)])
        self.emul_s3 = nn.ParameterList([nn.Parameter(torch.ones_like(self.A_b)) for _ in range(4)])
        self.eadd_s3 = nn.ParameterList([nn.Parameter(torch.zeros_like(self.A_b)) for _ in range(4)])
        self.cross_w, self.lamda = cross_w, lamda
        self.rel = {
            n: tuple(torch.tensor(m) for m in fully_connected_relations(v))
            for n, v in (("j", 14), ("p", len(PARTS)), ("b", len(BODIES)))
        }

    def forward(self, x):  # (N, T, V, 3)
        x = x.permute(0, 3, 1, 2)
        pp, pb = pool(PARTS, 14).to(x), pool(BODIES, 14).to(x)
        xs = [x, torch.einsum("nctv,pv->nctp", x, pp), torch.einsum("nctv,bv->nctb", x, pb)]
        a = (self.A_j, self.A_p, self.A_b)
        mul = (self.emul_s1, self.emul_s2, self.emul_s3)
        add = (self.eadd_s1, self.eadd_s2, self.eadd_s3)
        rj, rp, rb = ([m.to(x) for m in self.rel[k]] for k in "jpb")
        for i in range(4):
            xs = [getattr(self, f"s{s + 1}_l{i + 1}")(xs[s], a[s] * mul[s][i] + add[s][i]) for s in range(3)]
            if i < 2:
                c12 = getattr(self, f"j2p_{i + 1}")(xs[0], xs[1], rj, rp)
                r12 = getattr(self, f"p2j_{i + 1}")(xs[1], xs[0], rp, rj)
                c23 = getattr(self, f"p2b_{i + 1}")(xs[1], xs[2], rp, rb)
                r23 = getattr(self, f"b2p_{i + 1}")(xs[2], xs[1], rb, rp)
                xs = [xs[0] + self.cross_w * r12, xs[1] + self.cross_w * (c12 + r23), xs[2] + self.cross_w * c23]
        back_p = torch.einsum("nctp,pv->nctv", xs[1], (pp > 0).to(x))
        back_b = torch.einsum("nctb,bv->nctv", xs[2], (pb > 0).to(x))
        h = xs[0] + self.lamda * back_p + self.lamda * back_b
        return self.s1_l5(h, self.A_j * self.emul_s1[4] + self.eadd_s1[4]).mean(2)  # (N, C, V)


class Decoder(nn.Module):
    def __init__(self, hidden=256, dims=3, p=0.3):
        super().__init__()
        self.register_buffer("A_j", torch.tensor(spatial_partition(LSP14_SCALES["joints"], "distance", 1)))
        k = self.A_j.shape[0]
        self.k, self.h, self.d = k, hidden, dims
        self.emul = nn.Parameter(torch.ones_like(self.A_j))
        self.eadd = nn.Parameter(torch.ones_like(self.A_j))
        self.msg_in = nn.Module()
        self.msg_in.conv = nn.Conv1d(hidden, hidden * k, 1)
        self.msg_drop = nn.Dropout(0.5)
        self.input_r, self.input_i, self.input_n = (nn.Linear(3 * dims, hidden) for _ in range(3))
        self.hidden_r, self.hidden_i, self.hidden_h = (nn.Linear(hidden, hidden, bias=False) for _ in range(3))
        self.out_fc1, self.out_fc2, self.out_fc3 = (
            nn.Linear(hidden, hidden),
            nn.Linear(hidden, hidden),
            nn.Linear(hidden, dims),
        )
        self.dropout1, self.dropout2 = nn.Dropout(p), nn.Dropout(p)
        self.noise = 0.001

    def forward(self, cur, prev, prev2, hidden, steps):  # poses (N, V, 3); hidden (N, H, V)
        preds = []
        for s in range(steps):
            if s < 10:
                m = self.msg_drop(self.msg_in.conv(hidden))
                n, kc, v = m.shape
                msg = torch.einsum(
                    "nkcv,kvw->ncw", m.view(n, self.k, kc // self.k, v), self.A_j * self.emul + self.eadd
                )
            else:
                msg = hidden
            msg, hid = msg.permute(0, 2, 1), hidden.permute(0, 2, 1)
            vel = prev - prev2
            acc = cur - prev - vel
            pos = cur + torch.randn_like(cur) * self.noise if self.training else cur
            x = torch.cat([pos, vel, acc], -1)
            r = torch.sigmoid(self.input_r(x) + self.hidden_r(msg))
            z = torch.sigmoid(self.input_i(x) + self.hidden_i(msg))
            nn_ = torch.tanh(self.input_n(x) + r * self.hidden_h(msg))
            hid = (1 - z) * nn_ + z * hid
            o = self.dropout1(F.leaky_relu(self.out_fc1(hid), 0.1))
            o = self.dropout2(F.leaky_relu(self.out_fc2(o), 0.1))
            nxt = x[..., : self.d] + self.out_fc3(o)
            preds.append(nxt)
            prev2, prev, cur = prev, cur, nxt
            hidden = hid.permute(0, 2, 1)
        return torch.stack(preds, 1)


class TorchDMGNN(nn.Module):
    def __init__(self, obs=10, pred=10, hidden=256):
        super().__init__()
        t = obs - 1
        self.encoder_pos, self.encoder_vel, self.encoder_acl = Encoder(t), Encoder(t), Encoder(t)
        self.decoder = Decoder(hidden)
        self.linear = nn.Linear(3 * 256, hidden)
        self.pred = pred

    def forward(self, obs):  # (N, T, V, 3)
        enc = obs[:, :-1]
        vel = torch.zeros_like(enc)
        vel[:, 1:] = enc[:, 1:] - enc[:, :-1]
        acc = torch.zeros_like(vel)
        acc[:, 1:] = vel[:, 1:] - vel[:, :-1]
        hs = torch.cat([self.encoder_pos(enc), self.encoder_vel(vel), self.encoder_acl(acc)], 1)
        h0 = torch.relu(self.linear(hs.permute(0, 2, 1)).permute(0, 2, 1))
        return self.decoder(obs[:, -1], obs[:, -2], obs[:, -3], h0, self.pred)
