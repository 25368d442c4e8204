"""How to write ST-GCN's temporal and graph convolutions for XLA.

    python -m benchmarks.formulation [--replicas 8] [--repeats 20] [--only conv|dropout|conv-parts]

Times forward+backward (the train-step cost) of one ST-GCN block's temporal conv
(kernel 9) and graph conv (both contraction orders, in the three layouts) at batch 16,
64 frames, 14 joints, 64 channels, for each formulation, alone and under ``jax.vmap``
over R per-replica weights (a study).  Prints medians and ratios against the textbook
formulation (2-D (9,1) conv, project-then-aggregate graph conv) measured in the same run.
Compile time is excluded (one warm-up call).  Then the dropout mask: ``jax.random.bernoulli``
(threefry) against the counter-based hash that ``dancejax`` uses (``F.hash_uniform``),
on a 16×14×32×64 activation, alone and vmapped over per-replica keys.  Last
(``conv-parts``), ST-GCN-10's temporal convolutions at their three train-step shapes, part
by part (forward, input gradient, weight gradient and matmul forms of the weight gradient)
with achieved GFLOP/s, beside PyTorch's conv1d where torch is installed.
"""

import argparse
import os

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.common import median_ms
from dancejax.layers import functional as F
from dancejax.maths.graph import spatial_partition
from dancejax.runtime import keep_freed_memory


def timeit(fn, *args, repeats):
    return median_ms(lambda: jax.block_until_ready(fn(*args)), repeats)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicas", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--only", choices=["conv", "dropout", "conv-parts"], help="run one part only")
    a = ap.parse_args()
    if a.repeats < 1 or a.replicas < 1 or a.channels < 1:
        ap.error("--repeats, --replicas and --channels must be at least 1")
    keep_freed_memory()
    print(f"backend {jax.default_backend()}, {jax.device_count()} device(s)")
    if a.only in (None, "conv"):
        convolutions(a)
    if a.only in (None, "dropout"):
        dropout_masks(a)
    if a.only in (None, "conv-parts"):
        conv_parts(a)


