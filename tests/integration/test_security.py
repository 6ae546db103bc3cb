"""A worker facing hostile clients: what it exposes where, how it sheds abuse, and what it logs.

- Two listeners, both on loopback by default: the public ingest listener serves ingest and a probe
  only; the internal web port serves the pages, and Faust's own views only when turned on.
- Connections: an idle one, or one whose request head never completes, is closed; slow bodies from
  one client do not make another client's POST 503; every refusal lists the events not written.
- Logs: every way an event can go (accepted, rejected, each kind of dead letter, refused at the HTTP
  door, a client gone mid-body) is taken by events whose payload carries one marker; the worker's
  whole log must contain neither the marker nor a traceback, in plain text and in JSON lines.
"""

from __future__ import annotations

import urllib.parse

import re

import orjson
import pytest

from pipeline.domain import control
from tests import factories
from tests.harness import Kafka, Worker, answer_on, call, closed_by_server, connect, unique, wait_until
from tests.scrape import caught_up
from tests.world import World

pytestmark = pytest.mark.integration

MARKER = unique("payload-marker")
SECRET = unique("sasl-password")


#: Short deadlines so the tests wait seconds, not the defaults' tens of seconds.
HEAD_TIMEOUT_S, KEEPALIVE_S = 2.0, 3.0
MAX_POSTS, MAX_POSTS_PER_CLIENT = 4, 2
BODY_TIMEOUT_S = 8.0
#: Pages, JSON twins, static files and Faust's views: none of them may answer on the public listener.
INTERNAL_PATHS = ["/", "/stats.json", "/stats.json?local=1", "/spend.json?id=x", "/tables/campaigns",
                  "/tables/budgets.json", "/campaigns/x", "/campaigns/x.json", "/static/app.css", "/table/",
                  "/table/tracking-spend/", "/router/", "/router/tracking-spend/"]


@pytest.fixture(scope="module")
def logged(make_worker, kafka: Kafka) -> Worker:
    return make_worker(
        "hygiene", KAFKA_SASL_PASSWORD=SECRET, ADTRACK_WEB_HEAD_TIMEOUT_S=str(HEAD_TIMEOUT_S),
        ADTRACK_WEB_KEEPALIVE_S=str(KEEPALIVE_S), ADTRACK_INGEST_MAX_POSTS=str(MAX_POSTS),
        ADTRACK_INGEST_MAX_POSTS_PER_CLIENT=str(MAX_POSTS_PER_CLIENT), ADTRACK_INGEST_BODY_TIMEOUT_S=str(BODY_TIMEOUT_S),
    ).start().wait_ready()


@pytest.fixture(scope="module")
def exposed(make_worker, kafka: Kafka) -> Worker:
    """Faust's views turned on, and no ingest request admitted: every one is refused as overload."""
    # A group of its own: in the hygiene worker's group Faust's router would forward to that worker.
    return make_worker(
        "exposed", ADTRACK_APP_ID=unique("exposed"), ADTRACK_WEB_FAUST_ROUTES="1", ADTRACK_INGEST_MAX_PIXELS="0", ADTRACK_INGEST_MAX_POSTS="0",
    ).start().wait_ready()


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a TCP socket listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    found.add(address)
    return found


def test_both_listeners_listen_on_loopback_only_by_default(logged: Worker) -> None:
    # Runs before the log test below, which stops the worker to read its whole log.
    # 0100007F is 127.0.0.1 as /proc/net/tcp writes it; 00000000 would be every interface.
    assert listening_addresses(logged.web_port) == {"0100007F"}
    assert listening_addresses(logged.ingest_port) == {"0100007F"}


@pytest.mark.parametrize("path", INTERNAL_PATHS)
def test_the_public_listener_serves_no_internal_route(logged: Worker, path: str) -> None:
    assert call(logged.ingest_port, "GET", path).status == 404


