"""The README's main job (``experiments/main.py``) runs its comparison code end to end: the
prediction comparison with the two baselines that need no training, and the recognition
comparison with the filters alone (the learned methods are trained by their own tests), each
writing its tables, JSON and plots."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from dancejax.data import load_dataset
from dancejax.studies.compare import compare_prediction, compare_recognition

ROOT = Path(__file__).resolve().parents[1]


def test_prediction_comparison_writes_its_tables(tmp_path):
    res = compare_prediction(["zero_velocity", "constant_velocity"], "quick", [0], tmp_path, dataset=load_dataset())
    assert res["horizons_ms"] == [80, 160, 320, 400]
    for m in ("zero_velocity", "constant_velocity"):
        rel = res["overall"][m]["mpjpe_rel"]
        assert all(np.isfinite(rel[h][0]) and rel[h][0] > 0 for h in res["horizons_ms"])
        assert rel[80][0] < rel[400][0]  # errors grow with the horizon
    saved = json.loads((tmp_path / "prediction.json").read_text())
    assert set(saved["overall"]) == {"zero_velocity", "constant_velocity"}
    for f in ("prediction.csv", "prediction_horizons.png", "prediction_example.gif"):
        assert (tmp_path / f).stat().st_size > 0, f


def test_recognition_comparison_writes_its_tables(tmp_path):
    res = compare_recognition([], "quick", [0], tmp_path, dataset=load_dataset())
    assert (tmp_path / "recognition.json").exists() and res


def test_main_job_parses_its_options():
    r = subprocess.run(
        [sys.executable, str(ROOT / "experiments" / "main.py"), "--help"], capture_output=True, text=True
    )
    assert r.returncode == 0 and "--quick" in r.stdout
