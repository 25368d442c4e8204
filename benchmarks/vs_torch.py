"""dancejax against PyTorch on the same machine, same model, same batch, in one run.

    python -m benchmarks.vs_torch                      # every workload, CPU
    python -m benchmarks.vs_torch --models stgcn10_original --no-compile --repeats 10
    python -m benchmarks.vs_torch --models stgcn10_original --original-stgcn ~/src/st-gcn
    python -m benchmarks.vs_torch --scaling            # + inference cost as batch and window grow

Run from the repository root.  For each workload (``benchmarks/workloads.py``): the train step
(forward, loss, backward, optimiser update, BatchNorm statistics) and inference, JAX (jit)
against PyTorch eager and ``torch.compile``.  The workloads: ``stgcn10`` (ST-GCN-10 on our
14-joint skeleton, squared loss, plain SGD), ``stgcn10_original`` (the original code's own: 18
OpenPose joints, cross-entropy over 400 classes, SGD with Nesterov momentum and weight decay;
``--original-stgcn`` times the original code's unmodified model from a checkout of it),
``mkff_stgcn`` and ``stga_net`` (the quick presets' models, squared loss, plain SGD).  Both
sides run in one process with the C allocator's system settings, as PyTorch normally runs;
``--keep-freed-memory`` applies the setting of dancejax's command-line scripts to both
(``dancejax.runtime.keep_freed_memory``; ``benchmarks/allocator.py`` measures its effect on
each side).
Every figure is the median of ``--repeats`` timed calls after warm-up; compile time is
reported separately.  Ratios are JAX time / PyTorch time (below 1 = dancejax faster).
Writes ``--out`` (JSON).  Needs the torch extra.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np
import torch

from benchmarks.common import median_ms, save_results
from benchmarks.workloads import MODELS, SHAPES, TINY_SHAPES, build, jax_fns, torch_sgd, torch_step, train_state
from dancejax.runtime import keep_freed_memory

TORCH_DEVICE = "cpu"  # "cuda" when JAX runs on a GPU (set in main)
# --precision -> (jax_default_matmul_precision, torch.set_float32_matmul_precision)
PRECISIONS = {"fp32": ("float32", "highest"), "tf32": ("tensorfloat32", "high"), "bf16": ("bfloat16", "medium")}


def machine_peaks(repeats: int = 5, n: int = 2048, copy_mb: int = 256) -> dict:
    """The machine's limits, measured now: the faster of JAX's and PyTorch's fp32 GEMM (2048²), and
    a large memory copy (NumPy, 256 MB read + 256 MB written).  XLA's byte count is what its ops
    touch, much of it in cache for small steps, so a step can exceed 100 % of a memory bound."""
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    mm = jax.jit(lambda x, y: x @ y)
    jax.block_until_ready(mm(a, a))
    gemm_ms = median_ms(lambda: jax.block_until_ready(mm(a, a)), repeats, warmup=1)
    src = np.ones(copy_mb * 1024 * 1024 // 4, np.float32)
    if jax.default_backend() == "cpu":
        dst = np.empty_like(src)
        copy_ms = median_ms(lambda: np.copyto(dst, src), repeats, warmup=1)
    else:  # device memory: a jitted scale of a device array
        v = jnp.asarray(src)
        cp = jax.jit(lambda u: u * 2.0)
        copy_ms = median_ms(lambda: jax.block_until_ready(cp(v)), repeats, warmup=1)
    t = torch.randn(n, n, device=TORCH_DEVICE)
    torch_gemm_ms = median_ms(synced(lambda: t @ t), repeats, warmup=1)
    return {
        "gemm_gflops": 2 * n**3 / min(gemm_ms, torch_gemm_ms) / 1e6,
        "jax_gemm_gflops": 2 * n**3 / gemm_ms / 1e6,
        "torch_gemm_gflops": 2 * n**3 / torch_gemm_ms / 1e6,
        "copy_gbs": 2 * src.nbytes / copy_ms / 1e6,
    }


def on_device(ref, xt):
    """The PyTorch model and inputs on the device PyTorch is compared on."""
    return ref.to(TORCH_DEVICE), tuple(t.to(TORCH_DEVICE) for t in xt)


def synced(fn):
    """``fn`` followed by a wait for the device (PyTorch on CUDA runs asynchronously)."""
    if TORCH_DEVICE == "cpu":
        return fn

    def run():
        out = fn()
        torch.cuda.synchronize()
        return out

    return run


def cost(fn, *args) -> tuple[float, float]:
    """(FLOPs, bytes accessed) of a jitted function from XLA's cost analysis (NaN if absent)."""
    ca = fn.lower(*args).compile().cost_analysis()
    if isinstance(ca, (list, tuple)):
        ca = ca[0] if ca else {}
    ca = ca or {}
    return float(ca.get("flops", float("nan"))), float(ca.get("bytes accessed", float("nan")))


