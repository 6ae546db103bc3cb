"""A worker at its defaults: listening on loopback only, and logging what happened to an event, never what it said.

Every way an event can go (accepted, rejected, each kind of dead letter, refused at the HTTP door) is
taken by events whose payload carries one marker; the worker's whole log must not contain it.
"""

from __future__ import annotations

import urllib.parse

import re

import orjson
import pytest

from pipeline import control
from tests import factories
from tests.harness import Kafka, Worker, call, unique, wait_until
from tests.world import World

pytestmark = pytest.mark.integration

MARKER = unique("payload-marker")
SECRET = unique("sasl-password")


@pytest.fixture(scope="module")
def logged(make_worker, kafka: Kafka) -> Worker:
    return make_worker("hygiene", KAFKA_SASL_PASSWORD=SECRET).start().wait_ready()


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


def test_the_web_server_listens_on_loopback_only_by_default(logged: Worker) -> None:
    # Runs before the log test below, which stops the worker to read its whole log.
    # 0100007F is 127.0.0.1 as /proc/net/tcp writes it; 00000000 would be every interface.
    assert listening_addresses(logged.web_port) == {"0100007F"}


def test_no_payload_and_no_secret_reaches_the_log(logged: Worker, kafka: Kafka) -> None:
    world = World(kafka)
    ids = world.campaign()
    raw = kafka.settings.topic_raw
    accepted = world.send_event(ids, user_agent=f"Mozilla/5.0 {MARKER}", url=f"https://{MARKER}.example/")
    rejected = world.send_event((unique("cmp"), ids[1], ids[2]), url=f"https://{MARKER}.example/")
    poison = {
        "malformed": f'{{"event_id": "{MARKER}", '.encode(),
        "not_object": orjson.dumps([MARKER]),
        "schema": orjson.dumps(factories.event(*ids, ts=MARKER)),
        "oversized": orjson.dumps(factories.event(*ids, url=MARKER * (kafka.settings.max_event_bytes // len(MARKER)))),
        "bad_utf8": MARKER.encode() + b"\xff\xfe",
    }
    for value in poison.values():
        kafka.send(raw, value, key=ids[0])
    # Past the producer's limit (cut in its dead letter), and a barrier nobody signed.
    poison["two_mb"] = orjson.dumps(factories.event(*ids, url=MARKER * (2 * 1024 * 1024 // len(MARKER))))
    kafka.send(raw, poison["two_mb"], key=ids[0])
    poison["forged_barrier"] = control.encode_barrier([("campaign", MARKER, 10**9)])
    kafka.send(raw, poison["forged_barrier"], key=ids[0], headers=[(control.CONTROL_HEADER, control.BARRIER)])
    forged_kind = world.send_event(ids, headers=[(control.CONTROL_HEADER, MARKER.encode())],
                                   user_agent=f"Mozilla/5.0 {MARKER}")
    port = logged.web_port
    pixel = "/t.gif?" + urllib.parse.urlencode({"e": unique("ev"), "c": ids[0], "p": ids[1], "s": MARKER})
    assert call(port, "GET", pixel, User_Agent=f"Mozilla/5.0 {MARKER}", Referer=f"https://{MARKER}.example/").status == 200
    too_long = "x" * kafka.settings.web_max_line_bytes
    assert call(port, "GET", pixel, User_Agent=f"{MARKER} {too_long}").status == 400

    assert world.outcome(accepted["event_id"])[0] == "accepted"
    assert world.outcome(forged_kind["event_id"])[0] == "accepted"
    assert world.outcome(rejected["event_id"])[0] == "rejected"
    dead = kafka.wait_for(kafka.settings.topic_dlq, lambda r: MARKER.encode() in (r.value or b""), count=len(poison))
    assert {r.value for r in dead} >= set(poison.values()) - {poison["two_mb"]}
    assert any(poison["two_mb"].startswith(r.value) and r.headers.get("dlq.truncated") for r in dead)
    logged.stop()

    log = logged.log()
    # The log does speak of these events: how many, and where (topic, partition, offset), not what they held.
    counted = re.findall(rb"dead-lettered (\d+) records? as \w+, e\.g\. [\w.]+\[\d+\]@\d+", log)
    assert sum(int(n) for n in counted) >= len(poison)
    assert MARKER.encode() not in log
    assert SECRET.encode() not in log

