"""The web pages, served by each worker's own web server (GET only); ``render`` draws them.

    /                   dashboard, live          JSON twin /stats.json (?local=1: this worker alone)
    /tables/<name>      campaigns, publishers, slots, budgets, subscriptions; ?q= key search, ?after= next page
    /campaigns/<id>     one campaign, live       JSON twin /campaigns/<id>.json
    /spend.json?id=…    spend of the listed campaigns whose partitions this worker owns (for the budgets table)

Any page answers JSON for a ``.json`` suffix or ``Accept: application/json``. With several workers,
core data is on every worker (global tables), but spend and the live counts are not: counts are
gathered from every member of the group and summed, a campaign page is forwarded to the worker that
owns the campaign's partition (its spend), the budgets table asks each owner for its rows' spend,
and the subscriptions table is forwarded to the worker holding the delivery counts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faust.types import TP
from faust.web import Request, Response, View

from config.clients import aiokafka_options
from pipeline.app import app, settings
from pipeline.coredata import ENTITIES
from pipeline.state.held import held
from pipeline.stats import stats
from pipeline.timeline import timeline
from pipeline.web import paging, render
from tables.coredata import TABLES, end_offsets
from tables.subscriptions import delivered, subscriptions

log = logging.getLogger(__name__)

#: Set on requests between workers: a forwarded request is answered where it lands (no loops).
FORWARDED = "X-Adtrack-Forwarded"
PEER_TIMEOUT_S = 2.0  # a worker's local stats or spend
FORWARD_TIMEOUT_S = 8.0  # a whole page from its owner, which gathers stats and reads notifications itself
NOTIFICATIONS_SCANNED = 1000  # the latest records of coredata.changes looked at for a campaign page
NOTIFICATIONS_SHOWN = 10
NOTIFICATIONS_TIMEOUT_S = 2.0
HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}
COMMON_HEADERS = {"Vary": "Accept", "Cache-Control": "no-store"}
ENTITY_TABLES = {name: entity for entity, name in render.ENTITY_TABLES.items()}

app.web.add_static("/static/", Path(__file__).parent / "static")


class Recent:
    """Results kept for ``ttl`` seconds and computed once for all the requests that want them meanwhile."""

    def __init__(self, ttl: float, size: int = 256) -> None:
        self.ttl, self.size = ttl, size
        self._items: dict[Any, tuple[float, asyncio.Future]] = {}

    async def get(self, key: Any, compute: Callable[[], Awaitable[Any]]) -> Any:
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is None or hit[0] < now:
            if len(self._items) >= self.size:
                self._items = {k: v for k, v in self._items.items() if v[0] >= now}
            hit = self._items[key] = (now + self.ttl, asyncio.ensure_future(compute()))
        return await asyncio.shield(hit[1])


lag_cache, coredata_cache, notifications_cache = Recent(1.0), Recent(1.0), Recent(5.0)


# ---- who answers, who owns what ----------------------------------------------------------------

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


def local_spend(campaign_id: str) -> int | None:
    """Micros spent, if this worker holds the campaign's partition."""
    spend = held.spend(campaign_id)
    return None if spend is None else spend.spent_micros


async def peer_json(url: str, path: str) -> Any:
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
            kept = {k: v for k, v in answer.headers.items()
                    if k in ("Content-Type", "Vary", "Cache-Control", *HTML_HEADERS)}
            return view.bytes(body, status=answer.status, headers=kept)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        log.warning("could not forward %s to its owner %s (%s); answering here", request.path_qs, to, exc)
        return None


# ---- data --------------------------------------------------------------------------------------

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
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            return {"worker": url, "error": f"{type(exc).__name__}: {exc}".rstrip(": ")}

    return list(await asyncio.gather(*(one(url) for url in members())))


