"""The gates every change passes: ruff, the layer contracts (import-linter), no import
circle, mypy --strict on the contract and the loop; and a tool that imports the agent
is caught by the contracts."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

from tests.support.source_tree import ROOT, source_tree

BIN = Path(sys.executable).parent


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=900)


def test_ruff_is_clean():
    proc = run([str(BIN / "ruff"), "check", "."], ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_the_layer_contracts_hold(tmp_path):
    tree = source_tree(tmp_path / "src")
    shutil.copy(ROOT / ".importlinter", tree / ".importlinter")
    proc = run([str(BIN / "lint-imports"), "--no-cache"], tree)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def test_a_tool_that_imports_the_agent_breaks_the_contracts(tmp_path):
    tools = tmp_path / "tools"
    shutil.copytree(ROOT / "tools", tools, ignore=shutil.ignore_patterns("__pycache__"))
    sneaky = '"""A tool that reaches up."""\n\nfrom muie.agent.graph import build_graph\n'
    (tools / "text" / "sneaky.py").write_text(sneaky)
    tree = source_tree(tmp_path / "src", replace={"tools": tools})
    shutil.copy(ROOT / ".importlinter", tree / ".importlinter")
    proc = run([str(BIN / "lint-imports"), "--no-cache"], tree)
    assert proc.returncode != 0 and "muie.tools.text.sneaky -> muie.agent.graph" in proc.stdout, proc.stdout[-3000:]


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        on.add(m)
        for n in graph.find_modules_directly_imported_by(m) & modules:
            if n not in index:
                visit(n)
                low[m] = min(low[m], low[n])
            elif n in on:
                low[m] = min(low[m], index[n])
        if low[m] == index[m]:
            group = []
            while True:
                n = stack.pop()
                on.discard(n)
                group.append(n)
                if n == m:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for m in sorted(modules):
        if m not in index:
            visit(m)
    return out


def test_no_import_circle(tmp_path, monkeypatch):
    tree = source_tree(tmp_path / "src")
    monkeypatch.syspath_prepend(str(tree))
    monkeypatch.syspath_prepend(str(ROOT))
    for name in [m for m in sys.modules if m == "muie" or m.startswith("muie.")]:
        monkeypatch.delitem(sys.modules, name)
    graph = grimp.build_graph("muie", "bench", cache_dir=None)
    assert _cycles(graph, set(graph.modules)) == []


def _strict_modules() -> list[str]:
    """The modules pyproject.toml holds to mypy --strict."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return [m for o in config["tool"]["mypy"]["overrides"] if o.get("strict") for m in o["module"]]


def test_mypy_strict_on_the_contract_and_the_loop(tmp_path):
    tree = source_tree(tmp_path / "src")
    modules = _strict_modules()
    assert {"muie.domain", "muie.settings", "muie.agent.graph", "muie.agent.nodes"} <= set(modules)
    cmd = [str(BIN / "mypy"), "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path / "cache")]
    proc = run(cmd + [a for m in modules for a in ("-m", m)], tree)
    assert proc.returncode == 0, proc.stdout[-6000:]
    assert f"no issues found in {len(modules)} source files" in proc.stdout


def test_every_package_folder_is_installed():
    """Each folder of the rooms that holds Python files, the web page or shipped data (the
    entity model's weights, its training data) is a package in pyproject.toml, under its
    ``muie.`` name; and none is listed that does not exist."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    rooms = {name: ROOT / folder for name, folder in config["package-dir"].items()}
    found = set()
    for name, folder in rooms.items():
        for d in [folder, *[p for p in folder.rglob("*") if p.is_dir()]]:
            shipped = (".py", ".html", ".yaml", ".onnx", ".gz")
            if d.name == "__pycache__" or not any(f.suffix in shipped for f in d.iterdir()):
                continue
            found.add(".".join([name, *d.relative_to(folder).parts]))
    assert found == set(config["packages"])
