"""Control messages that share ``tracking.raw`` with events.

A core-data barrier is written to every partition of ``tracking.raw`` after a core-data change
reached its changelog and before its notification is published. A partition that reaches the
barrier waits until its worker's core-data tables hold at least the listed versions, so every
event produced after the notification is validated against the new data on every worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import orjson

CONTROL_HEADER = "adtrack.control"
BARRIER = b"coredata-barrier"

Version = tuple[str, str, int]  # entity, id, version


def control_kind(headers: Sequence[tuple[str, bytes]] | None) -> bytes | None:
    for name, value in headers or ():
        if name == CONTROL_HEADER:
            return value
    return None


def encode_barrier(versions: Iterable[Version]) -> bytes:
    return orjson.dumps({"versions": [list(v) for v in versions]})


def decode_barrier(value: bytes) -> list[Version]:
    return [(e, i, int(v)) for e, i, v in orjson.loads(value)["versions"]]
