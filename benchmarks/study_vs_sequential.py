"""A vmapped study against the same settings run one after another.

    python -m benchmarks.study_vs_sequential                  # N = 1, 4, 16; both tasks; quick presets
    python -m benchmarks.study_vs_sequential --impl stack     # another temporal-conv formulation
    python -m benchmarks.study_vs_sequential --profile        # + wall and busy op time per setting-step

For each task (recognition: MKFF-ST-GCN quick preset; prediction: STGA-Net quick preset)
and N settings (different seeds, learning rates and dropout rates), it times the train
step of one vmapped program over N settings and the ordinary single-setting step, on the
same batches, and prints the cost per setting-epoch of both and their ratio (vmapped /
sequential; below 1 = the study is cheaper), and the cost of the study runner's own choice,
``chunk_size='auto'`` (``dancejax.studies.study.choose_chunk`` times chunks of 1, 2, 4, … settings and
keeps the cheapest per setting), with the chunk it chose.  Each of ``--repeats`` rounds times the N
settings' ordinary steps one after another, one vmapped step and the auto strategy's chunks,
in an order that rotates from round to round, so that the load of a shared machine drifting
during the run weighs on all three; the ratio is the median of the
rounds' ratios (their range is printed beside it).  Compile time is printed separately.

With ``--profile`` it also traces three steps of each program with ``jax.profiler`` and
prints, per setting-step, the wall time and the time during which XLA runs at least one op
("busy", convolutions and XNNPACK fusions counted to their completion events; see
``benchmarks/op_profile.py``): vmapping N settings can only save the idle rest of the single
step, and it loses whatever the ops themselves cost more per setting in the bigger program.
It reads the trace's event names, which are XLA:CPU internals and may change between jax
versions.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.common import busy_time, median_ms, op_intervals, save_results, traced
from dancejax.data import load_dataset
from dancejax.runtime import keep_freed_memory
from dancejax.studies.study import choose_chunk, stack
from dancejax.tasks import get_task


def op_profile(fn, args, steps: int = 3):
    """(wall ms, busy ms) per call of ``fn`` from a profiler trace of ``steps`` calls: busy =
    the time during which XLA runs at least one op (asynchronous ops counted to their
    completion events: ``benchmarks.common.op_intervals``)."""
    got = traced(fn, args, steps)
    if got is None:
        return None
    events, wall = got
    busy = busy_time([(t0, t1) for _, t0, t1 in op_intervals(events)])
    return 1e3 * wall / steps, busy / 1e3 / steps


def bench(task_name, n_settings, impl, repeats, ds, profile=False, preset="quick"):
    task = get_task(task_name)
    method = "mkff_stgcn" if task_name == "recognition" else "stga_net"
    cfg = task.make_config(method, preset)
    cfg = dataclasses.replace(cfg, model=cfg.model.clone(impl=impl))
    data = task.load_data(ds, cfg)
    cfg = task.prepare(cfg, data)
    spe = task.steps_per_epoch(data, cfg)
    batch = {k: jnp.asarray(v) for k, v in next(iter(task.epoch_batches(data, cfg, 0))).items()}
    cfgs = [task.with_hparams(cfg, seed=i, lr=cfg.optim.lr * (1 + 0.1 * i)) for i in range(n_settings)]
    step = task.make_train_step(cfg, data)
    # sequential: the ordinary compiled step, one setting after another
    single = jax.jit(step)
    sts = [task.init_state(c, jax.random.key(c.seed)) for c in cfgs]
    hp1 = [task.hparams(c) for c in cfgs]
    st, hp = sts[0], hp1[0]
    t0 = time.perf_counter()
    jax.block_until_ready(single(st, batch, jax.random.key(1), hp))
    single_compile = time.perf_counter() - t0
    # vmapped study over N settings
    states, hps = stack(sts), stack(hp1)
    keys = jax.random.split(jax.random.key(2), n_settings)
    vstep = jax.jit(jax.vmap(step, in_axes=(0, None, 0, 0)))
    t0 = time.perf_counter()
    jax.block_until_ready(vstep(states, batch, keys, hps))
    vmap_compile = time.perf_counter() - t0
    # the study runner's own choice ('auto'): chunks of `chunk` settings, one program per chunk
    chunk = choose_chunk(task, cfgs, data, log=lambda m: print(m, flush=True))
    chunks = [
        (stack(sts[i : i + chunk]), stack(hp1[i : i + chunk]), keys[i : i + chunk]) for i in range(0, n_settings, chunk)
    ]
    # a chunk of one runs the ordinary step, as the training loop does for a single setting
    cstep = single if chunk == 1 else jax.jit(jax.vmap(step, in_axes=(0, None, 0, 0)))
    if chunk == 1:
        chunks = [(s_, h_, k_) for s_, h_, k_ in zip(sts, hp1, keys)]
    for s_, h_, k_ in chunks:
        jax.block_until_ready(cstep(s_, batch, k_, h_))

    # Rounds alternate the three, so that the load of this shared machine drifting during the
    # run weighs on all: each round times the N settings' steps one after another, one vmapped
    # step over the N settings, and the auto strategy's chunks, in a rotating order.  Medians
    # over the rounds.
    def sequential():
        for s_, h_ in zip(sts, hp1):
            out = single(s_, batch, jax.random.key(1), h_)
        jax.block_until_ready(out)

    def vmapped():
        jax.block_until_ready(vstep(states, batch, keys, hps))

    def auto():
        for s_, h_, k_ in chunks:
            out = cstep(s_, batch, k_, h_)
        jax.block_until_ready(out)

    sequential()
    vmapped()
    auto()
    # the order within a round rotates, so that none of the three always follows the same one
    # (what ran just before, its caches and allocations, does not weigh on one of them only)
    times = {"seq": [], "vm": [], "au": []}
    progs = [("seq", sequential), ("vm", vmapped), ("au", auto)]
    for r in range(repeats):
        for name, fn in progs[r % 3 :] + progs[: r % 3]:
            times[name].append(median_ms(fn, 1, warmup=0) / 1e3)
    seq_t, vm_t, au_t = (np.asarray(times[k]) for k in ("seq", "vm", "au"))
    seq = float(np.median(seq_t)) / n_settings
    vm = float(np.median(vm_t))
    ratio = float(np.median(vm_t / seq_t))
    auto_ratio = float(np.median(au_t / seq_t))
    spread = (float(np.min(vm_t / seq_t)), float(np.max(vm_t / seq_t)))
    prof = {}
    if profile:
        prof = {
            "single_profile_wall_busy_ms": op_profile(single, (st, batch, jax.random.key(1), hp)),
            "vmapped_profile_wall_busy_ms": op_profile(vstep, (states, batch, keys, hps)),
        }
    return {
        "task": task_name,
        "settings": n_settings,
        **prof,
        "impl": impl,
        "steps_per_epoch": spe,
        "sequential_s_per_setting_epoch": seq * spe,
        "vmapped_s_per_setting_epoch": vm * spe / n_settings,
        "ratio": ratio,
        "auto_chunk": chunk,
        "auto_s_per_setting_epoch": float(np.median(au_t)) * spe / n_settings,
        "auto_ratio": auto_ratio,
        "ratio_min_max_over_rounds": spread,
        "rounds": repeats,
        "single_compile_s": single_compile,
        "vmapped_compile_s": vmap_compile,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--settings", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--tasks", nargs="+", default=["recognition", "prediction"])
    ap.add_argument("--impl", nargs="+", default=["conv1d"], help="temporal-conv formulations to compare")
    ap.add_argument("--repeats", type=int, default=6)
    ap.add_argument("--preset", default="quick", help="the tasks' preset (test: tiny models, a smoke test)")
    ap.add_argument("--profile", action="store_true", help="also print wall and busy op time per setting-step")
    ap.add_argument("--out", default="benchmarks/results/study_vs_sequential.json")
    a = ap.parse_args()
    keep_freed_memory()
    if any(n < 1 for n in a.settings):
        ap.error("--settings: every N must be at least 1")
    ds = load_dataset()
    print(
        f"backend {jax.default_backend()}, {jax.device_count()} device(s); {a.preset} presets; cost per setting-epoch "
        f"(train steps only), seconds; ratio = vmapped / sequential"
    )
    print(
        f"{'task':<12}{'impl':<8}{'N':>4}{'sequential':>12}{'vmapped':>10}{'ratio':>8}{'range':>13}"
        f"{'auto chunk':>11}{'auto ratio':>11}{'compile 1 / N (s)':>20}"
    )
    rows = []
    for task in a.tasks:
        for impl in a.impl:
            for n in a.settings:
                r = bench(task, n, impl, a.repeats, ds, a.profile, a.preset)
                rows.append(r)
                print(
                    f"{task:<12}{impl:<8}{n:>4}{r['sequential_s_per_setting_epoch']:>12.2f}"
                    f"{r['vmapped_s_per_setting_epoch']:>10.2f}{r['ratio']:>8.2f}"
                    f"{'{:.2f}-{:.2f}'.format(*tuple(r['ratio_min_max_over_rounds'])):>13}"
                    f"{r['auto_chunk']:>11}{r['auto_ratio']:>11.2f}"
                    f"{r['single_compile_s']:>10.1f} / {r['vmapped_compile_s']:.1f}",
                    flush=True,
                )
                if a.profile and r["single_profile_wall_busy_ms"] and r["vmapped_profile_wall_busy_ms"]:
                    (sw, sb), (vw, vb) = r["single_profile_wall_busy_ms"], r["vmapped_profile_wall_busy_ms"]
                    print(
                        f"{'':<12}profile, ms per setting-step: single {sw:.1f} wall, ops busy {sb:.1f} "
                        f"({100 * sb / sw:.0f} %); vmapped {vw / n:.1f} wall, ops busy {vb / n:.1f} "
                        f"({100 * vb / vw:.0f} %)",
                        flush=True,
                    )
    save_results(a.out, {"backend": jax.default_backend(), "rows": rows})
    print(f"saved {a.out}")


if __name__ == "__main__":
    main()
