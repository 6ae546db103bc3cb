"""Invalid tracking events, one maker per bucket: every poison reason and every rejection reason.

A maker returns None when the core data cannot show its bucket (no inactive campaign, no
accepted event yet to repeat). ``budget_exhausted`` has no maker: budgets run out on their own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import orjson

from pipeline.domain.events import REQUIRED_IDS
from pipeline.domain.rules import Reason
from pipeline.sim.traffic import Generated, Traffic

HOUR_MS = 3_600_000
CRAWLERS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "python-requests/2.32.3",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
)

Maker = Callable[[Traffic, int], Generated | None]


def malformed(t: Traffic, now: int) -> Generated:
    event = t.event(now)
    variant = t.variant("malformed", 3)
    if variant == 0:  # cut short, as by a client that died while sending; no key either
        whole = orjson.dumps(event)
        return t.item(None, "dlq:malformed", whole[: t.rng.randint(1, len(whole) - 1)])
    if variant == 1:  # Latin-1 where UTF-8 belongs
        event["url"] += "?q=caf"
        return t.item(event, "dlq:malformed", orjson.dumps(event).replace(b'?q=caf"', b'?q=caf\xe9"', 1))
    return t.item([event], "dlq:malformed")  # a batch sent as one JSON array


def schema(t: Traffic, now: int) -> Generated:
    event = t.event(now)
    variant = t.variant("schema", 3)
    if variant == 0:
        del event[t.rng.choice(("event_id", "type", "ts", *REQUIRED_IDS))]
    elif variant == 1:  # wrong type: seconds as a string, or a numeric id
        if t.rng.random() < 0.5:
            event["ts"] = f"{event['ts'] / 1000:.3f}"
        else:
            event["campaign_id"] = t.rng.randint(1, 99_999)
    else:
        event["type"] = t.rng.choice(("view", "viewable_impression", "install"))
    return t.item(event, "dlq:schema")


def oversized(t: Traffic, now: int) -> Generated:
    event = t.event(now)
    # A runaway query string: "?ref=" plus the padding takes it past the limit.
    padding = t.max_bytes - len(orjson.dumps(event)) + t.rng.randint(1, 4_096)
    event["url"] += "?ref=" + "x" * padding
    return t.item(event, "dlq:oversized")


def future_event(t: Traffic, now: int) -> Generated:
    event = t.event(now)
    event["ts"] = now + t.skew_ms + t.rng.randint(HOUR_MS, 6 * HOUR_MS)  # a device clock set wrong
    return t.item(event, Reason.FUTURE_EVENT.value)


def stale_event(t: Traffic, now: int) -> Generated:
    event = t.event(now)
    event["ts"] = now - t.window_ms - t.rng.randint(HOUR_MS, 48 * HOUR_MS)  # an old offline queue, flushed
    return t.item(event, Reason.STALE_EVENT.value)


def bot(t: Traffic, now: int) -> Generated:
    event = t.event(now)
    if t.variant("bot", 2) == 0:
        event["user_agent"] = t.rng.choice(CRAWLERS)
    else:
        del event["user_agent"]
    return t.item(event, Reason.BOT.value)


def unknown_campaign(t: Traffic, now: int) -> Generated:
    event = t.event(now)
    event["campaign_id"] = t.unknown("cmp", t.snapshot.campaigns)
    return t.item(event, Reason.UNKNOWN_CAMPAIGN.value)


def campaign_inactive(t: Traffic, now: int) -> Generated | None:
    event = t.event(now)
    inactive = [c for c in t.snapshot.campaigns if not t.snapshot.in_flight(c, event["ts"])]
    if not inactive:
        return None
    event["campaign_id"] = campaign_id = t.rng.choice(inactive)
    if placements := t.snapshot.placements[campaign_id]:
        t.place(event, *t.rng.choice(placements))
    return t.item(event, Reason.CAMPAIGN_INACTIVE.value)


def unknown_publisher(t: Traffic, now: int) -> Generated:
    event = t.event(now)
    t.place(event, t.unknown("pub", t.snapshot.publishers))
    return t.item(event, Reason.UNKNOWN_PUBLISHER.value)


def publisher_not_allowed(t: Traffic, now: int) -> Generated | None:
    """A blocked publisher, or an active one the campaign does not list, taking turns."""
    event, publishers = t.event(now), t.snapshot.publishers
    blocked = [p for p, publisher in publishers.items() if publisher["status"] == "blocked"]
    unlisted = [  # (campaign, an active publisher not on its list)
        (c, p)
        for c in t.campaigns(event["ts"])
        if (allowed := t.snapshot.campaigns[c]["publishers"]) is not None
        for p, publisher in publishers.items()
        if publisher["status"] == "active" and p not in allowed
    ]
    if not blocked and not unlisted:
        return None
    if unlisted and (not blocked or t.variant("publisher_not_allowed", 2) == 1):
        event["campaign_id"], publisher_id = t.rng.choice(unlisted)
    else:
        publisher_id = t.rng.choice(blocked)
    slots = [s for s, slot in t.snapshot.slots.items() if slot["publisher_id"] == publisher_id]
    t.place(event, publisher_id, t.rng.choice(slots) if slots else None)
    return t.item(event, Reason.PUBLISHER_NOT_ALLOWED.value)


def unknown_slot(t: Traffic, now: int) -> Generated:
    event = t.event(now)
    event["slot_id"] = t.unknown("slot", t.snapshot.slots)
    return t.item(event, Reason.UNKNOWN_SLOT.value)


def slot_mismatch(t: Traffic, now: int) -> Generated | None:
    event = t.event(now)
    others = [s for s, slot in t.snapshot.slots.items() if slot["publisher_id"] != event["publisher_id"]]
    if not others:
        return None
    event["slot_id"] = t.rng.choice(others)  # a tag copied from another site
    return t.item(event, Reason.SLOT_MISMATCH.value)


def duplicate(t: Traffic, now: int) -> Generated | None:
    if not t.recent:
        return None
    return dataclasses.replace(t.rng.choice(t.recent), expected=Reason.DUPLICATE.value)  # unchanged bytes


# The order the invalid share takes turns in; duplicate last, so an accepted event was most likely sent.
MAKERS: dict[str, Maker] = {
    "dlq:malformed": malformed,
    "dlq:schema": schema,
    "dlq:oversized": oversized,
    Reason.FUTURE_EVENT.value: future_event,
    Reason.STALE_EVENT.value: stale_event,
    Reason.BOT.value: bot,
    Reason.UNKNOWN_CAMPAIGN.value: unknown_campaign,
    Reason.CAMPAIGN_INACTIVE.value: campaign_inactive,
    Reason.UNKNOWN_PUBLISHER.value: unknown_publisher,
    Reason.PUBLISHER_NOT_ALLOWED.value: publisher_not_allowed,
    Reason.UNKNOWN_SLOT.value: unknown_slot,
    Reason.SLOT_MISMATCH.value: slot_mismatch,
    Reason.DUPLICATE.value: duplicate,
}
