"""Admission of ingest requests: overall and per client address."""

from __future__ import annotations

from pipeline.web.admission import Admission


def test_requests_are_admitted_up_to_the_limit_then_refused() -> None:
    gate = Admission(limit=2)
    assert gate.admit("a") and gate.admit("b")
    assert not gate.admit("c")
    assert gate.active == 2


def test_a_released_slot_admits_the_next_request() -> None:
    gate = Admission(limit=1)
    assert gate.admit("a")
    gate.release("a")
    assert gate.admit("b")


def test_one_client_cannot_take_more_than_its_share() -> None:
    gate = Admission(limit=32, per_client=4)
    assert all(gate.admit("10.0.0.1") for _ in range(4))
    assert not gate.admit("10.0.0.1")
    assert gate.admit("10.0.0.2")  # another client is still served
    assert gate.active == 5


def test_a_refused_request_takes_nothing() -> None:
    gate = Admission(limit=1, per_client=1)
    assert gate.admit("a")
    assert not gate.admit("a") and not gate.admit("b")
    gate.release("a")
    assert gate.active == 0 and gate.clients() == 0


def test_a_limit_of_zero_refuses_everything() -> None:
    assert not Admission(limit=0, per_client=4).admit("a")


def test_clients_without_requests_in_flight_are_forgotten() -> None:
    gate = Admission(limit=100, per_client=2)
    for n in range(50):
        assert gate.admit(f"client-{n}")
        gate.release(f"client-{n}")
    assert gate.clients() == 0
