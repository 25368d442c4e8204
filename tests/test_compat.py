"""What was written before the layout change still works: the old module paths import (with a
deprecation warning, as the same module objects), and saved models and exported artifacts that
dancejax 0.2.0 wrote load and give the outputs they gave then.

``tests/fixtures/saved_v0_2/`` was written by dancejax 0.2.0 (the commit before the layout
change): ``test``-preset MKFF-ST-GCN and STGA-Net models trained on the shipped data, their
exports, and inputs with the outputs 0.2.0 computed for them (``*_io.npz``).
"""

from __future__ import annotations

import importlib
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import dancejax
from dancejax import MOVED

OLD = Path(__file__).parent / "fixtures" / "saved_v0_2"


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_module_paths_import_the_moved_module_with_a_warning(old):
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED[old])
    assert module.__spec__.name == MOVED[old]  # the moved module keeps its own spec
    assert any(issubclass(w.category, DeprecationWarning) and MOVED[old] in str(w.message) for w in caught)


def test_old_names_still_resolve():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from dancejax.prediction import make_config
        from dancejax.saved import load_model
    assert load_model is dancejax.deploy.saved.load_model
    assert make_config("stga_net", "test").method == "stga_net"
    assert dancejax.load_model is not None and dancejax.save_model is not None
    with pytest.raises(AttributeError):
        dancejax.no_such_module  # noqa: B018


def test_recognition_model_saved_by_0_2_loads_and_gives_the_same_outputs():
    model = dancejax.load_model(OLD / "recognition_mkff_stgcn")
    assert model.meta["dancejax_version"] == "0.2.0"
    io = np.load(OLD / "recognition_io.npz")
    out, logits = model(io["x"], io["conf"])
    np.testing.assert_allclose(np.asarray(out), io["out"], rtol=1e-5, atol=1e-3)  # pixels
    np.testing.assert_allclose(np.asarray(logits), io["logits"], rtol=1e-5, atol=1e-5)


def test_prediction_model_saved_by_0_2_loads_and_gives_the_same_outputs():
    model = dancejax.load_model(OLD / "prediction_stga_net")
    io = np.load(OLD / "prediction_io.npz")
    np.testing.assert_allclose(np.asarray(model(io["x"])), io["out"], rtol=1e-5, atol=1e-5)  # metres


@pytest.mark.parametrize("kind", ["recognition", "prediction"])
def test_artifacts_exported_by_0_2_run(kind):
    from dancejax.deploy.export import run_exported

    folder = OLD / f"{kind}_exported"
    sig = json.loads((folder / "signature.json").read_text())
    io = np.load(OLD / f"{kind}_io.npz")
    inputs = {"keypoints": io["x"], "confidence": io["conf"]} if kind == "recognition" else {"observed": io["x"]}
    assert set(inputs) == set(sig["inputs"])
    out = run_exported(folder, inputs)
    first = out[0] if isinstance(out, (tuple, list)) else next(iter(out.values())) if isinstance(out, dict) else out
    np.testing.assert_allclose(np.asarray(first), io["out"], rtol=1e-5, atol=1e-3)
