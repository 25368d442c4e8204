"""DMGNN: invalid preset fields and bad state dicts fail with one clear ``DataError``; the
vmapped encoders and cross-scale embeddings keep the original's parameter tree (saved models
and imports) and update every BatchNorm's statistics; the speed benchmark runs (``--tiny``).
Numerical parity with the PyTorch transcription is in ``tests/test_baseline_parity.py``."""

import json
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dancejax.errors import DataError
from dancejax.models import DMGNN
from dancejax.models import dmgnn as dmgnn_module
from dancejax.tasks.prediction.config import make_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(model={"hidden": 0}), r"field 'hidden' is 0; expected an int ≥ 1"),
        (dict(model={"hidden": 2.5}), r"field 'hidden' is 2.5"),
        (dict(model={"dropout": 1.0}), r"field 'dropout' is 1.0; expected a rate in \[0, 1\)"),
        (dict(model={"att_dropout": -0.1}), r"field 'att_dropout' is -0.1"),
        (dict(model={"fusion_layers": 3}), r"field 'fusion_layers' is 3; expected 0, 1 or 2"),
        (dict(model={"joints": 17}), r"field 'joints' is 17; expected 14"),
        (dict(model={"cross_w": float("nan")}), r"field 'cross_w' is nan"),
        (dict(model={"noise": -1.0}), r"field 'noise' is -1.0"),
        (dict(obs=2), r"field 'obs' is 2; expected an int ≥ 3"),
    ],
)
@pytest.mark.parametrize("preset", ["test", "quick", "original"])
def test_invalid_preset_fields_raise_data_error(preset, kw, message):
    with pytest.raises(DataError, match=r"^DMGNN: " + message):
        make_config("dmgnn", preset, **kw)


def test_presets_build():
    assert make_config("dmgnn", "original").model.hidden == 256
    assert make_config("dmgnn", "quick").model.hidden == 64
    assert make_config("dmgnn", "test").model.hidden == 16


@pytest.fixture(scope="module")
def torch_state():
    torch = pytest.importorskip("torch")
    from reference.dmgnn import TorchDMGNN

    torch.manual_seed(0)
    return {k: v.numpy() for k, v in TorchDMGNN(obs=10, pred=10, hidden=16).state_dict().items()}


def test_import_original_state_dict(torch_state):
    model = DMGNN(hidden=16)
    v = dmgnn_module.import_original(torch_state, model)
    k = "encoder_vel.p2b_2.embed_s3.mlp1.fc1.weight"  # p2b embeds the bodies (s3) as its b
    np.testing.assert_array_equal(
        v["params"]["encoder_vel"]["p2b_2"]["embed_b"]["mlp1"]["fc1"]["kernel"], torch_state[k].T
    )


def test_import_bad_state_dicts_name_the_key(torch_state):
    model = DMGNN(hidden=16)
    extra = {**torch_state, "encoder_pos.j2p_3.embed_s1.mlp1.fc1.weight": np.zeros((4, 4), np.float32)}
    with pytest.raises(DataError, match=r"unexpected keys.*encoder_pos\.j2p_3\.embed_s1\.mlp1\.fc1\.weight"):
        dmgnn_module.import_original(extra, model)
    missing = {k: v for k, v in torch_state.items() if k != "decoder.emul"}
    with pytest.raises(DataError, match=r"missing keys.*decoder/emul"):
        dmgnn_module.import_original(missing, model)
    with pytest.raises(DataError, match=r"decoder\.out_fc1\.weight: shape mismatch: state dict \(16, 16\)"):
        dmgnn_module.import_original(torch_state, DMGNN(hidden=32))  # a state dict of another width
    with pytest.raises(DataError, match=r"shape mismatch"):
        dmgnn_module.import_original(torch_state, DMGNN(obs=20))  # the embeddings' widths follow the window


def test_vmapped_encoders_keep_the_tree_and_update_every_statistic():
    model = DMGNN(hidden=16)
    x = jnp.zeros((2, 10, 14, 3))
    v = jax.eval_shape(lambda: model.init({"params": jax.random.key(0), "dropout": jax.random.key(1)}, x))
    keys = ("encoder_pos", "encoder_vel", "encoder_acl", "linear", "decoder")
    assert set(v["params"]) == set(keys) and {"j2p_1", "b2p_2", "joints_l5"} <= set(v["params"]["encoder_acl"])

    def train_apply(variables):
        return model.apply(variables, x, train=True, rngs={"dropout": jax.random.key(2)}, mutable=["batch_stats"])

    out, upd = jax.eval_shape(train_apply, v)
    assert out.shape == (2, 10, 14, 3)
    same = jax.tree_util.tree_map(lambda a, b: a.shape == b.shape, upd["batch_stats"], v["batch_stats"])
    assert jax.tree_util.tree_structure(upd["batch_stats"]) == jax.tree_util.tree_structure(v["batch_stats"])
    assert all(jax.tree_util.tree_leaves(same))


@pytest.mark.slow
def test_speed_benchmark_tiny(tmp_path):
    out = tmp_path / "dmgnn_speed.json"
    r = subprocess.run(
        [sys.executable, "-m", "benchmarks.dmgnn_speed", "--tiny", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (row,) = json.loads(out.read_text())["rows"]
    assert row["side"] == "dancejax test" and row["compile_s"] > 0 and row["step_ms"] > 0 and row["hlo_lines"] > 0
    assert row["peak_rss_mb"] > 0 and len(row["step_ms_all"]) == 2


def test_speed_benchmark_rejects_a_wrong_original_folder(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "benchmarks.dmgnn_speed", "--original", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode != 0 and "no net/model.py" in r.stderr