def roofline(res: dict, peaks: dict, kind: str):
    """Achieved rates and percentage of the roofline for JAX and PyTorch eager, same counts."""
    flops, nbytes = res[f"{kind}_flops"], res[f"{kind}_bytes"]
    bound_s = max(flops / (peaks["gemm_gflops"] * 1e9), nbytes / (peaks["copy_gbs"] * 1e9))
    for who in ("jax", "torch_eager"):
        sec = res[f"{who}_{kind}_ms"] / 1e3
        res[f"{who}_{kind}_gflops"] = flops / sec / 1e9
        res[f"{who}_{kind}_gbs"] = nbytes / sec / 1e9
        res[f"{who}_{kind}_roofline_pct"] = 100 * bound_s / sec
    res[f"{kind}_bound"] = "compute" if flops / peaks["gemm_gflops"] >= nbytes / peaks["copy_gbs"] else "memory"


def time_model(name, batch, frames, repeats, compile_torch, peaks, original=None):
    w = build(name, batch, frames, original)
    ref, xt = on_device(w.ref, w.xt)
    xj, variables = w.xj, w.variables
    res = {
        "model": name,
        "batch": batch,
        "frames": frames,
        "params": int(sum(np.size(a) for a in jax.tree_util.tree_leaves(variables["params"]))),
        "optimizer": "sgd" if w.sgd is None else "sgd " + ", ".join(f"{k} {v}" for k, v in w.sgd.items()),
        "torch_model": type(ref).__module__ + "." + type(ref).__name__,
    }
    train, infer = jax_fns(w)
    state = {"s": train_state(w)}

    def jtrain():
        state["s"] = jax.block_until_ready(train(state["s"], *xj))

    res["train_flops"], res["train_bytes"] = cost(train, state["s"], *xj)
    res["infer_flops"], res["infer_bytes"] = cost(infer, variables, *xj)
    t0 = time.perf_counter()
    jtrain()
    res["jax_train_compile_s"] = time.perf_counter() - t0
    res["jax_train_ms"] = median_ms(jtrain, repeats, warmup=2)
    t0 = time.perf_counter()
    jax.block_until_ready(infer(variables, *xj))
    res["jax_infer_compile_s"] = time.perf_counter() - t0
    res["jax_infer_ms"] = median_ms(lambda: jax.block_until_ready(infer(variables, *xj)), repeats, warmup=2)

    def torch_train(m, opt):
        return synced(torch_step(w, m, opt, xt))

    ref.train()
    res["torch_eager_train_ms"] = median_ms(torch_train(ref, torch_sgd(w, ref.parameters())), repeats, warmup=2)
    ref.eval()
    with torch.no_grad():
        res["torch_eager_infer_ms"] = median_ms(synced(lambda: ref(*xt)), repeats, warmup=2)
    if compile_torch:
        ref.train()
        cm = torch.compile(ref)
        step = torch_train(cm, torch_sgd(w, ref.parameters()))
        t0 = time.perf_counter()
        step()
        res["torch_compile_train_compile_s"] = time.perf_counter() - t0
        res["torch_compile_train_ms"] = median_ms(step, repeats, warmup=2)
        ref.eval()
        with torch.no_grad():
            t0 = time.perf_counter()
            synced(lambda: cm(*xt))()
            res["torch_compile_infer_compile_s"] = time.perf_counter() - t0
            res["torch_compile_infer_ms"] = median_ms(synced(lambda: cm(*xt)), repeats, warmup=2)
    roofline(res, peaks, "train")
    roofline(res, peaks, "infer")
    return res


