from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.stream import Stream


@pytest.fixture
def report(artifacts: Path, request: pytest.FixtureRequest):  # noqa: ANN201
    """Checks a stream's verdict against the invariant and keeps its table under test-artifacts."""

    def check(stream: Stream, duplicates: int | None = None) -> None:
        verdict = stream.verdict()
        table = verdict.table()
        (artifacts / f"{request.node.name}.txt").write_text(table + "\n")
        print(f"\n{request.node.name}\n{table}")
        total = verdict.total
        assert total.events == stream.produced  # every event the broker acknowledged (all of them, unless stopped)
        assert total.missing == 0, "\n".join(verdict.problems[:20])
        assert total.wrong == 0, "\n".join(verdict.problems[:20])
        assert not verdict.problems, "\n".join(verdict.problems[:20])
        if duplicates is not None:
            assert total.duplicates == duplicates

    return check
