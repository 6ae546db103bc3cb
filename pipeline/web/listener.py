"""The public ingest listener: the only HTTP server meant to face the internet.

It serves ingest (``GET``/``HEAD /t.gif``, ``POST /events``) and a liveness probe (``/healthz``) on
``ADTRACK_INGEST_BIND``:``ADTRACK_INGEST_PORT``, and nothing else: the pages, their JSON twins and
Faust's own views stay on the worker's internal web server (``WEB_BIND``:``WEB_PORT``). It starts
and stops with the Faust app, with the same guards as the internal server (``pipeline.web.guard``).
Every answer is counted in ``adtrack_ingest_requests_total`` (``pipeline.runtime.metrics``).
"""

from __future__ import annotations

import logging

import mode
from aiohttp import web

from pipeline.app import app, settings
from pipeline.runtime import metrics
from pipeline.web import ingest
from pipeline.web.guard import guarded_runner
from pipeline.web.server import Handler

log = logging.getLogger(__name__)


@web.middleware
async def counted(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Counts every answer by endpoint and status; a path that is no endpoint counts as ``other``."""
    resource = request.match_info.route.resource
    endpoint = resource.canonical if resource is not None else "other"
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        metrics.ingest_requests.labels(endpoint, str(status)).inc()


def routes() -> web.Application:
    public = web.Application(middlewares=[counted])
    router = public.router
    # HEAD first: aiohttp would otherwise answer HEAD with the GET handler, which records an event.
    router.add_route("HEAD", "/t.gif", ingest.pixel_head)
    router.add_get("/t.gif", ingest.pixel, allow_head=False)
    router.add_post("/events", ingest.events)
    router.add_get("/healthz", ingest.healthz)
    return public


@app.service
class IngestListener(mode.Service):
    """Listens while the worker runs; a request in flight at stop gets its answer or the connection ends."""

    async def on_start(self) -> None:
        self._runner = guarded_runner(routes(), settings)
        await self._runner.setup()
        site = web.TCPSite(self._runner, settings.ingest_bind, settings.ingest_port, reuse_address=True)
        await site.start()
        log.info("ingest listening on http://%s:%s", settings.ingest_bind, settings.ingest_port)

    async def on_stop(self) -> None:
        await self._runner.cleanup()
