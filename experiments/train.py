"""Train one model, data-parallel over every local device, and across hosts.

    python experiments/train.py --task recognition --method mkff_stgcn --quick --workdir runs/mkff
    XLA_FLAGS=--xla_force_host_platform_device_count=4 python experiments/train.py --task prediction --quick
    # two hosts (or two processes on one machine):
    python experiments/train.py --task prediction --coordinator host0:1234 --num-processes 2 --process-id 0
    python experiments/train.py --task prediction --coordinator host0:1234 --num-processes 2 --process-id 1

The batch is sharded over a mesh of all devices (of all processes); parameters are
replicated; the compiler reduces the gradients.  The coordinator, process count and
id come from the flags or from JAX_COORDINATOR_ADDRESS / JAX_NUM_PROCESSES /
JAX_PROCESS_ID.  Each process feeds only its own rows of every global batch.  Checkpoints
(``--workdir``) are written once, through orbax's multi-host support; a rerun resumes.
"""

import argparse
import dataclasses
import json
import sys

from dancejax.parallel import distributed_flags, initialize_distributed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=["recognition", "prediction"], default="prediction")
    ap.add_argument("--method", default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--max-train-windows", type=int, default=None)
    ap.add_argument("--tiny", action="store_true", help="a test-sized model (for checks, not results)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--losses-json", default=None, help="write the per-step training losses here")
    distributed_flags(ap)
    a = ap.parse_args(argv)
    initialize_distributed(a.coordinator, a.num_processes, a.process_id)

    import jax

    from dancejax import prediction, recognition
    from dancejax.data import load_dataset
    from dancejax.parallel import data_mesh

    mesh = data_mesh()
    if jax.process_index() == 0:
        print(f"{jax.process_count()} process(es), {jax.device_count()} device(s) in the mesh "
              f"({jax.local_device_count()} local, backend {jax.default_backend()})", flush=True)
    mod = recognition if a.task == "recognition" else prediction
    method = a.method or ("mkff_stgcn" if a.task == "recognition" else "stga_net")
    if a.task == "recognition":
        cfg = recognition.RecognitionConfig.quick(method) if a.quick else \
            recognition.RecognitionConfig.paper(method)
    else:
        cfg = prediction.PredictionConfig.quick(method) if a.quick else prediction.PredictionConfig.default(method)
    over = {k: v for k, v in (("epochs", a.epochs), ("batch_size", a.batch_size),
                              ("max_train_windows", a.max_train_windows)) if v is not None}
    cfg = dataclasses.replace(cfg, seed=a.seed, **over)
    if a.tiny:
        m = cfg.model
        m = dataclasses.replace(m, widths=(8, 8), strides=(1, 1), mkff_width=16, mkff_heads=2, decoder_width=16) \
            if a.task == "recognition" else dataclasses.replace(m, width=16, blocks=2, dropout=0.0)
        cfg = dataclasses.replace(cfg, model=m)
    ds = load_dataset()
    data = recognition.load_data(ds, cfg.window, cfg.stride) if a.task == "recognition" else prediction.load_data(ds)
    _, history, secs = mod.train_method(cfg, data, workdir=a.workdir, mesh=mesh, log_every=10)
    losses = [x for h in history for x in h["step_losses"]]
    if jax.process_index() == 0:
        print(f"trained {method} for {len(losses)} steps in {secs:.1f}s; last loss {losses[-1]:.5f}")
        if a.losses_json:
            with open(a.losses_json, "w") as f:
                json.dump(losses, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
