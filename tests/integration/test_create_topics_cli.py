"""``python -m pipeline create-topics`` against the embedded broker: what a deployment's init step runs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from kafka import KafkaAdminClient, KafkaProducer

from config.settings import Settings
from config.topics import topic_specs
from pipeline.kafka.broker import EmbeddedBroker
from tests.harness import ROOT, unique

pytestmark = pytest.mark.integration


def create_topics(bootstrap: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ADTRACK_")}
    environ.update(KAFKA_BOOTSTRAP_SERVERS=bootstrap, PYTHONPATH=str(ROOT), **env)
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "create-topics"],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120,
    )


def test_it_creates_every_topic_once_then_finds_them_fitting(broker: EmbeddedBroker) -> None:
    app_id = unique("created")
    specs = topic_specs(Settings(app_id=app_id))
    first = create_topics(broker.bootstrap, ADTRACK_APP_ID=app_id)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == [spec.name for spec in specs]
    assert all(line.endswith(": created") for line in lines)
    assert f"{app_id}-tracking-state: 4 partition(s), replication 1, cleanup.policy=compact min.insync.replicas=1: " \
        "created" in lines
    again = create_topics(broker.bootstrap, ADTRACK_APP_ID=app_id)
    assert again.returncode == 0, again.stderr
    assert all(line.endswith(": exists (partitions and cleanup.policy fit)") for line in again.stdout.splitlines())


def test_a_topic_a_producer_auto_created_is_refused_with_its_fix(broker: EmbeddedBroker) -> None:
    updates = unique("updates")
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    producer.send(updates, b"{}").get(timeout=30)  # auto-created with the broker's default, 4 partitions
    producer.close()
    refused = create_topics(broker.bootstrap, ADTRACK_APP_ID=unique("refused"), ADTRACK_TOPIC_COREDATA_UPDATES=updates)
    assert refused.returncode == 2
    assert f"topic '{updates}' has 4 partition(s), adtrack needs 1 partition(s)" in refused.stderr
    assert "--delete --topic " + updates in refused.stderr


def test_a_min_insync_above_the_replication_creates_nothing(broker: EmbeddedBroker) -> None:
    app_id = unique("isr")
    refused = create_topics(broker.bootstrap, ADTRACK_APP_ID=app_id, ADTRACK_MIN_INSYNC_REPLICAS="2")
    assert refused.returncode == 2
    assert "ADTRACK_MIN_INSYNC_REPLICAS=2 with ADTRACK_REPLICATION_FACTOR=1" in refused.stderr
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        assert f"{app_id}-tracking-state" not in admin.list_topics()
    finally:
        admin.close()
