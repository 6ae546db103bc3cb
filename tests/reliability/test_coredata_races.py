"""Scenario 7: events race core-data changes of their campaigns (create, repeated price changes, delete).

The contract (README, "Core-data contract"): once the notification of an update is on ``coredata.changes``,
every raw event produced after that moment is validated against the updated data, on every worker. Events
produced before it may see the old or the new data, but never a mix of two versions, and on a campaign's
partition the version its events see never goes back.

Two workers share the partitions and each scenario uses one campaign per partition of ``tracking.raw``,
so some campaigns live on the worker that does not apply the updates: there the global tables follow the
changelog, and only the barrier makes the contract hold. A background sender keeps events coming while the
test changes the campaigns. The version an event must see at least (its floor) is the higher of:
- the last version whose notification the test had seen before sending it (the contract), and
- the last version named by a barrier before it on its partition (the mechanism: the barrier is written
  before the notification and holds the partition until the worker's tables have that version). This one
  needs no polling, so it also judges the events sent in the instant after a change.

The last test sends versions back to back, without waiting for their notifications: it once found the
worker that applies them reading older versions back from its own changelog (tables/coredata.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka.partitioner import murmur2

from pipeline.domain import control
from pipeline.domain.pricing import cost_micros, from_micros
from tests import factories
from tests.harness import tracking_assignments, unique, wait_until
from tests.world import World

pytestmark = [pytest.mark.integration, pytest.mark.slow]

UNKNOWN = "unknown_campaign"


@pytest.fixture(scope="module")
def world(kafka, make_worker) -> World:
    first = make_worker("first").start().wait_ready()
    make_worker("second").start().wait_ready()
    wait_until(lambda: tracking_assignments(first) >= 2, 60, "a rebalance on first")
    return World(kafka)


@dataclass(frozen=True)
class Placement:
    """Where the campaigns of a scenario run: one publisher and slot, a campaign per partition."""

    publisher: str
    slot: str
    campaigns: tuple[str, ...]

    @classmethod
    def create(cls, world: World) -> Placement:
        pid, sid = unique("pub"), unique("slot")
        world.put("publisher", pid, factories.publisher_data(), wait=False)
        world.put("slot", sid, factories.slot_data(pid))
        partitions = world.topics.partitions
        chosen: dict[int, str] = {}
        while len(chosen) < partitions:
            cid = unique("cmp")
            chosen.setdefault((murmur2(cid.encode()) & 0x7FFFFFFF) % partitions, cid)
        return cls(pid, sid, tuple(chosen[p] for p in range(partitions)))

    def put_all(self, world: World, data: Any, op: str = "upsert") -> int:
        """Write every campaign (``data(cid)``), then wait for all notifications; returns the version."""
        versions = {cid: world.put("campaign", cid, data(cid) if op == "upsert" else None, op, wait=False)
                    for cid in self.campaigns}
        for cid, version in versions.items():
            world.wait_notified("campaign", cid, version)
        [version] = set(versions.values())
        return version


@dataclass(frozen=True)
class Sent:
    event_id: str
    campaign: str
    partition: int
    offset: int
    notified: int  # the campaign version whose notification the test had seen before sending it (0: none)


@dataclass(frozen=True)
class Result:
    sent: Sent
    kind: str  # "accepted" or the rejection reason
    record: dict[str, Any]  # the enriched record or the rejection
    barrier: int  # the last version of its campaign named by a barrier before it on its partition (0: none)

    @property
    def floor(self) -> int:
        """The version this event must see at least."""
        return max(self.sent.notified, self.barrier)


def send(world: World, placement: Placement, campaign: str, notified: int) -> Sent:
    event = factories.event(campaign, placement.publisher, placement.slot)
    meta = world.kafka.send(world.topics.topic_raw, event, key=campaign)
    return Sent(event["event_id"], campaign, meta.partition, meta.offset, notified)


def send_each(world: World, placement: Placement, notified: int, rounds: int = 1) -> list[Sent]:
    return [send(world, placement, cid, notified) for _ in range(rounds) for cid in placement.campaigns]


class Sender(threading.Thread):
    """Sends events of the campaigns in turn without pause until the ``with`` block ends.

    The test raises ``notified`` after the notifications it has seen.
    """

    def __init__(self, world: World, placement: Placement, notified: int = 0, pause_s: float = 0.004) -> None:
        super().__init__(name="race-sender", daemon=True)
        self.world, self.placement, self.pause_s = world, placement, pause_s
        self.notified = notified
        self.sent: list[Sent] = []
        self.error: BaseException | None = None
        self._done = threading.Event()

    def run(self) -> None:
        try:
            while not self._done.is_set():
                for cid in self.placement.campaigns:
                    self.sent.append(send(self.world, self.placement, cid, self.notified))
                time.sleep(self.pause_s)
        except BaseException as exc:  # noqa: BLE001 - raised again when the block ends
            self.error = exc

    def __enter__(self) -> Sender:
        self.start()
        wait_until(lambda: len(self.sent) >= 40 or self.error, 30, "the sender under way")
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self.join(30)
        if self.error is not None:
            raise self.error


def outcomes(world: World, sent: Iterable[Sent], timeout: float = 90.0) -> list[Result]:
    """Each event's single outcome, in tracking.raw order (partition, offset)."""
    sent = list(sent)
    wanted = {s.event_id for s in sent}
    found: dict[str, list[tuple[str, dict[str, Any]]]] = {}

    def complete() -> bool:
        found.clear()
        for r in world.kafka.read(world.topics.topic_realtime):
            if (record := r.json())["event_id"] in wanted:
                found.setdefault(record["event_id"], []).append(("accepted", record))
        for r in world.kafka.read(world.topics.topic_rejected):
            if (record := r.json())["event"]["event_id"] in wanted:
                found.setdefault(record["event"]["event_id"], []).append((record["reason"], record))
        return len(found) == len(wanted)

    try:
        wait_until(complete, timeout, f"outcomes of {len(wanted)} events", interval=0.5)
    except TimeoutError as exc:
        missing = sorted((s.partition, s.offset, s.event_id) for s in sent if s.event_id not in found)
        raise TimeoutError(f"{exc}: {len(missing)} without one, first (partition, offset, id): {missing[:5]}") from None
    several = {e: [k for k, _ in o] for e, o in found.items() if len(o) > 1}
    assert not several, f"events with more than one outcome: {dict(list(several.items())[:5])}"
    barriers = campaign_barriers(world)

    def barrier(s: Sent) -> int:
        return max((v for o, v in barriers.get((s.campaign, s.partition), ()) if o < s.offset), default=0)

    return [Result(s, *found[s.event_id][0], barrier(s)) for s in sorted(sent, key=lambda s: (s.partition, s.offset))]


