"""Live pipeline statistics of one worker, kept in memory off the hot path's way.

Counts since the worker started, by outcome (``accepted``, ``rejected:<reason>``,
``dlq:<reason>``, and ``rerouted`` for events moved to their campaign's partition) in total and
per campaign; events in = accepted + rejected + dlq. Also and per-second buckets
for rates over the last minute. Workers are gathered by the web page, which sums them.
Campaign ids come from the events, so any producer can invent them: at most ``max_campaigns``
are counted, and the least recently counted one is forgotten first.
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict, deque
from typing import Any

from config.settings import get_settings

WINDOW_S = 60


class Stats:
    def __init__(self, clock: Any = time.time, max_campaigns: int = 10_000) -> None:
        self.clock = clock
        self.started_at = clock()
        self.max_campaigns = max_campaigns
        self.total: Counter[str] = Counter()
        self.by_campaign: OrderedDict[str, Counter[str]] = OrderedDict()
        self._second = 0
        self._current: Counter[str] = Counter()
        self._recent: deque[tuple[int, Counter[str]]] = deque()

    def count(self, outcome: str, campaign_id: str | None = None, n: int = 1) -> None:
        self.total[outcome] += n
        if campaign_id is not None:
            counts = self.by_campaign.get(campaign_id)
            if counts is None:
                counts = self.by_campaign[campaign_id] = Counter()
                if len(self.by_campaign) > self.max_campaigns:
                    self.by_campaign.popitem(last=False)
            else:
                self.by_campaign.move_to_end(campaign_id)
            counts[outcome] += n
        second = int(self.clock())
        if second != self._second:
            self._roll(second)
        self._current[outcome] += n

    def _roll(self, second: int) -> None:
        if second != self._second:
            if self._current:
                self._recent.append((self._second, self._current))
                self._current = Counter()
            self._second = second
        while self._recent and self._recent[0][0] <= second - WINDOW_S:
            self._recent.popleft()

    def last_minute(self) -> Counter[str]:
        """Counts of the last full minute (the current second excluded)."""
        self._roll(int(self.clock()))
        out: Counter[str] = Counter()
        for _, counts in self._recent:
            out.update(counts)
        return out

    def snapshot(self) -> dict[str, Any]:
        minute = self.last_minute()
        return {
            "started_at": self.started_at,
            "total": with_events_in(self.total),
            "last_minute": with_events_in(minute),
            "rates": {k: round(v / WINDOW_S, 3) for k, v in with_events_in(minute).items()},
        }

    def campaign(self, campaign_id: str) -> dict[str, int]:
        return dict(self.by_campaign.get(campaign_id, ()))


def with_events_in(counts: Counter[str]) -> dict[str, int]:
    out = dict(counts)
    out["in"] = sum(n for k, n in counts.items() if k == "accepted" or k.startswith(("rejected:", "dlq:")))
    return out


#: The worker's statistics.
stats = Stats(max_campaigns=get_settings().stats_max_campaigns)
