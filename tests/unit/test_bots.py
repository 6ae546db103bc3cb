"""Bot detection by user agent: crawlers, HTTP libraries and headless browsers, but never people."""

from __future__ import annotations

import re

import crawleruseragents
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.domain import bots
from pipeline.domain.bots import is_bot
from tests import factories


@pytest.mark.parametrize("user_agent", [None, "", " ", "\t\n"], ids=["missing", "empty", "space", "whitespace"])
def test_a_missing_or_blank_user_agent_is_a_bot(user_agent: str | None) -> None:
    assert is_bot(user_agent) is True


BOTS = {
    "googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "googlebot-smartphone": (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    ),
    "bingbot": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "python-requests": "python-requests/2.32.3",
    "python-urllib": "Python-urllib/3.11",
    "curl": "curl/8.5.0",
    "wget": "Wget/1.21.4",
    "go": "Go-http-client/1.1",
    "okhttp": "okhttp/4.12.0",
    "headless-chrome": (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36"
    ),
}


@pytest.mark.parametrize("user_agent", BOTS.values(), ids=BOTS.keys())
def test_crawlers_http_libraries_and_headless_browsers_are_bots(user_agent: str) -> None:
    assert is_bot(user_agent) is True


BROWSERS = {
    "chrome-windows": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36"
    ),
    "chrome-mac": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36"
    ),
    "chrome-linux": factories.BROWSER_UA,
    "firefox-windows": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "firefox-linux": "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "firefox-android": "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
    "safari-mac": (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Safari/605.1.15"
    ),
    "safari-iphone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Mobile/15E148 Safari/604.1"
    ),
    "safari-ipad": (
        "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.6 Mobile/15E148 Safari/604.1"
    ),
    "chrome-iphone": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1"
    ),
    "chrome-android": (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.6778.81 Mobile Safari/537.36"
    ),
    "chrome-android-webview": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 7; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36"
    ),
    "samsung-internet": (
        "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
        "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36"
    ),
    "edge-windows": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70"
    ),
    "edge-android": (
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.2903.87"
    ),
    "opera": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0"
    ),
    "chromebook": (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36"
    ),
}


@pytest.mark.parametrize("user_agent", BROWSERS.values(), ids=BROWSERS.keys())
def test_current_desktop_and_mobile_browsers_are_not_bots(user_agent: str) -> None:
    assert is_bot(user_agent) is False


def test_a_user_agent_is_matched_anywhere_in_the_string() -> None:
    assert is_bot(BROWSERS["chrome-windows"] + " python-requests/2.32.3") is True


def test_results_are_cached_per_user_agent() -> None:
    is_bot.cache_clear()
    assert [is_bot(BROWSERS["firefox-linux"]), is_bot(BROWSERS["firefox-linux"]), is_bot("curl/8.5.0")] == [
        False, False, True
    ]
    info = is_bot.cache_info()
    assert (info.hits, info.misses) == (1, 2)


# Bounded cost: a user agent is cut before matching, the matcher is a trie, the cache is bounded.

def test_plain_text_patterns_are_literals_and_true_regexes_are_not() -> None:
    assert bots.as_literal(r"Googlebot\/") == "Googlebot/"
    assert bots.as_literal(r"Mediapartners-Google") == "Mediapartners-Google"
    assert bots.as_literal(r"bot\.html") == "bot.html"
    for pattern in (r"[wW]get", r"^curl", r"AdsBot-Google([^-]|$)", r"SSL Labs$", r"a|b", r"\d", r"x\s", "x\\"):
        assert bots.as_literal(pattern) is None


def test_nearly_every_pattern_is_merged_into_the_trie() -> None:
    literals = [p for p in bots.PATTERNS if bots.as_literal(p) is not None]
    assert len(literals) > 0.95 * len(bots.PATTERNS)


@pytest.mark.parametrize(
    "literals, text, expected",
    [(["abc", "abd"], "xxabdxx", True), (["abc", "abd"], "xxabxx", False), (["ab", "abc"], "ab", True),
     (["a.b"], "axb", False), (["a.b"], "a.b", True), (["(x)"], "(x)", True), ([], "anything", False)],
)
def test_the_trie_regex_matches_exactly_where_a_literal_occurs(literals, text, expected) -> None:
    assert (bots.compile_patterns([re.escape(x) for x in literals]).search(text) is not None) is expected


def test_the_compiled_matcher_agrees_with_the_plain_alternation_on_every_known_user_agent() -> None:
    plain = re.compile("|".join(f"(?:{p})" for p in bots.PATTERNS))
    samples = [ua for d in crawleruseragents.CRAWLER_USER_AGENTS_DATA for ua in d.get("instances", ())]
    samples += [*BOTS.values(), *BROWSERS.values()]
    assert len(samples) > 1000
    for ua in samples:
        assert bots.matches(ua) is (plain.search(ua) is not None), ua


@given(st.text(alphabet="Gogletbcurl/ .-_()AHx0", max_size=60))
def test_the_compiled_matcher_agrees_with_the_plain_alternation_on_generated_text(text: str) -> None:
    assert bots.matches(text) is (PLAIN.search(text) is not None)


PLAIN = re.compile("|".join(f"(?:{p})" for p in bots.PATTERNS))


def test_a_long_user_agent_is_matched_on_its_first_characters_only(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    monkeypatch.setattr(bots, "matches", lambda ua: seen.append(len(ua)) or False)
    is_bot.cache_clear()
    limit = bots.SETTINGS.max_user_agent_chars
    assert is_bot("Mozilla/5.0 " + "x" * 60_000) is False
    assert is_bot("y" * (limit - 1)) is False
    assert seen == [limit, limit - 1]
    is_bot.cache_clear()


def test_a_pattern_past_the_cut_is_not_seen() -> None:
    limit = bots.SETTINGS.max_user_agent_chars
    assert is_bot("Mozilla/5.0 " + "x" * limit + " python-requests/2.32.3") is False
    assert is_bot("Mozilla/5.0 " + "x" * (limit - 40) + " python-requests/2.32.3") is True


def test_the_cache_is_bounded_and_holds_cut_user_agents(monkeypatch: pytest.MonkeyPatch) -> None:
    is_bot.cache_clear()
    size = bots.SETTINGS.bot_cache_size
    assert is_bot.cache_info().maxsize == size
    monkeypatch.setattr(bots, "matches", lambda ua: False)  # the cache, not the matcher, is under test
    for n in range(size + 100):
        is_bot(f"Mozilla/5.0 {n} " + "x" * 1000)
    assert is_bot.cache_info().currsize == size
    is_bot.cache_clear()
