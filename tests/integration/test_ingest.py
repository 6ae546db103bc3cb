"""HTTP ingest end to end: real HTTP to a real worker, real writes on the embedded broker."""

from __future__ import annotations

import contextlib
import dataclasses
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from config.settings import Settings
from pipeline.kafka.broker import EmbeddedBroker
from pipeline.web.collect import GIF
from tests import factories
from tests.harness import Kafka, ConsumedRecord, Worker, call, unique, wait_until
from tests.world import World

pytestmark = pytest.mark.integration

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
NO_CACHE = {"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache", "Expires": "0"}
OUTAGE_ENV = {"ADTRACK_INGEST_TIMEOUT_S": "1.5"}


def pixel_path(**params: str) -> str:
    return "/t.gif?" + urllib.parse.urlencode(params)


def event_line(**fields: Any) -> bytes:
    return orjson.dumps({"event_id": unique("ev"), "type": "impression", "ts": factories.now_ms(), **fields})


def on_raw(kafka: Kafka, marker: bytes, count: int = 1) -> list[ConsumedRecord]:
    return kafka.wait_for(kafka.settings.topic_raw, lambda r: marker in (r.value or b""), count=count)


def nothing_on_raw(kafka: Kafka, marker: bytes) -> bool:
    return not [r for r in kafka.read(kafka.settings.topic_raw) if marker in (r.value or b"")]


@pytest.fixture(scope="module")
def port(worker: Worker) -> int:
    return worker.ingest_port


def test_a_pixel_answers_a_no_cache_gif_once_its_event_is_on_tracking_raw(kafka: Kafka, port: int) -> None:
    event_id, cid = unique("ev"), unique("cmp")
    answer = call(
        port, "GET", pixel_path(e=event_id, type="click", c=cid, p="pub-1", s="slot-1", ts="1700000000000"),
        User_Agent=factories.BROWSER_UA, Referer="https://news.example/story", traceparent=TRACEPARENT,
    )
    assert answer.status == 200
    assert answer.body == GIF and answer.headers["Content-Type"] == "image/gif"
    assert {k: answer.headers[k] for k in NO_CACHE} == NO_CACHE
    # The broker acknowledged before the answer: the record is there without waiting.
    [record] = [r for r in kafka.read(kafka.settings.topic_raw) if r.json().get("event_id") == event_id]
    assert record.key == cid.encode()
    assert record.json() == {
        "event_id": event_id, "type": "click", "campaign_id": cid, "publisher_id": "pub-1", "slot_id": "slot-1",
        "ts": 1700000000000, "user_agent": factories.BROWSER_UA, "ip": "127.0.0.1",
        "url": "https://news.example/story",
    }
    assert record.headers["traceparent"] == TRACEPARENT.encode()
    assert abs(int(record.headers["adtrack.received_at"]) - factories.now_ms()) < 60_000


def test_a_pixel_event_of_a_known_campaign_is_enriched_with_the_trace_id(kafka: Kafka, port: int) -> None:
    world = World(kafka)
    cid, pid, sid = world.campaign(price=2.5)
    event_id = unique("ev")
    query = pixel_path(e=event_id, type="impression", c=cid, p=pid, s=sid, ts=str(factories.now_ms()))
    assert call(port, "GET", query, User_Agent=factories.BROWSER_UA, traceparent=TRACEPARENT).status == 200
    kind, record = world.outcome(event_id)
    assert kind == "accepted"
    assert record.json()["trace_id"] == TRACEPARENT.split("-")[1]


def test_a_pixel_without_ts_is_accepted_as_happening_when_it_was_received(kafka: Kafka, port: int) -> None:
    world = World(kafka)
    cid, pid, sid = world.campaign(price=2.5)
    event_id = unique("ev")
    assert call(port, "GET", pixel_path(e=event_id, type="impression", c=cid, p=pid, s=sid),
                User_Agent=factories.BROWSER_UA).status == 200
    kind, record = world.outcome(event_id)
    assert kind == "accepted"
    enriched = record.json()
    assert enriched["ts"] == enriched["received_at"]
    assert abs(enriched["received_at"] - factories.now_ms()) < 60_000


