"""The archive on the embedded broker: killed with SIGKILL while writing, three times, and restarted.

Every accepted event is in exactly one file row, no temporary or partial file is left, the archive's
cost equals the spend the workers hold; garbage on tracking.batch is dead-lettered and the archive
goes on. The worker's /archive page shows the files.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from kafka import KafkaProducer

from pipeline.archive import resume
from pipeline.archive.naming import FileName
from pipeline.sim import processes
from tests import factories
from tests.harness import ROOT, call, wait_until, worker_env
from tests.world import World

pytestmark = pytest.mark.integration

WAVE = 300
HOUR = 3_600_000
GARBAGE = [b"not json at all", orjson.dumps({"event_id": "x", "hello": "world"}), b"[1, 2, 3]"]


class Archiver:
    """``python -m pipeline archive`` as a process of its own, with small rolls so that it writes all the time."""

    def __init__(self, env: dict[str, str], out: Path, log_path: Path) -> None:
        self.env, self.out, self.log_path = env, out, log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Archiver:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pipeline", "archive", "--out", str(self.out), "--max-records", "60",
                 "--max-seconds", "0.3"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def rows(self) -> int:
        assert self.process is not None and self.process.poll() is None, self.log_path.read_text()[-3000:]
        return sum(f.file.rows for f in resume.files(self.out))

    def kill(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            processes.kill(process)

    def stop(self) -> int:
        process, self.process = self.process, None
        if process is None:
            return 0
        processes.stop(process, 20.0)
        return process.returncode


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("archive")


@pytest.fixture(scope="module")
def env(settings) -> dict[str, str]:
    # A killed archive leaves the group after the session timeout: short ones keep each restart short.
    return worker_env(settings.kafka_bootstrap_servers, settings.app_id, ADTRACK_SESSION_TIMEOUT_S="3",
                      ADTRACK_REBALANCE_TIMEOUT_S="1.5")


@pytest.fixture(scope="module")
def worker(make_worker, kafka, out: Path):
    return make_worker("worker", ADTRACK_ARCHIVE_DIR=str(out)).start().wait_ready()


@pytest.fixture(scope="module")
def archiver(env, out: Path, artifacts: Path):
    started = Archiver(env, out, artifacts / "archive.log")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def producer(settings):
    client = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", linger_ms=5)
    yield client
    client.close()


@pytest.fixture(scope="module")
def archived(kafka, worker, archiver: Archiver, producer, settings, out: Path) -> dict:
    """Four waves of events over three hours; the archive is killed in the middle of each of the first three."""
    world = World(kafka)
    campaigns = [world.campaign(budget=1000.0, pricing_model=model, price=price)
                 for model, price in (("cpm", 2.5), ("cpc", 0.4), ("cpa", 3.0))]
    chance = random.Random(12)
    now = factories.now_ms()
    archiver.start()
    for wave in range(4):
        before = archiver.rows() if archiver.process else 0
        for i in range(WAVE):
            ids = chance.choice(campaigns)
            event = factories.event(*ids, type=chance.choice(["impression", "click", "conversion"]),
                                    ts=now - chance.randrange(0, 3 * HOUR))  # late events: their own hours
            producer.send(settings.topic_raw, orjson.dumps(event), key=ids[0].encode())
            if wave == 1 and i % 100 == 50:
                producer.send(settings.topic_batch, GARBAGE[i // 100], key=b"garbage", partition=i // 100)
        producer.flush()
        if wave < 3:
            wait_until(lambda: archiver.rows() >= before + 60, 60, "the archive writing the wave")
            archiver.kill()
            archiver.start()
    batch = kafka.wait_for(settings.topic_batch, lambda r: r.value not in GARBAGE, count=4 * WAVE, timeout=60)
    wait_until(lambda: archiver.rows() >= len(batch), 60, f"{len(batch)} rows archived")
    assert archiver.stop() == 0
    return {"batch": batch, "campaigns": campaigns}


def test_every_accepted_event_is_in_exactly_one_file_row(archived, kafka, settings, out: Path) -> None:
    table = pq.read_table(out / "tracking")
    sources = list(zip(table.column("source_partition").to_pylist(), table.column("source_offset").to_pylist()))
    assert len(sources) == len(set(sources))
    assert set(sources) == {(r.partition, r.offset) for r in archived["batch"]}
    accepted = [r.json()["event_id"] for r in kafka.read(settings.topic_realtime)]
    assert Counter(table.column("event_id").to_pylist()) == Counter(accepted)
    assert len(accepted) == 4 * WAVE


def test_late_events_are_in_the_folder_of_their_own_hour(archived, out: Path) -> None:
    table = pq.read_table(out / "tracking", columns=["ts", "dt", "hour"])
    assert len(set(table.column("hour").to_pylist())) >= 3
    for ts, day, hour in zip(*(table.column(c).to_pylist() for c in ("ts", "dt", "hour"))):
        assert (ts.strftime("%Y-%m-%d"), ts.hour) == (day, hour)


def test_no_temporary_or_partial_file_is_left(archived, out: Path) -> None:
    everything = [p for p in out.rglob("*") if p.is_file()]
    assert everything and all(FileName.parse(p.name) is not None for p in everything)
    for path in everything:
        assert pq.read_metadata(path).num_rows == FileName.parse(path.name).rows


def test_garbage_is_dead_lettered_with_where_it_was_and_the_archive_went_on(archived, kafka, settings) -> None:
    dead = kafka.wait_for(settings.topic_archive_dlq, lambda r: r.headers.get("dlq.topic") == b"tracking.batch",
                          count=len(GARBAGE))
    assert {r.value for r in dead} == set(GARBAGE)  # a kill before the commit may dead-letter one again
    for record in dead:
        assert record.headers["dlq.stage"] == b"archive"
        assert record.headers["dlq.reason"] in (b"malformed", b"schema")
        original = [r for r in kafka.read(settings.topic_batch)
                    if r.offset == int(record.headers["dlq.offset"]) and r.partition == int(
                        record.headers["dlq.partition"])]
        assert [r.value for r in original] == [record.value]


def test_the_readme_query_runs_on_the_archive(archived, out: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```python\nimport pyarrow.dataset as ds")[1].split("```")[0]
    day = pq.read_table(out / "tracking", columns=["dt"]).column("dt")[0].as_py()
    query = block.strip().splitlines()[-1].replace("data/archive", str(out)).replace("2026-12-01", day)
    result = eval(query, {"ds": __import__("pyarrow.dataset").dataset})  # noqa: S307 - the README's own line
    assert result.num_rows > 0 and set(result.column_names) == {"campaign_id", "type", "cost_micros_sum",
                                                                 "event_id_count"}


def reconcile(env: dict[str, str], directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", "reconcile", "--archive", str(directory)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


def test_reconciliation_is_equal_to_the_micro_and_a_missing_file_is_a_mismatch(
        archived, env, out: Path, tmp_path: Path) -> None:
    done = reconcile(env, out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{4 * WAVE} archived rows, {4 * WAVE} distinct events\n" in done.stdout
    assert "3 campaigns, 0 mismatches" in done.stdout
    shutil.copytree(out, tmp_path / "copy")
    charged = next(p for p in (tmp_path / "copy").rglob("*.parquet")
                   if sum(pq.read_table(p, columns=["cost_micros"]).column(0).to_pylist()) > 0)
    charged.unlink()
    done = reconcile(env, tmp_path / "copy")
    assert done.returncode == 1 and "MISMATCH" in done.stdout


def test_the_worker_page_shows_the_hours_files_and_rows(archived, worker, out: Path) -> None:
    found = list(resume.files(out))

    def page() -> dict:
        answer = call(worker.web_port, "GET", "/archive.json").json()
        return answer if answer["totals"]["rows"] == 4 * WAVE else {}

    model = wait_until(page, 10, "the page to show every row")
    assert model["totals"]["files"] == len(found) and model["dir"] == str(out)
    assert model["behind"] == 0 and sum(h["rows"] for h in model["hours"]) == 4 * WAVE
    html = call(worker.web_port, "GET", "/archive").body.decode()
    assert "Hours, newest first" in html and f"{4 * WAVE:,}" in html