def campaign_barriers(world: World) -> dict[tuple[str, int], list[tuple[int, int]]]:
    """(campaign, partition) -> (offset, version) of every core-data barrier on tracking.raw that names it."""
    found: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for r in world.kafka.read(world.topics.topic_raw):
        if control.control_kind(list(r.headers.items())) == control.BARRIER:
            for entity, id_, version in control.decode_barrier(r.value):
                if entity == "campaign":
                    found.setdefault((id_, r.partition), []).append((r.offset, version))
    return found


def runs(results: list[Result]) -> set[str]:
    """Per campaign, its outcomes along its partition with repeats collapsed ("unknown_campaign accepted")."""
    found: dict[str, list[str]] = {}
    for r in results:
        kinds = found.setdefault(r.sent.campaign, [])
        if not kinds or kinds[-1] != r.kind:
            kinds.append(r.kind)
    return {" ".join(kinds) for kinds in found.values()}


def tally(results: list[Result], keep: Any) -> str:
    kinds = [r.kind for r in results if keep(r)]
    return ", ".join(f"{kinds.count(k)} {k}" for k in sorted(set(kinds))) or "none"


def late(results: list[Result], version: int, kind: str) -> list[str]:
    """The events that had to see ``version`` (or later) and did not come out as ``kind``."""
    return [f"{r.sent} (barrier v{r.barrier}): {r.kind} {r.record.get('campaign')}"
            for r in results if r.floor >= version and r.kind != kind]


def test_events_before_their_campaign_exists_are_unknown_and_later_ones_are_accepted(world: World) -> None:
    placement = Placement.create(world)
    early = send_each(world, placement, 0, rounds=5)
    assert {r.kind for r in outcomes(world, early)} == {UNKNOWN}

    with Sender(world, placement) as sender:
        sender.notified = placement.put_all(world, lambda _: factories.campaign_data())
        after = send_each(world, placement, sender.notified, rounds=5)
        time.sleep(0.5)
    results = outcomes(world, [*early, *sender.sent, *after])

    wrong = late(results, 1, "accepted")
    assert not wrong, f"{len(wrong)} events after the campaign's creation were not accepted:\n" + "\n".join(wrong[:9])
    # Once a worker holds the campaign it keeps it: never unknown again after the first acceptance.
    assert runs(results) == {f"{UNKNOWN} accepted"}
    print(f"\ncreate: before ({tally(results, lambda r: r.sent in early)}); "
          f"racing ({tally(results, lambda r: r.floor == 0 and r.sent not in early)}); "
          f"after the barrier ({tally(results, lambda r: r.floor >= 1)}, "
          f"{sum(r.barrier > r.sent.notified for r in results)} before the notification was seen)")


