"""TLS and SASL settings reach every Kafka client: Faust, aiokafka and kafka-python."""

from __future__ import annotations

import dataclasses
import ssl
from pathlib import Path

import faust
import pytest

from config.clients import aiokafka_options, faust_credentials, kafka_python_options
from config.settings import Settings
from pipeline.domain.errors import ConfigError

CA = Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt")


def settings(**overrides: str) -> Settings:
    return dataclasses.replace(Settings(kafka_bootstrap_servers="k1:9093,k2:9093"), **overrides)


def test_plaintext_passes_only_the_servers_and_the_protocol() -> None:
    plain = settings()
    assert aiokafka_options(plain) == {"bootstrap_servers": ["k1:9093", "k2:9093"], "security_protocol": "PLAINTEXT"}
    assert kafka_python_options(plain) == aiokafka_options(plain)
    assert faust_credentials(plain) is None


def test_sasl_ssl_reaches_aiokafka_kafka_python_and_faust() -> None:
    secure = settings(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512",
                      kafka_sasl_username="adtrack", kafka_sasl_password="s3cret", kafka_ssl_cafile=str(CA))
    aio = aiokafka_options(secure)
    assert aio["security_protocol"] == "SASL_SSL"
    assert (aio["sasl_mechanism"], aio["sasl_plain_username"], aio["sasl_plain_password"]) == (
        "SCRAM-SHA-512", "adtrack", "s3cret")
    assert isinstance(aio["ssl_context"], ssl.SSLContext)
    kp = kafka_python_options(secure)
    assert (kp["security_protocol"], kp["sasl_mechanism"], kp["sasl_plain_username"], kp["sasl_plain_password"],
            kp["ssl_cafile"]) == ("SASL_SSL", "SCRAM-SHA-512", "adtrack", "s3cret", str(CA))
    credentials = faust_credentials(secure)
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.username, credentials.password, credentials.mechanism.value) == (
        "adtrack", "s3cret", "SCRAM-SHA-512")
    assert credentials.protocol.value == "SASL_SSL"


def test_ssl_without_sasl_sends_no_sasl_options() -> None:
    tls = settings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(CA))
    assert "sasl_mechanism" not in aiokafka_options(tls)
    assert "sasl_mechanism" not in kafka_python_options(tls)
    assert isinstance(faust_credentials(tls), faust.SSLCredentials)


def test_sasl_plaintext_has_no_tls() -> None:
    sasl = settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="u", kafka_sasl_password="p")
    assert "ssl_context" not in aiokafka_options(sasl)
    assert faust_credentials(sasl).protocol.value == "SASL_PLAINTEXT"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("kafka_security_protocol", "TLS", "KAFKA_SECURITY_PROTOCOL must be one of"),
    ("kafka_sasl_mechanism", "GSSAPI", "KAFKA_SASL_MECHANISM must be one of"),
])
def test_unknown_protocols_and_mechanisms_are_refused(field: str, value: str, message: str) -> None:
    bad = settings(**{"kafka_security_protocol": "SASL_PLAINTEXT", field: value})
    with pytest.raises(ConfigError, match=message):
        aiokafka_options(bad)


def test_the_password_is_never_part_of_the_settings_repr() -> None:
    assert "s3cret" not in repr(settings(kafka_sasl_password="s3cret"))
