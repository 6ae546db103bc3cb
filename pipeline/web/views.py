"""The web pages, served by each worker's own web server (GET only); ``render`` draws them.

    /                   dashboard, live          JSON twin /stats.json (?local=1: this worker alone)
    /tables/<name>      campaigns, publishers, slots, budgets, subscriptions; ?q= key search, ?after= next page
    /campaigns/<id>     one campaign, live       JSON twin /campaigns/<id>.json
    /spend.json?id=…    spend of the listed campaigns whose partitions this worker owns (for the budgets table)

With several workers (``routing``): counts are gathered from every member of the group and summed, a
campaign page is forwarded to the worker that owns the campaign's partition (its spend), the budgets
table asks each owner for its rows' spend, and the subscriptions table is forwarded to the worker
holding the delivery counts. What they read is in ``queries``; how they answer in ``answers``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from faust.web import Request, Response, View

from pipeline.app import app, settings
from pipeline.state.held import held
from pipeline.web import answers, queries, render
from pipeline.web.routing import forward, identity, my_url, owner
from tables.coredata import TABLES
from tables.subscriptions import delivered

ENTITY_TABLES = {name: entity for entity, name in render.ENTITY_TABLES.items()}

app.web.add_static("/static/", Path(__file__).parent / "static")


async def dashboard(request: Request) -> tuple[dict[str, Any], render.Identity]:
    who = identity(request)
    workers, lag, counts = await asyncio.gather(
        queries.gather_stats(), queries.lag.get(), queries.coredata_cache.get("counts", queries.live_counts))
    return render.dashboard_model(workers, lag, counts, who), who


@app.page("/")
class Dashboard(View):
    async def get(self, request: Request) -> Response:
        model, who = await dashboard(request)
        return answers.answer(self, answers.wants_json(request)[1], model, lambda: render.dashboard(model, who))


@app.page("/stats.json")
class StatsJson(View):
    async def get(self, request: Request) -> Response:
        if request.query.get("local"):
            return answers.json(self, queries.local_stats(request.query.get("campaign")))
        return answers.json(self, (await dashboard(request))[0])


@app.page("/spend.json")
class Spend(View):
    async def get(self, request: Request) -> Response:
        ids = request.query.getall("id", [])[: settings.web_page_size * 4]
        return answers.json(self, {"worker": my_url(), "spend": {cid: queries.local_spend(cid) for cid in ids}})


@app.page("/tables/{name}")
class Table(View):
    async def get(self, request: Request, name: str) -> Response:
        name, as_json = answers.wants_json(request, name)
        q, after, size = request.query.get("q") or None, request.query.get("after") or None, settings.web_page_size
        if name == "subscriptions":
            forwarded = await forward(self, request, owner(delivered, 0))
            if forwarded is not None:
                return forwarded
            found, options = queries.subscriptions_page(size, after, q)
        elif name in ENTITY_TABLES:
            found, options = await queries.entity_page(ENTITY_TABLES[name], size, after, q)
        else:
            tables = ", ".join([*ENTITY_TABLES, "subscriptions"])
            message = f"There is no table {name!r}; there are {tables}."
            return answers.not_found(self, identity(request), as_json, message)
        who = identity(request)
        return answers.answer(self, as_json, render.table_model(found, f"/tables/{name}", q, who),
                              lambda: render.table(name, found, q=q, after=after, who=who, **options))


@app.page("/campaigns/{campaign_id}")
class Campaign(View):
    async def get(self, request: Request, campaign_id: str) -> Response:
        cid, as_json = answers.wants_json(request, campaign_id)
        forwarded = await forward(self, request, held.owner(cid))
        if forwarded is not None:
            return forwarded
        stored = TABLES["campaign"].get(cid)
        if stored is None:
            return answers.not_found(self, identity(request), as_json, f"No campaign {cid!r}.")
        workers, notes = await asyncio.gather(queries.gather_stats(cid), queries.recent_notifications(cid))
        counts: Counter[str] = Counter()
        for worker in workers:
            counts.update(worker.get("campaign", {}))
        who = identity(request)
        model = render.campaign_model(cid, stored, TABLES["budget"].get(cid), queries.local_spend(cid), counts,
                                      notes, who)
        return answers.answer(self, as_json, model, lambda: render.campaign(model, who))
