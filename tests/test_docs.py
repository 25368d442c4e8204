"""The docs: every generated table matches the JSON it comes from, and the site builds with warnings as errors."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_tables", ROOT / "docs" / "gen_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_tables_are_up_to_date(capsys):
    gen = _generator()
    code = gen.main(["--check"])
    out = capsys.readouterr().out
    assert code == 0, f"{out.strip()}: regenerate with python docs/gen_tables.py and commit the result"


def test_check_mode_sees_a_stale_table_and_unknown_names(tmp_path):
    gen = _generator()
    begin, end = "<!-- BEGIN table:prediction_quick.overall -->", "<!-- END table:prediction_quick.overall -->"
    stale = f"a\n{begin}\n| stale |\n{end}\nb\n"
    fresh = gen.render(stale, tmp_path / "page.md")
    assert fresh != stale and "| stale |" not in fresh
    assert "**35.1 ± 1.1**" in fresh and fresh.startswith("a\n") and fresh.endswith("b\n")
    assert gen.render(fresh, tmp_path / "page.md") == fresh  # regenerating changes nothing
    with pytest.raises(SystemExit, match="no END marker"):
        gen.render(begin + "\n", tmp_path / "page.md")
    with pytest.raises(SystemExit, match="no table"):
        gen.render("<!-- BEGIN table:prediction_quick.nope -->\n<!-- END table:prediction_quick.nope -->", "x")


def test_every_results_file_states_its_provenance():
    for path in sorted((ROOT / "docs" / "results").glob("*.json")):
        d = json.loads(path.read_text())
        missing = [k for k in ("title", "protocol", "measured", "units", "tables") if not d.get(k)]
        assert not missing, f"{path.name}: no {missing}"
        assert d.get("command") or d.get("command_note"), f"{path.name}: no command"


def test_parity_ratios_are_the_ratios_of_the_means():
    d = json.loads((ROOT / "docs" / "results" / "baseline_parity.json").read_text())
    for name in ("simlpe", "ltd"):
        t = d["tables"][name]
        orig, mine = t["rows"][0]["values"], t["rows"][1]["values"]
        for k, ratio in enumerate(t["ratio"]):
            assert ratio == pytest.approx(mine[k]["mean"] / orig[k]["mean"], abs=6e-4), (name, k)


def test_mkdocs_build_strict(tmp_path):
    missing = [m for m in ("mkdocs", "mkdocstrings", "mkdocstrings_handlers") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: the docs build needs pip install '.[test]'")
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(ROOT / "mkdocs.yml")]
        + ["-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, f"mkdocs build --strict failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    assert (tmp_path / "site" / "api" / "tasks" / "index.html").is_file()


def test_every_public_module_is_in_the_api_reference():
    pages = "\n".join(p.read_text() for p in (ROOT / "docs" / "api").glob("*.md"))
    documented = set(re.findall(r"^::: ([\w.]+)", pages, re.M))
    missing = []
    for path in sorted((ROOT / "dancejax").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if any(p.startswith("_") for p in parts) or name.startswith("dancejax.cli") or name == "dancejax":
            continue
        if name not in documented and not path.name == "__init__.py":
            missing.append(name)
    assert not missing, f"add a '::: module' line to a page in docs/api/ for: {', '.join(missing)}"