def print_roofline(rows, peaks):
    print(
        f"\nRoofline (this run, {jax.default_backend()}): fp32 GEMM peak {peaks['gemm_gflops']:.0f} GFLOP/s "
        f"(JAX {peaks['jax_gemm_gflops']:.0f}, PyTorch {peaks['torch_gemm_gflops']:.0f}), "
        f"copy {peaks['copy_gbs']:.1f} GB/s read+write; FLOPs and bytes "
        "from XLA's cost analysis of the JAX step, PyTorch rated against the same counts"
    )
    print(
        f"{'model':<12}{'step':<7}{'GFLOP':>8}{'GB':>8}{'bound':>9} | {'jax GFLOP/s':>12}{'GB/s':>7}{'% roof':>8}"
        f" | {'torch GFLOP/s':>14}{'GB/s':>7}{'% roof':>8}"
    )
    for r in rows:
        for k in ("train", "infer"):
            print(
                f"{r['model']:<12}{k:<7}{r[f'{k}_flops'] / 1e9:>8.2f}{r[f'{k}_bytes'] / 1e9:>8.2f}{r[f'{k}_bound']:>9}"
                f" | {r[f'jax_{k}_gflops']:>12.1f}{r[f'jax_{k}_gbs']:>7.1f}{r[f'jax_{k}_roofline_pct']:>8.1f}"
                f" | {r[f'torch_eager_{k}_gflops']:>14.1f}{r[f'torch_eager_{k}_gbs']:>7.1f}"
                f"{r[f'torch_eager_{k}_roofline_pct']:>8.1f}"
            )


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
        w = build(name, batch, frames)
        ref, xt = on_device(w.ref, w.xt)
        xj, variables = w.xj, w.variables
        infer = jax.jit(lambda v, *x: w.apply(v, *x))
        jax.block_until_ready(infer(variables, *xj))
        j = median_ms(lambda: jax.block_until_ready(infer(variables, *xj)), repeats, warmup=1)
        ref.eval()
        with torch.no_grad():
            t = median_ms(synced(lambda: ref(*xt)), repeats, warmup=1)
        out.append({"model": name, "batch": batch, "frames": frames, "jax_infer_ms": j, "torch_eager_infer_ms": t})
        print(
            f"  {name:<12} batch {batch:>4} T {frames:>4}: jax {j:9.1f} ms  eager {t:9.1f} ms  ratio {j / t:5.2f}",
            flush=True,
        )
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--device", default="cpu", help="JAX platform to run on: cpu, gpu, ...")
    ap.add_argument("--tiny", action="store_true", help="small batches and windows (a smoke test)")
    ap.add_argument(
        "--precision",
        default="fp32",
        choices=PRECISIONS,
        help="matmul precision on both sides: fp32, tf32 or bf16 passes (GPU options; the CPU computes fp32)",
    )
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--no-compile", action="store_true", help="skip torch.compile")
    ap.add_argument("--scaling", action="store_true")
    ap.add_argument(
        "--keep-freed-memory",
        action="store_true",
        help="apply the command-line scripts' allocator setting to both sides (default: the system's)",
    )
    ap.add_argument(
        "--original-stgcn",
        metavar="DIR",
        help="a checkout of the original ST-GCN code: stgcn10_original then times its unmodified net.st_gcn.Model "
        "(default: our PyTorch reference of it, reference/stgcn_mkff_stga.py)",
    )
    ap.add_argument("--out", default="benchmarks/results/vs_torch.json")
    a = ap.parse_args()
    if a.repeats < 1:
        ap.error("--repeats must be at least 1")
    malloc_kept = keep_freed_memory() if a.keep_freed_memory else False
    try:
        jax.config.update("jax_platforms", a.device)
        jax.devices()
    except RuntimeError as e:
        raise SystemExit(f"vs_torch: device {a.device!r} is not available here ({e})") from None
    global TORCH_DEVICE
    if a.device == "gpu":
        if not torch.cuda.is_available():
            raise SystemExit("vs_torch: JAX has a GPU but PyTorch has no CUDA here; install a CUDA PyTorch")
        TORCH_DEVICE = "cuda"
    elif a.device != "cpu":
        raise SystemExit(f"vs_torch: device {a.device!r}: PyTorch is compared on 'cpu' or 'gpu' only")
    jax.config.update("jax_default_matmul_precision", PRECISIONS[a.precision][0])
    torch.set_float32_matmul_precision(PRECISIONS[a.precision][1])
    if TORCH_DEVICE == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = a.precision != "fp32"
        torch.backends.cudnn.allow_tf32 = a.precision != "fp32"
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
        "torch_device": TORCH_DEVICE,
        "precision": a.precision,
        "malloc": "keep_freed_memory" if malloc_kept else "system",
    }
    print(f"machine: {machine}")
    shapes = TINY_SHAPES if a.tiny else SHAPES
    peaks = machine_peaks(3, 512, 64) if a.tiny else machine_peaks(7)
    rows = []
    for m in a.models:
        b, t = shapes[m]
        rows.append(time_model(m, b, t, a.repeats, not a.no_compile, peaks, a.original_stgcn))
        print(f"  done {m}", flush=True)
    print_main(rows)
    print_roofline(rows, peaks)
    result = {"machine": machine, "peaks": peaks, "main": rows}
    if a.scaling:
        print("\nInference scaling (median ms; ratio = jax / torch eager)")
        result["scaling"] = [
            r for m in a.models for r in scaling(m, shapes[m][1] if m != "stga_net" else 10, max(3, a.repeats // 3))
        ]
    save_results(a.out, result)
    print(f"\nsaved {a.out}")


if __name__ == "__main__":
    main()
