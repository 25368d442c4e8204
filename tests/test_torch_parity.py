"""dancejax against PyTorch implementations of the same architectures (needs the torch extra).

Tolerances: forward outputs relative error ≤ 1e-5 (float32, eval mode); parameters
after one SGD step ≤ 1e-4 absolute."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

pytest.importorskip("torch", reason="PyTorch parity tests need the torch extra: pip install '.[torch]'")

import torch

from dancejax.deploy.convert import import_state_dict, import_stgcn, load_state_dict
from dancejax.errors import DataError
from dancejax.maths.graph import spatial_partition
from dancejax.models import MKFFSTGCN, STGANet
from dancejax.models.stgcn import GraphConfig
from reference.stgcn_mkff_stga import TorchMKFFSTGCN, TorchSTGANet, TorchSTGCN, original_partition

torch.manual_seed(0)


def rel_err(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.abs(a - b).max() / np.abs(b).max()


def randomize_buffers(model):
    """Non-trivial BN statistics and edge-importance masks, so parity is not luck."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "edge_importance" in name:
                p.copy_(torch.rand(p.shape, generator=g) + 0.5)
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)


def test_reference_graph_matches_ours():
    for layout in ("ntu25", "openpose18", "lsp14"):
        np.testing.assert_allclose(original_partition(layout), spatial_partition(layout, "spatial", 1), atol=1e-7)


@pytest.mark.parametrize("layout,classes", [("ntu25", 60), ("openpose18", 400)])
def test_stgcn_checkpoint_loads_with_same_class_scores(layout, classes, tmp_path):
    ref = TorchSTGCN(3, classes, layout).eval()
    randomize_buffers(ref)
    v = 25 if layout == "ntu25" else 18
    x = torch.randn(2, 3, 40, v, 2)
    with torch.no_grad():
        expected = ref(x).numpy()
    path = tmp_path / "stgcn.pth"
    torch.save(ref.state_dict(), path)
    for source in (path, ref.state_dict()):
        _, model, variables = import_stgcn(source, layout)
        scores = model.apply(variables, jnp.asarray(x.permute(0, 4, 2, 3, 1).numpy()))
        assert rel_err(scores, expected) <= 1e-5


VARIANTS = {
    "uniform": dict(strategy="uniform"),
    "distance": dict(strategy="distance"),
    "spatial_max_hop_2": dict(strategy="spatial", max_hop=2),
    "no_edge_importance": dict(edge_importance=False),
    "data_parallel": dict(),
    "two_stream": dict(),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_convert_every_original_variant_to_a_saved_model(variant, tmp_path, capsys):
    """``dancejax convert`` on a checkpoint of each variant of the original code (written by the
    PyTorch reference) writes a saved model that ``load_model`` restores with the same scores."""
    import dancejax
    from dancejax.deploy.convert import main
    from reference.stgcn_mkff_stga import TorchTwoStreamSTGCN

    kw = dict(widths=(16, 16, 16, 16, 32, 32, 32, 64, 64, 64), **VARIANTS[variant])
    ref = (
        TorchTwoStreamSTGCN(3, 7, "ntu25", **kw) if variant == "two_stream" else TorchSTGCN(3, 7, "ntu25", **kw)
    ).eval()
    randomize_buffers(ref)
    sd = ref.state_dict()
    if variant == "data_parallel":
        sd = {f"module.{k}": v for k, v in sd.items()}
    torch.save(sd, tmp_path / "ckpt.pth")
    x = torch.randn(2, 3, 20, 25, 2)
    with torch.no_grad():
        expected = ref(x).numpy()
    assert main([str(tmp_path / "ckpt.pth"), "--layout", "ntu25", "--out", str(tmp_path / "model")]) == 0
    assert "wrote" in capsys.readouterr().out
    clf = dancejax.load_model(tmp_path / "model")
    assert rel_err(clf(x.numpy(), layout="original"), expected) <= 1e-5
    assert clf.cfg.two_stream == (variant == "two_stream")
    assert clf.cfg.edge_importance == (variant != "no_edge_importance")


def mkff_pair(dropout=0.0):
    model = MKFFSTGCN(
        widths=(16, 16, 32), strides=(1, 1, 1), mkff_width=16, mkff_heads=2, decoder_width=16, dropout=dropout
    )
    ref = TorchMKFFSTGCN(model, t=12)
    randomize_buffers(ref)
    template = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, 12, 14, 2)), jnp.ones((1, 12, 14))))
    variables = import_state_dict(ref.state_dict(), template, ignore=("backbone.A",))
    x, c = torch.randn(3, 12, 14, 2), torch.rand(3, 12, 14)
    return ref, model, variables, x, c


def stga_pair():
    model = STGANet(width=16, heads=2, blocks=2, dropout=0.0)
    ref = TorchSTGANet(model)
    randomize_buffers(ref)
    template = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, 10, 14, 3))))
    ignore = tuple(k for k in ref.state_dict() if k.endswith(".graph"))
    return ref, model, import_state_dict(ref.state_dict(), template, ignore=ignore), torch.randn(3, 10, 14, 3)


def test_mkff_stgcn_forward_parity():
    ref, model, variables, x, c = mkff_pair()
    ref.eval()
    with torch.no_grad():
        out_t, logits_t = ref(x, c)
    out, logits = model.apply(variables, jnp.asarray(x.numpy()), jnp.asarray(c.numpy()))
    assert rel_err(out, out_t.numpy()) <= 1e-5
    assert rel_err(logits, logits_t.numpy()) <= 1e-5


