"""Check that the brokers answer, and create adtrack's topics explicitly (never rely on broker auto-creation).

A worker also checks that the topics it finds fit their specs (``pipeline.kafka.topiccheck``) and refuses to start if not.
"""

from __future__ import annotations

import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from config.settings import Settings
from config.topics import TopicSpec, durability, topic_specs
from pipeline.domain.errors import ConfigError, TopicError
from pipeline.kafka import topiccheck
from pipeline.kafka import clients


async def check_brokers(settings: Settings) -> None:
    """Fail within ``broker_check_timeout_s``, naming the settings, unless a broker answers a metadata request.

    A client set to a TLS or SASL protocol that the broker's listener does not speak gets no error
    from the broker, only silence (a plaintext broker reads a TLS hello as the start of a huge
    request): without this bound a worker or a command waits, retrying, with nothing said.
    """
    timeout_s = settings.broker_check_timeout_s
    client = clients.metadata_client(settings, request_timeout_ms=int(timeout_s * 1000))
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


async def ensure_topics(
    settings: Settings, specs: list[TopicSpec] | None = None, timeout_s: float = 30.0, check: bool = False
) -> list[str]:
    """Create the missing topics; return the names created. Raise ``TopicError`` if any could not be created.

    With ``check``, also refuse existing topics whose partitions or cleanup policy do not fit their spec
    (``pipeline.kafka.topiccheck``): a worker checks every topic it uses before it subscribes to any.
    """
    specs = topic_specs(settings) if specs is None else specs
    admin = clients.admin(settings, request_timeout_ms=int(timeout_s * 1000))
    await asyncio.wait_for(admin.start(), timeout_s)
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing:
            await _create(admin, settings, missing)
        if check:
            # Only topics listed as existing are described: describing an unknown topic auto-creates it.
            found = await _describe(admin, [s.name for s in specs if s.name in existing])
            problems = topiccheck.misfits(specs, found, settings.kafka_bootstrap_servers)
            if problems:
                raise TopicError(topiccheck.refusal(problems))
        return [s.name for s in missing]
    finally:
        await admin.close()


async def _create(admin: AIOKafkaAdminClient, settings: Settings, specs: list[TopicSpec]) -> None:
    replication = settings.replication_factor
    brokers = len((await admin.describe_cluster())["brokers"])
    names = ", ".join(s.name for s in specs)
    refusal = topiccheck.replication_refusal(
        names, replication, settings.min_insync_replicas, brokers, settings.kafka_bootstrap_servers
    )
    if refusal:
        raise TopicError(refusal)
    answer = await admin.create_topics(
        [NewTopic(s.name, s.partitions, replication, topic_configs={**durability(settings), **s.config})
         for s in specs]
    )
    failures = topiccheck.create_failures(answer.topic_errors)
    if failures:
        raise TopicError(
            f"the brokers at KAFKA_BOOTSTRAP_SERVERS={settings.kafka_bootstrap_servers} refused to create "
            f"{len(failures)} topic(s) (ADTRACK_REPLICATION_FACTOR={replication}): " + "; ".join(failures)
        )


async def _describe(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, topiccheck.Found]:
    if not names:
        return {}
    partitions = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(names)}
    answers = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    )
    policies: dict[str, str] = {}
    for answer in answers:
        for resource in answer.resources:
            _, _, _, name, entries = resource[:5]
            for entry in entries:
                if entry[0] == "cleanup.policy" and entry[1]:
                    policies[name] = entry[1]
    return {
        name: topiccheck.Found(name, partitions[name], policies.get(name, topiccheck.DEFAULT_CLEANUP_POLICY))
        for name in names
    }


def ensure_topics_sync(settings: Settings) -> list[str]:
    return asyncio.run(ensure_topics(settings))
