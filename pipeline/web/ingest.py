"""HTTP ingest, the handlers of the public listener (``pipeline.web.listener``): ``GET /t.gif``, ``POST /events``.

An answer of success means the broker acknowledged every event of the request on ``tracking.raw``
(acks=all); whatever was not acknowledged within ``ingest_timeout_s`` makes the answer 503. A
write that times out may still land later, so clients retry with the same event_id and the
pipeline's dedupe keeps the event once. Parsing and limits live in ``pipeline.web.collect``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

import orjson
from aiohttp import web

from pipeline.app import app, settings
from pipeline.domain.tracing import forwarded_traceparent, known_trace_id
from pipeline.web.admission import Admission
from pipeline.web.collect import (
    GIF, IngestLimits, IngestRecord, Refusal, Refused, batch_records, ingest_headers, is_ndjson, pixel_event,
    pixel_record,
)

log = logging.getLogger(__name__)

LIMITS = IngestLimits(settings.ingest_max_body_bytes, settings.ingest_max_batch, settings.max_event_bytes)
RETRY_AFTER_S = "1"
WARN_EVERY_S = 10.0

PIXEL_HEADERS = {"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache", "Expires": "0"}
RETRY_HEADERS = {"Retry-After": RETRY_AFTER_S}
REFUSAL_STATUS = {
    Refusal.BODY_TOO_LARGE: 413, Refusal.BATCH_TOO_LARGE: 413, Refusal.EVENT_TOO_LARGE: 413, Refusal.EMPTY: 400,
}

#: Requests served at once; beyond that the answer is 503 at once (shed load rather than queue it).
#: POST bodies are held in memory whole (up to ingest_max_body_bytes each), hence the lower limit, and
#: a client sending its body slowly holds a slot until ingest_body_timeout_s: hence the per-client one.
pixels = Admission(settings.ingest_max_pixels)
posts = Admission(settings.ingest_max_posts, settings.ingest_max_posts_per_client)


class Warnings:
    """At most one warning per ``WARN_EVERY_S``, with a count of those held back: an outage must not flood the log."""

    def __init__(self) -> None:
        self.last = 0.0
        self.held = 0

    def warn(self, message: str, *args: Any, extra: dict[str, Any] | None = None) -> None:
        now = time.monotonic()
        if now - self.last < WARN_EVERY_S:
            self.held += 1
            return
        log.warning(message + " (%d similar warning(s) held back)", *args, self.held, extra=extra)
        self.last, self.held = now, 0


throttled = Warnings()


async def write(records: Sequence[IngestRecord], headers: list[tuple[str, bytes]]) -> list[int]:
    """Write ``records`` to the raw topic; return the indexes of those the broker did not acknowledge in time.

    Nothing here cancels a send: a record handed to the producer may still be written after the
    deadline, but the answer was decided at the deadline and is never revised.
    """
    producer = app.producer
    # The log fields of the request's warnings: its trace id ties them to the client's own logs.
    about = {"topic": settings.topic_raw, "trace_id": known_trace_id(headers)}
    futures: list[asyncio.Future[Any]] = []
    try:
        # One deadline for both steps: the producer's send can block too (metadata, a full batch
        # while the broker stalls).
        async with asyncio.timeout(settings.ingest_timeout_s):
            for key, value in records:
                futures.append(await producer.send(settings.topic_raw, key, value, None, None, headers))
            await asyncio.wait(futures)  # the timeout cancels this wait, never the sends
    except TimeoutError:
        pass
    except Exception as exc:  # not written, whatever the reason: the client is told so
        throttled.warn("ingest: the producer refused a write to %s: %r", settings.topic_raw, exc, extra=about)
    unconfirmed = [i for i, f in enumerate(futures) if not f.done() or f.cancelled() or f.exception() is not None]
    unconfirmed.extend(range(len(futures), len(records)))
    if unconfirmed:
        for f in futures:
            if not f.done():
                f.add_done_callback(_retrieve)
        throttled.warn(
            "ingest: %d of %d event(s) not acknowledged on %s within %s s; answered 503",
            len(unconfirmed), len(records), settings.topic_raw, settings.ingest_timeout_s, extra=about,
        )
    return unconfirmed


def _retrieve(future: asyncio.Future[Any]) -> None:
    # Mark a late failure as seen so asyncio does not log "exception was never retrieved".
    if not future.cancelled():
        future.exception()


async def read_body(request: web.Request, limit: int) -> bytes | Refused:
    """The whole body, never buffering more than ``limit`` + one chunk's worth."""
    if request.content_length is not None and request.content_length > limit:
        return Refused(Refusal.BODY_TOO_LARGE, f"Content-Length {request.content_length} is over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async with asyncio.timeout(settings.ingest_body_timeout_s):
        while chunk := await request.content.read(limit + 1 - size):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                return Refused(Refusal.BODY_TOO_LARGE, f"the body is over {limit} bytes")
    return b"".join(chunks)


def answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json", headers=headers)


def refuse(refused: Refused) -> web.Response:
    return answer(REFUSAL_STATUS[refused.reason], {"error": refused.detail, "refusal": refused.reason.value})


def unavailable(error: str, accepted: int, unconfirmed: Sequence[int] | str) -> web.Response:
    """503: ``unconfirmed`` lists every event not known to be written ("all" when the body was never read)."""
    unlisted = unconfirmed if isinstance(unconfirmed, str) else list(unconfirmed)
    return answer(503, {"error": error, "accepted": accepted, "unconfirmed": unlisted}, RETRY_HEADERS)


def received_now() -> int:
    return int(time.time() * 1000)


def client(request: web.Request) -> str:
    return request.remote or "unknown"


async def pixel(request: web.Request) -> web.Response:
    """The tracking pixel: records one event, then answers a 1x1 transparent GIF."""
    who = client(request)
    if not pixels.admit(who):
        return unavailable("too many requests in flight", 0, [0])
    try:
        headers = request.headers
        now = received_now()
        event = pixel_event(request.query, headers.get("User-Agent"), request.remote, headers.get("Referer"), now)
        record = pixel_record(event, settings.max_event_bytes)
        if isinstance(record, Refused):
            return refuse(record)
        traceparent = forwarded_traceparent(headers.get("traceparent"))
        unconfirmed = await write((record,), ingest_headers(now, traceparent))
    finally:
        pixels.release(who)
    if unconfirmed:
        # An event id is the client's: like the payload, it stays below info level.
        log.debug("ingest: pixel event not acknowledged on %s", settings.topic_raw,
                  extra={"topic": settings.topic_raw, "event_id": event.get("event_id"),
                         "trace_id": known_trace_id(traceparent)})
        return unavailable("the broker did not acknowledge the event in time", 0, unconfirmed)
    return web.Response(body=GIF, content_type="image/gif", headers=PIXEL_HEADERS)


async def pixel_head(request: web.Request) -> web.Response:
    # A probe or a link checker: the same headers, nothing recorded.
    return web.Response(body=GIF, content_type="image/gif", headers=PIXEL_HEADERS)


async def events(request: web.Request) -> web.Response:
    """One JSON event, or NDJSON (one event per line): 202 once every event is acknowledged."""
    who = client(request)
    if not posts.admit(who):
        # Refused before the body is read: no event of it was written, whatever it holds. The
        # connection is closed rather than the unread body drained.
        response = unavailable("too many requests in flight", 0, "all")
        response.force_close()
        return response
    try:
        return await ingest(request)
    except ConnectionError:
        # The client went away mid-body: nothing was written and there is no one to answer.
        log.debug("ingest: %s disconnected before its body arrived", who)
        return answer(400, {"error": "the connection was lost"})
    finally:
        posts.release(who)


async def ingest(request: web.Request) -> web.Response:
    now = received_now()  # when the request came, not when its body had arrived
    try:
        body = await read_body(request, LIMITS.max_body_bytes)
    except TimeoutError:
        error = f"the body did not arrive within {settings.ingest_body_timeout_s} s"
        response = answer(408, {"error": error, "accepted": 0, "unconfirmed": "all"})
        response.force_close()  # the rest of a slow body is not waited for
        return response
    if isinstance(body, Refused):
        return refuse(body)
    records = batch_records(body, is_ndjson(request.content_type, body), LIMITS)
    if isinstance(records, Refused):
        return refuse(records)
    unconfirmed = await write(records, ingest_headers(now, forwarded_traceparent(request.headers.get("traceparent"))))
    if unconfirmed:
        error = f"the broker did not acknowledge {len(unconfirmed)} of {len(records)} event(s) in time"
        return unavailable(error, len(records) - len(unconfirmed), unconfirmed)
    return answer(202, {"accepted": len(records)})


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers. Readiness of the broker is what the ingest answers themselves say."""
    return answer(200, {"status": "alive"})
