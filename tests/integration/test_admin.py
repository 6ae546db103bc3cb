"""The start-up check of the brokers: a protocol the broker's listener does not speak is a clear error, not a hang."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time

import pytest

from config.settings import Settings
from pipeline.domain.errors import ConfigError
from pipeline.kafka.admin import check_brokers_sync
from tests.harness import ROOT, Kafka, wait_until, worker_env

pytestmark = pytest.mark.integration

CHECK_TIMEOUT_S = 2.0
SASL = {"KAFKA_SASL_USERNAME": "adtrack", "KAFKA_SASL_PASSWORD": "not-a-secret"}


def misconfigured(settings: Settings, protocol: str) -> Settings:
    return dataclasses.replace(settings, kafka_security_protocol=protocol, kafka_sasl_username="adtrack",
                               kafka_sasl_password="not-a-secret", broker_check_timeout_s=CHECK_TIMEOUT_S)


def test_the_check_passes_when_the_broker_speaks_the_configured_protocol(settings: Settings) -> None:
    check_brokers_sync(settings)


@pytest.mark.parametrize("protocol", ["SSL", "SASL_SSL", "SASL_PLAINTEXT"])
def test_a_protocol_the_broker_does_not_speak_fails_within_the_timeout_naming_the_setting(
    settings: Settings, protocol: str
) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError, match=f"KAFKA_SECURITY_PROTOCOL={protocol}"):
        check_brokers_sync(misconfigured(settings, protocol))
    assert time.monotonic() - started < CHECK_TIMEOUT_S + 10  # bounded, not the 40 s and more it hung for


def test_a_command_set_to_sasl_ssl_against_a_plaintext_broker_exits_with_an_error(settings: Settings) -> None:
    env = worker_env(settings.kafka_bootstrap_servers, settings.app_id, KAFKA_SECURITY_PROTOCOL="SASL_SSL",
                     ADTRACK_BROKER_CHECK_TIMEOUT_S=str(CHECK_TIMEOUT_S), **SASL)
    # subprocess.run kills the command if it hangs past its timeout.
    done = subprocess.run([sys.executable, "-m", "pipeline", "subscriptions"], cwd=ROOT, env=env,
                          capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert b"KAFKA_SECURITY_PROTOCOL=SASL_SSL" in done.stderr


def test_a_worker_set_to_sasl_ssl_against_a_plaintext_broker_exits_with_an_error(make_worker, kafka: Kafka) -> None:
    worker = make_worker("sasl-ssl", KAFKA_SECURITY_PROTOCOL="SASL_SSL",
                         ADTRACK_BROKER_CHECK_TIMEOUT_S=str(CHECK_TIMEOUT_S), **SASL).start()
    assert worker.process is not None
    wait_until(lambda: worker.process.poll() is not None, 60, "the misconfigured worker to exit")
    assert worker.process.returncode != 0
    assert b"KAFKA_SECURITY_PROTOCOL=SASL_SSL" in worker.log()
    worker.stop()
