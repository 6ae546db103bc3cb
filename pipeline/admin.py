"""Check that the brokers answer, and create adtrack's topics explicitly (never rely on broker auto-creation)."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaClient
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

from config.clients import aiokafka_options
from config.settings import Settings
from config.topics import TopicSpec, topic_specs
from pipeline.errors import ConfigError


async def check_brokers(settings: Settings) -> None:
    """Fail within ``broker_check_timeout_s``, naming the settings, unless a broker answers a metadata request.

    A client set to a TLS or SASL protocol that the broker's listener does not speak gets no error
    from the broker, only silence (a plaintext broker reads a TLS hello as the start of a huge
    request): without this bound a worker or a command waits, retrying, with nothing said.
    """
    timeout_s = settings.broker_check_timeout_s
    client = AIOKafkaClient(**aiokafka_options(settings), request_timeout_ms=int(timeout_s * 1000))
    try:
        async with asyncio.timeout(timeout_s):
            await client.bootstrap()
    except (TimeoutError, KafkaError, OSError) as exc:
        raise ConfigError(
            f"no broker at KAFKA_BOOTSTRAP_SERVERS={settings.kafka_bootstrap_servers} answered within {timeout_s} s "
            f"with KAFKA_SECURITY_PROTOCOL={settings.kafka_security_protocol} ({type(exc).__name__}): check that "
            f"the brokers run and that their listener speaks this protocol"
        ) from None
    finally:
        await client.close()


def check_brokers_sync(settings: Settings) -> None:
    asyncio.run(check_brokers(settings))


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
