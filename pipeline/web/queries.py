"""What the pages read: this worker's counts and spend, the other workers' (``routing``), the brokers.

Reads from the brokers are cached for a second or a few (``readings``, ``recent``), so open pages that
refresh every 1.5 s cost the brokers one read per worker, whatever their number.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import defaultdict, deque
from typing import Any
from urllib.parse import urlencode

from aiokafka import TopicPartition

from pipeline.app import app, settings
from pipeline.domain.coredata import ENTITIES
from pipeline.kafka import clients
from pipeline.kafka.offsets import progress_rows
from pipeline.runtime.stats import stats
from pipeline.runtime.timeline import timeline
from pipeline.state.held import held
from pipeline.web import models, paging
from pipeline.web.readings import READ_ERRORS, Reading, why
from pipeline.web.recent import Recent
from pipeline.web.routing import PEER_ERRORS, PEER_TIMEOUT_S, holds, members, my_url, peer_json, raw_partitions
from tables.coredata import TABLES, end_offsets
from tables.subscriptions import delivered, subscriptions

log = logging.getLogger(__name__)

NOTIFICATIONS_SCANNED = 1000  # the latest records of coredata.changes looked at for a campaign page
NOTIFICATIONS_SHOWN = 10
NOTIFICATIONS_TIMEOUT_S = 2.0

coredata_cache, notifications_cache = Recent(1.0), Recent(5.0)


# ---- this worker and the others ----------------------------------------------------------------

def local_spend(campaign_id: str) -> int | None:
    """Micros spent, if this worker holds the campaign's partition."""
    spend = held.spend(campaign_id)
    return None if spend is None else spend.spent_micros


def local_stats(campaign_id: str | None = None) -> dict[str, Any]:
    out = {"worker": my_url(), "app_id": app.conf.id, "partitions": raw_partitions(), "stats": stats.snapshot(),
           "timeline": timeline.snapshot()}
    if campaign_id is not None:
        out["campaign"] = stats.campaign(campaign_id)
    return out


async def gather_stats(campaign_id: str | None = None) -> list[dict[str, Any]]:
    """Every worker's local stats (``error`` in place of one that did not answer)."""
    query = "/stats.json?" + urlencode({"local": 1, **({"campaign": campaign_id} if campaign_id else {})})

    async def one(url: str) -> dict[str, Any]:
        if url == my_url():
            return local_stats(campaign_id)
        try:
            return await peer_json(url, query)
        except PEER_ERRORS as exc:
            return {"worker": url, "error": why(exc)}

    return list(await asyncio.gather(*(one(url) for url in members())))


async def spend_of(campaign_ids: list[str]) -> dict[str, int | None]:
    """Micros spent per campaign, asked of each campaign's owner; None where the owner did not answer."""
    by_owner: dict[str | None, list[str]] = defaultdict(list)
    for cid in campaign_ids:
        by_owner[held.owner(cid)].append(cid)

    async def ask(url: str | None, cids: list[str]) -> dict[str, int | None]:
        if url is None or url == my_url():
            return {cid: local_spend(cid) for cid in cids}
        try:
            return (await peer_json(url, "/spend.json?" + urlencode([("id", cid) for cid in cids])))["spend"]
        except (*PEER_ERRORS, KeyError) as exc:
            log.warning("worker %s did not say what %d campaigns spent: %s", url, len(cids), why(exc))
            return dict.fromkeys(cids)

    result: dict[str, int | None] = {}
    for part in await asyncio.gather(*(ask(url, cids) for url, cids in by_owner.items())):
        result.update(part)
    return result


# ---- the brokers -------------------------------------------------------------------------------

async def consumer_lag() -> list[dict[str, Any]]:
    """Per partition of tracking.raw: end offset (confirmed by a fetch) minus the group's committed offset."""
    count = held.partition_count or settings.partitions
    tps = [TopicPartition(settings.topic_raw, p) for p in range(count)]
    admin = clients.admin(settings)
    await admin.start()
    try:
        ends, committed = await asyncio.gather(
            end_offsets(tps), admin.list_consumer_group_offsets(settings.tracking_group, partitions=tps))
    finally:
        await admin.close()
    return progress_rows({tp: ends[tp] for tp in tps}, committed)


