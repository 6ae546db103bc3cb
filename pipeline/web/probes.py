"""Health probes on the worker's internal web server: ``/healthz`` (alive) and ``/ready`` (can do its work).

``/ready`` answers 200 once the worker's Faust tables are recovered, its tracking consumer has joined
the tracking group (it knows who holds each partition, itself possibly none), and a broker answers
within ``READY_BROKER_TIMEOUT_S``; else 503 with the reasons. A later rebalance does not make a worker
unready: ingest and the pages go on meanwhile.
"""

from __future__ import annotations

import dataclasses

from faust.web import Request, Response, View

from pipeline.app import app, settings
from pipeline.domain.errors import ConfigError
from pipeline.kafka.admin import check_brokers
from pipeline.state.held import held

READY_BROKER_TIMEOUT_S = 2.0
HEADERS = {"Cache-Control": "no-store"}


async def unready_reasons() -> list[str]:
    """Why this worker is not ready; empty when it is."""
    reasons = []
    if not app.tables.recovery.completed.is_set():
        reasons.append("tables are not recovered yet")
    if not held.owners:
        reasons.append("the tracking consumer has not joined its group yet")
    try:
        await check_brokers(dataclasses.replace(settings, broker_check_timeout_s=READY_BROKER_TIMEOUT_S))
    except ConfigError as exc:
        reasons.append(str(exc))
    return reasons


@app.page("/healthz")
class Healthz(View):
    async def get(self, request: Request) -> Response:
        return self.json({"status": "alive"}, headers=dict(HEADERS))


@app.page("/ready")
class Ready(View):
    async def get(self, request: Request) -> Response:
        reasons = await unready_reasons()
        if reasons:
            return self.json({"status": "not ready", "reasons": reasons}, status=503, headers=dict(HEADERS))
        return self.json({"status": "ready", "partitions": held.partitions()}, headers=dict(HEADERS))
