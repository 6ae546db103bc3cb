from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from pipeline.kafka.broker import EmbeddedBroker
from tests.harness import ROOT, Kafka, Worker, unique, worker_env

ARTIFACTS = Path(os.environ.get("ADTRACK_TEST_ARTIFACTS", ROOT / "test-artifacts"))


@pytest.fixture(scope="module")
def artifacts(request: pytest.FixtureRequest) -> Path:
    path = ARTIFACTS / request.module.__name__.rsplit(".", 1)[-1]
    shutil.rmtree(path, ignore_errors=True)  # logs of this run only
    path.mkdir(parents=True)
    return path


@pytest.fixture(scope="module")
def broker(artifacts: Path) -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(log_path=artifacts / "broker.log") as running:
        yield running


@pytest.fixture(scope="module")
def settings(broker: EmbeddedBroker) -> Settings:
    return dataclasses.replace(Settings(), kafka_bootstrap_servers=broker.bootstrap, app_id=unique("adtrack"))


@pytest.fixture(scope="module")
def kafka(settings: Settings) -> Iterator[Kafka]:
    client = Kafka(settings)
    client.ensure_topics()
    yield client
    client.close()


@pytest.fixture(scope="module")
def make_worker(settings: Settings, artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """Start workers on the module's broker; every one is stopped when the module ends."""
    started: list[Worker] = []

    def make(name: str = "worker", datadir: Path | None = None, **env: str) -> Worker:
        worker = Worker(
            env=worker_env(settings.kafka_bootstrap_servers, settings.app_id, **env),
            datadir=datadir or tmp_path_factory.mktemp(name),
            log_path=artifacts / f"{name}.log",
        )
        started.append(worker)
        return worker

    yield make
    for worker in started:
        worker.stop()


@pytest.fixture(scope="module")
def worker(make_worker, kafka: Kafka) -> Worker:
    return make_worker().start().wait_ready()
