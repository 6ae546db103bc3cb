"""The start-up check of topics, the pure part: what the brokers hold against the specs, and how to fix it."""

from __future__ import annotations

from config.settings import Settings
import pytest

from config.topics import durability, topic_specs
from pipeline.kafka.topiccheck import Found, create_failures, misfits, refusal, replication_refusal

BOOTSTRAP = "kafka-1:9092"
SETTINGS = Settings()
SPECS = topic_specs(SETTINGS)


def as_specified(**changes: Found) -> dict[str, Found]:
    found = {s.name: Found(s.name, s.partitions, s.config.get("cleanup.policy", "delete")) for s in SPECS}
    found.update(changes)
    return found


def test_topics_as_specified_fit() -> None:
    assert misfits(SPECS, as_specified(), BOOTSTRAP) == []


def test_missing_topics_are_not_misfits_they_are_created() -> None:
    assert misfits(SPECS, {}, BOOTSTRAP) == []


def test_an_auto_created_coredata_updates_topic_is_refused_with_the_command_that_recreates_it() -> None:
    (problem,) = misfits(SPECS, as_specified(**{"coredata.updates": Found("coredata.updates", 4)}), BOOTSTRAP)
    assert (problem.topic, problem.has, problem.needs) == ("coredata.updates", "4 partition(s)", "1 partition(s)")
    assert f"kafka-topics.sh --bootstrap-server {BOOTSTRAP} --delete --topic coredata.updates" in problem.fix
    assert "ADTRACK_PARTITIONS" not in problem.fix  # core data is one partition by design


def test_tracking_topics_that_all_agree_on_another_count_suggest_following_it() -> None:
    found = {s.name: Found(s.name, 1, s.config.get("cleanup.policy", "delete")) for s in SPECS}
    problems = misfits(SPECS, found, BOOTSTRAP)
    assert {p.topic for p in problems} == {s.name for s in SPECS if s.scales}
    assert all(p.fix.startswith("set ADTRACK_PARTITIONS=1 ") for p in problems)


def test_a_state_changelog_partitioned_unlike_the_raw_topic_is_refused_without_suggesting_a_count() -> None:
    state = SETTINGS.tracking_state_topic
    problems = misfits(SPECS, as_specified(**{state: Found(state, 2, "compact")}), BOOTSTRAP)
    assert [(p.topic, p.has, p.needs) for p in problems] == [(state, "2 partition(s)", "4 partition(s)")]
    assert "ADTRACK_PARTITIONS" not in problems[0].fix


def test_a_changelog_that_is_not_compacted_is_refused_with_the_command_that_compacts_it() -> None:
    state = SETTINGS.tracking_state_topic
    (problem,) = misfits(SPECS, as_specified(**{state: Found(state, 4, "delete")}), BOOTSTRAP)
    assert (problem.has, problem.needs) == ("cleanup.policy=delete", "cleanup.policy=compact")
    assert f"--entity-name {state} --add-config cleanup.policy=compact" in problem.fix


def test_a_compacted_raw_topic_is_refused_because_compaction_would_drop_events() -> None:
    (problem,) = misfits(SPECS, as_specified(**{"tracking.raw": Found("tracking.raw", 4, "compact")}), BOOTSTRAP)
    assert (problem.topic, problem.needs) == ("tracking.raw", "cleanup.policy=delete")


def test_policy_lists_compare_as_sets() -> None:
    state = SETTINGS.tracking_state_topic
    specs = [s for s in SPECS if s.name == state]
    assert misfits(specs, {state: Found(state, 4, "compact")}, BOOTSTRAP) == []
    assert len(misfits(specs, {state: Found(state, 4, "compact,delete")}, BOOTSTRAP)) == 1


def test_the_refusal_is_one_message_naming_every_topic() -> None:
    found = as_specified(**{"coredata.updates": Found("coredata.updates", 4), "tracking.raw": Found("tracking.raw", 2)})
    message = refusal(misfits(SPECS, found, BOOTSTRAP))
    assert message.startswith("2 topic(s) do not fit")
    assert "'coredata.updates' has 4 partition(s)" in message and "'tracking.raw' has 2 partition(s)" in message


def test_create_failures_name_the_topic_and_the_brokers_error_but_not_an_existing_topic() -> None:
    answer = [
        ("tracking.raw", 0, None),
        ("coredata.updates", 36, "Topic with this name already exists."),
        ("tracking.dlq", 38, "Replication factor: 3 larger than available brokers: 1."),
    ]
    assert create_failures(answer) == [
        "tracking.dlq: Replication factor: 3 larger than available brokers: 1. (Kafka error code 38)"
    ]


@pytest.mark.parametrize(("replication", "min_insync", "brokers"), [(1, 1, 1), (3, 2, 3), (3, 3, 5), (2, 1, 3)])
def test_a_replication_the_cluster_can_hold_with_a_reachable_min_insync_is_not_refused(
    replication: int, min_insync: int, brokers: int
) -> None:
    assert replication_refusal("t", replication, min_insync, brokers, BOOTSTRAP) is None


def test_a_replication_factor_above_the_broker_count_is_refused_naming_both() -> None:
    message = replication_refusal("tracking.raw, coredata.updates", 3, 2, 1, BOOTSTRAP)
    assert message == (
        "cannot create tracking.raw, coredata.updates: ADTRACK_REPLICATION_FACTOR=3 but the cluster at "
        f"KAFKA_BOOTSTRAP_SERVERS={BOOTSTRAP} has 1 broker(s); set ADTRACK_REPLICATION_FACTOR to at most 1"
    )


@pytest.mark.parametrize(("replication", "min_insync"), [(1, 2), (3, 4), (3, 0)])
def test_a_min_insync_that_no_write_could_reach_is_refused_with_the_range_that_works(
    replication: int, min_insync: int
) -> None:
    message = replication_refusal("tracking.raw", replication, min_insync, 3, BOOTSTRAP)
    assert message is not None
    assert f"ADTRACK_MIN_INSYNC_REPLICAS={min_insync} with ADTRACK_REPLICATION_FACTOR={replication}" in message
    assert f"between 1 and {replication}" in message


def test_every_created_topic_carries_the_min_insync_setting() -> None:
    assert durability(Settings(min_insync_replicas=2)) == {"min.insync.replicas": "2"}
    assert durability(SETTINGS) == {"min.insync.replicas": "1"}
