"""Options for every Kafka client adtrack makes, from the one settings object.

Faust, aiokafka and kafka-python name the same things differently; this is the only place
that knows both spellings, so TLS and SASL reach every client or none.
"""

from __future__ import annotations

import ssl
from typing import Any

from config.errors import ConfigError
from config.settings import Settings

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def _check(settings: Settings) -> None:
    if settings.kafka_security_protocol not in PROTOCOLS:
        raise ConfigError(f"KAFKA_SECURITY_PROTOCOL must be one of {', '.join(PROTOCOLS)}, "
                          f"got {settings.kafka_security_protocol!r}")
    if uses_sasl(settings) and settings.kafka_sasl_mechanism not in MECHANISMS:
        raise ConfigError(f"KAFKA_SASL_MECHANISM must be one of {', '.join(MECHANISMS)}, "
                          f"got {settings.kafka_sasl_mechanism!r}")


def uses_ssl(settings: Settings) -> bool:
    return settings.kafka_security_protocol in ("SSL", "SASL_SSL")


def uses_sasl(settings: Settings) -> bool:
    return settings.kafka_security_protocol.startswith("SASL_")


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    if not uses_ssl(settings):
        return None
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None)
    if settings.kafka_ssl_certfile:
        context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile or None)
    return context


def _common(settings: Settings) -> dict[str, Any]:
    """What both Python clients spell alike: servers, protocol and SASL."""
    _check(settings)
    options: dict[str, Any] = {"bootstrap_servers": settings.bootstrap_servers,
                               "security_protocol": settings.kafka_security_protocol}
    if uses_sasl(settings):
        options.update(sasl_mechanism=settings.kafka_sasl_mechanism,
                       sasl_plain_username=settings.kafka_sasl_username,
                       sasl_plain_password=settings.kafka_sasl_password)
    return options


def aiokafka_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for aiokafka's producer, consumer and admin client."""
    options = _common(settings)
    if uses_ssl(settings):
        options["ssl_context"] = ssl_context(settings)
    return options


def kafka_python_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for kafka-python's producer, consumer and admin client."""
    options = _common(settings)
    if uses_ssl(settings):
        options.update(ssl_cafile=settings.kafka_ssl_cafile or None, ssl_certfile=settings.kafka_ssl_certfile or None,
                       ssl_keyfile=settings.kafka_ssl_keyfile or None)
    return options


def faust_credentials(settings: Settings) -> Any:
    """The ``broker_credentials`` of the Faust app (None for PLAINTEXT)."""
    import faust

    _check(settings)
    if uses_sasl(settings):
        return faust.SASLCredentials(username=settings.kafka_sasl_username, password=settings.kafka_sasl_password,
                                     mechanism=settings.kafka_sasl_mechanism, ssl_context=ssl_context(settings))
    if uses_ssl(settings):
        return faust.SSLCredentials(ssl_context(settings))
    return None