def conv_parts(a):
    """ST-GCN-10's temporal convolutions at their train-step shapes (batch 16 × 14 joints), part by
    part: XLA's 1-D convolution forward, input gradient and weight gradient, three matmul forms of
    the weight gradient, and PyTorch's conv1d (oneDNN) forward and forward+backward."""
    k, pad, nv = 9, 4, 16 * 14
    rng = np.random.default_rng(1)
    print(
        f"\nTemporal conv parts at ST-GCN-10's shapes ((N·V={nv}, T, C) -> C, kernel {k}), median of "
        f"{a.repeats} ms (GFLOP/s); matmul weight gradients checked against XLA's to 1e-4 relative"
    )
    try:
        import torch

        torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))
    except ImportError:
        torch = None
    conv = lambda x, w: jax.lax.conv_general_dilated(x, w, (1,), [(pad, pad)], dimension_numbers=("NWC", "WIO", "NWC"))

    def dw_im2col(x, dy):
        xp = jnp.pad(x, ((0, 0), (pad, pad), (0, 0)))
        cols = jnp.concatenate([xp[:, i : i + x.shape[1]] for i in range(k)], -1).reshape(-1, k * x.shape[2])
        return (cols.T @ dy.reshape(-1, dy.shape[2])).reshape(k, x.shape[2], dy.shape[2])

    def dw_shifted(x, dy):
        # x padded and flattened: the tap-i rows of every sequence are one contiguous slice
        c, d = x.shape[2], dy.shape[2]
        xp = jnp.pad(x, ((0, 0), (pad, pad), (0, 0))).reshape(-1, c)
        yp = jnp.pad(dy, ((0, 0), (0, 2 * pad), (0, 0))).reshape(-1, d)
        m = xp.shape[0] - 2 * pad
        return jnp.stack([xp[i : i + m].T @ yp[:m] for i in range(k)])

    def dw_taps(x, dy):
        xp = jnp.pad(x, ((0, 0), (pad, pad), (0, 0)))
        return jnp.einsum("kntc,ntd->kcd", jnp.stack([xp[:, i : i + x.shape[1]] for i in range(k)]), dy)

    header = ["fwd", "d input", "d weight", "dw im2col", "dw shifted", "dw taps", "torch fwd", "torch f+b", "jax f+b"]
    print(f"{'T, C':<10}" + "".join(f"{h:>17}" for h in header))
    for t, c in ((64, 64), (32, 128), (16, 256)):
        x = jnp.asarray(rng.normal(size=(nv, t, c)), jnp.float32)
        w = jnp.asarray(rng.normal(size=(k, c, c)) * 0.05, jnp.float32)
        dy = jnp.asarray(rng.normal(size=(nv, t, c)), jnp.float32)
        flop = 2 * nv * t * c * c * k
        fns = {
            "fwd": (jax.jit(conv), (x, w)),
            "d input": (jax.jit(lambda x, w, dy: jax.vjp(lambda x: conv(x, w), x)[1](dy)[0]), (x, w, dy)),
            "d weight": (jax.jit(lambda x, w, dy: jax.vjp(lambda w: conv(x, w), w)[1](dy)[0]), (x, w, dy)),
            "dw im2col": (jax.jit(dw_im2col), (x, dy)),
            "dw shifted": (jax.jit(dw_shifted), (x, dy)),
            "dw taps": (jax.jit(dw_taps), (x, dy)),
        }
        ref = np.asarray(fns["d weight"][0](*fns["d weight"][1]))
        ms = {}
        for name, (fn, args) in fns.items():
            if name.startswith("dw "):
                err = np.abs(np.asarray(fn(*args)) - ref).max() / np.abs(ref).max()
                if err > 1e-4:
                    raise SystemExit(f"formulation: {name} differs from XLA's weight gradient ({err:.1e} relative)")
            ms[name] = timeit(fn, *args, repeats=a.repeats)
        both = jax.jit(lambda x, w, dy: jax.vjp(conv, x, w)[1](dy))
        ms["jax f+b"] = ms["fwd"] + timeit(both, x, w, dy, repeats=a.repeats)
        if torch is not None:
            xt = torch.tensor(np.asarray(x).transpose(0, 2, 1).copy(), requires_grad=True)
            wt = torch.tensor(np.asarray(w).transpose(2, 1, 0).copy(), requires_grad=True)
            dyt = torch.tensor(np.asarray(dy).transpose(0, 2, 1).copy())
            fwd = lambda: torch.nn.functional.conv1d(xt, wt, padding=pad)
            ms["torch fwd"] = median_ms(fwd, a.repeats)
            ms["torch f+b"] = median_ms(lambda: torch.autograd.grad(fwd(), (xt, wt), dyt), a.repeats)
        cells = []
        for h in header:
            if h not in ms:
                cells.append(f"{'(no torch)':>17}")
                continue
            n_flop = flop * (3 if h.endswith("f+b") else 1)
            cells.append(f"{ms[h]:>8.2f} ({n_flop / ms[h] / 1e6:>5.0f})")
        print(f"{f'{t}, {c}':<10}" + "".join(cells))


