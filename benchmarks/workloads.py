"""The model workloads that the benchmarks time against PyTorch: the same architecture on both
sides, the same weights (PyTorch's state dict imported into the Flax model), inputs, loss and
optimiser step.

* ``stgcn10``: ST-GCN-10 on dancejax's 14-joint skeleton, squared loss, plain SGD;
* ``stgcn10_original``: the original ST-GCN code's own setting, 18 OpenPose joints,
  cross-entropy over 400 classes, SGD with Nesterov momentum and weight decay (``ORIGINAL_SGD``);
* ``mkff_stgcn`` and ``stga_net``: the quick presets' models, squared loss, plain SGD.

The PyTorch models are the transcriptions in ``reference/`` (or, for ``stgcn10_original``, the
original code's own model from a checkout of it).  Used by ``vs_torch``, ``ablation``,
``op_profile`` and ``allocator``; needs the torch extra.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import optax
import torch

from dancejax.deploy.convert import import_state_dict, import_stgcn
from dancejax.models.mkff import MKFFSTGCN
from dancejax.models.stga_net import STGANet
from reference.stgcn_mkff_stga import TorchMKFFSTGCN, TorchSTGANet, TorchSTGCN

LR = 0.01
MODELS = ("stgcn10", "stgcn10_original", "mkff_stgcn", "stga_net")
SHAPES = {"stgcn10": (16, 64), "stgcn10_original": (16, 64), "mkff_stgcn": (16, 32), "stga_net": (16, 10)}
TINY_SHAPES = {"stgcn10": (2, 16), "stgcn10_original": (2, 16), "mkff_stgcn": (2, 12), "stga_net": (2, 10)}


# The original ST-GCN code's own training (its Kinetics recipe, processor/recognition.py defaults):
# SGD with Nesterov momentum 0.9 and weight decay 1e-4, cross-entropy over 400 classes, the
# 18-joint OpenPose skeleton.  The other workloads take a plain SGD step on a squared loss.
ORIGINAL_SGD = {"momentum": 0.9, "nesterov": True, "weight_decay": 1e-4}


@dataclasses.dataclass
class Workload:
    """One model's benchmark: the PyTorch model and inputs, the JAX model and inputs, the loss on
    each side's outputs, and the optimiser both sides step with (None = plain SGD)."""

    ref: Any
    apply: Any
    variables: Any
    xt: tuple
    xj: tuple
    jax_loss: Any
    torch_loss: Any
    sgd: dict | None = None


def build(name: str, batch: int, frames: int, original: str | None = None) -> Workload:
    """The workload ``name`` at (batch, frames).  ``original``: a checkout of the original ST-GCN
    code, whose unmodified ``net.st_gcn.Model`` then stands in for our PyTorch reference in
    ``stgcn10_original``."""
    if name in ("stgcn10", "stgcn10_original"):
        orig = name == "stgcn10_original"
        layout, joints, classes = ("openpose18", 18, 400) if orig else ("lsp14", 14, 5)
        if orig and original:
            ref = original_stgcn(original, classes)
        else:
            ref = TorchSTGCN(3, classes, layout)
        _, model, variables = import_stgcn(ref.state_dict(), layout)
        xt = (torch.randn(batch, 3, frames, joints, 1),)
        xj = (jnp.asarray(xt[0].permute(0, 4, 2, 3, 1).numpy()),)
        if not orig:
            return Workload(ref, model.apply, variables, xt, xj, lambda s: (s**2).mean(), lambda s: (s**2).mean())
        labels = torch.randint(0, classes, (batch,))
        lj = jnp.asarray(labels.numpy())

        def jax_ce(s):
            return -jnp.take_along_axis(jax.nn.log_softmax(s, -1), lj[:, None], -1).mean()

        def torch_ce(s):
            return torch.nn.functional.cross_entropy(s, labels.to(s.device))

        return Workload(ref, model.apply, variables, xt, xj, jax_ce, torch_ce, ORIGINAL_SGD)
    if name == "mkff_stgcn":
        model = MKFFSTGCN(dropout=0.0)
        ref = TorchMKFFSTGCN(model, t=frames)
        tmpl = jax.eval_shape(
            lambda: model.init(jax.random.key(0), jnp.zeros((1, frames, 14, 2)), jnp.ones((1, frames, 14)))
        )
        variables = import_state_dict(ref.state_dict(), tmpl, ignore=("backbone.A",))
        xt = (torch.randn(batch, frames, 14, 2), torch.rand(batch, frames, 14))
        xj = tuple(jnp.asarray(t.numpy()) for t in xt)
        loss = lambda o: (o[0] ** 2).mean() + (o[1] ** 2).mean()  # noqa: E731
        return Workload(ref, model.apply, variables, xt, xj, loss, loss)
    if name == "stga_net":
        model = STGANet(width=64, dropout=0.0)
        ref = TorchSTGANet(model)
        tmpl = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, frames, 14, 3))))
        variables = import_state_dict(
            ref.state_dict(), tmpl, ignore=tuple(k for k in ref.state_dict() if k.endswith(".graph"))
        )
        xt = (torch.randn(batch, frames, 14, 3),)
        loss = lambda o: (o**2).mean()  # noqa: E731
        return Workload(ref, model.apply, variables, xt, (jnp.asarray(xt[0].numpy()),), loss, loss)
    raise SystemExit(f"vs_torch: unknown model {name!r}; use one of {', '.join(MODELS)}")


