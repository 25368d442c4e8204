"""Where a train step's time goes, by XLA op category, from a JAX profiler trace.

    python benchmarks/op_profile.py                         # the three models of vs_torch.py
    python benchmarks/op_profile.py --models stgcn10 --steps 5

For each model's jitted train step (the same step and shapes as ``benchmarks/vs_torch.py``:
forward, loss, backward, SGD update, BatchNorm statistics) it traces ``--steps`` calls and sums
the duration of every XLA op event by category: convolution, dot (matmul), XNNPACK fusions
(``ynn_fusion``: dots or convolutions fused with elementwise work by XLA:CPU's XNNPACK path),
elementwise fusion, transpose and copy (layout changes, including fusions that only move
data), reduction, and other.  It prints milliseconds per step and the share of the summed op
time, beside the step's wall time and the time during which at least one op runs ("busy";
ops run concurrently on XLA's threads, so the summed op time can exceed the wall time).

Op names are XLA:CPU internals (``convolution.3``, ``dot.7``, ``add_select_fusion`` …) and may
change between jax versions; events that are not ops (the executor's own spans, Python
frames, host transfers, the ``while`` loop that contains a scan's ops) are left out.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402

from benchmarks.timing import busy_time, traced  # noqa: E402
from benchmarks.vs_torch import MODELS, SHAPES, TINY_SHAPES, build, jax_fns, train_state  # noqa: E402
from dancejax.cli import keep_freed_memory  # noqa: E402

NOT_OPS = (
    "$",
    "ThunkExecutor",
    "PjitFunction",
    "SlinkyThreadPool",
    "CommonPjRtLoadedExecutable",
    "ParseArguments",
    "DevicePut",
    "TransposePlan",
    "while",
    "conditional",
    "call",
)
CATEGORIES = ("convolution", "dot", "xnnpack fusion", "elementwise fusion", "transpose/copy", "reduction", "other")


def category(name: str) -> str | None:
    """The op category of a trace event name, or None for events that are not XLA ops."""
    if name.startswith(NOT_OPS) or "::" in name:
        return None
    base = name.split(".")[0].lower()
    if base.startswith(("convolution", "conv_general")):
        return "convolution"
    if base.startswith("dot"):
        return "dot"
    if base.startswith("ynn_fusion") or base.startswith("xnn"):
        return "xnnpack fusion"
    if "reduce" in base:
        return "reduction"
    if base.startswith(("transpose", "copy", "bitcast", "concatenate", "slice", "pad", "gather")) or (
        base.endswith("fusion") and all(w in ("transpose", "copy", "bitcast", "fusion") for w in base.split("_"))
    ):
        return "transpose/copy"
    if "fusion" in base:
        return "elementwise fusion"
    return "other"


def profile(fn, args, steps: int) -> dict:
    got = traced(fn, args, steps)
    if got is None:
        raise SystemExit("op_profile: the profiler wrote no trace (is the jax profiler plugin available?)")
    events, wall = got
    per = collections.defaultdict(float)
    spans = []
    for e in events:
        if e.get("ph") != "X" or "dur" not in e:
            continue
        c = category(e["name"])
        if c is None:
            continue
        per[c] += e["dur"] / 1e3 / steps
        spans.append((e["ts"], e["ts"] + e["dur"]))
    return {"wall_ms": 1e3 * wall / steps, "busy_ms": busy_time(spans) / 1e3 / steps, "ops_ms": dict(per)}


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
        f"train-step op profile, {jax.default_backend()}, {a.steps} traced steps after warm-up; ms per step "
        "(share of the summed op time)"
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
        total = sum(r["ops_ms"].values()) or float("nan")
        print(
            f"\n{m} (batch {b}, T {t}): wall {r['wall_ms']:.1f} ms, ops busy {r['busy_ms']:.1f} ms, "
            f"summed op time {total:.1f} ms"
        )
        for c in CATEGORIES:
            ms = r["ops_ms"].get(c, 0.0)
            print(f"  {c:<20}{ms:>9.1f} ms {100 * ms / total:>6.1f} %")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({"backend": jax.default_backend(), "rows": rows}, indent=1))
    print(f"\nsaved {a.out}")


if __name__ == "__main__":
    main()
