"""The web pages' HTML and JSON twins, rendered without a worker."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from pipeline.web import render
from pipeline.web.paging import page

WHO = render.Identity("http://127.0.0.1:6066", "adtrack", (0, 2))
PROBE = "<img src=x onerror=alert(1)>"


class Parsed(HTMLParser):
    """The text and the tags of a page, as a browser would see them."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def stored(data: dict | None, version: int = 1, deleted: bool = False) -> dict:
    return {"version": version, "deleted": deleted, "data": data, "at": 1_700_000_000_000}


def campaign_rows(*ids: str, **data: object) -> list[tuple[str, dict]]:
    return [(i, render.entity_row(i, stored({"name": f"name of {i}", **data}))) for i in ids]


@pytest.mark.parametrize(
    ("value", "kind", "text"),
    [
        (None, "", "—"), (1234567, "", "1,234,567"), (True, "", "yes"), (0.5, "", "0.5"),
        (["a", "b"], "", "a, b"), ([], "", "—"), ({"entity": ["campaign"]}, "", '{"entity":["campaign"]}'),
        (99.9975, "money", "99.9975"), (100, "money", "100.00"), (1234.5, "money", "1,234.50"),
        (0.0025, "money", "0.0025"), (4.0 / 60, "rate", "0.07/s"),
        (1_700_000_000_000, "time", "2023-11-14 22:13:20 UTC"),
    ],
)
def test_values_are_formatted_for_people(value: object, kind: str, text: str) -> None:
    assert render.fmt(value, kind) == text


def test_a_hostile_campaign_name_is_text_in_the_table_and_on_its_page() -> None:
    rows = campaign_rows("cmp-1")
    rows[0][1]["name"] = PROBE
    table = render.table("campaigns", page(rows, 10), q=None, after=None, who=WHO, link="/campaigns")
    assert PROBE not in table and "<img" not in table
    assert PROBE in "".join(Parsed(table).text)
    model = render.campaign_model("cmp-1", stored({"name": PROBE}), None, 0, {}, [], WHO)
    html = render.campaign(model, WHO)
    assert "<img" not in html
    assert f"Campaign {PROBE} · adtrack" in "".join(Parsed(html).text)


def test_ids_in_links_are_percent_encoded_and_searches_are_escaped() -> None:
    rows = campaign_rows('a/b"<c>')
    table = render.table("campaigns", page(rows, 10), q='"><script>', after=None, who=WHO, link="/campaigns")
    hrefs = [a["href"] for a in Parsed(table).all("a")]
    assert "/campaigns/a%2Fb%22%3Cc%3E" in hrefs
    assert "<script>" not in table
    assert Parsed(table).all("input")[0]["value"] == '"><script>'


def test_table_columns_are_id_version_then_the_data_fields_in_order_of_appearance() -> None:
    rows = [("p-1", render.entity_row("p-1", stored({"name": "A", "domain": "a.example"}))),
            ("p-2", render.entity_row("p-2", stored({"name": "B", "status": "blocked"})))]
    assert render.columns(r for _, r in rows) == ["id", "version", "name", "domain", "status"]
    html = render.table("publishers", page(rows, 10), q=None, after=None, who=WHO)
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert headers == ["id", "version", "name", "domain", "status"]


def test_a_table_page_says_how_many_rows_match_and_links_to_the_next_page() -> None:
    rows = campaign_rows("cmp-a1", "cmp-a2", "cmp-a3", "cmp-b1")
    found = page(rows, 2, q="a")
    html = render.table("campaigns", found, q="a", after=None, who=WHO)
    assert "<strong>3</strong> campaigns match “a”" in html
    nexts = [a["href"] for a in Parsed(html).all("a") if a.get("rel") == "next"]
    assert nexts == ["/tables/campaigns?q=a&after=cmp-a2"]
    assert render.table_model(found, "/tables/campaigns", "a", WHO) == {
        "rows": [r for _, r in rows[:2]], "next": "/tables/campaigns.json?q=a&after=cmp-a2", "count": 3,
        "worker": WHO.url,
    }


