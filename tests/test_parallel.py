"""Data parallel over forced CPU devices and across two processes on loopback.

Each configuration runs experiments/train.py in a subprocess (the device count is fixed
when JAX starts).  Losses agree with the one-device run to 1e-5 relative on the first
steps; over 20 Adam steps float reduction order drifts them apart slightly, so the whole
trajectory is held to 5e-3 relative."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ARGS = [
    "--task",
    "prediction",
    "--preset",
    "test",
    "--epochs",
    "2",
    "--batch-size",
    "32",
    "--max-train-windows",
    "320",
    "--no-eval",
]


def run_train(tmp_path, name, devices, extra=(), env_extra=None):
    env = {
        **os.environ,
        "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
        "JAX_PLATFORMS": "cpu",
        **(env_extra or {}),
    }
    out = tmp_path / f"{name}.json"
    if "--run" not in extra:
        extra = [*extra, "--run", str(tmp_path / f"run_{name}")]
    cmd = [sys.executable, str(ROOT / "experiments" / "train.py"), *ARGS, "--losses-json", str(out), *extra]
    return subprocess.Popen(
        cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ), out


def finish(proc):
    text, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, text[-3000:]
    return text


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("single")
    p, out = run_train(tmp, "one", 1)
    finish(p)
    return json.loads(out.read_text())


def compare(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert len(a) == len(b) == 20
    np.testing.assert_allclose(b[:3], a[:3], rtol=1e-5)
    np.testing.assert_allclose(b, a, rtol=5e-3)


@pytest.mark.slow
def test_four_forced_devices_match_one(single, tmp_path):
    p, out = run_train(tmp_path, "four", 4)
    text = finish(p)
    assert "4 device(s) in the mesh" in text
    compare(single, json.loads(out.read_text()))


def free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_processes_match_single_process(single, tmp_path):
    port = free_port()
    procs = [
        run_train(
            tmp_path,
            f"proc{i}",
            2,
            [
                "--coordinator",
                f"localhost:{port}",
                "--num-processes",
                "2",
                "--process-id",
                str(i),
                "--run",
                str(tmp_path / "ck"),
            ],
        )
        for i in range(2)
    ]
    texts = [finish(p) for p, _ in procs]
    assert "2 process(es), 4 device(s) in the mesh" in texts[0]
    compare(single, json.loads(procs[0][1].read_text()))
    assert not procs[1][1].exists()  # only process 0 reports
    # checkpoints written once (orbax multi-host): one folder per epoch
    steps = sorted(p.name for p in (tmp_path / "ck" / "checkpoints" / "periodic").iterdir() if p.name.isdigit())
    assert steps == ["0", "1"]


def test_device_count_must_divide_batch():
    import jax

    from dancejax.errors import DataError
    from dancejax.train.parallel import check_batch, data_mesh

    mesh = data_mesh(jax.devices()[:1])
    check_batch(16, mesh)
    with pytest.raises(DataError, match="batch size 6 is not divisible by the 4 devices"):
        check_batch(6, type("M", (), {"devices": np.zeros(4)})())
