"""Which worker answers what, and asking the others.

Core data is on every worker (global tables), but spend, the live counts and the subscriptions' delivery
counts are not: the tracking group's assignor tells every member which worker holds which partition of
tracking.raw (``pipeline.state.held``), Faust's assignor which worker holds which table partition. A
request another worker owns is forwarded to it once (``X-Adtrack-Forwarded`` stops a second hop); one
the owner does not answer is answered here with what this worker has.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import orjson
from faust.types import TP
from faust.web import Request, Response, View

from pipeline.app import app
from pipeline.state.held import held
from pipeline.web import render
from pipeline.web.answers import HTML_HEADERS
from pipeline.web.readings import why

log = logging.getLogger(__name__)

#: Set on requests between workers: a forwarded request is answered where it lands (no loops).
FORWARDED = "X-Adtrack-Forwarded"
PEER_TIMEOUT_S = 2.0  # a worker's local stats or spend
FORWARD_TIMEOUT_S = 8.0  # a whole page from its owner, which gathers stats and reads notifications itself
#: The owner's headers a forwarded answer keeps.
KEPT_HEADERS = ("Content-Type", "Vary", "Cache-Control", *HTML_HEADERS)
#: What asking another worker can fail with: it is down, slow, answers an error status or no JSON.
PEER_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, ValueError)


def my_url() -> str:
    return str(app.conf.canonical_url)


def raw_partitions() -> list[int]:
    """The partitions of the raw topic whose tracking state this worker holds."""
    return held.partitions()


def identity(request: Request) -> render.Identity:
    return render.Identity(my_url(), app.conf.id, raw_partitions(), request.headers.get(FORWARDED))


def members() -> list[str]:
    """The web URLs of the group's workers, as the last assignment told every member."""
    assignor = app.assignor
    faust_members = set(assignor.tables_metadata()) | set(assignor.external_topics_metadata())
    return sorted(faust_members | set(held.owners.values()) | {my_url()})


def changelog_tp(table: Any, partition: int) -> TP:
    return TP(table.changelog_topic.get_topic_name(), partition)


def owner(table: Any, partition: int) -> str | None:
    """The worker that holds ``partition`` of ``table`` as active, or None before the first assignment."""
    tp = changelog_tp(table, partition)
    for url, topics in app.assignor.table_metadata(tp.topic).items():
        if partition in topics.get(tp.topic, ()):
            return url
    return None


def holds(table: Any, partition: int) -> bool:
    """Whether this worker holds ``partition`` of ``table`` as active (elsewhere its values may be stale)."""
    return app.assignor.is_active(changelog_tp(table, partition))


async def peer_json(url: str, path: str) -> Any:
    """The JSON another worker answers for ``path``; raises one of ``PEER_ERRORS``."""
    timeout = aiohttp.ClientTimeout(total=PEER_TIMEOUT_S)
    headers = {FORWARDED: my_url(), "Accept": "application/json"}
    async with app.http_client.get(url + path, headers=headers, timeout=timeout) as response:
        response.raise_for_status()
        return orjson.loads(await response.read())


async def forward(view: View, request: Request, to: str | None) -> Response | None:
    """The owner's answer to ``request``, or None to answer here (we own it, it is unknown, or unreachable)."""
    if to is None or to == my_url() or request.headers.get(FORWARDED):
        return None
    timeout = aiohttp.ClientTimeout(total=FORWARD_TIMEOUT_S)
    headers = {FORWARDED: my_url(), "Accept": request.headers.get("Accept", "*/*")}
    try:
        async with app.http_client.get(to + request.path_qs, headers=headers, timeout=timeout) as answer:
            body = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k in KEPT_HEADERS}
            return view.bytes(body, status=answer.status, headers=kept)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        log.warning("could not forward %s to its owner %s (%s); answering here", request.path_qs, to, why(exc))
        return None
