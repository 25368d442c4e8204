"""A damaged checkpoint never blocks a run: resume falls back to the newest intact one, with a
warning naming its path and the reason (once, readably); with none intact, a clear error lists
what was tried, and the next run says that it starts from scratch.  ``fit(workdir=RUN)`` keeps its
checkpoints in RUN/checkpoints, as ``dancejax train --run RUN`` does."""

import shutil
import warnings

import chex
import pytest

from dancejax.data import load_dataset
from dancejax.errors import DataError
from dancejax.tasks import prediction as P
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


# every damage on both kinds of checkpoint; the fast selection keeps one of each kind
FAST = {("periodic", "truncate"), ("best", "delete_state")}


@pytest.mark.parametrize(
    "kind,damage",
    [
        pytest.param(k, d, id=f"{k}-{d.__name__}", marks=() if (k, d.__name__) in FAST else pytest.mark.slow)
        for k in ("periodic", "best")
        for d in (truncate, zero, delete_state, damage_meta)
    ],
)
def test_resume_skips_a_damaged_latest_checkpoint(setup, tmp_path, damage, kind):
    cfg, data, full = setup
    fit(P, cfg, data, workdir=tmp_path, stop_after_epochs=2, log=None)  # checkpoints after epochs 1 and 2
    ck = tmp_path / "checkpoints"
    assert sorted(p.name for p in ck.iterdir()) == ["best", "periodic"]
    latest = ck / "periodic" / "1"
    damage(latest)
    if kind == "best":  # the best-by-validation folder is damaged too: resume does not need it
        for step in (ck / "best").iterdir():
            if step.name.isdigit():
                damage(step)
    logs = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", CheckpointWarning)  # with a log, the log alone reports it
        resumed = fit(P, cfg, data, workdir=tmp_path, log=logs.append)
    said = [m for m in logs if f"checkpoint {latest} cannot be restored" in m]
    assert len(said) == 1 and "bound method" not in said[0] and "moved to 1.damaged-0" in said[0]
    assert any("resumed from" in m and "after epoch 1/3; continuing with epoch 2" in m for m in logs)
    chex.assert_trees_all_equal(resumed.variables[0], full.variables[0])  # exact, from the earlier one


def test_no_intact_checkpoint_is_a_clear_error(setup, tmp_path):
    cfg, data, _ = setup
    fit(P, cfg, data, workdir=tmp_path, stop_after_epochs=2, log=None)
    for step in (tmp_path / "checkpoints" / "periodic").iterdir():
        if step.name.isdigit():
            zero(step)
    with (
        pytest.warns(CheckpointWarning),
        pytest.raises(DataError, match=r"no intact checkpoint to resume from; tried: .*1 .*0 "),
    ):
        fit(P, cfg, data, workdir=tmp_path, log=None)
    logs = []  # the next run says why it starts from scratch, before it trains
    fit(P, cfg, data, workdir=tmp_path, log=logs.append, stop_after_epochs=1)
    said = [i for i, m in enumerate(logs) if "was set aside as damaged (0.damaged-0, 1.damaged-0)" in m]
    assert said and said[0] < next(i for i, m in enumerate(logs) if "epoch 1" in m)


def test_work_directory_that_is_a_file(setup, tmp_path):
    cfg, data, _ = setup
    (tmp_path / "wd").write_text("not a folder")
    with pytest.raises(DataError, match="work directory is a file"):
        fit(P, cfg, data, workdir=tmp_path / "wd", log=None)


def test_old_layout_checkpoint_folders_still_resume(setup, tmp_path):
    """A folder written before the shared layout (periodic/ and best/ at its top) is resumed in place."""
    from dancejax.train.checkpoint import Checkpointer

    cfg, data, full = setup
    fit(P, cfg, data, workdir=tmp_path / "checkpoints", stop_after_epochs=1, log=None)
    (tmp_path / "checkpoints").rename(tmp_path / "old")
    logs = []
    resumed = fit(P, cfg, data, workdir=tmp_path / "old", log=logs.append)
    assert any("after epoch 1/3" in m for m in logs) and not (tmp_path / "old" / "checkpoints").exists()
    chex.assert_trees_all_equal(resumed.variables[0], full.variables[0])
    (tmp_path / "old" / "periodic" / "7.orbax-checkpoint-tmp-123").mkdir()  # a killed write
    Checkpointer(tmp_path / "old").close()
    assert not list((tmp_path / "old").rglob("*orbax-checkpoint-tmp*"))
