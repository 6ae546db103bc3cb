"""pipeline/web as the developers' guide wants it: small modules, no agent imports, escaping in one place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.harness import ROOT

WEB = ROOT / "pipeline" / "web"
MODULES = sorted(WEB.glob("*.py"))
#: Imports of agents/ that web still has, and why; a new one fails, and so does one that is gone.
KNOWN_AGENT_IMPORTS: dict[str, str] = {}


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_every_web_module_is_under_300_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) < 300


def test_web_imports_no_agent() -> None:
    found = {path.name: sorted(name for name in imported(path) if name.split(".")[0] == "agents") for path in MODULES}
    assert {name: modules for name, modules in found.items() if modules} == {
        name: [why.split(" ")[0]] for name, why in KNOWN_AGENT_IMPORTS.items()}


def test_only_the_charts_escape_by_hand_and_only_their_svg_is_marked_safe() -> None:
    """Pages are escaped by the templates' autoescape; a chart's SVG is built by charts.draw, which escapes
    its every text itself, and render.drawn is the one place that marks a string as markup."""
    assert [path.name for path in MODULES if "html" in imported(path)] == ["charts.py"]
    marking = [path.name for path in MODULES if "Markup(" in path.read_text()]
    assert marking == ["render.py"] and (WEB / "render.py").read_text().count("Markup(") == 1
    assert not [path.name for path in (WEB / "templates").iterdir() if "|safe" in path.read_text().replace(" ", "")]
