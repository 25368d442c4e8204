"""The benchmark scripts run as modules from the repository root (tiny sizes, no timing asserted),
refuse bad requests clearly, and share code only through ``benchmarks.common`` and
``benchmarks.workloads``."""

import ast
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]


def run(*args, env_extra=None, **kw):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(list(args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, **kw)


@pytest.mark.slow
def test_gpu_suite_tiny_runs_on_cpu(tmp_path):
    r = run("bash", "benchmarks/gpu_suite.sh", "--tiny", f"--out={tmp_path}")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    suite = json.loads((tmp_path / "suite.json").read_text())
    assert set(suite) == {"vs_torch_fp32", "study", "stream"}
    rows = suite["vs_torch_fp32"]["main"]
    assert [x["model"] for x in rows] == ["stgcn10", "stgcn10_original", "mkff_stgcn", "stga_net"]
    assert rows[1]["optimizer"] == "sgd momentum 0.9, nesterov True, weight_decay 0.0001"
    assert suite["vs_torch_fp32"]["machine"]["malloc"] in ("keep_freed_memory", "system")
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
        (["-m", "benchmarks.vs_torch", "--models", "resnet"], "invalid choice: 'resnet'"),
        (["-m", "benchmarks.vs_torch", "--device", "tpu", "--tiny"], "device 'tpu' is not available"),
        (["-m", "benchmarks.study_vs_sequential", "--settings", "0"], "every N must be at least 1"),
        (["-m", "benchmarks.stream_latency", "--threads", "0"], "--threads must be at least 1"),
        (["-m", "benchmarks.allocator", "--rounds", "0"], "--rounds and --repeats must be at least 1"),
        (["-m", "benchmarks.ablation", "--repeats", "0"], "--rounds and --repeats must be at least 1"),
        (["-m", "benchmarks.ablation", "--models", "resnet"], "invalid choice: 'resnet'"),
        pytest.param(
            ["-m", "benchmarks.vs_torch", "--original-stgcn", "/nonexistent", "--tiny"],
            "not a checkout of the original",
            marks=pytest.mark.slow,  # it builds the tiny workloads before it looks at the folder
        ),
    ],
)
def test_benchmarks_refuse_bad_requests(args, message):
    r = run(sys.executable, *args)
    assert r.returncode != 0
    assert message in r.stderr + r.stdout


def test_benchmarks_share_code_only_through_common_modules():
    """No benchmark script imports another script (``vs_torch`` included) or a test module, and
    none edits ``sys.path`` to find its imports: they run as ``python -m benchmarks.<name>``."""
    shared = {"benchmarks", "benchmarks.common", "benchmarks.workloads"}
    scripts = sorted((ROOT / "benchmarks").glob("*.py"))
    assert {p.stem for p in scripts} >= {"common", "workloads", "vs_torch", "ablation", "op_profile"}
    for path in scripts:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("tests"), f"{path.name} imports the test module {name}"
                if name.startswith("benchmarks"):
                    assert name in shared, f"{path.name} imports the benchmark script {name}"
        # at module level (a function may still put a user's checkout of the original code on it)
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                assert "sys.path" not in ast.unparse(node), f"{path.name} edits sys.path at import"


def test_unwritable_cache_folder_warns_and_runs_uncached(tmp_path):
    from dancejax.runtime import enable_compilation_cache

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
        ("end: convolution.3", None),
        ("end: ynn_fusion.4", None),
    ],
)
def test_op_profile_categories(name, expected):
    from benchmarks.common import category

    assert category(name) == expected


def test_op_profile_counts_asynchronous_ops_to_their_completion():
    """XLA:CPU's convolutions trace a short dispatch event and an ``end:`` event when done: the
    op's time runs to the end event; concurrent ops share the wall time between them."""
    from benchmarks.common import op_intervals
    from benchmarks.op_profile import wall_shares

    ev = lambda name, ts, dur: {"ph": "X", "name": name, "ts": ts, "dur": dur}
    events = [
        # two steps of an asynchronous convolution: dispatch 1 µs, done 100 µs later
        ev("convolution.3", 0, 1),
        ev("end: convolution.3", 99, 1),
        ev("convolution.3", 200, 1),
        ev("end: convolution.3", 299, 1),
        # a synchronous fusion running alongside the first convolution
        ev("add_fusion", 50, 100),
        # an op without an end event in this trace, and events that are not ops
        ev("dot.1", 400, 10),
        ev("ThunkExecutor::Execute", 0, 500),
        {"ph": "M", "name": "thread_name"},
    ]
    got = sorted(op_intervals(events))
    assert got == [("add_fusion", 50, 150), ("convolution.3", 0, 100), ("convolution.3", 200, 300), ("dot.1", 400, 410)]
    shares = wall_shares(got)
    # 0-50 conv alone, 50-100 conv and fusion (25 µs each), 100-150 fusion alone, 200-300 conv, 400-410 dot
    assert shares == {"convolution": 50 + 25 + 100, "elementwise fusion": 25 + 50, "dot": 10}
    assert sum(shares.values()) == 50 + 50 + 50 + 100 + 10


