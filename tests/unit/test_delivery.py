"""The last delivery per subscription and key: stored with full names, read from old one-letter changelogs too."""

from __future__ import annotations

import orjson
import pytest

from pipeline.domain.delivery import CHANGE, SNAPSHOT, Delivery, should_deliver


def test_a_delivery_is_stored_with_full_field_names_and_read_back_the_same() -> None:
    delivery = Delivery(3, CHANGE, 41)
    stored = orjson.loads(orjson.dumps(delivery.stored()))  # as the table's changelog holds it
    assert stored == {"version": 3, "source": "change", "offset": 41}
    assert Delivery.from_stored(stored) == delivery


@pytest.mark.parametrize(("old", "expected"), [
    ({"v": 3, "src": ["c", 41]}, Delivery(3, CHANGE, 41)),
    ({"v": 1, "src": ["s", 7]}, Delivery(1, SNAPSHOT, 7)),
])
def test_a_one_letter_record_of_an_earlier_changelog_still_restores(old: dict, expected: Delivery) -> None:
    assert Delivery.from_stored(old) == expected


def test_a_key_never_delivered_is_delivered() -> None:
    assert should_deliver(None, Delivery(1, CHANGE, 0))


def test_a_newer_version_is_delivered_an_older_or_equal_one_is_not() -> None:
    last = Delivery(3, SNAPSHOT, 5)
    assert should_deliver(last, Delivery(4, CHANGE, 9))
    assert not should_deliver(last, Delivery(3, CHANGE, 9))
    assert not should_deliver(last, Delivery(2, CHANGE, 9))


def test_the_very_same_cause_seen_again_after_a_crash_is_delivered_again() -> None:
    last = Delivery(3, CHANGE, 9)
    assert should_deliver(last, Delivery(3, CHANGE, 9))
    assert not should_deliver(last, Delivery(3, SNAPSHOT, 9))  # same offset, other topic: another cause


def test_an_old_record_and_its_new_form_are_the_same_cause() -> None:
    assert should_deliver(Delivery.from_stored({"v": 3, "src": ["c", 9]}), Delivery(3, CHANGE, 9))