def original_stgcn(checkout: str, classes: int):
    """The original code's ``net.st_gcn.Model`` (Kinetics configuration) from a checkout of it."""
    root = Path(checkout).expanduser().resolve()
    if not (root / "net" / "st_gcn.py").is_file():
        raise SystemExit(f"vs_torch: --original-stgcn {checkout}: no net/st_gcn.py (not a checkout of the original)")
    sys.path.insert(0, str(root))
    try:
        from net.st_gcn import Model
    finally:
        sys.path.remove(str(root))
    graph = {"layout": "openpose", "strategy": "spatial"}
    return Model(in_channels=3, num_class=classes, graph_args=graph, edge_importance_weighting=True)


def jax_fns(w: Workload):
    """(jitted train step (state) -> state, jitted inference (variables, *x)); state =
    {"v": variables, "opt": optimiser state}, from ``train_state``."""
    tx = sgd_tx(w.sgd)

    def train_step(state, *x):
        v = state["v"]

        def loss_fn(p):
            out, upd = w.apply({"params": p, "batch_stats": v["batch_stats"]}, *x, train=True, mutable=["batch_stats"])
            return w.jax_loss(out), upd["batch_stats"]

        g, stats = jax.grad(loss_fn, has_aux=True)(v["params"])
        upd, opt = tx.update(g, state["opt"], v["params"])
        return {"v": {"params": optax.apply_updates(v["params"], upd), "batch_stats": stats}, "opt": opt}

    return jax.jit(train_step), jax.jit(lambda v, *x: w.apply(v, *x))


def sgd_tx(sgd: dict | None):
    """PyTorch's ``SGD`` as optax: weight decay added to the gradient, then (Nesterov) momentum."""
    if sgd is None:
        return optax.sgd(LR)
    momentum = optax.sgd(LR, momentum=sgd["momentum"], nesterov=sgd["nesterov"])
    return optax.chain(optax.add_decayed_weights(sgd["weight_decay"]), momentum)


def train_state(w: Workload) -> dict:
    return {"v": w.variables, "opt": sgd_tx(w.sgd).init(w.variables["params"])}


def torch_sgd(w: Workload, params):
    return torch.optim.SGD(params, lr=LR, **(w.sgd or {}))


def torch_step(w: Workload, model, opt, xt=None):
    """One PyTorch train step of ``model`` on ``xt`` (default: the workload's inputs), as a callable."""
    xt = w.xt if xt is None else xt

    def step():
        opt.zero_grad(set_to_none=True)
        w.torch_loss(model(*xt)).backward()
        opt.step()

    return step
