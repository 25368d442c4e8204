"""A damaged checkpoint never blocks a run: resume falls back to the newest intact one, with a
warning naming its path and the reason; with none intact, a clear error lists what was tried."""

import shutil

import chex
import pytest

from dancejax import prediction as P
from dancejax.data import load_dataset
from dancejax.errors import DataError
from dancejax.train.checkpoint import CheckpointWarning
from dancejax.train.loop import fit


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    cfg = P.make_config("stga_net", "test", epochs=3)
    data = P.load_data(load_dataset(), cfg, per_style=2)
    full = fit(P, cfg, data, log=None)
    return cfg, data, full


def files(path):
    return [p for p in path.rglob("*") if p.is_file()]


def truncate(step):
    for f in files(step):
        if f.stat().st_size > 0:
            f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])


def zero(step):
    for f in files(step):
        f.write_bytes(b"\0" * f.stat().st_size)


def delete_state(step):
    shutil.rmtree(next(p for p in step.iterdir() if p.name == "state"))


def damage_meta(step):
    meta = next(p for p in step.rglob("*") if p.parent.name == "meta" and p.is_file())
    meta.write_text("{not json")


@pytest.mark.parametrize("damage", [truncate, zero, delete_state, damage_meta])
@pytest.mark.parametrize("kind", ["periodic", "best"])
def test_resume_skips_a_damaged_latest_checkpoint(setup, tmp_path, damage, kind):
    cfg, data, full = setup
    fit(P, cfg, data, workdir=tmp_path, stop_after_epochs=2, log=None)  # checkpoints after epochs 0 and 1
    latest = tmp_path / "periodic" / "1"
    damage(latest)
    if kind == "best":  # the best-by-validation folder is damaged too: resume does not need it
        for step in (tmp_path / "best").iterdir():
            if step.name.isdigit():
                damage(step)
    logs = []
    with pytest.warns(CheckpointWarning, match=f"checkpoint {latest} cannot be restored"):
        resumed = fit(P, cfg, data, workdir=tmp_path, log=logs.append)
    assert any("resumed from" in m and "after epoch 0" in m for m in logs)
    chex.assert_trees_all_equal(resumed.variables[0], full.variables[0])  # exact, from the earlier one


def test_no_intact_checkpoint_is_a_clear_error(setup, tmp_path):
    cfg, data, _ = setup
    fit(P, cfg, data, workdir=tmp_path, stop_after_epochs=2, log=None)
    for step in (tmp_path / "periodic").iterdir():
        if step.name.isdigit():
            zero(step)
    with (
        pytest.warns(CheckpointWarning),
        pytest.raises(DataError, match=r"no intact checkpoint to resume from; tried: .*1 .*0 "),
    ):
        fit(P, cfg, data, workdir=tmp_path, log=None)


def test_work_directory_that_is_a_file(setup, tmp_path):
    cfg, data, _ = setup
    (tmp_path / "wd").write_text("not a folder")
    with pytest.raises(DataError, match="work directory is a file"):
        fit(P, cfg, data, workdir=tmp_path / "wd", log=None)
