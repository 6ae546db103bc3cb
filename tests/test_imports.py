"""The import rules of pyproject.toml's [tool.importlinter] contracts hold (``lint-imports``), and the domain
logic imports no Faust or Kafka client, not even one that lint-imports does not follow (third-party packages)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
