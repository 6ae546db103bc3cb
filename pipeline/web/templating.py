"""The Jinja2 environment the pages are drawn with: templates in ``templates/``, autoescape on.

Every value a template writes is escaped unless it is ``Markup``; the only ``Markup`` made from a string
in adtrack is a chart's SVG (``render.drawn``). ``StrictUndefined``: a name a template does not get is an
error, not an empty string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from pipeline.web import formats
from pipeline.web.models import ENTITY_TABLES
from pipeline.web.paging import page_href

NAV = (("/", "Dashboard"), ("/tables/campaigns", "Campaigns"), ("/tables/publishers", "Publishers"),
       ("/tables/slots", "Slots"), ("/tables/budgets", "Budgets"), ("/tables/subscriptions", "Subscriptions"),
       ("/archive", "Archive"))


def numeric_columns(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> set[str]:
    """The columns shown right-aligned: a number in some row, and not a time."""
    return {c for c in columns if not formats.is_time(c) and any(formats.is_numeric(row.get(c)) for row in rows)}


def merged(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """``first`` updated with ``second``: keys in the order they first appear."""
    return {**first, **second}


def environment() -> Environment:
    env = Environment(loader=PackageLoader("pipeline.web", "templates"), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True, undefined=StrictUndefined)
    env.filters.update(fmt=formats.fmt, heading=formats.heading, path_for=formats.path_for, page_href=page_href,
                       merged=merged)
    env.globals.update(nav=NAV, entity_tables=ENTITY_TABLES, none_text=formats.NONE, columns=formats.columns,
                       numeric_columns=numeric_columns, is_numeric=formats.is_numeric,
                       is_timestamp=formats.is_timestamp)
    return env


pages = environment()


def render_page(template: str, **context: Any) -> str:
    return pages.get_template(template).render(**context)
