"""How to write ST-GCN's temporal and graph convolutions for XLA.

    python benchmarks/formulation.py [--replicas 8] [--repeats 20] [--only dropout]

Times forward+backward (the train-step cost) of one ST-GCN block's temporal conv
(kernel 9) and graph conv at batch 16, 64 frames, 14 joints, 64 channels, for each
formulation, alone and under ``jax.vmap`` over R per-replica weights (a study).
Prints medians and ratios against the textbook formulation (2-D (9,1) conv,
project-then-aggregate graph conv) measured in the same run.  Compile time is
excluded (one warm-up call).  Last, the dropout mask: ``jax.random.bernoulli``
(threefry) against the counter-based hash that ``dancejax`` uses (``F.hash_uniform``),
on a 16×14×32×64 activation, alone and vmapped over per-replica keys.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.timing import median_ms  # noqa: E402
from dancejax.cli import keep_freed_memory  # noqa: E402
from dancejax.graph import spatial_partition  # noqa: E402
from dancejax.layers import functional as F  # noqa: E402


def timeit(fn, *args, repeats):
    return median_ms(lambda: jax.block_until_ready(fn(*args)), repeats)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicas", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--channels", type=int, default=64)
    ap.add_argument("--only", choices=["conv", "dropout"], help="run one part only")
    a = ap.parse_args()
    keep_freed_memory()
    print(f"backend {jax.default_backend()}, {jax.device_count()} device(s)")
    if a.only != "dropout":
        convolutions(a)
    if a.only != "conv":
        dropout_masks(a)


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
    print("\nGraph conv (K=3 spatial partition)")
    print(f"{'C_in->C_out':<14}{'order':<17}{'single ms':>10}{'vmapped ms/replica':>20}")
    for cin, cout in ((3, 64), (c, c), (c, 2 * c)):
        xi = jnp.asarray(rng.normal(size=(n, t, v, cin)), jnp.float32)
        xis = jnp.broadcast_to(xi, (r,) + xi.shape)
        w = jnp.asarray(rng.normal(size=(3, cin, cout)) * 0.05, jnp.float32)
        ws = jnp.broadcast_to(w, (r,) + w.shape)
        for order in ("project_first", "aggregate_first"):
            loss = lambda w, x, order=order: (F.graph_conv(x, A, w, None, order) ** 2).mean()
            s = timeit(jax.jit(jax.grad(loss, argnums=(0, 1))), w, xi, repeats=a.repeats)
            vm = timeit(jax.jit(jax.vmap(jax.grad(loss, argnums=(0, 1)))), ws, xis, repeats=max(3, a.repeats // 4)) / r
            print(f"{f'{cin}->{cout}':<14}{order:<17}{s:>10.2f}{vm:>20.2f}")


if __name__ == "__main__":
    main()
