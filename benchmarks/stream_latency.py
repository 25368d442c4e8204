"""Per-frame latency of the streaming engine against the real-time budget.

    python -m benchmarks.stream_latency                       # quick-preset models, 1 CPU core
    python -m benchmarks.stream_latency --threads 2 --dancers 1 4 16
    python -m benchmarks.stream_latency --refiner runs/rec/model --predictor runs/pred/model
    python -m benchmarks.stream_latency --flip-test on            # the refiner as evaluated, at twice the cost

For each stage (refine + classify: MKFF-ST-GCN; predict: STGA-Net; and both in one step) it
feeds the engine one frame at a time and times ``push`` (the jitted ring-buffer step plus the
host-side checks), median and 99th percentile over ``--frames`` frames after a warm-up, against
the frame budget at 25 fps (40 ms).  With N dancers batched in one step it also prints the
throughput in dancer-frames per second.  Without saved models it uses the quick presets'
architectures with random weights (latency does not depend on the weights).

``--threads 1`` (the default) pins the process to one core and tells XLA:CPU to use one
thread, before JAX is imported: the figure a dance-class laptop running other work would see.
"""

from __future__ import annotations

import argparse
import os

from benchmarks.common import save_results

BUDGET_MS = 1000.0 / 25.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1, help="CPU cores (pinned) and XLA threads")
    ap.add_argument("--dancers", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--refiner", default=None, help="a saved recognition model (dancejax train ... --save)")
    ap.add_argument("--predictor", default=None, help="a saved prediction model")
    ap.add_argument("--preset", default="quick", help="preset of the random-weight models")
    ap.add_argument(
        "--flip-test",
        choices=("model", "on", "off"),
        default="off",
        help="the refiner's flip test: off (the engine's default), on, or as the model is configured",
    )
    ap.add_argument("--out", default="benchmarks/results/stream_latency.json")
    a = ap.parse_args()
    if a.threads < 1:
        ap.error("--threads must be at least 1")
    if any(n < 1 for n in a.dancers):
        ap.error("--dancers must be positive")
    cores = sorted(os.sched_getaffinity(0))[: a.threads]
    os.sched_setaffinity(0, cores)
    if a.threads == 1:
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        )
    from dancejax.runtime import keep_freed_memory

    keep_freed_memory()
    import jax

    from dancejax.deploy.saved import load_model
    from dancejax.deploy.stream import StreamEngine, latency
    from dancejax.errors import DataError
    from dancejax.tasks import prediction as P
    from dancejax.tasks import recognition as R

    try:
        if a.refiner:
            ref = load_model(a.refiner)
        else:
            rc = R.make_config("mkff_stgcn", a.preset)
            rs = R.init_state(rc, jax.random.key(0))
            ref = R.Refiner(rc, {"params": rs.params, "batch_stats": rs.batch_stats})
        if a.predictor:
            pred = load_model(a.predictor)
        else:
            pc = P.make_config("stga_net", a.preset, model={"dims": 2})
            ps = P.init_state(pc, jax.random.key(1))
            pred = P.Predictor(pc, {"params": ps.params, "batch_stats": ps.batch_stats})
    except DataError as e:
        raise SystemExit(f"stream_latency: {e}") from None
    print(
        f"stream latency, {jax.default_backend()} on {len(cores)} core(s) (cores {cores}), {a.frames} frames after "
        f"warm-up; budget {BUDGET_MS:.0f} ms per frame at 25 fps; refiner window {ref.cfg.window} frames, "
        f"predictor {pred.cfg.obs} -> {pred.cfg.pred} frames"
    )
    flip = {"model": None, "on": True, "off": False}[a.flip_test]
    flip_used = ref.cfg.flip_test if flip is None else flip
    print(f"refiner flip test: {flip_used}")
    print(f"{'stage':<22}{'dancers':>8}{'median ms':>11}{'p99 ms':>9}{'budget %':>10}{'dancer-frames/s':>17}")
    rows = []
    stages = {
        "refine + classify": dict(refiner=ref),
        "predict": dict(predictor=pred),
        "all three": dict(refiner=ref, predictor=pred),
    }
    for stage, kw in stages.items():
        for n in a.dancers:
            eng = StreamEngine(dancers=n, dims=2, flip_test=flip, **kw)
            r = latency(eng, frames=a.frames)
            r.update(stage=stage, dancers=n, dancer_frames_per_s=n * 1000.0 / r["median_ms"])
            rows.append(r)
            print(
                f"{stage:<22}{n:>8}{r['median_ms']:>11.2f}{r['p99_ms']:>9.2f}"
                f"{100 * r['median_ms'] / BUDGET_MS:>10.1f}{r['dancer_frames_per_s']:>17.0f}",
                flush=True,
            )
    save_results(
        a.out,
        {
            "backend": jax.default_backend(),
            "cores": cores,
            "budget_ms": BUDGET_MS,
            "flip_test": flip_used,
            "rows": rows,
        },
    )
    print(f"saved {a.out}")


if __name__ == "__main__":
    main()