async def consumer_lag() -> list[dict[str, Any]]:
    """Per partition of tracking.raw: end offset (confirmed by a fetch) minus the group's committed offset."""
    count = held.partition_count or settings.partitions
    tps = [TopicPartition(settings.topic_raw, p) for p in range(count)]
    admin = AIOKafkaAdminClient(**aiokafka_options(settings))
    await admin.start()
    try:
        ends, committed = await asyncio.gather(
            end_offsets(tps), admin.list_consumer_group_offsets(settings.tracking_group, partitions=tps))
    finally:
        await admin.close()
    rows = []
    for tp in tps:
        done = committed.get(tp)
        position = done.offset if done is not None and done.offset >= 0 else None
        rows.append({"partition": tp.partition, "end": ends[tp], "committed": position,
                     "lag": max(0, ends[tp] - (position or 0))})
    return rows


async def lag_or_why() -> list[dict[str, Any]] | str:
    try:
        return await asyncio.wait_for(lag_cache.get("lag", consumer_lag), PEER_TIMEOUT_S * 2)
    except Exception as exc:  # the dashboard shows why instead of failing whole
        return f"{type(exc).__name__}: {exc}"


async def live_counts() -> dict[str, int]:
    return {e: sum(1 for stored in TABLES[e].values() if not stored["deleted"]) for e in ENTITIES}


async def notifications(campaign_id: str) -> list[dict[str, Any]]:
    """The newest notifications for campaign:<id> and budget:<id> among the latest on coredata.changes."""
    keys = {f"{entity}:{campaign_id}".encode() for entity in ("campaign", "budget")}
    tp = TopicPartition(settings.topic_coredata_changes, 0)
    found: deque[dict[str, Any]] = deque(maxlen=NOTIFICATIONS_SHOWN)
    consumer = AIOKafkaConsumer(**aiokafka_options(settings), enable_auto_commit=False)
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
                    note = orjson.loads(record.value)
                    found.append({k: note.get(k) for k in ("at", "entity", "op", "version", "changed_fields")})
            highwater = consumer.highwater(tp)
            if highwater is not None and await consumer.position(tp) >= highwater:
                break
    finally:
        await consumer.stop()
    return list(reversed(found))


async def recent_notifications(campaign_id: str) -> list[dict[str, Any]]:
    try:
        found = notifications_cache.get(campaign_id, lambda: notifications(campaign_id))
        return await asyncio.wait_for(found, NOTIFICATIONS_TIMEOUT_S * 2)
    except Exception:  # the page still shows everything else
        log.exception("could not read the notifications of campaign %r", campaign_id)
        return []


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
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError):
            return dict.fromkeys(cids)

    result: dict[str, int | None] = {}
    for part in await asyncio.gather(*(ask(url, cids) for url, cids in by_owner.items())):
        result.update(part)
    return result


async def entity_page(entity: str, size: int, after: str | None, q: str | None) -> tuple[paging.Page, dict]:
    """A page of live entities as table rows, and how to render them; budgets with their spend."""
    found = paging.page(((k, v) for k, v in TABLES[entity].items() if not v["deleted"]), size, after, q)
    options: dict[str, Any] = {"link": "/campaigns"} if entity in ("campaign", "budget") else {}
    if entity == "budget":
        spent = await spend_of([k for k, _ in found.rows])
        rows = [(k, render.budget_row(k, v, spent[k])) for k, v in found.rows]
        options["kinds"] = dict.fromkeys(("total", "spent", "remaining"), "money")
        options["note"] = "Spent is asked of the worker that owns each campaign's partition; — if it did not answer."
    else:
        rows = [(k, render.entity_row(k, v)) for k, v in found.rows]
    return dataclasses.replace(found, rows=rows), options


def subscriptions_page(size: int, after: str | None, q: str | None) -> tuple[paging.Page, dict]:
    found = paging.page(subscriptions.items(), size, after, q)
    owned = app.assignor.is_active(changelog_tp(delivered, 0))  # else its counts may be stale
    rows = [(k, render.subscription_row(k, s, delivered.get(k, 0) if owned else None)) for k, s in found.rows]
    return dataclasses.replace(found, rows=rows), {}


