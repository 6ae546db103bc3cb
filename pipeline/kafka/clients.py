"""Every Kafka client adtrack makes is built here, so every one carries the TLS and SASL options.

aiokafka clients (``consumer``, ``producer``, ``admin``, ``metadata_client``) for the workers and asyncio tools, kafka-python
ones (``blocking_consumer``, ``blocking_producer``) for the command line and the
threads of the traffic tools. Each takes the settings and the options of its use; an option that
would replace a connection or security option of the settings is refused (a TypeError, as for any
keyword given twice). ``config/clients.py`` spells the options for each library.
"""

from __future__ import annotations

from typing import Any

import kafka
from aiokafka import AIOKafkaClient, AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from config.clients import aiokafka_options, kafka_python_options
from config.settings import Settings


def consumer(settings: Settings, **options: Any) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(**aiokafka_options(settings), **options)


def producer(settings: Settings, **options: Any) -> AIOKafkaProducer:
    return AIOKafkaProducer(**aiokafka_options(settings), **options)


def admin(settings: Settings, **options: Any) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(**aiokafka_options(settings), **options)


def metadata_client(settings: Settings, **options: Any) -> AIOKafkaClient:
    """The bare client under the others: enough to ask a broker for metadata."""
    return AIOKafkaClient(**aiokafka_options(settings), **options)


def blocking_consumer(settings: Settings, **options: Any) -> kafka.KafkaConsumer:
    return kafka.KafkaConsumer(**kafka_python_options(settings), **options)


def blocking_producer(settings: Settings, **options: Any) -> kafka.KafkaProducer:
    return kafka.KafkaProducer(**kafka_python_options(settings), **options)
