"""Create adtrack's topics explicitly (never rely on broker auto-creation)."""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from config.clients import aiokafka_options
from config.settings import Settings
from config.topics import TopicSpec, topic_specs


async def ensure_topics(settings: Settings, specs: list[TopicSpec] | None = None, timeout_s: float = 30.0) -> list[str]:
    """Create the missing topics; return the names created."""
    specs = topic_specs(settings) if specs is None else specs
    admin = AIOKafkaAdminClient(**aiokafka_options(settings), request_timeout_ms=int(timeout_s * 1000))
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing:
            await admin.create_topics(
                [NewTopic(s.name, s.partitions, settings.replication_factor, topic_configs=s.config) for s in missing]
            )
        return [s.name for s in missing]
    finally:
        await admin.close()


def ensure_topics_sync(settings: Settings) -> list[str]:
    return asyncio.run(ensure_topics(settings))
