"""``GET /metrics`` on the worker's internal web server: Prometheus text of ``pipeline.runtime.metrics.registry``.

What the hot paths count is in ``pipeline.runtime.metrics``; what is read at scrape time is collected here:
consumer lag per partition of the raw topic (the tracking group's committed offsets against the end
offsets, shared with the dashboard's one-second cache), tracking state held and the memory of its
stores, live core-data rows, core-data updates by result and notifications delivered per subscription.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from pipeline.app import app
from pipeline.runtime.metrics import coredata_updates as coredata_counts
from pipeline.runtime.metrics import registry
from pipeline.state import store
from pipeline.state.held import held
from pipeline.web.queries import coredata_cache, lag, live_counts
from pipeline.web.routing import holds
from tables.subscriptions import delivered


class ScrapeTime:
    """The values read when Prometheus scrapes; the async ones are fetched by the view just before."""

    def __init__(self) -> None:
        self.lag: list[dict[str, Any]] = []
        self.coredata_rows: dict[str, int] = {}

    async def refresh(self) -> None:
        found = await lag.get()
        self.lag = found if isinstance(found, list) else []  # unknown lag is left out, not reported as 0
        self.coredata_rows = await coredata_cache.get("counts", live_counts)

    def collect(self) -> Iterator[Metric]:
        lag = GaugeMetricFamily("adtrack_consumer_lag", "Records of tracking.raw not yet committed by the "
                                "tracking group, per partition.", labels=["partition"])
        for row in self.lag:
            lag.add_metric([str(row["partition"])], row["lag"])
        yield lag
        yield GaugeMetricFamily("adtrack_partitions_held", "Partitions of tracking.raw whose state this worker "
                                "holds.", value=len(held.states))
        yield GaugeMetricFamily("adtrack_spend_rows", "Campaigns with spend in the state this worker holds.",
                                value=sum(len(state.spend_rows()) for state in held.states.values()))
        memory = GaugeMetricFamily("adtrack_state_memory_bytes", "Memory of the tracking state's stores by part: "
                                   "the block cache they share (bounded) and the memtables of the partitions held.",
                                   labels=["part"])
        memory.add_metric(["block_cache"], store.cache_bytes())
        memory.add_metric(["memtables"], sum(state.store.memtable_bytes() for state in held.states.values()))
        yield memory
        rows = GaugeMetricFamily("adtrack_coredata_rows", "Live core-data rows per entity.", labels=["entity"])
        for entity, n in self.coredata_rows.items():
            rows.add_metric([entity], n)
        yield rows
        updates = CounterMetricFamily("adtrack_coredata_updates", "Core-data updates by result (applied, ignored, "
                                      "republished, dead_lettered) on this worker.", labels=["result"])
        for result in ("applied", "ignored", "republished", "dead_lettered"):
            updates.add_metric([result], coredata_counts[result])
        yield updates
        notifications = CounterMetricFamily("adtrack_notifications", "Notifications delivered per subscription, "
                                            "reported by the worker that delivers them.", labels=["subscription"])
        if holds(delivered, 0):  # elsewhere the counts may be stale
            for name, n in delivered.items():
                notifications.add_metric([name], n)
        yield notifications


scrape_time = ScrapeTime()
registry.register(scrape_time)


@app.page("/metrics")
class Metrics(View):
    async def get(self, request: Request) -> Response:
        await scrape_time.refresh()
        # In the headers: aiohttp refuses a content_type argument that names a charset.
        return self.bytes(generate_latest(registry),
                          headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})
