"""``create-topics``: create every topic adtrack owns with its spec, and refuse the ones that exist but do not fit.

What a worker does at start-up, as a step of its own: a deployment runs it once before any producer or
worker (the compose file's init service), so no topic is ever auto-created with the brokers' defaults.
Faust's table changelogs are created by the first worker, with the same replication and min.insync.replicas.
"""

from __future__ import annotations

import asyncio

from config.settings import Settings
from config.topics import TopicSpec, durability, topic_specs
from pipeline.kafka.admin import ensure_topics


def describe(spec: TopicSpec, settings: Settings, created: bool) -> str:
    """One line per topic: its name, what it is created with, and whether this run created it."""
    config = " ".join(f"{key}={value}" for key, value in sorted({**durability(settings), **spec.config}.items()))
    state = "created" if created else "exists (partitions and cleanup.policy fit)"
    return (f"{spec.name}: {spec.partitions} partition(s), replication {settings.replication_factor}, "
            f"{config}: {state}")


def run(settings: Settings) -> int:
    created = set(asyncio.run(ensure_topics(settings, check=True)))
    for spec in topic_specs(settings):
        print(describe(spec, settings, spec.name in created))
    return 0
