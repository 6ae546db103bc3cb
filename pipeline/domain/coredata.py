"""Core data: update validation and the version rules.

An update is ``{"entity", "op", "id", "version", "data"}``. The stored form of an entity is
``{"version", "deleted", "data", ...}``; a delete keeps a versioned tombstone so that an older
upsert arriving late cannot bring the entity back. ``apply`` is pure: it returns the new stored form or
``None`` when the update is not newer than what is stored; ``notification`` says what changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from pipeline.domain.codec import decode_object
from pipeline.domain.errors import SchemaError
from pipeline.domain.events import MAX_ID_CHARS

Data = dict[str, Any]

ENTITIES = ("campaign", "publisher", "slot", "budget")
OPS = ("upsert", "delete")


def _string(value: Any) -> bool:
    return type(value) is str and value != ""


def _ms_or_null(value: Any) -> bool:
    return value is None or type(value) is int


def _number(value: Any) -> bool:
    return type(value) in (int, float) and value >= 0


def _dimension(value: Any) -> bool:
    return type(value) is int and value > 0


def _id_list_or_null(value: Any) -> bool:
    return value is None or (type(value) is list and all(_string(v) for v in value))


def _one_of(*choices: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return value in choices

    check.__doc__ = "one of " + ", ".join(choices)
    return check


# entity -> field -> (check, what a valid value is)
SCHEMAS: dict[str, dict[str, tuple[Callable[[Any], bool], str]]] = {
    "campaign": {
        "name": (_string, "a non-empty string"),
        "advertiser_id": (_string, "a non-empty string"),
        "advertiser_name": (_string, "a non-empty string"),
        "status": (_one_of("active", "paused", "ended"), "one of active, paused, ended"),
        "start_ts": (lambda v: type(v) is int, "epoch milliseconds"),
        "end_ts": (_ms_or_null, "epoch milliseconds or null"),
        "pricing_model": (_one_of("cpm", "cpc", "cpa"), "one of cpm, cpc, cpa"),
        "price": (_number, "a number >= 0"),
        "publishers": (_id_list_or_null, "a list of publisher ids, or null for all"),
    },
    "publisher": {
        "name": (_string, "a non-empty string"),
        "domain": (_string, "a non-empty string"),
        "status": (_one_of("active", "blocked"), "one of active, blocked"),
    },
    "slot": {
        "publisher_id": (_string, "a non-empty string"),
        "format": (_one_of("banner", "video", "native"), "one of banner, video, native"),
        "width": (_dimension, "a positive integer"),
        "height": (_dimension, "a positive integer"),
    },
    "budget": {"total": (_number, "a number >= 0")},
}


@dataclasses.dataclass(frozen=True, slots=True)
class Update:
    entity: str
    op: str
    id: str
    version: int
    data: Data | None

    @property
    def key(self) -> str:
        return f"{self.entity}:{self.id}"


def check_data(entity: str, data: Any) -> Data:
    """Check an entity's data against its schema; raise ``SchemaError`` naming every problem."""
    if type(data) is not dict:
        raise SchemaError(f"{entity} data must be a JSON object")
    schema = SCHEMAS[entity]
    problems = [f"unknown field {name!r}" for name in data if name not in schema]
    for name, (check, expected) in schema.items():
        if name not in data:
            problems.append(f"{name} is missing")
        elif not check(data[name]):
            problems.append(f"{name} must be {expected}, got {data[name]!r}")
    # Checked whenever both are valid integers, so that it is named next to any other problem.
    if entity == "campaign" and type(data.get("start_ts")) is int and type(data.get("end_ts")) is int:
        if data["end_ts"] <= data["start_ts"]:
            problems.append("end_ts must be after start_ts")
    if problems:
        raise SchemaError(f"{entity}: " + "; ".join(problems))
    return data


def decode_update(value: bytes | None) -> Update:
    """Decode and check one core-data update, or raise the ``PoisonError`` that says why not."""
    return parse_update(decode_object(value))


def parse_update(raw: Data) -> Update:
    entity, op, id_, version = raw.get("entity"), raw.get("op"), raw.get("id"), raw.get("version")
    if entity not in ENTITIES:
        raise SchemaError(f"entity must be one of {', '.join(ENTITIES)}, got {entity!r}")
    if op not in OPS:
        raise SchemaError(f"op must be one of {', '.join(OPS)}, got {op!r}")
    if not _string(id_):
        raise SchemaError("id must be a non-empty string")
    if len(id_) > MAX_ID_CHARS:
        raise SchemaError(f"id is over {MAX_ID_CHARS} characters")
    if type(version) is not int or version < 1:
        raise SchemaError(f"version must be an integer >= 1, got {version!r}")
    data = check_data(entity, raw.get("data")) if op == "upsert" else None
    return Update(entity, op, id_, version, data)


def changed_fields(previous: Data | None, data: Data | None) -> list[str]:
    if data is None:
        return []
    if previous is None:
        return sorted(data)
    names = set(previous) | set(data)
    return sorted(n for n in names if previous.get(n, _MISSING) != data.get(n, _MISSING))


_MISSING = object()


def apply(stored: Data | None, update: Update, now_ms: int) -> Data | None:
    """The new stored form after ``update``, or None when the update is not newer than ``stored``.

    The stored form keeps what its notification needs (previous version, changed fields), so the
    notification can be published again if the worker dies before it was sent.
    """
    previous_version = None if stored is None else stored["version"]
    if previous_version is not None and update.version <= previous_version:
        return None
    previous_data = None if stored is None or stored["deleted"] else stored["data"]
    return {
        "version": update.version,
        "deleted": update.op == "delete",
        "data": update.data,
        "at": now_ms,
        "previous_version": previous_version,
        "changed_fields": changed_fields(previous_data, update.data),
    }


def notification(entity: str, id_: str, stored: Data) -> Data:
    """The change notification for the update that produced ``stored``."""
    return {
        "entity": entity,
        "id": id_,
        "op": "delete" if stored["deleted"] else "upsert",
        "version": stored["version"],
        "previous_version": stored["previous_version"],
        "changed_fields": stored["changed_fields"],
        "data": stored["data"],
        "at": stored["at"],
    }


def live_data(stored: Data | None) -> Data | None:
    """The data of a stored entity, or None when it does not exist or was deleted."""
    if stored is None or stored["deleted"]:
        return None
    return stored["data"]
