"""The decision records in docs/decisions: every one the code names exists, and the index lists them all."""

from __future__ import annotations

import re
from tests.harness import ROOT

DECISIONS = ROOT / "docs" / "decisions"
NAMED = re.compile(r"docs/decisions/[\w.-]+\.md")


def test_every_decision_record_the_code_names_exists() -> None:
    named = {(path.relative_to(ROOT), name) for folder in ("pipeline", "agents", "tables", "config")
             for path in (ROOT / folder).rglob("*.py") for name in NAMED.findall(path.read_text())}
    assert named, "no module names a decision record"
    assert [(str(path), name) for path, name in sorted(named) if not (ROOT / name).is_file()] == []


def test_the_index_links_every_record_and_each_record_has_context_decision_and_consequences() -> None:
    index = (DECISIONS / "README.md").read_text()
    records = sorted(p for p in DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert records
    for record in records:
        assert f"]({record.name})" in index, record.name
        text = record.read_text()
        assert text.startswith(f"# {record.name[:4]}: "), record.name
        assert [h for h in ("## Context", "## Decision", "## Consequences") if h not in text] == [], record.name
