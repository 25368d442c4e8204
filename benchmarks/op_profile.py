"""Where a train step's time goes, by XLA op category, from a JAX profiler trace.

    python -m benchmarks.op_profile                         # the models of vs_torch
    python -m benchmarks.op_profile --models stgcn10 --steps 5

Run from the repository root.  For each model's jitted train step (the workloads of
``benchmarks/workloads.py``, the same step and shapes as ``benchmarks/vs_torch.py``:
forward, loss, backward, SGD update, BatchNorm statistics) it traces ``--steps`` calls and
attributes the time of every XLA op to a category: convolution, dot (matmul), XNNPACK fusions
(``ynn_fusion``: dots or convolutions fused with elementwise work by XLA:CPU's XNNPACK path),
elementwise fusion, transpose and copy (layout changes, including fusions that only move
data), reduction, and other.

How an op's time is read from the trace.  XLA:CPU runs some ops asynchronously: convolutions
and XNNPACK fusions are dispatched to a thread pool, their trace event covers only the
dispatch, and a second event, ``end: <op name>``, marks when the work finished.  An op's
interval is therefore from its event's start to the end of its ``end:`` event where there is
one (reading the dispatch events alone leaves most of the convolutions' time out of the
profile).  Independent ops run concurrently on XLA's threads, so the op intervals overlap; the
table divides each moment of the step among the ops running at that moment ("wall share":
the categories then sum to the time during which at least one op runs, "busy", close to the
step's wall time) and also prints each category's summed op time (which can exceed the wall
time on several cores).

Op names are XLA:CPU internals (``convolution.3``, ``dot.7``, ``add_select_fusion`` …) and may
change between jax versions; events that are not ops (the executor's own spans, Python
frames, host transfers, the ``while`` loop that contains a scan's ops) are left out.
"""

from __future__ import annotations

import argparse
import collections

import jax

from benchmarks.common import CATEGORIES, busy_time, category, op_intervals, save_results, traced
from benchmarks.workloads import MODELS, SHAPES, TINY_SHAPES, build, jax_fns, train_state
from dancejax.runtime import keep_freed_memory


def wall_shares(intervals) -> dict:
    """Each category's share of the time during which ops run: every moment is divided equally
    among the ops running then, so the shares sum to the busy time (µs)."""
    points = sorted({t for _, t0, t1 in intervals for t in (t0, t1)})
    if not points:
        return {}
    index = {t: i for i, t in enumerate(points)}
    # per elementary segment [points[i], points[i+1]): how many ops run, and which categories
    delta = [0] * len(points)
    for _, t0, t1 in intervals:
        delta[index[t0]] += 1
        delta[index[t1]] -= 1
    running, seg_weight = 0, []
    for i in range(len(points) - 1):
        running += delta[i]
        seg_weight.append((points[i + 1] - points[i]) / running if running else 0.0)
    prefix = [0.0]
    for w in seg_weight:
        prefix.append(prefix[-1] + w)
    share = collections.defaultdict(float)
    for name, t0, t1 in intervals:
        share[category(name)] += prefix[index[t1]] - prefix[index[t0]]
    return dict(share)


def profile(fn, args, steps: int) -> dict:
    got = traced(fn, args, steps)
    if got is None:
        raise SystemExit("op_profile: the profiler wrote no trace (is the jax profiler plugin available?)")
    events, wall = got
    intervals = op_intervals(events)
    summed = collections.defaultdict(float)
    for name, t0, t1 in intervals:
        summed[category(name)] += (t1 - t0) / 1e3 / steps
    shares = {c: us / 1e3 / steps for c, us in wall_shares(intervals).items()}
    busy = busy_time([(t0, t1) for _, t0, t1 in intervals]) / 1e3 / steps
    return {"wall_ms": 1e3 * wall / steps, "busy_ms": busy, "ops_ms": shares, "summed_ms": dict(summed)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--tiny", action="store_true", help="small batches and windows (a smoke test)")
    ap.add_argument("--out", default="benchmarks/results/op_profile.json")
    a = ap.parse_args()
    if a.steps < 1:
        ap.error("--steps must be at least 1")
    keep_freed_memory()
    shapes = TINY_SHAPES if a.tiny else SHAPES
    print(
        f"train-step op profile, {jax.default_backend()}, {a.steps} traced steps after one untimed step; "
        "ms per step: each moment divided among the ops running then (wall share, % of the busy time), "
        "and the summed op time (ops overlap on XLA's threads)"
    )
    rows = []
    for m in a.models:
        b, t = shapes[m]
        w = build(m, b, t)
        train, _ = jax_fns(w)
        state = train_state(w)
        jax.block_until_ready(train(state, *w.xj))
        r = {"model": m, "batch": b, "frames": t, **profile(train, (state, *w.xj), a.steps)}
        rows.append(r)
        busy = r["busy_ms"] or float("nan")
        print(
            f"\n{m} (batch {b}, T {t}): wall {r['wall_ms']:.1f} ms, ops busy {r['busy_ms']:.1f} ms, "
            f"summed op time {sum(r['summed_ms'].values()):.1f} ms"
        )
        print(f"  {'category':<20}{'wall share':>12}{'':>9}{'summed':>11}")
        for c in CATEGORIES:
            ms = r["ops_ms"].get(c, 0.0)
            print(f"  {c:<20}{ms:>9.1f} ms {100 * ms / busy:>6.1f} %{r['summed_ms'].get(c, 0.0):>8.1f} ms")
    save_results(a.out, {"backend": jax.default_backend(), "rows": rows})
    print(f"\nsaved {a.out}")


if __name__ == "__main__":
    main()
