"""Keyset paging and key search over (key, row) pairs."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.web.paging import Page, matches, page, page_href

KEYS = [f"cmp-{n:02d}" for n in range(10)]


def items(keys: list[str]) -> list[tuple[str, dict]]:
    return [(k, {"id": k}) for k in keys]


def test_the_first_page_holds_the_smallest_keys_and_names_the_next_one() -> None:
    found = page(items(KEYS), size=4)
    assert [k for k, _ in found.rows] == KEYS[:4]
    assert found.next == "cmp-03"
    assert found.count == 10


def test_a_page_after_a_key_starts_strictly_after_it() -> None:
    found = page(items(KEYS), size=4, after="cmp-03")
    assert [k for k, _ in found.rows] == KEYS[4:8]
    assert found.next == "cmp-07"


def test_the_last_page_has_no_next_key_even_when_it_is_full() -> None:
    found = page(items(KEYS), size=5, after="cmp-04")
    assert [k for k, _ in found.rows] == KEYS[5:]
    assert found.next is None


def test_a_key_after_the_end_gives_an_empty_page_that_still_counts_every_match() -> None:
    assert page(items(KEYS), size=3, after="zzz") == Page([], None, 10)


def test_an_after_key_need_not_exist() -> None:
    assert [k for k, _ in page(items(KEYS), size=2, after="cmp-045").rows] == ["cmp-05", "cmp-06"]


def test_search_matches_a_substring_of_the_key_ignoring_case_and_counts_all_pages() -> None:
    keys = ["spring-a", "Spring-b", "autumn-spring", "winter"]
    found = page(items(keys), size=1, q="SPRING")
    assert [k for k, _ in found.rows] == ["Spring-b"]  # "S" sorts before "a" and "s"
    assert found.count == 3
    assert [k for k, _ in page(items(keys), size=5, q="spring", after="Spring-b").rows] == ["autumn-spring", "spring-a"]


def test_no_match_gives_an_empty_page_with_count_zero() -> None:
    assert page(items(KEYS), size=3, q="nothing") == Page([], None, 0)


def test_an_empty_query_matches_everything() -> None:
    assert matches("anything", "") and matches("anything", None)
    assert page(items(KEYS), size=20, q="").count == 10


def test_the_page_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        page(items(KEYS), size=0)


@given(st.sets(st.text(max_size=6), max_size=40), st.integers(1, 7), st.text(max_size=2), st.randoms())
def test_following_next_keys_visits_every_match_once_in_order_whatever_the_input_order(
    keys: set[str], size: int, q: str, rnd: random.Random
) -> None:
    shuffled = sorted(keys)
    rnd.shuffle(shuffled)
    seen: list[str] = []
    after = None
    while True:
        found = page(items(shuffled), size=size, after=after, q=q)
        assert len(found.rows) <= size
        seen.extend(k for k, _ in found.rows)
        if found.next is None:
            break
        assert found.next == found.rows[-1][0]
        after = found.next
    expected = sorted(k for k in keys if q.casefold() in k.casefold())
    assert seen == expected
    assert found.count == len(expected)


def test_page_links_carry_only_the_parameters_that_are_set_url_encoded() -> None:
    assert page_href("/tables/campaigns") == "/tables/campaigns"
    assert page_href("/tables/campaigns", after="cmp-03") == "/tables/campaigns?after=cmp-03"
    assert page_href("/tables/campaigns.json", "a&b c", "x/y") == "/tables/campaigns.json?q=x%2Fy&after=a%26b+c"