def test_stga_net_forward_parity():
    ref, model, variables, x = stga_pair()
    ref.eval()
    with torch.no_grad():
        expected = ref(x).numpy()
    assert rel_err(model.apply(variables, jnp.asarray(x.numpy())), expected) <= 1e-5


def sgd_step_parity(ref, model, variables, torch_inputs, loss_of, lr=0.05):
    ref.train()
    opt = torch.optim.SGD(ref.parameters(), lr=lr)
    opt.zero_grad()
    loss_of(ref(*torch_inputs)).backward()
    opt.step()
    jin = [jnp.asarray(t.numpy()) for t in torch_inputs]

    def loss_fn(params):
        out, upd = model.apply(
            {"params": params, "batch_stats": variables["batch_stats"]}, *jin, train=True, mutable=["batch_stats"]
        )
        return loss_of(out), upd["batch_stats"]

    grads, stats = jax.grad(loss_fn, has_aux=True)(variables["params"])
    new = jax.tree_util.tree_map(lambda p, g: p - lr * g, variables["params"], grads)
    template = jax.tree_util.tree_map(np.asarray, {"params": new, "batch_stats": stats})
    after = import_state_dict(
        {k: v.detach().numpy() for k, v in ref.state_dict().items()},
        template,
        ignore=tuple(k for k in ref.state_dict() if k.endswith((".graph", ".A")) or k == "A"),
        rename=getattr(ref, "rename", None),
    )
    for coll in ("params", "batch_stats"):
        for a, b in zip(jax.tree_util.tree_leaves(template[coll]), jax.tree_util.tree_leaves(after[coll])):
            np.testing.assert_allclose(a, b, atol=1e-4, rtol=0)


def test_mkff_stgcn_sgd_step_parity():
    ref, model, variables, x, c = mkff_pair()

    def loss_of(out):
        refined, logits = out
        return (refined**2).mean() + (logits**2).mean()

    sgd_step_parity(ref, model, variables, (x, c), loss_of)


def test_stga_net_sgd_step_parity():
    ref, model, variables, x = stga_pair()
    sgd_step_parity(ref, model, variables, (x,), lambda out: (out**2).mean())


def test_stgcn_sgd_step_parity():
    from dancejax.deploy.convert import stgcn_rename

    ref = TorchSTGCN(3, 10, "lsp14", widths=(16, 16, 32), strides=(1, 2, 1))
    randomize_buffers(ref)
    _, clf, variables = import_stgcn(ref.state_dict(), "lsp14", strides=(1, 2, 1))
    from dancejax.models.stgcn import STGCN

    model = STGCN(GraphConfig("lsp14"), (16, 16, 32), (1, 2, 1), num_classes=10)
    variables = {c: v["stream"] for c, v in variables.items()}
    ref.rename = stgcn_rename
    sgd_step_parity(
        ref, _TorchLayoutInput(model), variables, (torch.randn(4, 3, 16, 14, 2),), lambda scores: (scores**2).mean()
    )


class _TorchLayoutInput:
    """Feed the original (N, C, T, V, M) input to the Flax ST-GCN and return its class scores."""

    def __init__(self, model):
        self.model = model

    def apply(self, variables, x, **kw):
        out = self.model.apply(variables, jnp.transpose(x, (0, 4, 2, 3, 1)), **kw)
        if kw.get("mutable"):
            (_, scores), upd = out
            return scores, upd
        return out[1]


def test_bad_checkpoints(tmp_path):
    ref = TorchSTGCN(3, 60, "ntu25")
    sd = {k: v.numpy() for k, v in ref.state_dict().items()}
    broken = dict(sd)
    del broken["st_gcn_networks.3.tcn.2.weight"]
    broken["st_gcn_networks.3.tcn.9.weight"] = np.zeros(3)
    with pytest.raises(
        DataError, match=r"missing keys.*stream/block_3/tcn_conv/kernel.*unexpected keys.*tcn\.9\.weight"
    ):
        import_stgcn(broken, "ntu25")
    bad_shape = dict(sd)
    bad_shape["st_gcn_networks.0.gcn.conv.weight"] = np.zeros((192, 2, 1, 1), np.float32)
    with pytest.raises(
        DataError,
        match=r"st_gcn_networks\.0\.gcn\.conv\.weight: shape mismatch: state dict "
        r"\(192, 2, 1, 1\), dancejax parameter \(3, 3, 64\)",
    ):
        import_stgcn(bad_shape, "ntu25")
    with pytest.raises(DataError, match="adjacency 'A'.*matches none of dancejax's openpose18 partitions"):
        import_stgcn(sd, "openpose18")
    with pytest.raises(DataError, match="not an original ST-GCN checkpoint"):
        import_stgcn({"fc.weight": np.zeros((2, 2))}, "ntu25")
    (tmp_path / "notes.pth").write_text("not a checkpoint")
    with pytest.raises(DataError, match=r"notes\.pth: not a PyTorch state dict"):
        load_state_dict(tmp_path / "notes.pth")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pth")  # a pickled module, not a state dict
    with pytest.raises(DataError, match=r"module\.pth: not a PyTorch state dict readable with weights_only=True"):
        load_state_dict(tmp_path / "module.pth")
    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(DataError, match="expected a non-empty mapping"):
        load_state_dict(tmp_path / "list.pth")
