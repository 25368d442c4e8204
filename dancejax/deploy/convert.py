"""Import PyTorch state dicts into dancejax parameters, and convert checkpoints.

``load_state_dict`` reads a ``.pt``/``.pth`` file with ``torch.load(weights_only=True)``
(tensors and plain containers only; never arbitrary objects) or takes an in-memory
dict of arrays.  ``import_state_dict`` maps it onto a Flax variable template by
module path, with the layout rules:

* ``nn.Linear.weight`` (out, in) → ``kernel`` (in, out)
* ``nn.Conv2d.weight`` (out, in, k, 1) → temporal ``kernel`` (k, in, out)
* the original ST-GCN ``gcn.conv.weight`` (K·out, in, 1, 1) → graph ``kernel`` (K, in, out)
  (its bias (K·out) → (K, out))
* BatchNorm ``weight``/``bias`` → ``scale``/``bias``; ``running_mean``/``running_var`` →
  batch statistics ``mean``/``var`` (PyTorch keeps the unbiased running variance; our
  BatchNorm uses the same convention, see ``dancejax.layers.modules.BatchNorm``)
* other parameters (edge-importance masks, embeddings) by name, unchanged.

Missing and unexpected keys are listed; a shape mismatch names the parameter and both shapes.

Convert an original ST-GCN checkpoint (any variant) to a dancejax saved model::

    dancejax convert stgcn.pth --layout ntu25 --out converted/
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from pathlib import Path

import jax
import numpy as np
from flax.traverse_util import flatten_dict, unflatten_dict

from dancejax.deploy.classifier import (
    ClassifierConfig,
    _layout_joints,
    build_classifier,
    classifier_template,
)
from dancejax.errors import DataError


def _to_numpy(v):
    if hasattr(v, "detach"):
        return v.detach().cpu().numpy()
    return np.asarray(v)


def load_state_dict(source) -> dict[str, np.ndarray]:
    """A state dict from a file (torch, weights only) or an in-memory mapping."""
    name = "state dict"
    if not isinstance(source, Mapping):
        path = Path(source)
        name = str(path)
        try:
            import torch
        except ImportError:
            raise DataError(f"{path}: reading .pt/.pth files needs PyTorch: pip install 'dancejax[torch]'") from None
        if not path.exists():
            raise DataError(f"{path}: file not found")
        try:
            source = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # weights_only refuses arbitrary objects; zip/pickle errors vary
            raise DataError(
                f"{path}: not a PyTorch state dict readable with weights_only=True "
                f"({type(e).__name__}: {str(e).splitlines()[0][:200]})"
            ) from None
        for key in ("state_dict", "model"):
            if isinstance(source, Mapping) and key in source and isinstance(source[key], Mapping):
                source = source[key]
    if not isinstance(source, Mapping) or not source:
        raise DataError(
            f"{name}: expected a non-empty mapping of parameter names to tensors, got {type(source).__name__}"
        )
    out = {}
    for k, v in source.items():
        if not isinstance(k, str):
            raise DataError(f"{name}: keys must be parameter names (str), got {k!r}")
        try:
            out[k] = _to_numpy(v)
        except Exception:
            raise DataError(f"{name}: entry {k!r} is not an array or tensor ({type(v).__name__})") from None
        if out[k].dtype == object:
            raise DataError(f"{name}: entry {k!r} is not a numeric array")
    return out


def _kernel(w: np.ndarray, target: tuple, key: str) -> np.ndarray:
    if w.ndim == 2 and len(target) == 2:
        return w.T
    if w.ndim == 3 and w.shape[2] == 1 and len(target) == 2:  # Conv1d with kernel size 1
        return w[:, :, 0].T
    if w.ndim == 4 and w.shape[3] == 1:
        o, i, kh = w.shape[:3]
        if len(target) == 3:
            a, ti, b = target
            if kh == a and o == b and i == ti:
                return w[..., 0].transpose(2, 1, 0)
            if kh == 1 and o == a * b and i == ti:
                return w[:, :, 0, 0].reshape(a, b, i).transpose(0, 2, 1)
        if len(target) == 2 and kh == 1:
            return w[:, :, 0, 0].T
    raise DataError(f"{key}: shape mismatch: state dict {w.shape}, dancejax parameter {target}")


def import_state_dict(state_dict, template: dict, rename=None, ignore=()) -> dict:
    """Map a (loaded) state dict onto ``template`` = {'params': ..., 'batch_stats': ...}.

    ``rename(key) -> key`` rewrites torch module paths to Flax ones first; keys in
    ``ignore`` (buffers such as a registered adjacency) are skipped.
    """
    sd = load_state_dict(state_dict)
    flat = {c: flatten_dict(jax.device_get(template.get(c, {}))) for c in ("params", "batch_stats")}
    out = {c: {} for c in flat}
    unexpected, mismatched = [], []
    for key, value in sd.items():
        if key in ignore or key.endswith("num_batches_tracked"):
            continue
        k = rename(key) if rename else key
        *mod, leaf = k.split(".")
        mod = tuple(mod)
        params = {p[-1]: p for p in flat["params"] if p[:-1] == mod}
        if leaf in ("running_mean", "running_var"):
            coll, path = "batch_stats", mod + ({"running_mean": "mean", "running_var": "var"}[leaf],)
        elif leaf == "weight" and "scale" in params:
            coll, path = "params", mod + ("scale",)
        elif leaf == "weight" and "kernel" in params:
            coll, path = "params", mod + ("kernel",)
        elif (mod + (leaf,)) in flat["params"]:
            coll, path = "params", mod + (leaf,)
        else:
            unexpected.append(key)
            continue
        if path not in flat[coll]:
            unexpected.append(key)
            continue
        target = tuple(flat[coll][path].shape)
        try:
            if leaf == "weight" and path[-1] == "kernel":  # torch layout, even when the shapes happen to agree
                value = _kernel(value, target, key)
            elif (
                value.shape != target
                and value.size == int(np.prod(target))
                and (
                    path[-1] == "bias" or tuple(d for d in value.shape if d != 1) == tuple(d for d in target if d != 1)
                )
            ):
                value = value.reshape(target)  # a graph conv's (K·C) bias, or singleton axes (siMLPe's (1, C, 1))
            if value.shape != target:
                raise DataError(
                    f"{key}: shape mismatch: state dict {value.shape}, dancejax parameter {'/'.join(path)} {target}"
                )
        except DataError as e:
            mismatched.append(str(e))
            continue
        out[coll][path] = value.astype(flat[coll][path].dtype)
    missing = [f"{c}/{'/'.join(p)}" for c in flat for p in flat[c] if p not in out[c]]
    problems = []
    if missing:
        problems.append(f"missing keys (dancejax parameters with no entry): {missing}")
    if unexpected:
        problems.append(f"unexpected keys (no dancejax parameter): {unexpected}")
    problems += mismatched
    if problems:
        raise DataError("cannot import state dict: " + "; ".join(problems))
    return {c: unflatten_dict(out[c]) for c in out if flat[c]}


_STGCN_RENAMES = [
    (r"^st_gcn_networks\.(\d+)\.gcn\.conv\.", r"block_\1.gcn."),
    (r"^st_gcn_networks\.(\d+)\.tcn\.0\.", r"block_\1.tcn_bn0."),
    (r"^st_gcn_networks\.(\d+)\.tcn\.2\.", r"block_\1.tcn_conv."),
    (r"^st_gcn_networks\.(\d+)\.tcn\.3\.", r"block_\1.tcn_bn1."),
    (r"^st_gcn_networks\.(\d+)\.residual\.0\.", r"block_\1.residual_conv."),
    (r"^st_gcn_networks\.(\d+)\.residual\.1\.", r"block_\1.residual_bn."),
    (r"^edge_importance\.(\d+)$", r"edge_importance_\1"),
]


def stgcn_rename(key: str) -> str:
    """Original ST-GCN key names -> dancejax ``STGCN`` module paths."""
    for pat, rep in _STGCN_RENAMES:
        key = re.sub(pat, rep, key)
    return key


def _variant_of(sd: dict, name: str, layout: str, strategy: str | None, max_hop: int | None):
    """(strategy, max_hop) of a checkpoint: from its registered adjacency ``A`` when present
    (compared with every partition dancejax builds), else from the arguments."""
    from dancejax.maths.graph import spatial_partition

    a_key = next((k for k in sd if k == "A" or k.endswith(".A")), None)
    if a_key is None:
        if strategy is None:
            raise DataError(f"{name}: the checkpoint has no adjacency 'A'; pass --strategy (and --max-hop)")
        return strategy, max_hop or 1
    a = sd[a_key]
    tried = []
    for st in [strategy] if strategy else ["spatial", "uniform", "distance"]:
        for mh in [max_hop] if max_hop else [1, 2, 3]:
            for corrected in (False, True):
                ours = spatial_partition(layout, st, mh, corrected=corrected)
                tried.append(f"{st}/max_hop {mh}{' corrected' if corrected else ''} {ours.shape}")
                if ours.shape == a.shape and np.allclose(ours, a, atol=1e-6):
                    if corrected:
                        raise DataError(
                            f"{name}: adjacency matches the corrected partition; the original code "
                            "builds the uncorrected one — not an original checkpoint"
                        )
                    return st, mh
    raise DataError(
        f"{name}: checkpoint adjacency 'A' {a.shape} matches none of dancejax's {layout} partitions "
        f"(tried {', '.join(tried)}): wrong layout?"
    )


def import_stgcn(
    source,
    layout: str = "ntu25",
    num_classes: int | None = None,
    in_channels: int | None = None,
    strategy: str | None = None,
    max_hop: int | None = None,
    strides=None,
):
    """Load an original ST-GCN checkpoint, any variant of the original code: the uniform,
    distance or spatial strategy with any ``max_hop`` (read from the checkpoint's adjacency),
    with or without edge importance, saved from ``DataParallel`` (``module.`` prefix), and the
    two-stream model (``origin_stream``/``motion_stream``).

    Returns ``(config, model, variables)``; ``model.apply(variables, x)`` with x (N, M, T, V, C)
    gives the class scores.  Layer widths are read from the checkpoint; temporal strides cannot
    be, so they default to ST-GCN-10's for a 10-layer network (pass ``strides`` otherwise).
    """
    name = source if isinstance(source, (str, Path)) else "state dict"
    sd = load_state_dict(source)
    if all(k.startswith("module.") for k in sd):
        sd = {k[len("module.") :]: v for k, v in sd.items()}
    two = any(k.startswith("origin_stream.") for k in sd)
    if two and not any(k.startswith("motion_stream.") for k in sd):
        raise DataError(f"{name}: 'origin_stream' without 'motion_stream': an incomplete two-stream checkpoint")
    prefix = "origin_stream." if two else ""
    one = {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}
    layers = sorted({int(m.group(1)) for k in one if (m := re.match(r"st_gcn_networks\.(\d+)\.", k))})
    if not layers:
        raise DataError(f"{name}: no 'st_gcn_networks.*' keys: not an original ST-GCN checkpoint")
    widths = []
    for i in layers:
        width_keys = [f"st_gcn_networks.{i}.tcn.{j}.weight" for j in (0, 3, 2)]
        found = [one[k].shape[0] for k in width_keys if k in one]
        if not found:
            raise DataError(f"{name}: layer {i} has none of {width_keys}; cannot tell its width")
        widths.append(int(found[0]))
    if strides is None:
        if len(widths) != 10:
            raise DataError(f"{name}: the checkpoint has {len(widths)} layers, not ST-GCN-10's 10: pass strides")
        strides = (1, 1, 1, 1, 2, 1, 1, 2, 1, 1)
    if num_classes is None:
        if "fcn.weight" not in one:
            raise DataError(f"{name}: no 'fcn.weight'; is this an ST-GCN checkpoint? pass num_classes")
        num_classes = int(one["fcn.weight"].shape[0])
    if in_channels is None:
        v_count = _layout_joints(layout)
        bn = one.get("data_bn.weight")
        in_channels = int(bn.shape[0] // v_count) if bn is not None and bn.shape[0] % v_count == 0 else 3
    st, mh = _variant_of(one, name, layout, strategy, max_hop)
    edge = any(k.startswith("edge_importance.") for k in one)
    cfg = ClassifierConfig(layout, st, mh, tuple(widths), tuple(strides), num_classes, in_channels, edge, two)
    model = build_classifier(cfg)
    template = classifier_template(cfg)

    def rename(k: str) -> str:
        if two:
            head, rest = k.split(".", 1)
            return f"{head}.{stgcn_rename(rest)}"
        return "stream." + stgcn_rename(k)

    ignore = tuple(k for k in sd if k == "A" or k.endswith(".A"))
    variables = import_state_dict(sd, template, rename=rename, ignore=ignore)
    return cfg, model, variables


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="dancejax convert",
        description="Convert an original ST-GCN PyTorch checkpoint (any variant of the original "
        "code) into a dancejax saved model.",
    )
    ap.add_argument("checkpoint", help=".pt/.pth state dict with the original key names")
    ap.add_argument("--layout", default="ntu25", choices=["ntu25", "openpose18"])
    ap.add_argument("--num-classes", type=int, default=None)
    ap.add_argument("--in-channels", type=int, default=None)
    ap.add_argument(
        "--strategy",
        default=None,
        choices=["uniform", "distance", "spatial"],
        help="only for checkpoints without the adjacency 'A'",
    )
    ap.add_argument("--max-hop", type=int, default=None)
    ap.add_argument("--out", required=True, help="output folder for the saved model")
    a = ap.parse_args(argv)
    from dancejax.deploy.saved import save_classifier

    cfg, _, variables = import_stgcn(a.checkpoint, a.layout, a.num_classes, a.in_channels, a.strategy, a.max_hop)
    out = save_classifier(a.out, cfg, variables, source=str(a.checkpoint))
    n = sum(np.size(x) for x in jax.tree_util.tree_leaves(variables["params"]))
    print(
        f"wrote {out}: {'two-stream ' if cfg.two_stream else ''}ST-GCN ({len(cfg.widths)} layers), "
        f"layout {cfg.layout}, "
        f"{cfg.strategy} partition, max_hop {cfg.max_hop}, edge importance {'on' if cfg.edge_importance else 'off'}, "
        f"{cfg.num_classes} classes, {n} parameters; load it with dancejax.load_model"
    )
    return 0


if __name__ == "__main__":
    main()
