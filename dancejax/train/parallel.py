"""Data parallelism over devices and hosts with ``jax.sharding`` (SPEC §7).

The batch axis is sharded over a 1-D ``Mesh`` of every device (``'batch'``);
parameters and optimizer state are replicated; the train step is the ordinary
jitted step, and the compiler inserts the gradient (and BatchNorm statistics)
reductions — there is no hand-written all-reduce.  The same code runs on one
device, on N CPU devices forced with ``XLA_FLAGS=--xla_force_host_platform_device_count=N``,
on GPUs, and across hosts after :func:`initialize_distributed`.

Across hosts every process computes the same global batch order (a pure function of
the seed and epoch) and passes only its own rows, ``local_rows(batch)``; ``shard_batch``
assembles the global array from the process-local pieces.
"""

from __future__ import annotations

import argparse
import os

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from dancejax.errors import DataError


def data_mesh(devices=None) -> Mesh:
    devs = np.asarray(jax.devices() if devices is None else devices)
    return Mesh(devs, ("batch",))


def check_batch(batch_size: int, mesh: Mesh) -> None:
    n = mesh.devices.size
    if batch_size % n:
        raise DataError(
            f"batch size {batch_size} is not divisible by the {n} devices of the mesh; use a multiple of {n}"
        )


def replicate(tree, mesh: Mesh):
    return jax.device_put(tree, NamedSharding(mesh, P()))


def local_rows(batch: dict, process_index: int | None = None, process_count: int | None = None) -> dict:
    """This process's contiguous share of a global batch (every array's leading axis)."""
    pi = jax.process_index() if process_index is None else process_index
    pc = jax.process_count() if process_count is None else process_count

    def take(x):
        n = x.shape[0]
        if n % pc:
            raise DataError(f"global batch of {n} rows is not divisible by {pc} processes")
        k = n // pc
        return x[pi * k : (pi + 1) * k]

    return {k: take(np.asarray(v)) for k, v in batch.items()}


def shard_batch(batch: dict, mesh: Mesh, global_batch: bool = True) -> dict:
    """Place a batch with its leading axis sharded over ``mesh``.

    With one process, pass the global batch.  With several, each process passes the
    global batch too (``global_batch=True``: its own rows are cut out here) or only its
    own rows (``global_batch=False``).
    """
    sharding = NamedSharding(mesh, P("batch"))
    if jax.process_count() == 1:
        for v in batch.values():
            check_batch(np.shape(v)[0], mesh)
        return {k: jax.device_put(np.asarray(v), sharding) for k, v in batch.items()}
    local = local_rows(batch) if global_batch else batch
    for v in local.values():
        if np.shape(v)[0] % jax.local_device_count():
            raise DataError(
                f"per-process batch of {np.shape(v)[0]} rows is not divisible by the "
                f"{jax.local_device_count()} local devices"
            )
    return {k: jax.make_array_from_process_local_data(sharding, np.asarray(v)) for k, v in local.items()}


def distributed_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--coordinator", default=None, help="host:port of process 0 (or JAX_COORDINATOR_ADDRESS)")
    parser.add_argument("--num-processes", type=int, default=None, help="(or JAX_NUM_PROCESSES)")
    parser.add_argument("--process-id", type=int, default=None, help="(or JAX_PROCESS_ID)")


def initialize_distributed(coordinator=None, num_processes=None, process_id=None) -> bool:
    """``jax.distributed.initialize`` from arguments or the usual environment variables
    (JAX_COORDINATOR_ADDRESS, JAX_NUM_PROCESSES, JAX_PROCESS_ID).  Returns False (and does
    nothing) for a single-process run.  On CPU, cross-process collectives use gloo."""
    coordinator = coordinator or os.environ.get("JAX_COORDINATOR_ADDRESS")
    num_processes = num_processes or (
        int(os.environ["JAX_NUM_PROCESSES"]) if "JAX_NUM_PROCESSES" in os.environ else None
    )
    if process_id is None and "JAX_PROCESS_ID" in os.environ:
        process_id = int(os.environ["JAX_PROCESS_ID"])
    if not coordinator or not num_processes or num_processes == 1:
        return False
    if process_id is None or not 0 <= process_id < num_processes:
        raise DataError(f"process id {process_id} must be in [0, {num_processes}) for a multi-process run")
    if jax.config.jax_platforms in (None, "", "cpu") or os.environ.get("JAX_PLATFORMS", "cpu") == "cpu":
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator, num_processes, process_id)
    return True