def test_a_posted_event_keeps_its_bytes_and_its_enriched_record_says_when_it_was_received(
    kafka: Kafka, port: int
) -> None:
    world = World(kafka)
    cid, pid, sid = world.campaign(price=2.5)
    event_id = unique("ev")
    body = orjson.dumps(factories.event(cid, pid, sid, event_id=event_id))
    assert call(port, "POST", "/events", body, Content_Type="application/json").status == 202
    [raw] = on_raw(kafka, event_id.encode())
    assert raw.value == body
    kind, record = world.outcome(event_id)
    assert kind == "accepted"
    assert record.json()["received_at"] == int(raw.headers["adtrack.received_at"])


def test_a_pixel_without_parameters_is_still_written_and_dead_lettered(kafka: Kafka, port: int) -> None:
    marker = unique("ua")
    answer = call(port, "GET", "/t.gif", User_Agent=marker)
    assert answer.status == 200
    [record] = on_raw(kafka, marker.encode())
    assert record.key is None
    received = int(record.headers["adtrack.received_at"])
    assert record.json() == {"user_agent": marker, "ip": "127.0.0.1", "ts": received}
    dead = kafka.wait_for(kafka.settings.topic_dlq, lambda r: marker.encode() in (r.value or b""))
    assert dead[0].headers["dlq.reason"] == b"schema"


def test_a_head_request_on_the_pixel_records_nothing(kafka: Kafka, port: int) -> None:
    marker = unique("ua")
    answer = call(port, "HEAD", pixel_path(e=marker), User_Agent=marker)
    assert answer.status == 200 and answer.headers["Content-Type"] == "image/gif"
    call(port, "GET", pixel_path(e=unique("ev")))  # acknowledged after the HEAD would have been
    assert nothing_on_raw(kafka, marker.encode())


def test_a_posted_json_event_is_written_as_its_original_bytes(kafka: Kafka, port: int) -> None:
    cid = unique("cmp")
    body = b'{ "campaign_id" : "%s", "event_id": "%s",\t"type": "click" }' % (cid.encode(), unique("ev").encode())
    answer = call(port, "POST", "/events", body, Content_Type="application/json", traceparent=TRACEPARENT)
    assert (answer.status, answer.json()) == (202, {"accepted": 1})
    [record] = on_raw(kafka, cid.encode())
    assert (record.key, record.value) == (cid.encode(), body)
    assert record.headers["traceparent"] == TRACEPARENT.encode()


def test_a_malformed_traceparent_is_not_forwarded(kafka: Kafka, port: int) -> None:
    cid = unique("cmp")
    malformed = "ff" + TRACEPARENT[2:]  # version ff is never valid
    answer = call(port, "POST", "/events", event_line(campaign_id=cid), traceparent=malformed)
    assert answer.status == 202
    [record] = on_raw(kafka, cid.encode())
    assert "traceparent" not in record.headers


def test_ndjson_of_three_events_is_accepted_and_all_three_are_written(kafka: Kafka, port: int) -> None:
    cid = unique("cmp")
    lines = [event_line(campaign_id=cid, n=n) for n in range(3)]
    answer = call(port, "POST", "/events", b"\n".join(lines) + b"\n", Content_Type="application/x-ndjson")
    assert (answer.status, answer.json()) == (202, {"accepted": 3})
    records = on_raw(kafka, cid.encode(), count=3)
    assert sorted(r.value for r in records) == sorted(lines)
    assert {r.key for r in records} == {cid.encode()}


