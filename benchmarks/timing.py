"""The one timer the benchmark scripts share: the median of repeated calls after warm-up."""

from __future__ import annotations

import time

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