@pytest.mark.parametrize(
    ("q", "after", "message"),
    [(None, None, "No campaigns yet."), ("<x>", None, "No campaigns match “&lt;x&gt;”."),
     (None, "zzz", "No campaigns after “zzz”.")],
)
def test_an_empty_table_says_why_it_is_empty(q: str | None, after: str | None, message: str) -> None:
    rows = campaign_rows("cmp-1") if after else []
    found = page(rows, 5, after=after, q=q)
    html = render.table("campaigns", found, q=q, after=after, who=WHO)
    assert f'<tr class="empty"><td colspan="1">{message}</td></tr>' in html
    assert render.table_model(found, "/tables/campaigns", q, WHO)["next"] is None


def test_a_budget_row_shows_total_spent_and_remaining_in_currency() -> None:
    row = render.budget_row("c", stored({"total": 10}), 2_500_000)
    assert row == {"id": "c", "version": 1, "total": 10, "spent": 2.5, "remaining": 7.5}
    assert render.budget_row("c", stored({"total": 10.0}), None)["remaining"] is None
    money = dict.fromkeys(("total", "spent", "remaining"), "money")
    html = render.table("budgets", page([("c", row)], 5), q=None, after=None, who=WHO, kinds=money)
    assert re.findall(r'<td class="num">([^<]*)</td>', html) == ["1", "10.00", "2.50", "7.50"]


def worker(url: str, total: dict, minute: dict | None = None, partitions: list[int] | None = None) -> dict:
    return {"worker": url, "partitions": partitions or [],
            "stats": {"total": total, "last_minute": minute or {}, "rates": {}, "started_at": 0}}


def test_the_dashboard_sums_every_worker_and_groups_outcomes_by_reason() -> None:
    workers = [
        worker("http://a", {"accepted": 5, "rejected:duplicate": 2, "dlq:schema": 1, "in": 8},
               {"accepted": 3, "in": 3}, [0, 2]),
        worker("http://b", {"accepted": 1, "rejected:bot": 1, "rejected:duplicate": 1, "rerouted": 4, "in": 3},
               {"rejected:bot": 1, "in": 1}, [1, 3]),
        {"worker": "http://c", "error": "ClientConnectorError"},
    ]
    lag = [{"partition": 0, "end": 10, "committed": 7, "lag": 3}]
    model = render.dashboard_model(workers, lag, {"campaign": 2}, WHO)
    assert model["totals"] == {"in": 11, "accepted": 6, "rejected": 4, "dlq": 1, "duplicates": 3, "rerouted": 4}
    assert model["rates"]["in"] == round(4 / 60, 3)
    assert model["rejected"] == [{"reason": "bot", "total": 1, "last_minute": 1},
                                 {"reason": "duplicate", "total": 3, "last_minute": 0}]
    assert model["dlq"] == [{"reason": "schema", "total": 1, "last_minute": 0}]
    assert model["lag"] == lag and model["lag_error"] is None
    assert model["workers"] == [
        {"url": "http://a", "partitions": [0, 2], "in": 8, "error": None},
        {"url": "http://b", "partitions": [1, 3], "in": 3, "error": None},
        {"url": "http://c", "partitions": [], "in": None, "error": "ClientConnectorError"},
    ]
    html = render.dashboard(model, WHO)
    assert "<tr><td>duplicate</td><td class=\"num\">3</td><td class=\"num\">0</td></tr>" in html  # counts, not money


def test_every_live_value_on_the_dashboard_is_in_its_json_twin() -> None:
    model = render.dashboard_model([worker("http://a", {"accepted": 1, "in": 1})], "KafkaError: down", {}, WHO)
    html = render.dashboard(model, WHO)
    assert "Lag unknown: KafkaError: down" in html
    parsed = Parsed(html)
    assert parsed.all("body")[0]["data-live"] == "/stats.json"
    assert any(s.get("src") == "/static/live.js" for s in parsed.all("script"))
    paths = [attrs["data-stat"] for _, attrs in parsed.tags if "data-stat" in attrs]
    lists = [attrs["data-rows"] for _, attrs in parsed.tags if "data-rows" in attrs]
    drawn = [attrs["data-chart"] for _, attrs in parsed.tags if "data-chart" in attrs]
    assert len(paths) >= 10 and set(lists) == {"rejected", "dlq", "lag", "workers"}
    assert drawn == ["charts.throughput"] and model["charts"]["throughput"] in html
    for path in paths + lists + drawn:
        value = model
        for part in path.split("."):
            value = value[part]


