"""Operating a real worker: its Prometheus metrics move with the traffic, its probes say when it is
ready, and with ``ADTRACK_LOG_FORMAT=json`` every line of its log is one JSON object."""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Iterable

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from config.settings import Settings
from config.topics import topic_specs
from pipeline.kafka.broker import EmbeddedBroker
from tests import factories
from tests.harness import Answer, Kafka, Worker, call, unique, wait_until
from tests.scrape import caught_up, scrape, total
from tests.world import World, subscribe

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def started(make_worker, kafka: Kafka) -> tuple[Worker, list[Answer]]:
    """A worker with JSON logs, and every answer its /ready gave while it started."""
    worker = make_worker("operations", ADTRACK_LOG_FORMAT="json").start()
    seen: list[Answer] = []

    def ready() -> bool:
        try:
            seen.append(call(worker.web_port, "GET", "/ready"))
        except OSError:  # not listening yet
            return False
        return seen[-1].status == 200

    wait_until(ready, 90, "/ready to answer 200", interval=0.2)
    return worker.wait_ready(), seen


def test_ready_answers_503_with_its_reasons_until_the_worker_is_ready_then_200(started) -> None:
    worker, seen = started
    for answer in seen[:-1]:
        assert answer.status == 503
        assert answer.json()["reasons"]
    assert seen[-1].json()["status"] == "ready"
    assert call(worker.web_port, "GET", "/healthz").json() == {"status": "alive"}


def test_ready_answers_503_naming_the_broker_once_no_broker_answers(make_worker, artifacts) -> None:
    with EmbeddedBroker(log_path=artifacts / "lonely-broker.log") as lonely:
        worker = make_worker("lonely", KAFKA_BOOTSTRAP_SERVERS=lonely.bootstrap, ADTRACK_APP_ID=unique("lonely"))
        worker.start().wait_ready()
        wait_until(lambda: call(worker.web_port, "GET", "/ready").status == 200, 30, "/ready to answer 200")
    answer = wait_until(lambda: unready(worker), 30, "/ready to answer 503", interval=0.5)
    assert any("KAFKA_BOOTSTRAP_SERVERS" in reason for reason in answer.json()["reasons"])
    assert call(worker.web_port, "GET", "/healthz").status == 200  # alive all the same
    # The dashboard still answers, saying why it has no lag, and the log says it once a reason.
    stats = call(worker.web_port, "GET", "/stats.json")
    assert stats.status == 200 and stats.json()["lag"] == [] and stats.json()["lag_error"], stats.body[:300]
    assert call(worker.web_port, "GET", "/").status == 200
    log = worker.log_path.read_text()
    failures = [line.split("could not read ")[1] for line in log.splitlines() if "could not read the lag" in line]
    assert failures and len(set(failures)) == len(failures)  # once per reason
    worker.stop()


def unready(worker: Worker) -> Answer | None:
    answer = call(worker.web_port, "GET", "/ready")
    return answer if answer.status == 503 else None


def test_metrics_and_probes_stay_off_the_public_listener(started) -> None:
    worker, _ = started
    before = total(scrape(worker), "adtrack_ingest_requests_total", endpoint="other", status="404")
    for path in ("/metrics", "/ready"):
        assert call(worker.ingest_port, "GET", path).status == 404
    # Counted, under one label for every path that is no endpoint (a client cannot mint label values).
    assert total(scrape(worker), "adtrack_ingest_requests_total", endpoint="other", status="404") == before + 2