lag = Reading(f"the lag of group {settings.tracking_group} on {settings.topic_raw}", consumer_lag, ttl=1.0,
              timeout=PEER_TIMEOUT_S * 2)


async def live_counts() -> dict[str, int]:
    return {e: sum(1 for stored in TABLES[e].values() if not stored["deleted"]) for e in ENTITIES}


async def notifications(campaign_id: str) -> list[dict[str, Any]]:
    """The newest notifications for campaign:<id> and budget:<id> among the latest on coredata.changes."""
    keys = {f"{entity}:{campaign_id}".encode() for entity in ("campaign", "budget")}
    tp = TopicPartition(settings.topic_coredata_changes, 0)
    found: deque[dict[str, Any]] = deque(maxlen=NOTIFICATIONS_SHOWN)
    consumer = clients.consumer(settings, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        # The embedded broker may report a short end offset; the stop below uses the fetch's highwater.
        end = (await consumer.end_offsets([tp]))[tp]
        consumer.seek(tp, max(0, end - NOTIFICATIONS_SCANNED))
        deadline = time.monotonic() + NOTIFICATIONS_TIMEOUT_S
        while time.monotonic() < deadline:
            for record in (await consumer.getmany(tp, timeout_ms=200)).get(tp, []):
                if record.key in keys:
                    try:
                        found.append(models.notification_row(record.value))
                    except ValueError as exc:
                        log.warning("%s[%d] offset %d (key %r) is no notification, left off the page of campaign "
                                    "%r: %s", record.topic, record.partition, record.offset, record.key,
                                    campaign_id, why(exc))
            highwater = consumer.highwater(tp)
            if highwater is not None and await consumer.position(tp) >= highwater:
                break
    finally:
        await consumer.stop()
    return list(reversed(found))


async def recent_notifications(campaign_id: str) -> list[dict[str, Any]]:
    """``notifications`` cached a few seconds; none, logged, when the brokers could not be read."""
    try:
        found = notifications_cache.get(campaign_id, lambda: notifications(campaign_id))
        return await asyncio.wait_for(found, NOTIFICATIONS_TIMEOUT_S * 2)
    except READ_ERRORS as exc:  # the page still shows everything else
        log.warning("could not read the notifications of campaign %r on %s: %s", campaign_id,
                    settings.topic_coredata_changes, why(exc))
        return []


# ---- table pages -------------------------------------------------------------------------------

async def entity_page(entity: str, size: int, after: str | None, q: str | None) -> tuple[paging.Page, dict]:
    """A page of live entities as table rows, and how to render them; budgets with their spend."""
    found = paging.page(((k, v) for k, v in TABLES[entity].items() if not v["deleted"]), size, after, q)
    options: dict[str, Any] = {"link": "/campaigns"} if entity in ("campaign", "budget") else {}
    if entity == "budget":
        spent = await spend_of([k for k, _ in found.rows])
        rows = [(k, models.budget_row(k, v, spent[k])) for k, v in found.rows]
        options["kinds"] = dict.fromkeys(("total", "spent", "remaining"), "money")
        options["note"] = "Spent is asked of the worker that owns each campaign's partition; — if it did not answer."
    else:
        rows = [(k, models.entity_row(k, v)) for k, v in found.rows]
    return dataclasses.replace(found, rows=rows), options


def subscriptions_page(size: int, after: str | None, q: str | None) -> tuple[paging.Page, dict]:
    found = paging.page(subscriptions.items(), size, after, q)
    owned = holds(delivered, 0)  # else its counts may be stale
    rows = [(k, models.subscription_row(k, s, delivered.get(k, 0) if owned else None)) for k, s in found.rows]
    return dataclasses.replace(found, rows=rows), {}
