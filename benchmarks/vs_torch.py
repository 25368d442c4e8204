"""dancejax against PyTorch on the same machine, same model, same batch, in one run.

    python benchmarks/vs_torch.py                      # all three models, CPU
    python benchmarks/vs_torch.py --models stgcn10 --no-compile --repeats 10
    python benchmarks/vs_torch.py --scaling            # + inference cost as batch and window grow

For each model: the train step (forward, loss, backward, plain SGD update, BatchNorm
statistics) and inference, JAX (jit) against PyTorch eager and ``torch.compile``.
Every figure is the median of ``--repeats`` timed calls after warm-up; compile time is
reported separately.  Ratios are JAX time / PyTorch time (below 1 = dancejax faster).
Writes ``--out`` (JSON).  Needs the torch extra.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.timing import median_ms  # noqa: E402
from benchmarks.torch_models import TorchMKFFSTGCN, TorchSTGANet, TorchSTGCN  # noqa: E402
from dancejax.convert import import_state_dict, import_stgcn  # noqa: E402
from dancejax.models.mkff import MKFFSTGCN, RecognitionModelConfig  # noqa: E402
from dancejax.models.predictors import PredictionModelConfig, STGANet  # noqa: E402

LR = 0.01


def build(name: str, batch: int, frames: int):
    """(torch model, jax model, jax variables, torch inputs, jax inputs, loss on outputs)."""
    if name == "stgcn10":
        ref = TorchSTGCN(3, 5, "lsp14")
        model, variables = import_stgcn(ref.state_dict(), "lsp14")
        xt = (torch.randn(batch, 3, frames, 14, 1),)
        xj = (jnp.asarray(xt[0].permute(0, 4, 2, 3, 1).numpy()),)

        def jfwd(v, x, **kw):
            out = model.apply(v, x, **kw)
            return (out[0][1], out[1]) if kw.get("mutable") else out[1]

        return ref, jfwd, variables, xt, xj, lambda s: (s**2).mean()
    if name == "mkff_stgcn":
        cfg = RecognitionModelConfig(dropout=0.0)
        ref = TorchMKFFSTGCN(cfg, t=frames)
        model = MKFFSTGCN(cfg)
        tmpl = jax.eval_shape(
            lambda: model.init(jax.random.key(0), jnp.zeros((1, frames, 14, 2)), jnp.ones((1, frames, 14)))
        )
        variables = import_state_dict(ref.state_dict(), tmpl, ignore=("backbone.A",))
        xt = (torch.randn(batch, frames, 14, 2), torch.rand(batch, frames, 14))
        xj = tuple(jnp.asarray(t.numpy()) for t in xt)
        return ref, model.apply, variables, xt, xj, lambda o: (o[0] ** 2).mean() + (o[1] ** 2).mean()
    if name == "stga_net":
        cfg = PredictionModelConfig(width=64, dropout=0.0)
        ref = TorchSTGANet(cfg)
        model = STGANet(cfg)
        tmpl = jax.eval_shape(lambda: model.init(jax.random.key(0), jnp.zeros((1, frames, 14, 3))))
        variables = import_state_dict(
            ref.state_dict(), tmpl, ignore=tuple(k for k in ref.state_dict() if k.endswith(".graph"))
        )
        xt = (torch.randn(batch, frames, 14, 3),)
        return ref, model.apply, variables, xt, (jnp.asarray(xt[0].numpy()),), lambda o: (o**2).mean()
    raise ValueError(f"Unsupported model: {name!r}")


def jax_fns(apply, variables, loss_of):
    def train_step(v, *x):
        def loss_fn(p):
            out, upd = apply({"params": p, "batch_stats": v["batch_stats"]}, *x, train=True, mutable=["batch_stats"])
            return loss_of(out), upd["batch_stats"]

        g, stats = jax.grad(loss_fn, has_aux=True)(v["params"])
        return {"params": jax.tree_util.tree_map(lambda p, d: p - LR * d, v["params"], g), "batch_stats": stats}

    return jax.jit(train_step), jax.jit(lambda v, *x: apply(v, *x))


def time_model(name, batch, frames, repeats, compile_torch):
    ref, apply, variables, xt, xj, loss_of = build(name, batch, frames)
    res = {
        "model": name,
        "batch": batch,
        "frames": frames,
        "params": int(sum(np.size(a) for a in jax.tree_util.tree_leaves(variables["params"]))),
    }
    train, infer = jax_fns(apply, variables, loss_of)
    state = {"v": variables}

    def jtrain():
        state["v"] = jax.block_until_ready(train(state["v"], *xj))

    t0 = time.perf_counter()
    jtrain()
    res["jax_train_compile_s"] = time.perf_counter() - t0
    res["jax_train_ms"] = median_ms(jtrain, repeats, warmup=2)
    t0 = time.perf_counter()
    jax.block_until_ready(infer(variables, *xj))
    res["jax_infer_compile_s"] = time.perf_counter() - t0
    res["jax_infer_ms"] = median_ms(lambda: jax.block_until_ready(infer(variables, *xj)), repeats, warmup=2)

    def torch_train(m, opt):
        def f():
            opt.zero_grad(set_to_none=True)
            loss_of(m(*xt)).backward()
            opt.step()

        return f

    ref.train()
    res["torch_eager_train_ms"] = median_ms(
        torch_train(ref, torch.optim.SGD(ref.parameters(), lr=LR)), repeats, warmup=2
    )
    ref.eval()
    with torch.no_grad():
        res["torch_eager_infer_ms"] = median_ms(lambda: ref(*xt), repeats, warmup=2)
    if compile_torch:
        ref.train()
        cm = torch.compile(ref)
        step = torch_train(cm, torch.optim.SGD(ref.parameters(), lr=LR))
        t0 = time.perf_counter()
        step()
        res["torch_compile_train_compile_s"] = time.perf_counter() - t0
        res["torch_compile_train_ms"] = median_ms(step, repeats, warmup=2)
        ref.eval()
        with torch.no_grad():
            t0 = time.perf_counter()
            cm(*xt)
            res["torch_compile_infer_compile_s"] = time.perf_counter() - t0
            res["torch_compile_infer_ms"] = median_ms(lambda: cm(*xt), repeats, warmup=2)
    return res


def print_main(rows):
    print(
        f"\n{'model':<12}{'batch':>6}{'T':>5}{'params':>9} | {'train ms: jax':>14}{'eager':>9}{'compile':>9}"
        f"{'jax/eager':>10}{'jax/comp':>9} | {'infer ms: jax':>14}{'eager':>9}{'compile':>9}{'jax/eager':>10}"
        f"{'jax/comp':>9}"
    )
    for r in rows:
        tc = r.get("torch_compile_train_ms", float("nan"))
        ic = r.get("torch_compile_infer_ms", float("nan"))
        print(
            f"{r['model']:<12}{r['batch']:>6}{r['frames']:>5}{r['params']:>9} | {r['jax_train_ms']:>14.1f}"
            f"{r['torch_eager_train_ms']:>9.1f}{tc:>9.1f}{r['jax_train_ms'] / r['torch_eager_train_ms']:>10.2f}"
            f"{r['jax_train_ms'] / tc:>9.2f} | {r['jax_infer_ms']:>14.1f}{r['torch_eager_infer_ms']:>9.1f}{ic:>9.1f}"
            f"{r['jax_infer_ms'] / r['torch_eager_infer_ms']:>10.2f}{r['jax_infer_ms'] / ic:>9.2f}"
        )
    print(
        "compile time (s): "
        + "; ".join(
            f"{r['model']}: jax train {r['jax_train_compile_s']:.1f}, infer {r['jax_infer_compile_s']:.1f}"
            + (
                f", torch.compile train {r['torch_compile_train_compile_s']:.1f}, "
                f"infer {r['torch_compile_infer_compile_s']:.1f}"
                if "torch_compile_train_compile_s" in r
                else ""
            )
            for r in rows
        )
    )


def scaling(name, base_frames, repeats):
    """Inference time as the batch (1..256) and the window (32..256) grow: JAX vs eager."""
    out = []
    for batch, frames in [(b, base_frames) for b in (1, 4, 16, 64, 256)] + [(16, t) for t in (32, 64, 128, 256)]:
        ref, apply, variables, xt, xj, _ = build(name, batch, frames)
        infer = jax.jit(lambda v, *x: apply(v, *x))
        jax.block_until_ready(infer(variables, *xj))
        j = median_ms(lambda: jax.block_until_ready(infer(variables, *xj)), repeats, warmup=1)
        ref.eval()
        with torch.no_grad():
            t = median_ms(lambda: ref(*xt), repeats, warmup=1)
        out.append({"model": name, "batch": batch, "frames": frames, "jax_infer_ms": j, "torch_eager_infer_ms": t})
        print(
            f"  {name:<12} batch {batch:>4} T {frames:>4}: jax {j:9.1f} ms  eager {t:9.1f} ms  ratio {j / t:5.2f}",
            flush=True,
        )
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["stgcn10", "mkff_stgcn", "stga_net"])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    ap.add_argument("--scaling", action="store_true")
    ap.add_argument("--out", default="benchmarks/results/vs_torch.json")
    a = ap.parse_args()
    torch.manual_seed(0)
    machine = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "jax": jax.__version__,
        "jax_backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }
    print(f"machine: {machine}")
    shapes = {"stgcn10": (16, 64), "mkff_stgcn": (16, 32), "stga_net": (16, 10)}
    rows = []
    for m in a.models:
        b, t = shapes[m]
        rows.append(time_model(m, b, t, a.repeats, not a.no_compile))
        print(f"  done {m}", flush=True)
    print_main(rows)
    result = {"machine": machine, "main": rows}
    if a.scaling:
        print("\nInference scaling (median ms; ratio = jax / torch eager)")
        result["scaling"] = [
            r for m in a.models for r in scaling(m, shapes[m][1] if m != "stga_net" else 10, max(3, a.repeats // 3))
        ]
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=1))
    print(f"\nsaved {a.out}")


if __name__ == "__main__":
    main()
