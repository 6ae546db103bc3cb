"""The web pages in a real headless Chromium, served by real workers on the embedded broker."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka.partitioner import murmur2
from playwright.sync_api import Browser, Page, expect, sync_playwright

from pipeline.runtime.timeline import series
from pipeline.web.charts import BOTTOM, HEIGHT
from tests import factories
from tests.harness import Worker, tracking_assignments, unique, wait_until
from tests.world import World

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PROBE = "<img src=x onerror=alert(1)>"
TIMEOUT_MS = 30_000
DAY_MS = 86_400_000


def url(worker: Worker, path: str = "") -> str:
    return f"http://127.0.0.1:{worker.web_port}{path}"


def canonical(worker: Worker) -> str:
    return url(worker)  # WEB_HOST=127.0.0.1 below


@pytest.fixture(scope="module")
def worker(make_worker, kafka) -> Worker:
    # Workers reach each other at their canonical URL: keep it on the loopback address they bind to.
    return make_worker("worker", WEB_HOST="127.0.0.1").start().wait_ready()


@pytest.fixture(scope="module")
def world(kafka, worker) -> World:
    return World(kafka)


@pytest.fixture(scope="module")
def browser(world: World) -> Iterator[Browser]:
    # After ``world``: Playwright's sync API keeps an event loop running, and the kafka fixture needs asyncio.run.
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.dialogs = dialogs  # type: ignore[attr-defined]
    yield opened
    context.close()


def number(page: Page, selector: str) -> int:
    return int(page.locator(selector).inner_text().replace(",", ""))


def wait_at_least(page: Page, selector: str, n: int) -> None:
    page.wait_for_function(
        "([sel, n]) => Number(document.querySelector(sel).textContent.replace(/,/g, '')) >= n",
        arg=[selector, n], timeout=TIMEOUT_MS,
    )


BASELINE = HEIGHT - BOTTOM  # where a chart draws zero
# The highest point (the smallest y) of a chart's series, drawn as a path or, a lone value, as a dot;
# Infinity without one.
HIGHEST = """([chart, key]) => {
  const ys = [];
  for (const path of document.querySelectorAll(`${chart} path.series-${key}`)) {
    const numbers = (path.getAttribute("d") || "").match(/-?[0-9.]+/g) || [];
    ys.push(...numbers.filter((_, i) => i % 2 === 1).map(Number));
  }
  for (const dot of document.querySelectorAll(`${chart} circle.series-${key}`)) ys.push(Number(dot.getAttribute("cy")));
  return Math.min(...ys);
}"""


def get_json(page: Page, address: str, status: int = 200, **headers: str) -> Any:
    response = page.request.get(address, headers=headers)
    assert response.status == status, f"{address}: {response.status} {response.text()[:300]}"
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def test_dashboard_counters_rise_live_as_events_are_produced(
    page: Page, world: World, worker: Worker, artifacts
) -> None:
    ids = world.campaign(price=2.5)
    page.goto(url(worker, "/"))
    page.evaluate("window.notReloaded = true")
    before = {card: number(page, f"#card-{card} .big [data-stat]") for card in ("in", "accepted", "dlq", "duplicates")}
    chart = "figure[data-chart='charts.throughput']"
    expect(page.locator(f"{chart} svg path.series")).to_have_count(3)
    drawn_at_load = page.locator(f"{chart} svg").inner_html()
    page.evaluate(f"document.querySelector(\"{chart} svg\").drawnAtLoad = true")

    events = [world.send_event(ids) for _ in range(5)]
    world.kafka.send(world.topics.topic_raw, b"{not json", key=ids[0])
    world.kafka.send(world.topics.topic_raw, events[0], key=ids[0])  # a duplicate

    wait_at_least(page, "#card-in .big [data-stat]", before["in"] + 7)
    wait_at_least(page, "#card-accepted .big [data-stat]", before["accepted"] + 5)
    wait_at_least(page, "#card-dlq .big [data-stat]", before["dlq"] + 1)
    wait_at_least(page, "#card-duplicates .big [data-stat]", before["duplicates"] + 1)
    expect(page.locator("tbody[data-rows=dlq]")).to_contain_text("malformed")
    expect(page.locator("tbody[data-rows=rejected]")).to_contain_text("duplicate")
    expect(page.locator("#live-status")).to_contain_text("updated")
    for outcome in ("accepted", "rejected", "dlq"):  # each outcome's line rises off zero, in place
        page.wait_for_function(f"(args) => ({HIGHEST})(args) < {BASELINE}", arg=[chart, outcome], timeout=TIMEOUT_MS)
    assert page.locator(f"{chart} svg").inner_html() != drawn_at_load
    assert page.evaluate(f"document.querySelector(\"{chart} svg\").drawnAtLoad") is None, "the chart was not redrawn"
    assert page.evaluate("window.notReloaded") is True, "the page reloaded instead of updating in place"
    expect(page.locator(f"{chart} .legend-label")).to_have_text(["accepted", "rejected", "dead-lettered"])
    expect(page.locator("tbody[data-rows=workers]")).to_contain_text(canonical(worker))
    expect(page.locator("footer")).to_contain_text(f"Answered by worker {canonical(worker)}")
    lag = page.locator("tbody[data-rows=lag] tr")
    expect(lag).to_have_count(world.topics.partitions)
    page.screenshot(path=artifacts / "dashboard.png", full_page=True)


def test_the_campaign_page_shows_its_budget_dropping_as_events_are_accepted(
    page: Page, world: World, worker: Worker, artifacts
) -> None:
    # Three days into a ten-day flight, even delivery has spent 3.00 of 10.00: behind now, on track at 3.00.
    now = factories.now_ms()
    ids = world.campaign(budget=10.0, pricing_model="cpc", price=1.0, name="Autumn Clicks",
                         start_ts=now - 3 * DAY_MS, end_ts=now + 7 * DAY_MS)
    page.goto(url(worker, f"/campaigns/{ids[0]}"))
    page.evaluate("window.notReloaded = true")
    expect(page.locator("h1")).to_have_text("Campaign Autumn Clicks")
    expect(page.locator("#card-remaining .big")).to_have_text("10.00")
    expect(page.locator("[data-stat='pacing.verdict']")).to_have_text("behind")
    chart = page.locator("figure[data-chart='charts.pacing']")
    expect(chart.locator(".rule-label")).to_have_text(["budget 10.00", "now"])
    expect(chart.locator("path.series-plan")).to_have_count(1)
    notifications = page.locator("table", has=page.locator("th", has_text="changed fields"))
    expect(notifications).to_contain_text("campaign")
    expect(notifications).to_contain_text("budget")

    for _ in range(3):
        world.send_event(ids, type="click")
    world.send_event((ids[0], "no-such-publisher", ids[2]), type="click")

    expect(page.locator("#card-remaining .big")).to_have_text("7.00", timeout=TIMEOUT_MS)
    expect(page.locator("[data-stat='budget.spent']")).to_have_text("3.00")
    expect(page.locator("[data-stat=accepted]")).to_have_text("3")
    expect(page.locator("tbody[data-rows=rejected_by_reason]")).to_contain_text("unknown_publisher")
    expect(page.locator("[data-stat='pacing.verdict']")).to_have_text("on track")
    expect(page.locator("[data-stat='pacing.summary']")).to_contain_text("of what even delivery would have by now")
    expect(chart.locator(".mark-label")).to_have_text("spent 3.00")
    assert page.evaluate("window.notReloaded") is True, "the page reloaded instead of updating in place"
    page.screenshot(path=artifacts / "campaign.png", full_page=True)

    missing = page.goto(url(worker, "/campaigns/no-such-campaign"))
    assert missing is not None and missing.status == 404
    expect(page.locator("main")).to_contain_text("No campaign 'no-such-campaign'.")


def test_a_hostile_campaign_name_renders_as_text(page: Page, world: World, worker: Worker, artifacts) -> None:
    cid, _, _ = world.campaign(name=PROBE, advertiser_name='"><script>alert(2)</script>')
    page.goto(url(worker, f"/campaigns/{cid}"))
    expect(page.locator("h1")).to_have_text(f"Campaign {PROBE}")
    expect(page.locator("td", has_text='"><script>alert(2)</script>')).to_be_visible()
    expect(page.locator("#live-status")).to_contain_text("updated")  # the live refresh ran too
    assert page.locator("main img, main script").count() == 0

    page.goto(url(worker, f"/tables/campaigns?q={cid}"))
    expect(page.locator("td", has_text=PROBE)).to_be_visible()
    page.screenshot(path=artifacts / "xss-probe.png", full_page=True)
    assert page.dialogs == []  # type: ignore[attr-defined]


SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'
NOT_DRAWINGS = [  # a handler attribute; elements that are no drawing
    f'<svg {SVG_NS} onload="alert(3)"><path d="M0,0 L9,9"/></svg>',
    f'<svg {SVG_NS}><foreignObject><img xmlns="http://www.w3.org/1999/xhtml" src="x" onerror="alert(4)"/>'
    "</foreignObject><script>alert(5)</script></svg>",
]


def test_a_chart_in_the_twin_that_is_not_a_drawing_is_never_swapped_in(page: Page, worker: Worker) -> None:
    served: list[str] = []

    def not_a_drawing(route: Any) -> None:  # the twin as the worker answers it, but for its chart
        answer = route.fetch()
        twin = answer.json()
        twin["charts"]["throughput"] = NOT_DRAWINGS[len(served) % len(NOT_DRAWINGS)]
        served.append(twin["charts"]["throughput"])
        route.fulfill(response=answer, json=twin)

    page.route("**/stats.json", not_a_drawing)
    page.goto(url(worker, "/"))
    page.evaluate("document.querySelector('figure[data-chart] svg').drawnAtLoad = true")

    def all_handled() -> bool:
        page.evaluate("0")  # Playwright's sync API runs the route handler only while it is called
        return len(served) > len(NOT_DRAWINGS)  # a twin is handled before the next is asked for

    wait_until(all_handled, 30, "every markup to be served and handled")
    expect(page.locator("#live-status")).to_contain_text("update failed: a chart that is not a drawing")
    assert page.evaluate("document.querySelector('figure[data-chart] svg').drawnAtLoad") is True
    assert page.locator("figure[data-chart] script, figure[data-chart] foreignObject").count() == 0
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_json_twins_have_the_documented_shape(page: Page, world: World, worker: Worker) -> None:
    cid, _, _ = world.campaign(budget=5.0)
    stats = get_json(page, url(worker, "/stats.json"))
    assert {"worker", "totals", "rates", "rejected", "dlq", "lag", "coredata", "workers", "throughput",
            "charts"} <= set(stats)
    assert {outcome: len(rates) for outcome, rates in stats["throughput"]["outcomes"].items()} == {
        "accepted": 60, "rejected": 60, "dlq": 60}
    assert stats["charts"]["throughput"].startswith("<svg")
    assert stats["worker"] == canonical(worker)
    assert [row["partition"] for row in stats["lag"]] == list(range(world.topics.partitions))
    assert all(row["end"] >= (row["committed"] or 0) for row in stats["lag"])
    assert stats["coredata"]["campaign"] >= 1

    table = get_json(page, url(worker, f"/tables/campaigns.json?q={cid}"))
    assert set(table) == {"rows", "next", "count", "worker"}
    assert table["count"] == 1 and table["next"] is None
    assert list(table["rows"][0])[:3] == ["id", "version", "name"] and table["rows"][0]["id"] == cid
    assert get_json(page, url(worker, f"/tables/campaigns?q={cid}"), Accept="application/json") == table
    budgets = get_json(page, url(worker, f"/tables/budgets.json?q={cid}"))
    assert budgets["rows"] == [{"id": cid, "version": 1, "total": 5.0, "spent": 0.0, "remaining": 5.0}]
    assert get_json(page, url(worker, "/tables/subscriptions.json"))["worker"] == canonical(worker)

    campaign = get_json(page, url(worker, f"/campaigns/{cid}.json"))
    assert {"id", "version", "data", "budget", "accepted", "rejected", "rejected_by_reason", "notifications",
            "worker"} <= set(campaign)
    assert campaign["budget"]["remaining"] == 5.0
    assert (campaign["pacing"]["verdict"], campaign["pacing"]["total"]) == ("no end date", 5.0)
    assert campaign["charts"]["pacing"].startswith("<svg")
    assert get_json(page, url(worker, "/campaigns/nope.json"), status=404)["error"] == "No campaign 'nope'."
    assert page.request.get(url(worker, "/tables/nope")).status == 404
    assert page.request.post(url(worker, "/tables/campaigns")).status == 405  # read-only


@pytest.fixture(scope="module")
def paging_worker(make_worker, worker) -> Worker:
    """A second worker in the same group, with three rows per page."""
    second = make_worker("paging", ADTRACK_WEB_PAGE_SIZE="3", WEB_HOST="127.0.0.1").start().wait_ready()
    wait_until(lambda: tracking_assignments(worker) >= 2, 60, "a rebalance on worker")
    return second


def test_a_table_pages_by_key_and_searches_keys(page: Page, world: World, paging_worker: Worker, artifacts) -> None:
    prefix = unique("pg")
    ids = [f"{prefix}-{n}" for n in range(7)]
    for cid in reversed(ids):
        world.put("campaign", cid, factories.campaign_data(name=f"Campaign {cid[-1]}"), wait=False)
    world.wait_notified("campaign", ids[0], 1)
    wait_until(lambda: get_json(page, url(paging_worker, f"/tables/campaigns.json?q={prefix}"))["count"] == 7,
               30, "the second worker's tables to hold every campaign")

    page.goto(url(paging_worker, f"/tables/campaigns?q={prefix.upper()}"))
    expect(page.locator(".count")).to_contain_text(f"7 campaigns match “{prefix.upper()}”")
    page.screenshot(path=artifacts / "table-page-1.png", full_page=True)
    seen: list[str] = []
    for size in (3, 3, 1):
        first_column = page.locator("tbody tr td:first-child")
        expect(first_column).to_have_count(size)
        seen.extend(first_column.all_inner_texts())
        if size == 3:
            with page.expect_navigation():
                page.get_by_role("link", name="Next page →").click()
            assert f"after={seen[-1]}" in page.url
    assert seen == ids
    expect(page.get_by_role("link", name="Next page →")).to_have_count(0)

    twin, rows = get_json(page, url(paging_worker, f"/tables/campaigns.json?q={prefix}")), []
    while True:
        rows += [row["id"] for row in twin["rows"]]
        if twin["next"] is None:
            break
        twin = get_json(page, url(paging_worker, twin["next"]))
    assert rows == ids

    page.goto(url(paging_worker, f"/tables/campaigns?q=none-{prefix}"))
    expect(page.locator("tr.empty")).to_have_text(f"No campaigns match “none-{prefix}”.")


def campaigns_on_every_partition(prefix: str, partitions: int) -> list[str]:
    chosen: dict[int, str] = {}
    n = 0
    while len(chosen) < partitions:
        cid, n = f"{prefix}-{n}", n + 1
        chosen.setdefault((murmur2(cid.encode()) & 0x7FFFFFFF) % partitions, cid)
    return [chosen[p] for p in range(partitions)]


def test_with_two_workers_counts_are_summed_and_spend_comes_from_its_owner(
    page: Page, world: World, worker: Worker, paging_worker: Worker, artifacts
) -> None:
    both = {canonical(worker), canonical(paging_worker)}

    def settled() -> bool:
        parts = [get_json(page, url(w, "/stats.json?local=1"))["partitions"] for w in (worker, paging_worker)]
        listed = {w["url"] for w in get_json(page, url(worker, "/stats.json"))["workers"] if w["error"] is None}
        return all(parts) and sorted(parts[0] + parts[1]) == list(range(world.topics.partitions)) and listed == both

    wait_until(settled, 60, "both workers to share the partitions and know each other", interval=0.5)
    prefix = unique("mw")
    pid, sid = unique("pub"), unique("slot")
    world.put("publisher", pid, factories.publisher_data(), wait=False)
    world.put("slot", sid, factories.slot_data(pid), wait=False)
    cids = campaigns_on_every_partition(prefix, world.topics.partitions)
    for cid in cids:
        world.put("budget", cid, {"total": 10.0}, wait=False)
        world.put("campaign", cid, factories.campaign_data(pricing_model="cpc", price=1.0))
    for cid in cids:
        assert world.outcome(world.send_event((cid, pid, sid), type="click")["event_id"])[0] == "accepted"

    answered = set()
    for cid in cids:
        for asked in (worker, paging_worker):
            twin = get_json(page, url(asked, f"/campaigns/{cid}.json"))
            assert (twin["accepted"], twin["budget"]["spent"], twin["budget"]["remaining"]) == (1, 1.0, 9.0)
            answered.add(twin["worker"])
    assert answered == both  # each campaign answered by the worker that owns its partition

    budgets = get_json(page, url(worker, f"/tables/budgets.json?q={prefix}"))["rows"]
    assert [(row["id"], row["spent"], row["remaining"]) for row in budgets] == [(c, 1.0, 9.0) for c in sorted(cids)]

    totals = [get_json(page, url(w, "/stats.json")) for w in (worker, paging_worker)]
    assert totals[0]["totals"] == totals[1]["totals"]
    assert totals[0]["totals"]["in"] == sum(w["in"] for w in totals[0]["workers"])

    def throughput_is_both_timelines_summed() -> bool:
        timelines = [get_json(page, url(w, "/stats.json?local=1"))["timeline"] for w in (worker, paging_worker)]
        drawn = get_json(page, url(worker, "/stats.json"))["throughput"]
        return all(t["minutes"] for t in timelines) and drawn == series(timelines, drawn["at"])

    wait_until(throughput_is_both_timelines_summed, 30, "the dashboard's throughput to sum both workers")

    other = next(c for c in cids if get_json(page, url(worker, f"/campaigns/{c}.json"))["worker"] != canonical(worker))
    page.goto(url(worker, f"/campaigns/{other}"))
    expect(page.locator("footer")).to_contain_text(
        f"Answered by worker {canonical(paging_worker)}")
    expect(page.locator("footer")).to_contain_text(f"forwarded by {canonical(worker)}")
    expect(page.locator("#card-remaining .big")).to_have_text("9.00")
    page.goto(url(worker, "/"))
    expect(page.locator("tbody[data-rows=workers] tr")).to_have_count(2)
    page.screenshot(path=artifacts / "dashboard-two-workers.png", full_page=True)


def test_the_archive_page_is_in_the_menu_and_says_when_no_folder_is_set(page: Page, worker: Worker, artifacts) -> None:
    page.goto(url(worker, "/"))
    with page.expect_navigation():
        page.get_by_role("link", name="Archive").click()
    assert page.url == url(worker, "/archive")
    expect(page.locator("main")).to_contain_text("No archive folder is set")
    assert get_json(page, url(worker, "/archive.json"))["dir"] is None
    page.screenshot(path=artifacts / "archive-unset.png", full_page=True)
