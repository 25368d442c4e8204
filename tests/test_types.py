"""A type checker verifies the task contract: both task modules satisfy the ``Task`` Protocol
(and a module that lacks one of its functions does not)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("mypy", reason="the type check needs mypy (pip install '.[test]')")


def mypy(target: Path, cache: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "MYPYPATH": os.pathsep.join(str(p) for p in (ROOT, extra_path) if p)}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(cache)]
        + ["--no-error-summary", str(target)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_both_tasks_satisfy_the_task_protocol(tmp_path):
    r = mypy(ROOT / "tests" / "typing" / "tasks_satisfy_contract.py", tmp_path / "cache")
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_task_without_evaluate_fails_the_check(tmp_path):
    from dancejax.tasks import prediction

    names = [n for n in dir(prediction) if not n.startswith("__") and n != "evaluate"]
    (tmp_path / "broken_task.py").write_text(
        "from dancejax.tasks.prediction import " + ", ".join(names) + "  # noqa\n__all__ = " + repr(names) + "\n"
    )
    check = tmp_path / "check_broken.py"
    check.write_text("import broken_task\nfrom dancejax.tasks import Task\n\ntask: Task = broken_task\n")
    r = mypy(check, tmp_path / "cache", extra_path=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "evaluate" in r.stdout
