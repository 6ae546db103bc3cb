"""The web pages' HTML, drawn by the templates in ``templates/`` from the models in ``pipeline.web.models``.

Every value reaches HTML through Jinja2's autoescape, links too (after percent-encoding). Live values
carry ``data-stat="path"`` (a dotted path into the page's JSON twin) and live tables ``data-rows``;
``static/live.js`` refreshes them in place with the same formats as ``fmt``. The models are re-exported
here so a page's view needs one module for its twin and its HTML.
"""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup

from pipeline.web.formats import NONE, columns, fmt, path_for
from pipeline.web.models import (
    ENTITY_TABLES, Identity, Row, budget_row, campaign_model, dashboard_model, entity_row, subscription_row,
    table_model,
)
from pipeline.web.paging import Page
from pipeline.web.templating import render_page

__all__ = [
    "ENTITY_TABLES", "NONE", "Identity", "Row", "budget_row", "campaign", "campaign_model", "columns", "dashboard",
    "dashboard_model", "drawn", "entity_row", "fmt", "not_found", "path_for", "subscription_row", "table",
    "table_model",
]


def drawn(charts: Mapping[str, str]) -> dict[str, Markup]:
    """A model's ``charts`` as markup for its template. Safe without escaping because every one was built by
    ``pipeline.web.charts.draw``, which writes numbers and class names it made itself and passes every text
    through ``charts.text`` (escaped, and without what XML cannot hold); ``tests/unit/test_charts.py`` holds it to
    that. Nothing else is ever marked safe."""
    return {name: Markup(svg) for name, svg in charts.items()}


def dashboard(model: Row, who: Identity) -> str:
    return render_page("dashboard.html", model=model, charts=drawn(model["charts"]), who=who)


def table(name: str, page: Page[Row], *, q: str | None, after: str | None, who: Identity,
          link: str | None = None, kinds: Mapping[str, str] | None = None, note: str = "") -> str:
    return render_page("table.html", name=name, page=page, q=q, after=after, who=who, link=link,
                       kinds=kinds or {}, note=note)


def campaign(model: Row, who: Identity) -> str:
    return render_page("campaign.html", model=model, charts=drawn(model["charts"]), who=who)


def not_found(message: str, who: Identity) -> str:
    return render_page("not_found.html", message=message, who=who)
