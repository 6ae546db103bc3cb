"""Every Kafka client adtrack makes comes from one factory, and every one carries the TLS and SASL options."""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import inspect
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from pipeline.kafka import clients
from tests.harness import ROOT

CLIENT_CLASSES = {"AIOKafkaConsumer", "AIOKafkaProducer", "AIOKafkaAdminClient", "AIOKafkaClient",
                  "KafkaConsumer", "KafkaProducer", "KafkaAdminClient", "KafkaClient"}
FACTORY = "pipeline/kafka/clients.py"
#: Modules still building clients themselves, each with why; the test below fails once one no longer does.
NOT_YET = {
}

SECURE = dataclasses.replace(Settings(kafka_bootstrap_servers="127.0.0.1:1"), kafka_security_protocol="SASL_SSL",
                             kafka_sasl_mechanism="SCRAM-SHA-512", kafka_sasl_username="adtrack",
                             kafka_sasl_password="s3cret")


def factory_functions() -> list[str]:
    return sorted(name for name, f in inspect.getmembers(clients, inspect.isfunction) if f.__module__ == clients.__name__)


def aiokafka_security(client: Any) -> tuple[Any, ...]:
    return (client._security_protocol, client._sasl_mechanism, client._sasl_plain_username,
            client._sasl_plain_password, type(client._ssl_context).__name__)


async def built_with_aiokafka(name: str) -> tuple[Any, ...]:
    made = getattr(clients, name)(SECURE)
    inner = {"consumer": lambda: made._client, "producer": lambda: made.client, "admin": lambda: made._client,
             "metadata_client": lambda: made}[name]()
    try:
        return aiokafka_security(inner)
    finally:
        await (made.stop() if name in ("consumer", "producer") else made.close())


def built_with_kafka_python(name: str) -> tuple[Any, ...]:
    made = getattr(clients, name)(SECURE, api_version=(2, 8, 0))  # a known version: no connection at construction
    try:
        config = made.config
        # kafka-python makes its TLS context from the protocol (and the ssl_* files, none here) at connection
        return (config["security_protocol"], config["sasl_mechanism"], config["sasl_plain_username"],
                config["sasl_plain_password"], "SSLContext")
    finally:
        made.close()


@pytest.mark.parametrize("name", factory_functions())
def test_every_client_of_the_factory_carries_the_tls_and_sasl_options(name: str) -> None:
    if name.startswith("blocking_"):
        security = built_with_kafka_python(name)
    else:
        security = asyncio.run(built_with_aiokafka(name))
    assert security == ("SASL_SSL", "SCRAM-SHA-512", "adtrack", "s3cret", "SSLContext")


def test_the_factory_is_the_whole_list_of_clients() -> None:
    assert factory_functions() == ["admin", "blocking_consumer", "blocking_producer", "consumer", "metadata_client",
                                   "producer"]


def test_an_option_of_a_use_cannot_replace_a_security_option() -> None:
    with pytest.raises(TypeError, match="security_protocol"):
        clients.blocking_producer(SECURE, security_protocol="PLAINTEXT")


def constructions(path: Path) -> list[str]:
    """``Name(`` calls of a Kafka client class in a module, as ``line: name``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name in CLIENT_CLASSES:
                found.append(f"{node.lineno}: {name}")
    return found


def test_no_module_outside_the_factory_constructs_a_kafka_client() -> None:
    modules = [p for folder in ("pipeline", "agents", "tables", "config") for p in (ROOT / folder).rglob("*.py")]
    direct = {str(p.relative_to(ROOT)): c for p in modules if (c := constructions(p))}
    assert set(direct) - {FACTORY} == set(NOT_YET), direct
