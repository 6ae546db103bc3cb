"""The import rules of pyproject.toml's [tool.importlinter] contracts hold (``lint-imports``), no module of ours
imports itself back (no circles), and the domain logic imports no Faust or Kafka client (third-party packages,
which lint-imports does not follow)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

from tests.harness import ROOT

DOMAIN = ROOT / "pipeline" / "domain"
#: Top-level packages the domain logic must not import: the stream framework and every Kafka client.
STREAM_LAYER = {"faust", "mode", "aiokafka", "kafka"}


def test_every_import_contract_is_kept() -> None:
    linter = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def imported_packages(source: str) -> set[str]:
    """The top-level package of every absolute import in ``source``, wherever it stands (in a function too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_imported_packages_sees_plain_from_and_nested_imports() -> None:
    source = "import kafka.errors\nfrom faust import App\ndef f():\n    import aiokafka as a\nfrom . import x\n"
    assert imported_packages(source) == {"kafka", "faust", "aiokafka"}


def test_no_domain_module_imports_faust_or_a_kafka_client() -> None:
    modules = sorted(DOMAIN.rglob("*.py"))
    assert len(modules) > 10  # the walk found the package
    offending = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path.read_text()) & STREAM_LAYER) for path in modules
    }
    assert {path: names for path, names in offending.items() if names} == {}


def import_circles(graph: grimp.ImportGraph) -> set[tuple[str, str]]:
    """Every direct import ``(importer, imported)`` whose imported module leads back to the importer."""
    return {
        (importer, imported)
        for importer in graph.modules
        for imported in graph.find_modules_directly_imported_by(importer)
        if graph.chain_exists(importer=imported, imported=importer)
    }


def test_import_circles_finds_a_circle_of_three() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]:
        graph.add_import(importer=importer, imported=imported)
    assert import_circles(graph) == {("a", "b"), ("b", "c"), ("c", "a")}


def test_no_module_of_ours_imports_itself_back() -> None:
    # Not even through the Faust app: Faust's autodiscover registers the agents, tables and pages on it.
    graph = grimp.build_graph("config", "pipeline", "agents", "tables", cache_dir=None)
    assert "pipeline.app" in graph.modules and "agents.tracking" in graph.modules
    assert import_circles(graph) == set()