# ---- views -------------------------------------------------------------------------------------

def wants_json(request: Request, name: str = "") -> tuple[str, bool]:
    """(name without ``.json``, whether to answer JSON)."""
    if name.endswith(".json"):
        return name[: -len(".json")], True
    accept = request.headers.get("Accept", "")
    return name, "application/json" in accept and "text/html" not in accept


def answer(view: View, as_json: bool, model: Any, page: Callable[[], str], status: int = 200) -> Response:
    if as_json:
        return view.json(model, status=status, headers=dict(COMMON_HEADERS))
    return view.html(page(), status=status, headers={**COMMON_HEADERS, **HTML_HEADERS})


def not_found(view: View, request: Request, as_json: bool, message: str) -> Response:
    who = identity(request)
    model = {"error": message, "worker": who.url}
    return answer(view, as_json, model, lambda: render.not_found(message, who), status=404)


async def dashboard(request: Request) -> tuple[dict[str, Any], render.Identity]:
    who = identity(request)
    workers, lag, counts = await asyncio.gather(
        gather_stats(), lag_or_why(), coredata_cache.get("counts", live_counts))
    return render.dashboard_model(workers, lag, counts, who), who


@app.page("/")
class Dashboard(View):
    async def get(self, request: Request) -> Response:
        model, who = await dashboard(request)
        return answer(self, wants_json(request)[1], model, lambda: render.dashboard(model, who))


@app.page("/stats.json")
class StatsJson(View):
    async def get(self, request: Request) -> Response:
        if request.query.get("local"):
            return self.json(local_stats(request.query.get("campaign")), headers=dict(COMMON_HEADERS))
        return self.json((await dashboard(request))[0], headers=dict(COMMON_HEADERS))


@app.page("/spend.json")
class Spend(View):
    async def get(self, request: Request) -> Response:
        ids = request.query.getall("id", [])[: settings.web_page_size * 4]
        return self.json({"worker": my_url(), "spend": {cid: local_spend(cid) for cid in ids}},
                         headers=dict(COMMON_HEADERS))


@app.page("/tables/{name}")
class Table(View):
    async def get(self, request: Request, name: str) -> Response:
        name, as_json = wants_json(request, name)
        q, after, size = request.query.get("q") or None, request.query.get("after") or None, settings.web_page_size
        if name == "subscriptions":
            forwarded = await forward(self, request, owner(delivered, 0))
            if forwarded is not None:
                return forwarded
            found, options = subscriptions_page(size, after, q)
        elif name in ENTITY_TABLES:
            found, options = await entity_page(ENTITY_TABLES[name], size, after, q)
        else:
            tables = ", ".join([*ENTITY_TABLES, "subscriptions"])
            return not_found(self, request, as_json, f"There is no table {name!r}; there are {tables}.")
        who = identity(request)
        return answer(self, as_json, render.table_model(found, f"/tables/{name}", q, who),
                      lambda: render.table(name, found, q=q, after=after, who=who, **options))


@app.page("/campaigns/{campaign_id}")
class Campaign(View):
    async def get(self, request: Request, campaign_id: str) -> Response:
        cid, as_json = wants_json(request, campaign_id)
        forwarded = await forward(self, request, held.owner(cid))
        if forwarded is not None:
            return forwarded
        stored = TABLES["campaign"].get(cid)
        if stored is None:
            return not_found(self, request, as_json, f"No campaign {cid!r}.")
        workers, notes = await asyncio.gather(
            gather_stats(cid), recent_notifications(cid))
        counts: Counter[str] = Counter()
        for worker in workers:
            counts.update(worker.get("campaign", {}))
        who = identity(request)
        model = render.campaign_model(cid, stored, TABLES["budget"].get(cid), local_spend(cid), counts, notes, who)
        return answer(self, as_json, model, lambda: render.campaign(model, who))