def test_a_line_that_is_not_json_is_written_and_dead_lettered_as_malformed(kafka: Kafka, port: int) -> None:
    cid, marker = unique("cmp"), unique("garbage").encode()
    body = event_line(campaign_id=cid) + b"\n" + marker + b" {not json\n"
    answer = call(port, "POST", "/events", body)
    assert (answer.status, answer.json()) == (202, {"accepted": 2})
    [raw] = on_raw(kafka, marker)
    assert raw.value == marker + b" {not json" and raw.key is None
    [dead] = kafka.wait_for(kafka.settings.topic_dlq, lambda r: r.value == raw.value)
    assert dead.headers["dlq.reason"] == b"malformed"


def test_a_body_over_the_limit_is_refused_with_413_and_nothing_written(kafka: Kafka, port: int) -> None:
    limit = kafka.settings.ingest_max_body_bytes
    marker = unique("cmp")
    line = event_line(campaign_id=marker) + b"\n"
    body = line * (limit // len(line) + 1)
    answer = call(port, "POST", "/events", body, Content_Type="application/x-ndjson")
    assert answer.status == 413 and answer.json()["refusal"] == "body_too_large"
    # Without a Content-Length (chunked) the limit holds while reading.
    chunks = (body[i:i + 65536] for i in range(0, len(body), 65536))
    assert call(port, "POST", "/events", chunks, Content_Type="application/x-ndjson").status == 413
    assert nothing_on_raw(kafka, marker.encode())


def test_a_batch_over_the_limit_is_refused_with_413_and_nothing_written(kafka: Kafka, port: int) -> None:
    marker = unique("cmp")
    body = b"\n".join(event_line(campaign_id=marker) for _ in range(kafka.settings.ingest_max_batch + 1))
    answer = call(port, "POST", "/events", body)
    assert answer.status == 413 and answer.json()["refusal"] == "batch_too_large"
    assert nothing_on_raw(kafka, marker.encode())


def test_one_event_over_the_size_limit_refuses_the_whole_request(kafka: Kafka, port: int) -> None:
    marker = unique("cmp")
    big = event_line(campaign_id=marker, padding="x" * kafka.settings.max_event_bytes)
    answer = call(port, "POST", "/events", event_line(campaign_id=marker) + b"\n" + big)
    assert answer.status == 413 and answer.json()["refusal"] == "event_too_large"
    assert nothing_on_raw(kafka, marker.encode())


def test_an_empty_body_is_a_bad_request(port: int) -> None:
    assert call(port, "POST", "/events", b"\n\n").status == 400


def test_a_header_over_the_limit_is_refused_and_nothing_written(kafka: Kafka, port: int) -> None:
    marker, limit = unique("cmp"), kafka.settings.web_max_line_bytes
    answer = call(port, "GET", pixel_path(c=marker), User_Agent="x" * (limit + 1))
    assert answer.status == 400
    answer = call(port, "POST", "/events", event_line(campaign_id=marker), Referer="x" * (limit + 1))
    assert answer.status == 400
    # Just under the limit is an ordinary request.
    assert call(port, "GET", pixel_path(c=marker), User_Agent="y" * (limit - 200)).status == 200
    assert [r.json()["user_agent"][0] for r in on_raw(kafka, marker.encode())] == ["y"]


def test_too_many_headers_are_refused_and_nothing_written(kafka: Kafka, port: int) -> None:
    marker = unique("cmp")
    many = {f"X_Probe_{n}": "1" for n in range(kafka.settings.web_max_headers + 1)}
    assert call(port, "GET", pixel_path(c=marker), **many).status == 400
    assert nothing_on_raw(kafka, marker.encode())


def test_a_request_line_over_the_limit_is_refused_and_nothing_written(kafka: Kafka, port: int) -> None:
    marker = unique("cmp")
    answer = call(port, "GET", pixel_path(c=marker, p="x" * kafka.settings.web_max_line_bytes))
    assert answer.status in (400, 414)
    assert nothing_on_raw(kafka, marker.encode())
    # The worker goes on answering.
    assert call(port, "GET", pixel_path(c=marker)).status == 200


# Outages: each on a broker and worker of its own, so the rest of the module never sees them.


@dataclass
class Site:
    broker: EmbeddedBroker
    worker: Worker
    port: int


@contextlib.contextmanager
def own_site(make_worker: Any, artifacts: Path, name: str, **env: str) -> Iterator[Site]:
    with EmbeddedBroker(log_path=artifacts / f"{name}-broker.log") as broker:
        worker = make_worker(name, KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap, **OUTAGE_ENV, **env)
        try:
            yield Site(broker, worker.start().wait_ready(), worker.ingest_port)
        finally:
            if broker.process is None:
                worker.kill()  # a graceful stop waits for a broker that is gone
            else:
                broker.resume()  # whatever the test did; SIGCONT on a running process is harmless
                worker.stop(timeout=10)


@pytest.fixture(scope="module")
def stalling(make_worker: Any, artifacts: Path, settings: Settings) -> Iterator[tuple[Site, Kafka]]:
    with own_site(make_worker, artifacts, "stalling", ADTRACK_LOG_FORMAT="json") as site:
        kafka = Kafka(dataclasses.replace(settings, kafka_bootstrap_servers=site.broker.bootstrap))
        try:
            yield site, kafka
        finally:
            kafka.close()


@pytest.mark.timeout(180)
def test_a_stalled_broker_makes_ingest_answer_503_and_nothing_reported_accepted_is_lost(stalling) -> None:
    site, kafka = stalling
    cid = unique("cmp")
    lines = [event_line(campaign_id=cid, n=n) for n in range(3)]
    assert call(site.port, "POST", "/events", lines[0]).status == 202  # the producer knows the broker
    site.broker.pause()
    try:
        pixel = call(site.port, "GET", pixel_path(e=unique("ev"), c=cid), traceparent=TRACEPARENT)
        batch = call(site.port, "POST", "/events", b"\n".join(lines[1:]), Content_Type="application/x-ndjson")
    finally:
        site.broker.resume()
    assert pixel.status == 503 and pixel.headers["Retry-After"] and pixel.body != GIF
    assert batch.status == 503 and batch.headers["Retry-After"]
    report = batch.json()
    assert report["accepted"] + len(report["unconfirmed"]) == 2
    reported = [lines[0]] + [line for i, line in enumerate(lines[1:]) if i not in report["unconfirmed"]]
    on_disk = {r.value for r in on_raw(kafka, cid.encode(), count=len(reported))}
    assert set(reported) <= on_disk
    # The warning names the topic and the trace of the request it is about.
    warned = [line for line in map(orjson.loads, site.worker.log().splitlines()) if line["level"] == "WARNING"
              and line["message"].startswith("ingest:")]
    assert warned[0]["topic"] == kafka.settings.topic_raw and warned[0]["trace_id"] == TRACEPARENT.split("-")[1]
    # Once the broker answers again, so does ingest.
    retry = wait_until(
        lambda: (a := call(site.port, "POST", "/events", event_line(campaign_id=cid))).status == 202 and a,
        60, "ingest to accept again after the broker resumed", interval=0.5,
    )
    assert retry.json() == {"accepted": 1}


@pytest.mark.timeout(180)
def test_a_broker_that_is_gone_makes_ingest_answer_503(make_worker: Any, artifacts: Path) -> None:
    with own_site(make_worker, artifacts, "gone") as site:
        assert call(site.port, "POST", "/events", event_line(campaign_id="cmp-gone")).status == 202
        site.broker.stop()
        answer = call(site.port, "POST", "/events", event_line(campaign_id="cmp-gone"))
        assert answer.status == 503 and answer.headers["Retry-After"]
        assert answer.json() == {
            "error": "the broker did not acknowledge 1 of 1 event(s) in time", "accepted": 0, "unconfirmed": [0],
        }
        pixel = call(site.port, "GET", pixel_path(e=unique("ev"), c="cmp-gone"))
        assert pixel.status == 503 and pixel.headers["Retry-After"] and pixel.body != GIF