def test_events_racing_price_changes_see_one_whole_version_and_after_its_notification_that_one(world: World) -> None:
    placement = Placement.create(world)
    versions: dict[int, dict[str, Any]] = {}  # version -> the campaign fields an enriched record carries

    def data(version: int) -> dict[str, Any]:
        fields = {"name": f"Sale v{version}", "price": round(1.0 + 0.37 * version, 2),
                  "pricing_model": ("cpm", "cpc")[version % 2]}
        versions[version] = fields
        return factories.campaign_data(**fields)

    placement.put_all(world, lambda _: data(1))
    probes: list[Result] = []
    with Sender(world, placement, notified=1) as sender:
        for version in range(2, 10):
            assert placement.put_all(world, lambda _, v=version: data(v)) == version
            sender.notified = version
            # Sent after the notification and answered before the next change: they must see exactly this version.
            probes.extend(outcomes(world, send_each(world, placement, version)))
    results = outcomes(world, sender.sent)

    problems = [f"probe {r.sent}: {r.kind} {r.record.get('campaign')}" for r in probes
                if r.kind != "accepted" or seen_version(r.record, versions) != r.sent.notified]
    last: dict[str, int] = {}
    for r in results:
        version = seen_version(r.record, versions) if r.kind == "accepted" else None
        if version is None:
            problems.append(f"{r.sent}: {r.kind} {r.record.get('campaign')} is no published version (or a mix of two)")
            continue
        if version < r.floor:
            problems.append(f"{r.sent}: saw v{version}, below its floor (barrier v{r.barrier})")
        if version < last.get(r.sent.campaign, 0):
            problems.append(f"{r.sent}: saw v{version} after an earlier event saw v{last[r.sent.campaign]}")
        last[r.sent.campaign] = version
    assert not problems, "\n".join(problems[:20])
    newer = sum(seen_version(r.record, versions) > r.floor for r in results)
    print(f"\nprice changes: {len(results)} racing events saw versions "
          f"{sorted({seen_version(r.record, versions) for r in results})}, {newer} a version newer than their floor; "
          f"{len(probes)} probes each saw the version notified before them")


def seen_version(record: dict[str, Any], versions: dict[int, dict[str, Any]]) -> int | None:
    """The version whose fields and cost the enriched record carries, or None if no single version fits."""
    campaign = record["campaign"]
    for version, fields in versions.items():
        if all(campaign[k] == v for k, v in fields.items()):
            cost = from_micros(cost_micros(record["type"], fields["pricing_model"], fields["price"]))
            return version if record["cost"] == cost else None
    return None


def test_after_a_delete_is_notified_every_event_of_the_campaign_is_unknown(world: World) -> None:
    placement = Placement.create(world)
    placement.put_all(world, lambda _: factories.campaign_data(price=2.0))
    first = send_each(world, placement, 1)
    assert {r.kind for r in outcomes(world, first)} == {"accepted"}

    with Sender(world, placement, notified=1) as sender:
        deleted = placement.put_all(world, None, op="delete")
        sender.notified = deleted
        burst = send_each(world, placement, deleted, rounds=75)  # right after the notifications
    results = outcomes(world, [*first, *sender.sent, *burst])

    stale = late(results, deleted, UNKNOWN)
    assert not stale, f"{len(stale)} events after the delete were enriched with stale data:\n" + "\n".join(stale[:10])
    assert runs(results) == {f"accepted {UNKNOWN}"}
    print(f"\ndelete: before the barrier ({tally(results, lambda r: r.floor < deleted)}); "
          f"after it ({tally(results, lambda r: r.floor >= deleted)}, "
          f"{sum(r.barrier > r.sent.notified for r in results)} before the notification was seen)")


def test_back_to_back_updates_are_read_back_in_order_by_the_worker_that_applies_them(world: World) -> None:
    placement = Placement.create(world)
    versions: dict[int, dict[str, Any]] = {}

    def data(version: int) -> dict[str, Any]:
        versions[version] = {"name": f"Burst v{version}", "price": float(version), "pricing_model": "cpm"}
        return factories.campaign_data(**versions[version])

    last = 60
    placement.put_all(world, lambda _: data(1))
    with Sender(world, placement, notified=1) as sender:
        for version in range(2, last + 1):  # no waiting between versions: the changelog falls behind
            for cid in placement.campaigns:
                world.put("campaign", cid, data(version), wait=False)
        for cid in placement.campaigns:
            world.wait_notified("campaign", cid, last)
    results = outcomes(world, sender.sent)

    notes = [r.json() for r in world.kafka.read(world.topics.topic_coredata_changes)]
    gaps = [(n["id"], n["version"], n["previous_version"]) for n in notes
            if n["id"] in placement.campaigns and n["version"] > 1 and n["previous_version"] != n["version"] - 1]
    went_back: list[str] = []
    newest: dict[str, int] = {}
    for r in results:
        version = seen_version(r.record, versions)
        assert version is not None, f"{r.sent}: {r.record.get('campaign')} is no published version"
        if version < newest.get(r.sent.campaign, 0):
            went_back.append(f"{r.sent.campaign}@{r.sent.offset}: v{version} after v{newest[r.sent.campaign]}")
        newest[r.sent.campaign] = max(version, newest.get(r.sent.campaign, 0))
    print(f"\nburst of {last} versions: {len(gaps)} notifications with a wrong previous_version {gaps[:5]}; "
          f"{len(went_back)} events saw an older version than an earlier event {went_back[:5]}")
    assert not gaps, f"notifications naming a version they did not replace: {gaps[:10]}"
    assert not went_back, f"events that saw an older version than an earlier event: {went_back[:10]}"
