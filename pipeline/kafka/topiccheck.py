"""The start-up check of adtrack's topics: what the brokers hold against ``config/topics.py``.

Pure: ``pipeline.kafka.admin`` gathers the facts from the brokers; this decides what does not fit and
says how to fix it. A worker refuses to start on any misfit rather than run and dead-letter
everything (a producer that came before the first worker leaves auto-created topics with the
broker's default partition count and cleanup policy).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from config.topics import TopicSpec

#: Kafka's error code for "Topic with this name already exists": another worker created it first.
TOPIC_ALREADY_EXISTS = 36
DEFAULT_CLEANUP_POLICY = "delete"


@dataclasses.dataclass(frozen=True)
class Found:
    """A topic as the brokers describe it."""

    name: str
    partitions: int
    cleanup_policy: str = DEFAULT_CLEANUP_POLICY


@dataclasses.dataclass(frozen=True)
class Misfit:
    topic: str
    has: str
    needs: str
    fix: str

    def __str__(self) -> str:
        return f"topic {self.topic!r} has {self.has}, adtrack needs {self.needs}; fix: {self.fix}"


def _policy(value: str) -> frozenset[str]:
    return frozenset(p.strip() for p in value.split(",") if p.strip())


def misfits(specs: Iterable[TopicSpec], found: Mapping[str, Found], bootstrap: str) -> list[Misfit]:
    """Every existing topic whose partition count or cleanup policy does not fit its spec (missing ones are not)."""
    specs = list(specs)
    # When every existing tracking topic agrees on one partition count, the simplest fix is to follow it.
    counts = {found[s.name].partitions for s in specs if s.scales and s.name in found}
    follow = next(iter(counts)) if len(counts) == 1 else None
    problems: list[Misfit] = []
    for spec in specs:
        topic = found.get(spec.name)
        if topic is None:
            continue
        if topic.partitions != spec.partitions:
            if spec.scales and follow is not None:
                fix = (f"set ADTRACK_PARTITIONS={follow} (every existing tracking topic has {follow} partitions), "
                       f"or {_recreate(spec, bootstrap)}")
            else:
                fix = _recreate(spec, bootstrap)
            problems.append(Misfit(spec.name, f"{topic.partitions} partition(s)", f"{spec.partitions} partition(s)", fix))
        wanted = spec.config.get("cleanup.policy", DEFAULT_CLEANUP_POLICY)
        if _policy(topic.cleanup_policy) != _policy(wanted):
            fix = (f"kafka-configs.sh --bootstrap-server {bootstrap} --alter --entity-type topics "
                   f"--entity-name {spec.name} --add-config cleanup.policy={wanted}")
            problems.append(Misfit(spec.name, f"cleanup.policy={topic.cleanup_policy}", f"cleanup.policy={wanted}", fix))
    return problems


def _recreate(spec: TopicSpec, bootstrap: str) -> str:
    return (f"kafka-topics.sh --bootstrap-server {bootstrap} --delete --topic {spec.name} (its records are lost: "
            f"publish them again) and start the worker again, which creates it with {spec.partitions} partition(s)")


def refusal(problems: list[Misfit]) -> str:
    """One message for every misfit: the worker would otherwise dead-letter or misroute what it reads."""
    lines = "\n".join(f"  - {p}" for p in problems)
    return (f"{len(problems)} topic(s) do not fit what adtrack needs (were they auto-created by a producer "
            f"before the first worker started?); the worker does not start:\n{lines}")


def replication_refusal(
    names: str, replication: int, min_insync_replicas: int, brokers: int, bootstrap: str
) -> str | None:
    """Why topics cannot be created with this replication on this cluster, or None when they can.

    Apache Kafka refuses a replication factor above the broker count per topic; some brokers (the
    embedded one) accept it and replicate nothing. A min.insync.replicas above the replication factor
    is accepted by every broker, and then no write with acks=all is ever acknowledged.
    """
    if replication > brokers:
        return (f"cannot create {names}: ADTRACK_REPLICATION_FACTOR={replication} but the cluster at "
                f"KAFKA_BOOTSTRAP_SERVERS={bootstrap} has {brokers} broker(s); "
                f"set ADTRACK_REPLICATION_FACTOR to at most {brokers}")
    if not 1 <= min_insync_replicas <= replication:
        return (f"cannot create {names}: ADTRACK_MIN_INSYNC_REPLICAS={min_insync_replicas} with "
                f"ADTRACK_REPLICATION_FACTOR={replication}: no write could be acknowledged; set "
                f"ADTRACK_MIN_INSYNC_REPLICAS between 1 and {replication} (in production replication 3, "
                f"min.insync.replicas 2)")
    return None


def create_failures(topic_errors: Iterable[tuple[str, int, str | None]]) -> list[str]:
    """The per-topic errors of a CreateTopics answer, as ``topic: message (code)``; "already exists" is not one."""
    return [
        f"{topic}: {message or 'no message'} (Kafka error code {code})"
        for topic, code, message in topic_errors
        if code not in (0, TOPIC_ALREADY_EXISTS)
    ]
