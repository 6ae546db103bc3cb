"""HTTP ingest on the worker's web server: ``GET /t.gif`` (tracking pixel) and ``POST /events``.

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

from faust.web import Request, Response, View

from pipeline.app import app, settings
from pipeline.web.collect import (
    GIF, Limits, Record, Refusal, Refused, batch_records, is_ndjson, pixel_event, pixel_record,
)

log = logging.getLogger(__name__)

LIMITS = Limits(settings.ingest_max_body_bytes, settings.ingest_max_batch, settings.max_event_bytes)
#: Requests served at once; beyond that the answer is 503 at once (shed load rather than queue it).
#: POST bodies are held in memory whole (up to ingest_max_body_bytes each), hence the lower bound.
MAX_PIXELS_IN_FLIGHT = 4096
MAX_POSTS_IN_FLIGHT = 32
#: A client that has not sent its whole body by then gets 408 and frees its slot.
BODY_READ_TIMEOUT_S = 30.0
RETRY_AFTER_S = "1"
WARN_EVERY_S = 10.0

PIXEL_HEADERS = {"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache", "Expires": "0"}
RETRY_HEADERS = {"Retry-After": RETRY_AFTER_S}
REFUSAL_STATUS = {
    Refusal.BODY_TOO_LARGE: 413, Refusal.BATCH_TOO_LARGE: 413, Refusal.EVENT_TOO_LARGE: 413, Refusal.EMPTY: 400,
}


class Gate:
    """Counts requests in flight against a limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.active = 0


pixels, posts = Gate(MAX_PIXELS_IN_FLIGHT), Gate(MAX_POSTS_IN_FLIGHT)


class Warnings:
    """At most one warning per ``WARN_EVERY_S``, with a count of those held back: an outage must not flood the log."""

    def __init__(self) -> None:
        self.last = 0.0
        self.held = 0

    def warn(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self.last < WARN_EVERY_S:
            self.held += 1
            return
        log.warning(message + " (%d similar warning(s) held back)", *args, self.held)
        self.last, self.held = now, 0


throttled = Warnings()


async def write(records: Sequence[Record], headers: list[tuple[str, bytes]] | None) -> list[int]:
    """Write ``records`` to the raw topic; return the indexes of those the broker did not acknowledge in time.

    Nothing here cancels a send: a record handed to the producer may still be written after the
    deadline, but the answer was decided at the deadline and is never revised.
    """
    producer = app.producer
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
        throttled.warn("ingest: the producer refused a write to %s: %r", settings.topic_raw, exc)
    unconfirmed = [i for i, f in enumerate(futures) if not f.done() or f.cancelled() or f.exception() is not None]
    unconfirmed.extend(range(len(futures), len(records)))
    if unconfirmed:
        for f in futures:
            if not f.done():
                f.add_done_callback(_retrieve)
        throttled.warn(
            "ingest: %d of %d event(s) not acknowledged on %s within %s s; answered 503",
            len(unconfirmed), len(records), settings.topic_raw, settings.ingest_timeout_s,
        )
    return unconfirmed


def _retrieve(future: asyncio.Future[Any]) -> None:
    # Mark a late failure as seen so asyncio does not log "exception was never retrieved".
    if not future.cancelled():
        future.exception()


def trace_headers(request: Request) -> list[tuple[str, bytes]] | None:
    traceparent = request.headers.get("traceparent")
    if traceparent is None:
        return None
    return [("traceparent", traceparent.encode("utf-8", "surrogateescape"))]


async def read_body(request: Request, limit: int) -> bytes | Refused:
    """The whole body, never buffering more than ``limit`` + one chunk's worth."""
    if request.content_length is not None and request.content_length > limit:
        return Refused(Refusal.BODY_TOO_LARGE, f"Content-Length {request.content_length} is over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async with asyncio.timeout(BODY_READ_TIMEOUT_S):
        while chunk := await request.content.read(limit + 1 - size):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                return Refused(Refusal.BODY_TOO_LARGE, f"the body is over {limit} bytes")
    return b"".join(chunks)


class IngestView(View):
    def refuse(self, refused: Refused) -> Response:
        return self.error(REFUSAL_STATUS[refused.reason], refused.detail, refusal=refused.reason.value)

    def unavailable(self, error: str, accepted: int = 0, unconfirmed: Sequence[int] = ()) -> Response:
        return self.error(503, error, headers=RETRY_HEADERS, accepted=accepted, unconfirmed=list(unconfirmed))


@app.page("/t.gif")
class Pixel(IngestView):
    """The tracking pixel: records one event, then answers a 1x1 transparent GIF."""

    async def get(self, request: Request) -> Response:
        if pixels.active >= pixels.limit:
            return self.unavailable("too many requests in flight")
        headers = request.headers
        event = pixel_event(request.query, headers.get("User-Agent"), request.remote, headers.get("Referer"))
        record = pixel_record(event, settings.max_event_bytes)
        if isinstance(record, Refused):
            return self.refuse(record)
        pixels.active += 1
        try:
            unconfirmed = await write((record,), trace_headers(request))
        finally:
            pixels.active -= 1
        if unconfirmed:
            return self.unavailable("the broker did not acknowledge the event in time", 0, unconfirmed)
        return self.bytes(GIF, content_type="image/gif", headers=PIXEL_HEADERS)

    async def head(self, request: Request) -> Response:
        # A probe or a link checker: the same headers, nothing recorded.
        return self.bytes(GIF, content_type="image/gif", headers=PIXEL_HEADERS)


@app.page("/events")
class Events(IngestView):
    """One JSON event, or NDJSON (one event per line): 202 once every event is acknowledged."""

    async def post(self, request: Request) -> Response:
        if posts.active >= posts.limit:
            return self.unavailable("too many requests in flight")
        posts.active += 1
        try:
            return await self.ingest(request)
        finally:
            posts.active -= 1

    async def ingest(self, request: Request) -> Response:
        try:
            body = await read_body(request, LIMITS.max_body_bytes)
        except TimeoutError:
            return self.error(408, f"the body did not arrive within {BODY_READ_TIMEOUT_S} s")
        if isinstance(body, Refused):
            return self.refuse(body)
        records = batch_records(body, is_ndjson(request.content_type, body), LIMITS)
        if isinstance(records, Refused):
            return self.refuse(records)
        unconfirmed = await write(records, trace_headers(request))
        if unconfirmed:
            error = f"the broker did not acknowledge {len(unconfirmed)} of {len(records)} event(s) in time"
            return self.unavailable(error, len(records) - len(unconfirmed), unconfirmed)
        return self.json({"accepted": len(records)}, status=202)
