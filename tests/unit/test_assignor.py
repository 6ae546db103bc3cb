"""The tracking group's assignor: every partition once, sticky within balance, and who owns what for every member."""

from __future__ import annotations

from collections import Counter

from aiokafka.cluster import ClusterMetadata
from hypothesis import given
from hypothesis import strategies as st

from pipeline.kafka.assignor import Assignor, balance


@given(st.integers(0, 16), st.dictionaries(st.text(min_size=1, max_size=5), st.lists(st.integers(-2, 20)),
                                           min_size=1, max_size=6))
def test_every_partition_goes_to_exactly_one_member_and_loads_differ_by_at_most_one(
        partitions: int, members: dict[str, list[int]]) -> None:
    plan = balance(partitions, members)
    assert set(plan) == set(members)
    owned = Counter(p for ps in plan.values() for p in ps)
    assert sorted(owned) == list(range(partitions)) and set(owned.values()) <= {1}
    loads = [len(ps) for ps in plan.values()]
    assert max(loads) - min(loads) <= 1


def test_partitions_stay_where_they_are_when_a_member_joins_as_far_as_balance_allows() -> None:
    before = balance(4, {"a": [], "b": []})
    after = balance(4, {**before, "c": []})
    moved = {p for m in ("a", "b") for p in before[m] if p not in after[m]}
    assert len(moved) == 1 and after["c"] == sorted(moved)


def test_a_leaving_members_partitions_go_to_the_others_and_nothing_else_moves() -> None:
    before = balance(6, {"a": [], "b": [], "c": []})
    after = balance(6, {"a": before["a"], "b": before["b"]})
    assert set(before["a"]) <= set(after["a"]) and set(before["b"]) <= set(after["b"])


class Cluster(ClusterMetadata):
    def __init__(self, partitions: dict[str, int]) -> None:
        super().__init__()
        self.counts = partitions

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return set(range(self.counts[topic])) if topic in self.counts else None


def test_every_member_learns_the_web_url_of_every_partitions_owner() -> None:
    one, two = Assignor("http://one:6066"), Assignor("http://two:6066")
    two.owned = [0, 1]
    members = {"m1": one.metadata(["tracking.raw"]), "m2": two.metadata(["tracking.raw"])}
    plan = one.assign(Cluster({"tracking.raw": 4}), members)
    one.on_assignment(plan["m1"])
    two.on_assignment(plan["m2"])
    assert two.owned == [0, 1] and one.owned == [2, 3]
    assert one.owners == two.owners == {0: "http://two:6066", 1: "http://two:6066",
                                        2: "http://one:6066", 3: "http://one:6066"}