def test_original_workload_optimiser_matches_torch_sgd():
    """The stgcn10_original workload's optax chain is PyTorch's SGD(momentum, nesterov, weight
    decay): three steps from the same parameters and gradients agree to float32 rounding."""
    import jax.numpy as jnp
    import numpy as np
    import torch

    from benchmarks.workloads import LR, ORIGINAL_SGD, sgd_tx

    rng = np.random.default_rng(0)
    p0 = rng.normal(size=(5, 7)).astype(np.float32)
    grads = [rng.normal(size=(5, 7)).astype(np.float32) for _ in range(3)]
    tp = torch.nn.Parameter(torch.tensor(p0))
    opt = torch.optim.SGD([tp], lr=LR, **ORIGINAL_SGD)
    tx = sgd_tx(ORIGINAL_SGD)
    jp = jnp.asarray(p0)
    state = tx.init(jp)
    for g in grads:
        tp.grad = torch.tensor(g)
        opt.step()
        upd, state = tx.update(jnp.asarray(g), state, jp)
        jp = jp + upd
    np.testing.assert_allclose(np.asarray(jp), tp.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_original_workload_is_the_original_models_shape_and_loss():
    """18 OpenPose joints, 400 classes, cross-entropy: JAX's loss on the imported model equals
    PyTorch's on the reference model (same weights, inputs and labels)."""
    import numpy as np
    import torch

    from benchmarks.workloads import build

    w = build("stgcn10_original", 2, 16)
    assert w.xt[0].shape == (2, 3, 16, 18, 1)
    w.ref.eval()
    with torch.no_grad():
        scores = w.ref(*w.xt)
        torch_loss = float(w.torch_loss(scores))
    jax_scores = w.apply(w.variables, *w.xj)
    assert jax_scores.shape == (2, 400)
    np.testing.assert_allclose(float(w.jax_loss(jax_scores)), torch_loss, rtol=1e-4)
    np.testing.assert_allclose(np.asarray(jax_scores), scores.numpy(), rtol=1e-3, atol=1e-4)


ALLOC_PROBE = """
import os, resource, sys
from dancejax.runtime import keep_freed_memory
applied = keep_freed_memory()
import jax, jax.numpy as jnp
f = jax.jit(lambda x: (x @ x + 1.0) @ x)  # 36 MB temporaries: above glibc's largest mmap threshold
x = jnp.ones((3000, 3000), jnp.float32)
for _ in range(8):  # until the kept heap has grown to the step's peak (2 calls were not always enough)
    jax.block_until_ready(f(x))
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(8):
    jax.block_until_ready(f(x))
print(applied, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / 8)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator settings are Linux-only")
@pytest.mark.slow
def test_keep_freed_memory_stops_refaulting_freed_pages():
    """With the command-line scripts' allocator setting, a jitted step with large temporaries
    reuses freed pages instead of faulting fresh ones on every call (page-fault counts, not time).
    ``DANCEJAX_MALLOC=system`` leaves the system's setting."""
    out = {}
    for setting in ("system", ""):
        r = run(sys.executable, "-c", ALLOC_PROBE, env_extra={"DANCEJAX_MALLOC": setting})
        assert r.returncode == 0, r.stderr[-2000:]
        applied, faults = r.stdout.split()
        out[setting] = (applied, float(faults))
    assert out["system"][0] == "False"
    if out[""][0] != "True":
        pytest.skip("this C library refuses mallopt (not glibc)")
    # 36 MB per buffer = ~9000 pages faulted per call and buffer with the system's defaults
    # (measured: 17 600 per call, and 0 in five of six runs with the setting, 1 100 in the sixth;
    # after only 2 warm-up calls it had been 4 300 - 13 100, as the kept heap was still growing)
    assert out["system"][1] > 4000
    assert out[""][1] < 0.6 * out["system"][1], out


@pytest.mark.slow
def test_ablation_runs_each_variant_in_its_own_formulation(tmp_path):
    """The ablation's variants are what they say: tracing under ``backbone_layout('nvtc')`` gives
    the backbone in (N, V, T, C), the BN swap replaces ``F.batch_norm`` only inside its context,
    and the script prints a row per applicable variant."""
    import jax
    import jax.numpy as jnp

    from benchmarks.ablation import autodiff_batch_norm, backbone_layout, textbook_batch_norm
    from dancejax.layers import functional as F
    from dancejax.models.mkff import MKFFSTGCN

    model = MKFFSTGCN(widths=(8, 8), strides=(1, 1), mkff_width=8, mkff_blocks=1, decoder_width=8, dropout=0.0)
    x, c = jnp.zeros((2, 12, 14, 2)), jnp.ones((2, 12, 14))
    v = model.init(jax.random.key(0), x, c)
    # a fresh function per trace: jax caches traces of one function, and the context acts at tracing
    fwd = lambda: lambda v, x, c: model.apply(v, x, c, train=True, mutable=["batch_stats"])
    seen = []
    base = jax.make_jaxpr(fwd())(v, x, c)
    with backbone_layout("nvtc", seen):
        other = jax.make_jaxpr(fwd())(v, x, c)
    assert seen == ["backbone"]
    # the backbone's activations, 8 channels: (V, N, T, C) by default, (N, V, T, C) under the context
    assert "f32[14,2,12,8]" in str(base) and "f32[2,14,12,8]" not in str(base)
    assert "f32[2,14,12,8]" in str(other) and "f32[14,2,12,8]" not in str(other)
    with autodiff_batch_norm():
        assert F.batch_norm is textbook_batch_norm
    assert F.batch_norm is not textbook_batch_norm

    out = tmp_path / "ablation.json"
    r = run(
        sys.executable,
        "-m",
        "benchmarks.ablation",
        "--tiny",
        "--rounds",
        "1",
        "--repeats",
        "1",
        "--models",
        "mkff_stgcn",
        "stga_net",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    rows = json.loads(out.read_text())["rows"]
    assert [(x["model"], x["variant"]) for x in rows] == [
        ("mkff_stgcn", "default"),
        ("mkff_stgcn", "nvtc layout"),
        ("mkff_stgcn", "autodiff BN"),
        ("stga_net", "default"),
        ("stga_net", "autodiff BN"),
    ]
    assert all(x["ms"] > 0 for x in rows)
