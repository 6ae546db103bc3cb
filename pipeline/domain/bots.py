"""Bot and crawler detection by user agent, at a bounded cost per event.

The maintained crawler list (crawler-user-agents) plus HTTP libraries and headless browsers
that never show ads to people. Nearly all of those patterns are plain text: they are merged into
one trie-shaped regex, so a position of the user agent is checked against the few patterns that
share its first character instead of against 1,500 alternatives one by one. The few true regexes
are a second, small alternation. A user agent is cut to ``max_chars`` before any matching and
results are cached in a bounded cache, so neither a long nor a never-seen user agent costs more
than ``max_chars`` characters of matching.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import crawleruseragents

from config.settings import get_settings

HTTP_LIBRARY_PATTERNS = (
    r"python-requests",
    r"python-urllib",
    r"aiohttp",
    r"httpx",
    r"curl/",
    r"[Ww]get",
    r"Go-http-client",
    r"okhttp",
    r"Apache-HttpClient",
    r"Java/",
    r"libwww-perl",
    r"HeadlessChrome",
    r"PhantomJS",
    r"node-fetch",
    r"axios/",
)

PATTERNS = (*(d["pattern"] for d in crawleruseragents.CRAWLER_USER_AGENTS_DATA), *HTTP_LIBRARY_PATTERNS)
_META = frozenset(".^$*+?()[]{}|")


def as_literal(pattern: str) -> str | None:
    """The text a pattern matches when it is plain text (escapes such as ``\\/`` allowed), else None."""
    out: list[str] = []
    chars = iter(pattern)
    for c in chars:
        if c == "\\":
            escaped = next(chars, None)
            if escaped is None or escaped.isalnum() or escaped == "_":
                return None  # \d, \s, \b ... are classes or anchors, not text
            out.append(escaped)
        elif c in _META:
            return None
        else:
            out.append(c)
    return "".join(out) or None


def trie_regex(literals: Iterable[str]) -> str:
    """One regex that matches where any of ``literals`` starts, shaped as a trie of their characters."""
    trie: dict = {}
    for literal in literals:
        node = trie
        for c in literal:
            node = node.setdefault(c, {})
        node[""] = {}  # the end of a literal

    def emit(node: dict) -> str:
        if "" in node:
            return ""  # a literal ends here: whatever follows cannot change the answer
        branches = [re.escape(c) + emit(child) for c, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit(trie)


def compile_patterns(patterns: Iterable[str]) -> re.Pattern[str]:
    """The patterns as one regex: plain text merged into a trie, then the true regexes."""
    literals, regexes = [], []
    for p in patterns:
        literal = as_literal(p)
        if literal is None:
            regexes.append(p)
        else:
            literals.append(literal)
    alternatives = [trie_regex(literals)] if literals else []
    alternatives += [f"(?:{p})" for p in regexes]
    return re.compile("|".join(alternatives) or "(?!)")


_BOT = compile_patterns(PATTERNS)


SETTINGS = get_settings()


def matches(user_agent: str) -> bool:
    """True when a bot, crawler or HTTP-library pattern matches ``user_agent``."""
    return _BOT.search(user_agent) is not None


@lru_cache(maxsize=SETTINGS.bot_cache_size)
def _verdict(user_agent: str) -> bool:
    return matches(user_agent)


def is_bot(user_agent: str | None) -> bool:
    """True when the user agent is missing, empty, or matches a pattern in its first characters."""
    if not user_agent or not user_agent.strip():
        return True
    # Cut before the cache as well: the cache then holds at most bot_cache_size short strings.
    return _verdict(user_agent[: SETTINGS.max_user_agent_chars])


is_bot.cache_info = _verdict.cache_info  # type: ignore[attr-defined]
is_bot.cache_clear = _verdict.cache_clear  # type: ignore[attr-defined]
