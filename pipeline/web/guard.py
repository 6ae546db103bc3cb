"""What both of adtrack's HTTP servers (public ingest, internal pages) hold against hostile clients.

- A request line or header over ``ADTRACK_WEB_MAX_LINE_BYTES``, or more than ``ADTRACK_WEB_MAX_HEADERS``
  headers, is refused by the parser (400) before any handler runs; the refusal is logged by its kind
  and client, never by the bytes sent (the parser's own message quotes them).
- A request head must arrive whole within ``ADTRACK_WEB_HEAD_TIMEOUT_S`` of the connection opening
  (or of its first byte, on a kept-alive connection); else the connection is closed. Without this a
  client holds a connection forever by sending half a head.
- An idle keep-alive connection is closed after ``ADTRACK_WEB_KEEPALIVE_S`` (aiohttp's own timer).
- Every answer says ``X-Content-Type-Options: nosniff``: a browser must not run a JSON answer that
  echoes client input as a script or page.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web import AppRunner, Application, Request, Server, StreamResponse
from aiohttp.web_protocol import RequestHandler

from config.settings import Settings

log = logging.getLogger(__name__)


class RequestLog(logging.LoggerAdapter):
    """The HTTP server's log, telling a malformed request by its kind and client only."""

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            client = args[0] if args else "unknown client"
            self.warning("refused a malformed request from %s: %s (%s)", client, type(exc_info).__name__, exc_info.code)
            return
        super().exception(msg, *args, exc_info=exc_info, **kwargs)


class HeadDeadlineHandler(RequestHandler):
    """aiohttp's connection handler, closing a connection whose request head does not arrive in time."""

    head_timeout_s = 10.0
    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        requests = self._request_count
        super().data_received(data)
        if self._request_count != requests:  # a whole head was parsed
            self._disarm()
        elif self._head_deadline is None and not self._request_in_progress and not self._messages:
            self._arm()  # the first bytes of the next request on a kept-alive connection

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._head_deadline = self._loop.call_later(self.head_timeout_s, self._head_overdue)

    def _disarm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_overdue(self) -> None:
        self._head_deadline = None
        waiting = self._waiter is not None and not self._waiter.done() and not self._messages
        if waiting:  # never cut a request that is being handled
            peer = self.transport.get_extra_info("peername") if self.transport is not None else None
            log.debug("closed a connection from %s: no whole request head within %s s", peer, self.head_timeout_s)
            self.force_close()


class GuardedServer(Server):
    head_timeout_s = 10.0

    def __call__(self) -> RequestHandler:
        handler = HeadDeadlineHandler(self, loop=self._loop, **self._kwargs)
        handler.head_timeout_s = self.head_timeout_s
        return handler


class GuardedRunner(AppRunner):
    def __init__(self, app: Application, head_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.head_timeout_s = head_timeout_s

    async def _make_server(self) -> Server:
        server = await super()._make_server()
        # aiohttp builds its Server inside the application; this subclass changes only which handler
        # each new connection gets.
        server.__class__ = GuardedServer
        server.head_timeout_s = self.head_timeout_s  # type: ignore[attr-defined]
        return server


async def _nosniff(request: Request, response: StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")


def guarded_runner(web_app: Application, settings: Settings) -> AppRunner:
    """The runner of ``web_app`` with adtrack's head limits, deadlines and response headers."""
    web_app.on_response_prepare.append(_nosniff)
    return GuardedRunner(
        web_app,
        head_timeout_s=settings.web_head_timeout_s,
        keepalive_timeout=settings.web_keepalive_s,
        access_log=None,
        logger=RequestLog(logging.getLogger("aiohttp.server"), {}),
        max_line_size=settings.web_max_line_bytes,
        max_field_size=settings.web_max_line_bytes,
        max_headers=settings.web_max_headers,
    )