def test_every_family_moves_while_traffic_flows(started, kafka: Kafka) -> None:
    worker, _ = started
    before = scrape(worker)
    world = World(kafka)
    tag = unique("ops")
    subscription = unique("ops-watch")
    subscribe(kafka, subscription, {"entity": ["campaign"], "id": [{"prefix": tag}]})
    ids = world.campaign()
    world.put("campaign", f"{tag}-{ids[0]}", factories.campaign_data())
    accepted = world.send_event(ids)
    rejected = world.send_event((unique("cmp"), ids[1], ids[2]))
    kafka.send(kafka.settings.topic_raw, b"{not json", key=ids[0])
    posted = factories.event(*ids)
    assert call(worker.ingest_port, "POST", "/events", orjson.dumps(posted)).status == 202
    pixel = urllib.parse.urlencode({"e": unique("ev"), "c": ids[0], "p": ids[1], "s": ids[2]})
    assert call(worker.ingest_port, "GET", f"/t.gif?{pixel}").status == 200
    assert world.outcome(accepted["event_id"])[0] == "accepted"
    assert world.outcome(rejected["event_id"])[0] == "rejected"
    assert world.outcome(posted["event_id"])[0] == "accepted"

    moved = {
        "accepted events": lambda s: total(s, "adtrack_events_total", outcome="accepted"),
        "rejected events": lambda s: total(s, "adtrack_events_total", outcome="rejected"),
        "dead letters": lambda s: total(s, "adtrack_events_total", outcome="dlq", reason="malformed"),
        "ingest posts": lambda s: total(s, "adtrack_ingest_requests_total", endpoint="/events", status="202"),
        "ingest pixels": lambda s: total(s, "adtrack_ingest_requests_total", endpoint="/t.gif", status="200"),
        "batches": lambda s: total(s, "adtrack_batch_latency_seconds_count"),
        "core-data updates": lambda s: total(s, "adtrack_coredata_updates_total", result="applied"),
        "core-data rows": lambda s: total(s, "adtrack_coredata_rows", entity="campaign"),
        "spend rows": lambda s: total(s, "adtrack_spend_rows"),
        "state memtables": lambda s: total(s, "adtrack_state_memory_bytes", part="memtables"),
        "notifications": lambda s: total(s, "adtrack_notifications_total", subscription=subscription),
    }
    still: list[str] = []

    def all_moved() -> bool:
        after = scrape(worker)
        still[:] = [name for name, value in moved.items() if value(after) <= value(before)]
        return not still

    wait_until(all_moved, 30, f"every family to move ({still} had not)", interval=0.5)
    after = scrape(worker)
    assert total(after, "adtrack_partitions_held") == kafka.settings.partitions  # the only worker holds them all
    assert 0 <= total(after, "adtrack_state_memory_bytes", part="block_cache") <= 64 << 20
    lag = {dict(labels)["partition"] for (name, labels) in after if name == "adtrack_consumer_lag"}
    assert lag == {str(p) for p in range(kafka.settings.partitions)}


def test_consumer_lag_counts_what_the_tracking_group_has_not_committed(started, kafka: Kafka) -> None:
    worker, _ = started
    # Once every event so far is processed and committed, no partition lags.
    wait_until(lambda: caught_up(worker), 30, "the lag to reach 0", interval=0.5)


def json_lines(log: bytes) -> Iterable[dict]:
    for line in log.splitlines():
        yield orjson.loads(line)  # raises on any line that is not one JSON object


def test_every_log_line_is_one_json_object(started) -> None:
    # Last of the tests on this worker: it stops the worker to read its whole log.
    worker, _ = started
    worker.stop()
    lines = list(json_lines(worker.log()))
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any(line["message"].endswith("Ready") for line in lines)  # Faust's own lines are JSON too



def test_every_topic_adtrack_and_its_tables_create_carries_min_insync_replicas(started, settings: Settings) -> None:
    async def configs() -> dict[str, dict[str, str]]:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
        await admin.start()
        try:
            names = [n for n in await admin.list_topics() if n in specified or n.startswith(f"{settings.app_id}-")]
            answers = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
        finally:
            await admin.close()
        return {r[3]: {e[0]: e[1] for e in r[4]} for a in answers for r in a.resources}

    specified = {spec.name for spec in topic_specs(settings)}
    found = asyncio.run(configs())
    changelogs = {n for n in found if n.endswith("-changelog")}
    assert specified <= set(found) and f"{settings.app_id}-coredata-campaign-changelog" in changelogs
    # Faust's leader-election topic holds no records and takes the brokers' default (compose sets it to 2).
    leader = f"{settings.app_id}-__assignor-__leader"
    assert {n: c.get("min.insync.replicas") for n, c in found.items() if n != leader} == {
        n: str(settings.min_insync_replicas) for n in found if n != leader
    }
