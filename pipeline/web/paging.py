"""Keyset paging and key search over (key, row) pairs: pure, no Faust.

A page is "the first ``size`` keys greater than ``after`` that match ``q``", never an offset, so
a page stays correct while rows are added or removed in front of it. The rows may come in any
order (a partitioned table yields one sorted run per partition); one pass selects the page and
counts every match.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Iterable
from operator import itemgetter
from typing import Generic, TypeVar
from urllib.parse import urlencode

Row = TypeVar("Row")


@dataclasses.dataclass(frozen=True)
class Page(Generic[Row]):
    rows: list[tuple[str, Row]]
    #: The ``after`` key of the next page, or None on the last page.
    next: str | None
    #: Rows matching ``q`` on all pages.
    count: int


def matches(key: str, q: str | None) -> bool:
    """Whether ``key`` contains ``q``, ignoring case (a prefix is a substring too)."""
    return not q or q.casefold() in key.casefold()


def page(items: Iterable[tuple[str, Row]], size: int, after: str | None = None, q: str | None = None) -> Page[Row]:
    if size < 1:
        raise ValueError(f"page size must be at least 1, got {size}")
    count = 0

    def candidates() -> Iterable[tuple[str, Row]]:
        nonlocal count
        for key, row in items:
            if matches(key, q):
                count += 1
                if after is None or key > after:
                    yield key, row

    # One more than a page tells whether there is a next page.
    rows = heapq.nsmallest(size + 1, candidates(), key=itemgetter(0))
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, rows[-1][0] if more else None, count)


def page_href(path: str, after: str | None = None, q: str | None = None) -> str:
    """``path`` with the paging and search parameters that are set."""
    params = {name: value for name, value in (("q", q), ("after", after)) if value}
    return f"{path}?{urlencode(params)}" if params else path
