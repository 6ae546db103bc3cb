"""tests/unit holds the checks that need no broker, worker or browser: a test here that asks for one is misplaced."""

from __future__ import annotations

from pathlib import Path

import pytest

#: The fixtures of tests/conftest.py that start the embedded broker or workers.
BROKER_FIXTURES = frozenset({"broker", "settings", "kafka", "make_worker", "worker"})
UNIT = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    misplaced = [
        item.nodeid
        for item in items
        if item.path.is_relative_to(UNIT)
        and (BROKER_FIXTURES & set(getattr(item, "fixturenames", ())) or item.get_closest_marker("integration"))
    ]
    if misplaced:
        raise pytest.UsageError(f"these need a broker or a worker, so belong in tests/integration: {misplaced}")