def test_the_public_listener_answers_the_liveness_probe(logged: Worker) -> None:
    answer = call(logged.ingest_port, "GET", "/healthz")
    assert (answer.status, answer.json()) == (200, {"status": "alive"})


def test_the_pages_stay_on_the_web_port(logged: Worker) -> None:
    assert call(logged.web_port, "GET", "/stats.json?local=1").status == 200
    assert call(logged.web_port, "GET", "/t.gif").status == 404


@pytest.mark.parametrize("path", ["/table/", "/table/tracking-spend/", "/router/", "/router/tracking-spend/"])
def test_faust_views_are_off_on_the_web_port_by_default(logged: Worker, path: str) -> None:
    assert call(logged.web_port, "GET", path).status == 404


def test_json_answers_forbid_content_sniffing(logged: Worker) -> None:
    answers = [
        call(logged.ingest_port, "POST", "/events", b"{}"),
        call(logged.ingest_port, "POST", "/events", b"\n"),
        call(logged.ingest_port, "GET", "/healthz"),
        call(logged.web_port, "GET", "/stats.json?local=1"),
        call(logged.web_port, "GET", "/tables/nothing.json"),
    ]
    assert [a.headers["Content-Type"].split(";")[0] for a in answers] == ["application/json"] * len(answers)
    assert [a.headers.get("X-Content-Type-Options") for a in answers] == ["nosniff"] * len(answers)


@pytest.mark.parametrize("listener", ["ingest_port", "web_port"])
def test_a_connection_that_sends_nothing_is_closed(logged: Worker, listener: str) -> None:
    with connect(getattr(logged, listener)) as sock:
        assert closed_by_server(sock, HEAD_TIMEOUT_S + 10)


