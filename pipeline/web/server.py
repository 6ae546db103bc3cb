"""The worker's internal web server: Faust's aiohttp server with adtrack's guards (``pipeline.web.guard``).

It serves the read-only pages, their JSON twins and, when ``ADTRACK_WEB_FAUST_ROUTES=1``, Faust's own
``/table/`` and ``/router/`` views. Those views raise on a table or key they do not know (a 500 with
a traceback in the log); here that is a 404, logged as one line.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from faust.web.drivers import aiohttp as driver

from config.settings import get_settings
from pipeline.web.guard import guarded_runner

log = logging.getLogger(__name__)

#: Faust's own views (faust.web.base.DEFAULT_BLUEPRINTS): off unless ADTRACK_WEB_FAUST_ROUTES=1.
FAUST_PREFIXES = ("/table/", "/router/")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def faust_views_never_fail(tables: Mapping[str, Any]) -> Any:
    """Middleware: Faust's views answer 404, never 503 or 500, for a table, key or route they do not have."""

    def not_found() -> web.Response:
        return web.json_response({"error": "not found"}, status=404)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(FAUST_PREFIXES):
            return await handler(request)
        # /table/<name>/[<key>/], /router/<name>/[<key>/]: Faust says 503 for an unknown table name.
        name = request.path.split("/")[2]
        if name and name != "topics" and name not in tables:
            return not_found()
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:  # a key Faust's view could not find or decode
            log.info("%s answered 404: %s", request.path, type(exc).__name__)
            return not_found()

    return middleware


class Web(driver.Web):
    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.web_app.middlewares.append(faust_views_never_fail(app.tables))
        self._runner = guarded_runner(self.web_app, get_settings())
