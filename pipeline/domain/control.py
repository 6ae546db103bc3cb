"""Control records that share ``tracking.raw`` with events, and how to tell them from forgeries.

A core-data barrier is written to every partition of ``tracking.raw`` after a core-data change
reached its changelog and before its notification is published. A partition that reaches the
barrier waits until its worker's core-data tables hold at least the listed versions, so every
event produced after the notification is validated against the new data on every worker.

Any producer of ``tracking.raw`` can set headers, so a barrier holds a partition only when it is
genuine: exactly one ``adtrack.control: coredata-barrier`` header and one ``adtrack.signature``
header, the HMAC-SHA256 of the value under the deployment's secret. A record with any other
control value is an event like any other; a barrier that does not verify is ``Forged`` (the
tracking agent dead-letters it as ``control``) and never holds anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Iterable, Sequence

import orjson

CONTROL_HEADER = "adtrack.control"
SIGNATURE_HEADER = "adtrack.signature"
BARRIER = b"coredata-barrier"
#: The key when ADTRACK_CONTROL_SECRET is empty: fine on a laptop, forgeable by anyone who reads this.
DEVELOPMENT_SECRET = "adtrack-development-secret"

Version = tuple[str, str, int]  # entity, id, version
Headers = Sequence[tuple[str, bytes]]


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    """Not a control record: process it as a raw event."""


@dataclasses.dataclass(frozen=True, slots=True)
class Barrier:
    versions: tuple[Version, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Forged:
    """Claims to be a barrier but is not one we wrote; ``reason`` says why, without its content."""

    reason: str


EVENT = Event()


def signing_key(secret: str) -> bytes:
    return (secret or DEVELOPMENT_SECRET).encode()


def sign(value: bytes, key: bytes) -> bytes:
    return hmac.new(key, value, hashlib.sha256).hexdigest().encode()


def barrier_record(versions: Iterable[Version], key: bytes) -> tuple[bytes, list[tuple[str, bytes]]]:
    """Value and headers of a signed barrier."""
    value = encode_barrier(versions)
    return value, [(CONTROL_HEADER, BARRIER), (SIGNATURE_HEADER, sign(value, key))]


def classify(headers: Headers | None, value: bytes | None, key: bytes) -> Event | Barrier | Forged:
    kinds = [v for n, v in headers or () if n == CONTROL_HEADER]
    if BARRIER not in kinds:
        return EVENT  # no control header, or one we do not know: an event like any other
    if len(kinds) > 1:
        return Forged(f"{len(kinds)} {CONTROL_HEADER} headers on a barrier")
    signatures = [v for n, v in headers or () if n == SIGNATURE_HEADER]
    if len(signatures) != 1:
        return Forged(f"{len(signatures)} {SIGNATURE_HEADER} headers on a barrier, expected 1")
    if value is None:
        return Forged("a barrier without a value")
    if not hmac.compare_digest(signatures[0], sign(value, key)):
        return Forged("the barrier's signature does not verify")
    try:
        return Barrier(tuple(decode_barrier(value)))
    except (ValueError, TypeError, KeyError):
        return Forged("a signed barrier whose value is not a list of versions")


def control_kind(headers: Headers | None) -> bytes | None:
    for name, value in headers or ():
        if name == CONTROL_HEADER:
            return value
    return None


def encode_barrier(versions: Iterable[Version]) -> bytes:
    return orjson.dumps({"versions": [list(v) for v in versions]})


def decode_barrier(value: bytes) -> list[Version]:
    versions = orjson.loads(value)["versions"]
    out = []
    for entity, id_, version in versions:
        if type(entity) is not str or type(id_) is not str or type(version) is not int:
            raise TypeError("a version is [entity, id, version]")
        out.append((entity, id_, version))
    return out