@pytest.mark.parametrize("listener", ["ingest_port", "web_port"])
def test_a_request_head_that_never_completes_is_closed(logged: Worker, listener: str) -> None:
    with connect(getattr(logged, listener)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: adtrack\r\nUser-Agent: slow")
        assert closed_by_server(sock, HEAD_TIMEOUT_S + 10)


def test_an_idle_keep_alive_connection_is_closed_after_its_answer(logged: Worker) -> None:
    with connect(logged.ingest_port) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: adtrack\r\n\r\n")
        sock.settimeout(10)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        assert closed_by_server(sock, KEEPALIVE_S + 10)


def slow_post(port: int, source: str) -> object:
    """A POST /events whose head is whole and whose body has only begun."""
    sock = connect(port, source)
    sock.sendall(b"POST /events HTTP/1.1\r\nHost: adtrack\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 100000\r\n\r\n{\"event_id\": ")
    return sock


def test_slow_bodies_from_one_client_do_not_refuse_another_clients_post(logged: Worker, kafka: Kafka) -> None:
    # 127.0.0.2 is another client address on loopback: the slowloris takes every POST slot it can.
    slow = [slow_post(logged.ingest_port, "127.0.0.2") for _ in range(MAX_POSTS + 2)]
    try:
        received = [b""] * len(slow)

        def refusals() -> list[bytes]:
            for i, sock in enumerate(slow):
                received[i] += answer_on(sock, 0.05)
            turned_away = [r for r in received if r]
            return turned_away if len(turned_away) >= len(slow) - MAX_POSTS_PER_CLIENT else []

        turned_away = wait_until(refusals, 20, "the slow client's POSTs over its share to be refused")
        assert len(turned_away) == len(slow) - MAX_POSTS_PER_CLIENT  # the others are held, reading
        for raw in turned_away:
            head, _, body = raw.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 503") and b"Retry-After: 1" in head
            # Refused before its body was read: nothing of it written, and the answer says so.
            assert orjson.loads(body) == {"error": "too many requests in flight", "accepted": 0, "unconfirmed": "all"}
        marker = unique("cmp")
        answer = call(logged.ingest_port, "POST", "/events", orjson.dumps({"campaign_id": marker}))
        assert (answer.status, answer.json()) == (202, {"accepted": 1})
        # The slow ones held are cut at the body deadline, saying that nothing of them was written.
        for sock in [sock for sock, got in zip(slow, received) if not got]:
            head, _, body = answer_on(sock, BODY_TIMEOUT_S + 10).partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408")
            assert orjson.loads(body) == {
                "error": f"the body did not arrive within {BODY_TIMEOUT_S} s", "accepted": 0, "unconfirmed": "all",
            }
    finally:
        for sock in slow:
            sock.close()


def test_a_client_gone_mid_body_is_no_error(logged: Worker) -> None:
    # The log test below checks that this left no traceback. "100 Continue" says the request reached
    # its handler, which is then reading the body when the client goes.
    with connect(logged.ingest_port) as sock:
        sock.sendall(b"POST /events HTTP/1.1\r\nHost: adtrack\r\nContent-Length: 1000\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        sock.settimeout(10)
        assert sock.recv(65536).startswith(b"HTTP/1.1 100")
        sock.sendall(f'{{"event_id": "{MARKER}", '.encode())
    # The worker goes on serving.
    assert call(logged.ingest_port, "GET", "/healthz").status == 200


def test_an_overloaded_pixel_answers_503_listing_its_one_event_as_unconfirmed(exposed: Worker, kafka: Kafka) -> None:
    marker = unique("cmp")
    answer = call(exposed.ingest_port, "GET", "/t.gif?" + urllib.parse.urlencode({"c": marker}))
    assert answer.status == 503 and answer.headers["Retry-After"] == "1"
    assert answer.json() == {"error": "too many requests in flight", "accepted": 0, "unconfirmed": [0]}
    assert not [r for r in kafka.read(kafka.settings.topic_raw) if marker.encode() in (r.value or b"")]


def test_an_overloaded_post_answers_503_saying_no_event_was_written(exposed: Worker, kafka: Kafka) -> None:
    marker = unique("cmp")
    body = b"\n".join(orjson.dumps({"campaign_id": marker, "n": n}) for n in range(3))
    answer = call(exposed.ingest_port, "POST", "/events", body, Content_Type="application/x-ndjson")
    assert answer.status == 503 and answer.headers["Retry-After"] == "1"
    assert answer.json() == {"error": "too many requests in flight", "accepted": 0, "unconfirmed": "all"}
    assert not [r for r in kafka.read(kafka.settings.topic_raw) if marker.encode() in (r.value or b"")]


def test_faust_views_when_turned_on_answer_404_for_what_they_cannot_find(exposed: Worker) -> None:
    port = exposed.web_port
    assert "coredata-campaign" in {t["name"] for t in call(port, "GET", "/table/").json()}
    for path in ["/table/nonexistent/", "/table/nonexistent/x/", "/table/coredata-campaign/no-such-campaign/",
                 "/table/subscription-delivered/x/", "/router/nonexistent/", "/router/nonexistent/x/"]:
        answer = call(port, "GET", path)
        assert answer.status == 404, (path, answer.status)
        assert answer.headers["Content-Type"].startswith("application/json"), path
    exposed.stop()
    assert b"Traceback" not in exposed.log()


def send_marked_traffic(worker: Worker, kafka: Kafka, marker: str) -> None:
    """Events whose payload carries ``marker`` down every way an event can go; returns once each has gone."""
    world = World(kafka)
    ids = world.campaign()
    raw = kafka.settings.topic_raw
    # An event id is the client's too: it may carry the marker.
    accepted = world.send_event(ids, event_id=f"{marker}-accepted", user_agent=f"Mozilla/5.0 {marker}",
                                url=f"https://{marker}.example/")
    rejected = world.send_event((unique("cmp"), ids[1], ids[2]), url=f"https://{marker}.example/")
    poison = {
        "malformed": f'{{"event_id": "{marker}", '.encode(),
        "not_object": orjson.dumps([marker]),
        "schema": orjson.dumps(factories.event(*ids, ts=marker)),
        "oversized": orjson.dumps(factories.event(*ids, url=marker * (kafka.settings.max_event_bytes // len(marker)))),
        "bad_utf8": marker.encode() + b"\xff\xfe",
    }
    for value in poison.values():
        kafka.send(raw, value, key=ids[0])
    # Past the producer's limit (cut in its dead letter), and a barrier nobody signed.
    poison["two_mb"] = orjson.dumps(factories.event(*ids, url=marker * (2 * 1024 * 1024 // len(marker))))
    kafka.send(raw, poison["two_mb"], key=ids[0])
    poison["forged_barrier"] = control.encode_barrier([("campaign", marker, 10**9)])
    kafka.send(raw, poison["forged_barrier"], key=ids[0], headers=[(control.CONTROL_HEADER, control.BARRIER)])
    forged_kind = world.send_event(ids, headers=[(control.CONTROL_HEADER, marker.encode())],
                                   user_agent=f"Mozilla/5.0 {marker}")
    port = worker.ingest_port
    pixel = "/t.gif?" + urllib.parse.urlencode({"e": unique("ev"), "c": ids[0], "p": ids[1], "s": marker})
    assert call(port, "GET", pixel, User_Agent=f"Mozilla/5.0 {marker}", Referer=f"https://{marker}.example/").status == 200
    too_long = "x" * kafka.settings.web_max_line_bytes
    assert call(port, "GET", pixel, User_Agent=f"{marker} {too_long}").status == 400

    assert world.outcome(accepted["event_id"])[0] == "accepted"
    assert world.outcome(forged_kind["event_id"])[0] == "accepted"
    assert world.outcome(rejected["event_id"])[0] == "rejected"
    dead = kafka.wait_for(kafka.settings.topic_dlq, lambda r: marker.encode() in (r.value or b""), count=len(poison))
    assert {r.value for r in dead} >= set(poison.values()) - {poison["two_mb"]}
    assert any(poison["two_mb"].startswith(r.value) and r.headers.get("dlq.truncated") for r in dead)
    # The log does speak of these events: how many, and where (topic, partition, offset), not what they held.
    wait_until(lambda: caught_up(worker), 30, "the worker to commit every raw record", interval=0.5)
    worker.stop()
    counted = re.findall(rb"dead-lettered (\d+) records? as \w+, e\.g\. [\w.]+\[\d+\]@\d+", worker.log())
    assert sum(int(n) for n in counted) >= len(poison)


def assert_clean(log: bytes, marker: str) -> None:
    assert marker.encode() not in log
    assert SECRET.encode() not in log
    # Hostile clients (cut connections, slow or half-sent requests, refused overload) are no errors.
    assert b"Traceback" not in log and b"ERROR" not in log


def test_no_payload_and_no_secret_reaches_the_log(logged: Worker, kafka: Kafka) -> None:
    send_marked_traffic(logged, kafka, MARKER)
    assert_clean(logged.log(), MARKER)


def test_json_logs_are_one_object_per_line_with_no_payload_and_no_secret(make_worker, kafka: Kafka) -> None:
    # A group of its own, so that it alone takes the traffic, and a marker of its own.
    worker = make_worker("hygiene-json", ADTRACK_APP_ID=unique("json-logs"), ADTRACK_LOG_FORMAT="json",
                         KAFKA_SASL_PASSWORD=SECRET).start().wait_ready()
    marker = unique("payload-marker")
    send_marked_traffic(worker, kafka, marker)
    log = worker.log()
    lines = [orjson.loads(line) for line in log.splitlines()]
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line), line
    # A dead-letter warning names its example's place in fields of its own too.
    tallied = [line for line in lines if line["message"].startswith("dead-lettered ")]
    assert tallied
    for line in tallied:
        assert line["message"].endswith(f"e.g. {line['topic']}[{line['partition']}]@{line['offset']}"), line
    assert_clean(log, marker)
