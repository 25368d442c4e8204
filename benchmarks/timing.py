"""What the benchmark scripts share: the median of repeated calls after warm-up, a profiler
trace of a few calls, the busy time of overlapping spans, and writing the results file."""

from __future__ import annotations

import glob
import gzip
import json
import tempfile
import time
from pathlib import Path

import numpy as np


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