def dropout_masks(a):
    """Forward+backward of dropout (rate 0.1) on one quick-preset activation."""
    r = a.replicas
    x = jnp.ones((16, 14, 32, 64), jnp.float32)

    def threefry(key, x, rate):
        keep = 1.0 - rate
        return jnp.where(jax.random.bernoulli(key, keep, x.shape), x / keep, 0.0)

    print(f"\nDropout mask, x = {x.shape}, rate 0.1, forward+backward; vmapped over {r} per-replica keys")
    print(f"{'generator':<22}{'single ms':>10}{'vmapped ms/replica':>20}")
    keys = jax.random.split(jax.random.key(0), r)
    for label, fn in (("jax.random.bernoulli", threefry), ("hash_uniform (used)", F.dropout)):
        g = jax.grad(lambda x, k, fn=fn: fn(k, x, 0.1).sum())
        s = timeit(jax.jit(g), x, keys[0], repeats=a.repeats)
        vm = timeit(jax.jit(jax.vmap(g, in_axes=(None, 0))), x, keys, repeats=max(3, a.repeats // 4)) / r
        print(f"{label:<22}{s:>10.3f}{vm:>20.3f}")


def convolutions(a):
    n, t, v, c, r = 16, 64, 14, a.channels, a.replicas
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(n, t, v, c)), jnp.float32)
    xs = jnp.broadcast_to(x, (r,) + x.shape)
    print(
        f"x = (N={n}, T={t}, V={v}, C={c}); forward+backward, median of {a.repeats} ms; "
        f"vmapped over {r} replicas with their own weights"
    )

    wt = jnp.asarray(rng.normal(size=(9, c, c)) * 0.05, jnp.float32)
    wts = jnp.asarray(rng.normal(size=(r, 9, c, c)) * 0.05, jnp.float32)
    print("\nTemporal conv (9x1, stride 1)")
    print(
        f"{'formulation':<15}{'single ms':>10}{'speed-up':>10}{'vmapped ms/replica':>20}{'speed-up':>10}"
        "   (speed-up = textbook conv2d time / this time)"
    )
    res = {}
    # 'conv1d (NVTC)' keeps the (N, V, T, C) layout between layers, as dancejax's ST-GCN does
    variants = [
        ("conv2d", "conv2d", "ntvc"),
        ("conv1d", "conv1d", "ntvc"),
        ("conv1d (NVTC)", "conv1d", "nvtc"),
        ("shift", "shift", "ntvc"),
        ("stack", "stack", "ntvc"),
    ]
    for label, impl, layout in variants:
        loss = lambda w, x, impl=impl, layout=layout: (F.temporal_conv(x, w, None, 1, 1, impl, layout) ** 2).mean()
        xi = x if layout == "ntvc" else x.transpose(0, 2, 1, 3)
        xis = xs if layout == "ntvc" else xs.transpose(0, 1, 3, 2, 4)
        g = jax.jit(jax.grad(loss, argnums=(0, 1)))
        gv = jax.jit(jax.vmap(jax.grad(loss, argnums=(0, 1))))
        res[label] = (timeit(g, wt, xi, repeats=a.repeats), timeit(gv, wts, xis, repeats=max(3, a.repeats // 4)) / r)
    for impl, (s, vm) in res.items():
        print(f"{impl:<15}{s:>10.2f}{res['conv2d'][0] / s:>9.2f}x{vm:>20.2f}{res['conv2d'][1] / vm:>9.2f}x")

    A = jnp.asarray(spatial_partition("lsp14", "spatial"))
    print("\nGraph conv (K=3 spatial partition); layouts: ntvc (N, T, V, C), nvtc (N, V, T, C), vntc (V, N, T, C)")
    print(f"{'C_in->C_out':<14}{'order':<17}{'layout':<8}{'single ms':>10}{'vmapped ms/replica':>20}")
    perm = {"ntvc": (0, 1, 2, 3), "nvtc": (0, 2, 1, 3), "vntc": (2, 0, 1, 3)}
    for cin, cout in ((3, 64), (c, c), (c, 2 * c)):
        x0 = jnp.asarray(rng.normal(size=(n, t, v, cin)), jnp.float32)
        w = jnp.asarray(rng.normal(size=(3, cin, cout)) * 0.05, jnp.float32)
        ws = jnp.broadcast_to(w, (r,) + w.shape)
        for order in ("project_first", "aggregate_first"):
            for layout, p in perm.items():
                xi = x0.transpose(p)
                xis = jnp.broadcast_to(xi, (r,) + xi.shape)
                loss = lambda w, x, order=order, layout=layout: (F.graph_conv(x, A, w, None, order, layout) ** 2).mean()
                s = timeit(jax.jit(jax.grad(loss, argnums=(0, 1))), w, xi, repeats=a.repeats)
                vm = timeit(jax.jit(jax.vmap(jax.grad(loss, argnums=(0, 1)))), ws, xis, repeats=max(3, a.repeats // 4))
                print(f"{f'{cin}->{cout}':<14}{order:<17}{layout:<8}{s:>10.2f}{vm / r:>20.2f}")


if __name__ == "__main__":
    main()
