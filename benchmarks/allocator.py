"""The C allocator's settings against the train step: the system's against ``keep_freed_memory``.

    python -m benchmarks.allocator                        # three of vs_torch's models, 3 rounds
    python -m benchmarks.allocator --models stgcn10 --rounds 5

XLA:CPU allocates a step's buffers anew on every call.  With glibc's defaults, large blocks come
from fresh ``mmap`` pages, so each step pays page faults on memory it has just freed.
``dancejax.runtime.keep_freed_memory`` (what the command-line scripts call first) makes glibc keep
freed memory mapped.  Each setting runs in its own process (the settings must be made before
JAX starts its threads); the rounds alternate the two, so that the load of a shared machine
drifting during the run weighs on both.  Each process times ``--repeats`` train steps of JAX
and of PyTorch eager (a workload of ``benchmarks/workloads.py``, as ``vs_torch`` times it) and
counts the minor page faults per step (``getrusage``).  Prints medians over rounds and writes
``--out``.  Run from the repository root.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from benchmarks.common import median_ms, save_results

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("stgcn10", "mkff_stgcn", "stga_net")
SETTINGS = ("system", "keep")


WARMUP = 8  # untimed calls first: with the setting, the kept heap can still grow over the first few


def timed_faults(fn, repeats: int) -> tuple[float, float]:
    """(median ms, minor page faults per call) of ``fn()`` over ``repeats`` calls after ``WARMUP``
    untimed calls."""
    for _ in range(WARMUP):
        fn()
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    ms = median_ms(fn, repeats, warmup=0)
    return ms, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / repeats


def child(model: str, setting: str, repeats: int, tiny: bool) -> dict:
    """One process: apply ``setting``, then time JAX's and PyTorch's train step."""
    from dancejax.runtime import keep_freed_memory

    applied = keep_freed_memory() if setting == "keep" else False
    import jax

    from benchmarks.workloads import SHAPES, TINY_SHAPES, build, jax_fns, torch_sgd, torch_step, train_state

    batch, frames = (TINY_SHAPES if tiny else SHAPES)[model]
    w = build(model, batch, frames)
    train, _ = jax_fns(w)
    state = {"s": train_state(w)}

    def jstep():
        state["s"] = jax.block_until_ready(train(state["s"], *w.xj))

    w.ref.train()
    jms, jf = timed_faults(jstep, repeats)
    tms, tf = timed_faults(torch_step(w, w.ref, torch_sgd(w, w.ref.parameters())), repeats)
    return {"jax_ms": jms, "jax_faults": jf, "torch_ms": tms, "torch_faults": tf, "applied": applied}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=("stgcn10_original", *MODELS))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--tiny", action="store_true", help="small batches and windows (a smoke test)")
    ap.add_argument("--out", default="benchmarks/results/allocator.json")
    ap.add_argument("--child", nargs=2, metavar=("MODEL", "SETTING"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.rounds < 1 or a.repeats < 1:
        ap.error("--rounds and --repeats must be at least 1")
    if a.child:
        print(json.dumps(child(a.child[0], a.child[1], a.repeats, a.tiny)))
        return
    import numpy as np

    rows = []
    print(
        f"train step, median over {a.rounds} rounds of the median of {a.repeats} steps; faults = minor page faults "
        "per step; system = glibc's defaults, keep = dancejax.runtime.keep_freed_memory"
    )
    print(f"{'model':<12}{'setting':<8}{'jax ms':>9}{'faults':>9}{'torch ms':>10}{'faults':>9}{'jax/torch':>10}")
    for model in a.models:
        got = {s: [] for s in SETTINGS}
        for r in range(a.rounds):
            for s in SETTINGS if r % 2 == 0 else SETTINGS[::-1]:
                cmd = [sys.executable, "-m", "benchmarks.allocator", "--child", model, s, "--repeats", str(a.repeats)]
                cmd += ["--tiny"] if a.tiny else []
                env = {**os.environ, "DANCEJAX_MALLOC": ""}
                out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
                if out.returncode != 0:
                    raise SystemExit(f"allocator: the {model}/{s} process failed:\n{out.stderr[-2000:]}")
                got[s].append(json.loads(out.stdout.strip().splitlines()[-1]))
        for s in SETTINGS:
            keys = ("jax_ms", "jax_faults", "torch_ms", "torch_faults")
            med = {k: float(np.median([g[k] for g in got[s]])) for k in keys}
            row = {"model": model, "setting": s, "applied": all(g["applied"] for g in got[s]), **med}
            rows.append(row)
            print(
                f"{model:<12}{s:<8}{med['jax_ms']:>9.1f}{med['jax_faults']:>9.0f}{med['torch_ms']:>10.1f}"
                f"{med['torch_faults']:>9.0f}{med['jax_ms'] / med['torch_ms']:>10.2f}",
                flush=True,
            )
    save_results(a.out, {"rows": rows})
    print(f"saved {a.out}")


if __name__ == "__main__":
    main()
