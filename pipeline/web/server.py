"""The worker's HTTP server: Faust's aiohttp server with adtrack's request-head limits.

The ingest endpoints face the internet. A request whose line or headers are oversized is refused
by the parser (400) before any handler runs, with limits from the settings rather than the
library's defaults, and the refusal is logged by its kind and client, not by the bytes that were
sent (the parser's own message quotes them).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web import AppRunner
from faust.web.drivers import aiohttp as driver

from config.settings import get_settings


class RequestLog(logging.LoggerAdapter):
    """The HTTP server's log, telling a malformed request by its kind and client only."""

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        if isinstance(exc_info, HttpProcessingError):
            client = args[0] if args else "unknown client"
            self.warning("refused a malformed request from %s: %s (%s)", client, type(exc_info).__name__, exc_info.code)
            return
        super().exception(msg, *args, exc_info=exc_info, **kwargs)


class Web(driver.Web):
    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        settings = get_settings()
        self._runner = AppRunner(
            self.web_app,
            access_log=None,
            logger=RequestLog(logging.getLogger("aiohttp.server"), {}),
            max_line_size=settings.web_max_line_bytes,
            max_field_size=settings.web_max_line_bytes,
            max_headers=settings.web_max_headers,
        )
