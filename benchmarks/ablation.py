"""Train-step A/B of the formulation choices inside dancejax's models, in one process.

    python -m benchmarks.ablation                          # all models of vs_torch
    python -m benchmarks.ablation --models stgcn10 --rounds 5 --repeats 5

Run from the repository root.  For each model's jitted train step (the workloads of
``benchmarks/workloads.py``: the same step and shapes as ``benchmarks/vs_torch.py``) it
builds one variant per choice and times them in alternating rounds (each round: the median of
``--repeats`` steps of every variant, in an order that rotates from round to round), then
prints each variant's median over the rounds and its ratio to the library's default:

* ``default``: what the library does — the ST-GCN backbone in the (V, N, T, C) layout (graph
  convolution as plain GEMMs, ``F.graph_conv(layout='vntc')``) and BatchNorm with its
  hand-written gradient (``F.batch_norm``);
* ``nvtc layout``: the backbone in (N, V, T, C), where the graph contraction is an einsum that
  XLA surrounds with transposes (models with an ST-GCN backbone only);
* ``autodiff BN``: BatchNorm's gradient left to autodiff of the textbook formula (swapped in
  for ``F.batch_norm`` while the variant is traced).

Ratios below 1 mean the variant is faster than the default.  Compile time is excluded.
"""

from __future__ import annotations

import argparse
import contextlib

import jax
import numpy as np
from flax import linen as nn

from benchmarks.common import median_ms, save_results
from benchmarks.workloads import MODELS, SHAPES, TINY_SHAPES, build, jax_fns, train_state
from dancejax.layers import functional as F
from dancejax.models.stgcn import STGCN
from dancejax.runtime import keep_freed_memory


def textbook_batch_norm(x, scale, bias, epsilon):
    """BatchNorm as written in the textbook, its gradient left to autodiff."""
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axes)
    var = ((x - mean) ** 2).mean(axes)
    return (x - mean) * jax.lax.rsqrt(var + epsilon) * scale + bias, mean, var


@contextlib.contextmanager
def autodiff_batch_norm():
    saved = F.batch_norm
    F.batch_norm = textbook_batch_norm
    try:
        yield
    finally:
        F.batch_norm = saved


@contextlib.contextmanager
def backbone_layout(layout: str, seen: list):
    """Trace every ST-GCN backbone in ``layout`` (whatever model wraps it): a Flax method
    interceptor sets the field on each backbone instance before its ``__call__`` runs (the
    instances are made afresh inside each apply, so nothing outlives the trace).  ``seen``
    collects one entry per backbone call."""

    def interceptor(next_fun, args, kwargs, context):
        if isinstance(context.module, STGCN) and context.method_name == "__call__":
            object.__setattr__(context.module, "layout", layout)
            seen.append(context.module.name)
        return next_fun(*args, **kwargs)

    with nn.intercept_methods(interceptor):
        yield


def variants():
    """(name, context to trace the step in, list the context fills when it applies or None)."""
    seen = []
    return [
        ("default", contextlib.nullcontext, None),
        ("nvtc layout", lambda: backbone_layout("nvtc", seen), seen),
        ("autodiff BN", autodiff_batch_norm, None),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--tiny", action="store_true", help="small batches and windows (a smoke test)")
    ap.add_argument("--out", default="benchmarks/results/ablation.json")
    a = ap.parse_args()
    if a.rounds < 1 or a.repeats < 1:
        ap.error("--rounds and --repeats must be at least 1")
    keep_freed_memory()
    shapes = TINY_SHAPES if a.tiny else SHAPES
    print(
        f"train-step ablation, {jax.default_backend()}; medians over {a.rounds} alternating rounds of the "
        f"median of {a.repeats} steps, ms; ratio = variant / default"
    )
    rows = []
    for m in a.models:
        b, t = shapes[m]
        steps = []
        w = build(m, b, t)
        for name, ctx, seen in variants():
            train, _ = jax_fns(w)  # a fresh jit per variant: each is traced in its own context
            state = train_state(w)
            with ctx():
                jax.block_until_ready(train(state, *w.xj))  # traced and compiled here
            if seen is not None and not seen:
                continue  # the model has no ST-GCN backbone: the variant is the default
            steps.append((name, lambda train=train, state=state: jax.block_until_ready(train(state, *w.xj))))
        times = {name: [] for name, _ in steps}
        for r in range(a.rounds):
            for name, fn in steps[r % len(steps) :] + steps[: r % len(steps)]:
                times[name].append(median_ms(fn, a.repeats))
        base = float(np.median(times["default"]))
        print(f"\n{m} (batch {b}, T {t})")
        for name, ts in times.items():
            med = float(np.median(ts))
            rows.append({"model": m, "variant": name, "ms": med, "rounds_ms": ts, "ratio": med / base})
            print(f"  {name:<14}{med:>9.1f} ms {med / base:>6.2f}   rounds: {' '.join(f'{x:.1f}' for x in ts)}")
    save_results(a.out, {"backend": jax.default_backend(), "rows": rows})
    print(f"\nsaved {a.out}")


if __name__ == "__main__":
    main()
