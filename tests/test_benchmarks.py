"""The benchmark scripts run (tiny sizes, no timing asserted) and refuse bad requests clearly."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]


def run(*args, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, **kw)


def test_gpu_suite_tiny_runs_on_cpu(tmp_path):
    r = run("bash", "benchmarks/gpu_suite.sh", "--tiny", f"--out={tmp_path}")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    suite = json.loads((tmp_path / "suite.json").read_text())
    assert set(suite) == {"vs_torch_fp32", "study", "stream"}
    rows = suite["vs_torch_fp32"]["main"]
    assert [x["model"] for x in rows] == ["stgcn10", "mkff_stgcn", "stga_net"]
    for x in rows:
        assert x["train_flops"] > 0 and x["train_bytes"] > 0
        assert all(
            math.isfinite(x[k]) and x[k] > 0 for k in ("jax_train_roofline_pct", "torch_eager_train_roofline_pct")
        )
    peaks = suite["vs_torch_fp32"]["peaks"]
    assert peaks["gemm_gflops"] > 0 and peaks["copy_gbs"] > 0
    (study,) = suite["study"]["rows"]
    assert study["settings"] == 2 and study["auto_chunk"] in (1, 2)
    (stream,) = [x for x in suite["stream"]["rows"] if x["stage"] == "all three"]
    assert stream["p99_ms"] >= stream["median_ms"] > 0


def test_gpu_suite_rejects_unknown_option():
    r = run("bash", "benchmarks/gpu_suite.sh", "--fast")
    assert r.returncode == 2 and "unknown option '--fast'" in r.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["benchmarks/vs_torch.py", "--models", "resnet"], "invalid choice: 'resnet'"),
        (["benchmarks/vs_torch.py", "--device", "tpu", "--tiny"], "device 'tpu' is not available"),
        (["benchmarks/study_vs_sequential.py", "--settings", "0"], "every N must be at least 1"),
        (["benchmarks/stream_latency.py", "--threads", "0"], "--threads must be at least 1"),
    ],
)
def test_benchmarks_refuse_bad_requests(args, message):
    r = run(sys.executable, *args)
    assert r.returncode != 0
    assert message in r.stderr + r.stdout


def test_unwritable_cache_folder_warns_and_runs_uncached(tmp_path):
    from dancejax.cli import enable_compilation_cache

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    said = []
    assert enable_compilation_cache(blocker / "cache", log=said.append) is None
    assert "not writable" in said[0] and "running uncached" in said[0]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("convolution.3", "convolution"),
        ("dot.12", "dot"),
        ("ynn_fusion.4", "xnnpack fusion"),
        ("add_select_fusion.2", "elementwise fusion"),
        ("copy_bitcast_fusion.40", "transpose/copy"),
        ("transpose_copy_fusion.3", "transpose/copy"),
        ("Transpose", "transpose/copy"),
        ("reduce-window.1", "reduction"),
        ("ThunkExecutor::Execute", None),
        ("Transpose::ExecuteChunk", None),
        ("while.2", None),
        ("$profiler", None),
    ],
)
def test_op_profile_categories(name, expected):
    sys.path.insert(0, str(ROOT))
    from benchmarks.op_profile import category

    assert category(name) == expected