def test_the_campaign_twin_has_its_data_budget_and_counts_by_reason() -> None:
    notes = [{"at": 2, "entity": "budget", "op": "upsert", "version": 1, "changed_fields": ["total"]}]
    counts = {"accepted": 4, "rejected:budget_exhausted": 2, "rejected:bot": 1}
    model = render.campaign_model("c", stored({"name": "Spring"}, version=3), stored({"total": 10.0}), 4_000_000,
                                  counts, notes, WHO)
    assert model["version"] == 3 and model["data"] == {"name": "Spring"}
    assert model["budget"] == {"id": "c", "version": 1, "total": 10.0, "spent": 4.0, "remaining": 6.0}
    assert (model["accepted"], model["rejected"]) == (4, 3)
    assert model["rejected_by_reason"] == [{"reason": "bot", "count": 1}, {"reason": "budget_exhausted", "count": 2}]
    assert model["notifications"] == notes and model["worker"] == WHO.url
    html = render.campaign(model, WHO)
    assert Parsed(html).all("body")[0]["data-live"] == "/campaigns/c.json"
    assert '<span data-stat="budget.remaining" data-format="money">6.00</span>' in html
    deleted_budget = render.campaign_model("c", stored({"name": "S"}), stored(None, deleted=True), 0, {}, [], WHO)
    assert deleted_budget["budget"] is None and deleted_budget["spent"] == 0.0


def test_every_page_names_the_worker_that_answered_and_who_forwarded_to_it() -> None:
    via = render.Identity("http://b:6067", "adtrack", (1,), via="http://a:6066")
    html = render.not_found("No campaign 'x'.", via)
    text = " ".join("".join(Parsed(html).text).split())
    assert "answered by http://b:6067" in text
    assert ("Answered by worker http://b:6067 · app adtrack · tracking.raw partitions 1"
            " · forwarded by http://a:6066") in text


def test_the_dashboard_twin_sums_the_workers_timelines_and_draws_them() -> None:
    now = 1_700_000_400.0
    timeline = {"started_at": now - 3600, "minutes": [{"start": now - 60, "accepted": 60, "rejected": 6, "dlq": 0}]}
    workers = [{**worker("http://a", {"in": 66}), "timeline": timeline},
               {**worker("http://b", {"in": 66}), "timeline": timeline},
               worker("http://c", {})]  # a worker of an older version, without a timeline
    model = render.dashboard_model(workers, [], {}, WHO, now=now)
    assert model["throughput"]["outcomes"]["accepted"][-2:] == [2.0, 0.0]
    assert model["throughput"]["outcomes"]["rejected"][-2] == 0.2
    figure = Parsed(render.dashboard(model, WHO)).all("figure")
    assert figure == [{"class": "chart", "data-chart": "charts.throughput"}]
    assert 'class="series series-accepted"' in model["charts"]["throughput"]


def test_the_campaign_twin_paces_its_spend_against_budget_and_flight() -> None:
    day = 86_400_000
    data = {"name": "Spring", "start_ts": 1_700_000_000_000, "end_ts": 1_700_000_000_000 + 10 * day}
    model = render.campaign_model("c", stored(data), stored({"total": 10.0}), 6_000_000, {}, [], WHO,
                                  now_ms=1_700_000_000_000 + 5 * day)
    assert model["pacing"]["verdict"] == "ahead" and model["pacing"]["expected"] == 5.0
    html = render.campaign(model, WHO)
    assert '<span data-stat="pacing.verdict" data-format="">ahead</span>' in html
    assert Parsed(html).all("figure") == [{"class": "chart", "data-chart": "charts.pacing"}]
    assert model["charts"]["pacing"] in html
    no_budget = render.campaign_model("c", stored(data), stored(None, deleted=True), 0, {}, [], WHO)
    assert no_budget["pacing"]["verdict"] == "no budget"
    deleted = render.campaign_model("c", stored(None, deleted=True), None, 0, {}, [], WHO)
    assert (deleted["pacing"], deleted["charts"]) == (None, {})
    assert "<figure" not in render.campaign(deleted, WHO)


def test_a_hostile_campaign_name_never_reaches_its_chart_as_markup() -> None:
    data = {"name": PROBE, "start_ts": 1_700_000_000_000, "end_ts": None}
    model = render.campaign_model("c", stored(data), stored({"total": 10.0}), 0, {}, [], WHO)
    html = render.campaign(model, WHO)
    assert "<img" not in html and not Parsed(html).all("script")[1:]
