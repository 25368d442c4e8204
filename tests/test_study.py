import dataclasses

import chex
import jax
import numpy as np
import pytest

from dancejax.data import load_dataset
from dancejax.errors import DataError
from dancejax.studies.study import expand, run_study, setting_config, validate_grid
from dancejax.tasks import prediction as P
from dancejax.tasks import recognition as R
from dancejax.train.loop import fit
from dancejax.train.optim import OptimConfig


@pytest.fixture(scope="module")
def data():
    return R.load_data(load_dataset(), R.make_config("mkff_stgcn", "test"))


def quiet(*_):
    return None


def test_vmapped_study_equals_separate_runs(data):
    """N = 4 settings (seeds × learning rates, with dropout, style weight and noise scale as
    arrays) trained in one vmapped program give the parameters of 4 ordinary runs with the
    same seeds and data order, within float32 tolerance (rtol 1e-4, atol 1e-4 after 8 steps;
    measured: ≤ 2e-6 for every parameter but the output bias, 5e-5 there).

    Rounding differs between the batched and the plain program; three things amplify it.
    The L1 loss (eq. 10) has a kink at zero: a residual that rounds to the other side flips
    its gradient's sign, which the output bias (a sum over every residual) shows.  Adam
    rescales the zero-up-to-rounding gradient of biases that feed a BatchNorm to full
    steps, and the top-k hard-joint term flips its selection at near-ties; those two are
    kept out of this check on purpose: SGD (the paper's optimizer) and top_k = 0."""
    base = R.make_config(
        "mkff_stgcn", "test", optim=OptimConfig("sgd", lr=0.01, momentum=0.9, lr_decay=0.95), top_k=0, seed=5
    )
    grid = {"seed": [0, 1], "lr": [0.01, 0.04], "dropout": [0.3], "style_weight": [0.5], "noise_strength": [0.7]}
    res = run_study(R, base, grid, data=data, log=quiet)
    assert len(res.rows) == 4
    for i, s in enumerate(expand(grid)):
        alone = fit(R, setting_config(R, base, s), data, log=None)
        chex.assert_trees_all_close(res.variables[i], alone.variables[0], rtol=1e-4, atol=1e-4)
        assert alone.histories[0][-1]["loss"] == pytest.approx(res.curves[i][-1]["loss"], rel=1e-4)
    # settings really differ: different seeds and learning rates give different parameters
    p0, p3 = (jax.tree_util.tree_leaves(res.variables[k]["params"])[0] for k in (0, 3))
    assert np.abs(np.asarray(p0) - np.asarray(p3)).max() > 1e-3
    # chunking does not change the results
    chunked = run_study(R, base, grid, data=data, chunk_size=3, log=quiet)
    for a in chunked.rows:
        b = next(r for r in res.rows if r["setting"] == a["setting"])
        assert a["val"] == pytest.approx(b["val"], abs=1e-3)


@pytest.mark.slow
def test_early_stopping_masks_settings(data):
    """patience = 1: a setting is frozen after its first epoch without a new best validation
    score; the others keep training in the same program."""
    base = dataclasses.replace(R.make_config("mkff_stgcn", "test"), epochs=4)
    res = run_study(R, base, {"lr": [1e-9, 1e-3, 4e-3, 1e-2]}, data=data, patience=1, log=quiet)
    for row in res.rows:
        vals = [h["val"] for h in res.curves[row["setting"]]]
        stall = next((e for e in range(1, len(vals)) if vals[e] <= max(vals[:e])), None)
        assert row["epochs_run"] == (stall + 1 if stall is not None else 4)
    zero = run_study(R, dataclasses.replace(base, epochs=3), {"lr": [1e-3, 4e-3]}, data=data, patience=0, log=quiet)
    assert all(r["epochs_run"] == 1 for r in zero.rows)  # patience 0: every setting frozen after one epoch


@pytest.mark.slow
def test_shape_settings_are_grouped_and_studies_resume(data, tmp_path):
    base = R.make_config("mkff_stgcn", "test")
    logs = []
    grid = {"widths": [[4, 4], [8, 8]], "lr": [1e-3, 2e-3]}
    res = run_study(R, base, grid, data=data, log=logs.append, workdir=tmp_path)
    assert "in 2 compiled program(s)" in logs[0] and len(res.rows) == 4
    again = run_study(R, base, grid, data=data, log=logs.append, workdir=tmp_path)  # resumes: nothing left to train
    assert any("resumed from" in m for m in logs)
    for a in again.rows:
        b = next(r for r in res.rows if r["setting"] == a["setting"])
        assert a["val"] == pytest.approx(b["val"], abs=1e-6)


@pytest.mark.slow
def test_auto_chunk_prints_its_choice():
    pdata = P.load_data(load_dataset(), P.make_config("stga_net", "test"), per_style=4)
    logs = []
    res = run_study(
        P, P.make_config("stga_net", "test"), {"seed": [0, 1, 2, 3]}, data=pdata, chunk_size="auto", log=logs.append
    )
    assert any("chunk size by measurement" in m for m in logs) and len(res.rows) == 4 and res.chunk_choices


def test_bad_grids():
    base = R.make_config("mkff_stgcn", "test")
    with pytest.raises(DataError, match="unknown hyper-parameter 'momentum'"):
        validate_grid(R, base, {"momentum": [0.9]})
    with pytest.raises(DataError, match="'lr' values must be a finite number, got '0.01' \\(str\\)"):
        validate_grid(R, base, {"lr": ["0.01"]})
    with pytest.raises(DataError, match="'seed' values must be an integer, got 1.5"):
        validate_grid(P, P.make_config("stga_net", "test"), {"seed": [1.5]})
    with pytest.raises(DataError, match="non-empty list"):
        validate_grid(P, P.make_config("stga_net", "test"), {"lr": []})
    with pytest.raises(DataError, match="non-empty list"):
        validate_grid(R, base, {"lr": 0.1})
    with pytest.raises(DataError, match="expected a non-empty mapping"):
        validate_grid(R, base, [["lr", [0.1]]])
    with pytest.raises(DataError, match="chunk_size must be a positive integer"):
        run_study(R, base, {"lr": [0.1]}, chunk_size=0, log=quiet)


def test_auto_chunk_stops_doubling_once_the_cost_rises(monkeypatch):
    """Per-setting costs 10, 6, 8 ms at chunks 1, 2, 4 (a fake clock): chunks of 2 win, and 8 is
    never compiled (each size tried is a compilation the study pays for)."""
    import dancejax.studies.study as S

    per_setting = [0.010, 0.006, 0.008, 0.001]  # seconds
    ticks = []

    def clock():  # called before and after each timed step; 3 steps per chunk size
        i = len(ticks) // 6  # the chunk size being timed: 1, 2, 4, ...
        if len(ticks) % 2 == 0:
            ticks.append(0.0)
        else:  # one slow step (other load) per size: the fastest step counts
            slow = 5.0 if (len(ticks) // 2) % 3 == 0 else 1.0
            ticks.append(per_setting[i] * 2**i * slow)
        return ticks[-1]

    monkeypatch.setattr(S.time, "perf_counter", clock)
    pdata = P.load_data(load_dataset(), P.make_config("stga_net", "test"), per_style=4)
    cfgs = [P.make_config("stga_net", "test", seed=s) for s in range(8)]
    logs = []
    assert S.choose_chunk(P, cfgs, pdata, logs.append, steps=3) == 2
    assert len(ticks) == 18 and "8:" not in logs[0] and "-> chunks of 2" in logs[0]
    assert "1: 10.0 ms" in logs[0] and "2: 6.0 ms" in logs[0]
