"""Every topic adtrack owns, with its partitions and config, created explicitly at start-up."""

from __future__ import annotations

import dataclasses

from config.settings import Settings


#: The largest record a DLQ takes: a raw record at Kafka's default limit, plus the dlq.* headers.
DLQ_MAX_BYTES = 2 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = dataclasses.field(default_factory=dict)
    #: True when ``partitions`` is ADTRACK_PARTITIONS (a tracking topic), False when it is fixed by design.
    scales: bool = False


def durability(settings: Settings) -> dict[str, str]:
    """The config every topic adtrack creates carries, Faust's table changelogs included.

    With replication 3 and min.insync.replicas 2 an acknowledged write survives the loss of any one
    broker, and writes go on while one broker is down.
    """
    return {"min.insync.replicas": str(settings.min_insync_replicas)}


def topic_specs(settings: Settings) -> list[TopicSpec]:
    n = settings.partitions
    compacted = {"cleanup.policy": "compact"}
    return [
        TopicSpec(settings.topic_raw, n, scales=True),
        TopicSpec(settings.topic_realtime, n, scales=True),
        TopicSpec(settings.topic_batch, n, {"compression.type": "gzip"}, scales=True),
        TopicSpec(settings.topic_rejected, n, scales=True),
        TopicSpec(settings.topic_dlq, n, {"max.message.bytes": str(DLQ_MAX_BYTES)}, scales=True),
        # What the archive cannot read on tracking.batch: rare, so one partition.
        TopicSpec(settings.topic_archive_dlq, 1, {"max.message.bytes": str(DLQ_MAX_BYTES)}),
        # Dedupe entries and spend, per partition of the raw topic (pipeline/state/): same count as the raw topic.
        TopicSpec(settings.tracking_state_topic, n, compacted, scales=True),
        # Core data is small and strictly ordered: one partition.
        TopicSpec(settings.topic_coredata_updates, 1),
        TopicSpec(settings.topic_coredata_changes, 1),
        TopicSpec(settings.topic_coredata_subscriptions, 1, compacted),
        TopicSpec(settings.topic_coredata_dlq, 1, {"max.message.bytes": str(DLQ_MAX_BYTES)}),
    ]
