"""What the benchmark scripts share: the median of repeated calls after warm-up, a profiler
trace of a few calls, the XLA ops' intervals in such a trace and their busy time, and writing
the results file.

It imports neither JAX nor PyTorch when it loads (``traced`` imports JAX when called), so a
script that sets up the process before JAX starts (the C allocator, XLA's thread count) can
import it first.  The model workloads timed against PyTorch are in ``benchmarks/workloads.py``.
"""

from __future__ import annotations

import collections
import glob
import gzip
import json
import tempfile
import time
from pathlib import Path

import numpy as np

# Trace events that are not XLA ops: the executor's own spans, Python frames, host transfers, and
# the control-flow ops (a scan's ``while``) whose body ops are traced on their own.
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
# XLA:CPU dispatches convolutions and XNNPACK fusions to a thread pool: their own event covers
# only the dispatch, and an event named END + the op's name marks when the work finished.
END = "end: "
CATEGORIES = ("convolution", "dot", "xnnpack fusion", "elementwise fusion", "transpose/copy", "reduction", "other")


def median_ms(fn, repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``repeats`` calls, after ``warmup``
    untimed calls.  ``fn`` must block until its work is done (e.g. ``jax.block_until_ready``)."""
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(ts))


def traced(fn, args, steps: int) -> tuple[list[dict], float] | None:
    """Run ``fn(*args)`` ``steps`` times under the JAX profiler: (the trace's events, wall
    seconds), or None when the profiler wrote no trace."""
    import jax

    with tempfile.TemporaryDirectory() as d:
        with jax.profiler.trace(d):
            t0 = time.perf_counter()
            for _ in range(steps):
                jax.block_until_ready(fn(*args))
            wall = time.perf_counter() - t0
        files = glob.glob(f"{d}/**/*.trace.json.gz", recursive=True)
        if not files:
            return None
        with gzip.open(files[0]) as f:
            trace = json.load(f)
    return (trace["traceEvents"] if isinstance(trace, dict) else trace), wall


def category(name: str) -> str | None:
    """The op category (one of ``CATEGORIES``) of a trace event name, or None for events that
    are not XLA ops.  Op names are XLA:CPU internals and may change between jax versions."""
    if name.startswith(NOT_OPS) or name.startswith(END) or "::" in name:
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


def op_intervals(events) -> list[tuple[str, float, float]]:
    """(name, start µs, end µs) of every XLA op in a trace's events.  An op that XLA:CPU runs
    asynchronously has a dispatch event ``name`` and a completion event ``end: name``: its
    interval runs to the end of the first completion event after its start (and before the
    op's next start); other ops span their own event."""
    starts, ends = collections.defaultdict(list), collections.defaultdict(list)
    for e in events:
        if e.get("ph") != "X" or "dur" not in e:
            continue
        name = e["name"]
        if name.startswith(END):
            ends[name[len(END) :]].append(e["ts"] + e["dur"])
        elif category(name) is not None:
            starts[name].append((e["ts"], e["ts"] + e["dur"]))
    out = []
    for name, spans in starts.items():
        spans.sort()
        done = sorted(ends.get(name, ()))
        j = 0
        for i, (t0, t1) in enumerate(spans):
            while j < len(done) and done[j] < t0:
                j += 1
            nxt = spans[i + 1][0] if i + 1 < len(spans) else float("inf")
            if j < len(done) and done[j] <= nxt:
                t1 = max(t1, done[j])
                j += 1
            out.append((name, t0, t1))
    return out


def busy_time(spans) -> float:
    """The time during which at least one of the (start, end) intervals runs (their union):
    XLA runs independent ops concurrently on its threads."""
    busy, end = 0.0, -np.inf
    for t0, t1 in sorted(spans):
        if t1 > end:
            busy += t1 - max(t0, end)
            end = t1
    return busy


def save_results(out, payload) -> None:
    """Write ``payload`` as indented JSON to ``out``, making its folder first."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(payload, indent=1))
