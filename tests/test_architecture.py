"""Facts of the package's layout, read from its source: no import loops, no module (outside
``models/``) over 500 lines, nothing imports the command line, and nothing outside
``dancejax/tasks/`` asks for a task's name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "dancejax"
MAX_LINES = 500


def modules() -> dict[str, Path]:
    out = {}
    for f in sorted(PKG.rglob("*.py")):
        parts = f.relative_to(PKG.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = f
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the dancejax modules it imports (at the top or inside functions)."""
    mods = modules()
    graph = {}
    for name, f in mods.items():
        is_pkg = f.name == "__init__.py"
        deps = set()
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".")[: len(name.split(".")) - node.level + (1 if is_pkg else 0)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in mods else mod for a in node.names]
            else:
                continue
            deps.update(t for t in targets if t in mods and t != name)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def without_package_inits(graph):
    """The graph without the edges into a module's own package ``__init__`` and out of an
    ``__init__`` into its own submodules: a package re-exporting its parts is not a loop."""
    out = {}
    for v, deps in graph.items():
        out[v] = {w for w in deps if not (v.startswith(w + ".") or w.startswith(v + "."))}
    return out


def test_the_import_graph_has_no_loops():
    assert cycles(without_package_inits(import_graph())) == []


def test_cycle_finder_finds_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_outside_models_is_over_500_lines():
    long = {
        str(f.relative_to(PKG.parent)): n
        for f in PKG.rglob("*.py")
        if "models" not in f.relative_to(PKG).parts and (n := len(f.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_nothing_in_the_package_imports_the_command_line():
    offenders = sorted(
        m
        for m, deps in import_graph().items()
        if not (m == "dancejax.cli" or m.startswith("dancejax.cli."))
        and any(d == "dancejax.cli" or d.startswith("dancejax.cli.") for d in deps)
    )
    assert offenders == []


NAME_TEST = re.compile(
    r"""(\bNAME\s*[!=]=|[!=]=\s*\w*\.?NAME\b|\[["']task["']\]\s*[!=]=|[!=]=\s*["'](recognition|prediction|classification)["']|["'](recognition|prediction|classification)["']\s*[!=]=)"""
)


def test_nothing_outside_the_tasks_compares_a_task_name():
    hits = []
    for f in PKG.rglob("*.py"):
        if "tasks" in f.relative_to(PKG).parts:
            continue
        for i, line in enumerate(f.read_text().splitlines(), 1):
            if NAME_TEST.search(line):
                hits.append(f"{f.relative_to(PKG.parent)}:{i}: {line.strip()}")
    assert hits == []


def test_the_name_test_catches_the_forms_it_is_for():
    for line in ('if task.NAME == "prediction":', 'if model.meta["task"] != "recognition":', 'a.task == "recognition"'):
        assert NAME_TEST.search(line), line
    assert not NAME_TEST.search("task = get_task(a.task)")
