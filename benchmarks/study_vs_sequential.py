"""A vmapped study against the same settings run one after another.

    python benchmarks/study_vs_sequential.py                  # N = 1, 4, 16; both tasks; quick presets
    python benchmarks/study_vs_sequential.py --impl stack     # another temporal-conv formulation

For each task (recognition: MKFF-ST-GCN quick preset; prediction: STGA-Net quick preset)
and N settings (different seeds, learning rates and dropout rates), it times the train
step of one vmapped program over N settings and the ordinary single-setting step, on the
same batches, and prints the cost per setting-epoch of both and their ratio (vmapped /
sequential; below 1 = the study is cheaper).  Medians of ``--repeats`` steps after
warm-up; compile time is printed separately.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.timing import median_ms  # noqa: E402
from dancejax import prediction, recognition  # noqa: E402
from dancejax.data import load_dataset  # noqa: E402


def bench(task, n_settings, impl, repeats, ds):
    if task == "recognition":
        cfg = recognition.RecognitionConfig.quick("mkff_stgcn")
        cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, impl=impl))
        data = recognition.load_data(ds, cfg.window, cfg.stride)
        spe = recognition.steps_per_epoch(data, cfg)
        build = lambda jit: recognition.make_train_step(cfg, data, spe, jit=jit)  # noqa: E731
        batch = next(iter(recognition.epoch_batches(data, cfg, 0)))
        mod = recognition
    else:
        cfg = prediction.PredictionConfig.quick("stga_net")
        cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, impl=impl))
        data = prediction.load_data(ds)
        spe = prediction.steps_per_epoch(data, cfg)
        build = lambda jit: prediction.make_train_step(cfg, spe, jit=jit)  # noqa: E731
        batch = next(iter(prediction.epoch_batches(data, cfg, 0)))
        mod = prediction
    batch = {k: jnp.asarray(v) for k, v in batch.items()}
    cfgs = [dataclasses.replace(cfg, seed=i, optim=dataclasses.replace(cfg.optim, lr=cfg.optim.lr * (1 + 0.1 * i)))
            for i in range(n_settings)]
    # sequential: the ordinary compiled step, one setting after another
    single = build(True)
    st = mod.init_state(cfgs[0], jax.random.key(0))
    hp = mod.default_hparams(cfgs[0])
    t0 = time.perf_counter()
    jax.block_until_ready(single(st, batch, jax.random.key(1), hp))
    single_compile = time.perf_counter() - t0
    seq = median_ms(lambda: jax.block_until_ready(single(st, batch, jax.random.key(1), hp)), repeats) / 1e3
    # vmapped study over N settings
    states = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *[mod.init_state(c, jax.random.key(c.seed)) for c in cfgs])
    hps = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *[mod.default_hparams(c) for c in cfgs])
    keys = jax.random.split(jax.random.key(2), n_settings)
    vstep = jax.jit(jax.vmap(build(False), in_axes=(0, None, 0, 0)))
    t0 = time.perf_counter()
    jax.block_until_ready(vstep(states, batch, keys, hps))
    vmap_compile = time.perf_counter() - t0
    vm = median_ms(lambda: jax.block_until_ready(vstep(states, batch, keys, hps)), max(3, repeats // 2)) / 1e3
    return {"task": task, "settings": n_settings, "impl": impl, "steps_per_epoch": spe,
            "sequential_s_per_setting_epoch": seq * spe, "vmapped_s_per_setting_epoch": vm * spe / n_settings,
            "ratio": (vm / n_settings) / seq, "single_compile_s": single_compile, "vmapped_compile_s": vmap_compile}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--settings", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--tasks", nargs="+", default=["recognition", "prediction"])
    ap.add_argument("--impl", nargs="+", default=["conv1d"], help="temporal-conv formulations to compare")
    ap.add_argument("--repeats", type=int, default=6)
    ap.add_argument("--out", default="benchmarks/results/study_vs_sequential.json")
    a = ap.parse_args()
    ds = load_dataset()
    print(f"backend {jax.default_backend()}, {jax.device_count()} device(s); quick presets; cost per setting-epoch "
          f"(train steps only), seconds; ratio = vmapped / sequential")
    print(f"{'task':<12}{'impl':<8}{'N':>4}{'sequential':>12}{'vmapped':>10}{'ratio':>8}{'compile 1 / N (s)':>20}")
    rows = []
    for task in a.tasks:
        for impl in a.impl:
            for n in a.settings:
                r = bench(task, n, impl, a.repeats, ds)
                rows.append(r)
                print(f"{task:<12}{impl:<8}{n:>4}{r['sequential_s_per_setting_epoch']:>12.2f}"
                      f"{r['vmapped_s_per_setting_epoch']:>10.2f}{r['ratio']:>8.2f}"
                      f"{r['single_compile_s']:>10.1f} / {r['vmapped_compile_s']:.1f}", flush=True)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({"backend": jax.default_backend(), "rows": rows}, indent=1))
    print(f"saved {a.out}")


if __name__ == "__main__":
    main()
