"""How values read on the pages: numbers, money, rates, times, lists. Pure, no Faust.

``static/live.js`` formats live values the same way; the templates reach these as filters and tests
(``pipeline.web.render``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import orjson

NONE = "—"


def fmt(value: Any, kind: str = "") -> str:
    if value is None:
        return NONE
    if kind == "rate":
        return f"{value:,.2f}/s"
    if kind == "money":
        text = f"{value:,.6f}".rstrip("0")
        return text + "0" * (2 - len(text.rsplit(".", 1)[1]))
    if kind == "time":
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(value / 1000))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list) and not any(isinstance(v, (list, dict)) for v in value):
        return ", ".join(fmt(v) for v in value) or NONE
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode()
    return str(value)


def is_time(name: str) -> bool:
    """Epoch-millisecond fields: ``at``, ``*_at``, ``*_ts``."""
    return name == "at" or name.endswith(("_at", "_ts"))


def is_numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_timestamp(name: str, value: Any) -> bool:
    """A value shown as a time: an integer in an epoch-millisecond field."""
    return is_time(name) and isinstance(value, int) and not isinstance(value, bool)


def columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Column names in order of first appearance."""
    return list(dict.fromkeys(name for row in rows for name in row))


def path_for(path: str, *segments: str) -> str:
    """``path`` followed by each segment, percent-encoded whole (so ``/`` in an id stays in its segment)."""
    return path + "".join("/" + quote(s, safe="") for s in segments)


def heading(name: str) -> str:
    """A field name as a column or row heading."""
    return name.replace("_", " ")
