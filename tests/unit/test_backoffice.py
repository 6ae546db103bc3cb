"""The back-office commands' pure parts: field=value, folding compacted topics, readable lines, tables."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from pipeline.cli.backoffice import is_notification, merge, next_version, parse_fields, parse_value
from pipeline.cli.records import latest
from pipeline.cli.subscribers import (
    current_subscriptions,
    delivered_counts,
    describe,
    describe_value,
    subscription_rows,
    timestamp,
)
from pipeline.domain import subscriptions
from pipeline.domain.errors import SchemaError
from tests import factories

AT = 1_795_314_600_123  # 2026-11-22T02:30:00.123Z


def note(op: str = "upsert", version: int = 3, previous: int | None = 2, changed: list[str] | None = None) -> dict:
    return {"entity": "campaign", "id": "cmp-1", "op": op, "version": version, "previous_version": previous,
            "changed_fields": ["price", "status"] if changed is None else changed, "data": {}, "at": AT}


def stored(version: int, data: dict[str, Any] | None, deleted: bool = False) -> dict[str, Any]:
    return {"version": version, "deleted": deleted, "data": data, "at": AT, "previous_version": None,
            "changed_fields": [], "source": [0, 0]}


# --- field=value ---


@pytest.mark.parametrize(
    ("text", "value"),
    [("4.5", 4.5), ("3", 3), ("null", None), ("true", True), ('["pub-a","pub-b"]', ["pub-a", "pub-b"]),
     ("Spring Sale", "Spring Sale"), ("active", "active"), ('"42"', "42"), ("", "")],
)
def test_a_value_is_json_when_it_parses_and_a_plain_string_otherwise(text: str, value: Any) -> None:
    assert parse_value(text) == value


def test_fields_split_at_the_first_equals_sign() -> None:
    assert parse_fields("campaign", ["name=Spring Sale", "price=4.5", "url=a=b", "end_ts=null"]) == {
        "name": "Spring Sale", "price": 4.5, "url": "a=b", "end_ts": None}


@pytest.mark.parametrize(("item", "problem"), [("price", "expected field=value, got 'price'"),
                                               ("=4", "expected field=value, got '=4'")])
def test_an_item_without_a_field_name_and_value_is_refused(item: str, problem: str) -> None:
    with pytest.raises(SchemaError, match=problem):
        parse_fields("campaign", [item])


def test_a_field_given_twice_is_refused() -> None:
    with pytest.raises(SchemaError, match="price is given twice"):
        parse_fields("campaign", ["price=1", "price=2"])


# --- merge and validation ---


def test_set_merges_the_given_fields_into_the_stored_data() -> None:
    data = factories.campaign_data()
    assert merge("campaign", stored(2, data), {"price": 4.5}) == {**data, "price": 4.5}


def test_a_new_entity_needs_every_field() -> None:
    with pytest.raises(SchemaError, match="publisher: domain is missing; status is missing"):
        merge("publisher", None, {"name": "Daily Ledger"})


def test_a_deleted_entity_starts_from_nothing() -> None:
    with pytest.raises(SchemaError, match="name is missing"):
        merge("publisher", stored(4, None, deleted=True), {"domain": "d.example", "status": "active"})
    assert merge("budget", stored(4, None, deleted=True), {"total": 10}) == {"total": 10}


def test_unknown_fields_and_bad_values_are_refused_with_the_schema_message() -> None:
    with pytest.raises(SchemaError) as info:
        merge("campaign", stored(1, factories.campaign_data()), {"colour": "red", "status": "running"})
    assert str(info.value) == ("campaign: unknown field 'colour'; "
                               "status must be one of active, paused, ended, got 'running'")


def test_the_next_version_follows_the_stored_one_tombstones_included() -> None:
    assert next_version(None) == 1
    assert next_version(stored(3, {"total": 1})) == 4
    assert next_version(stored(4, None, deleted=True)) == 5


# --- folding compacted topics ---


def test_latest_keeps_the_last_value_per_key_and_drops_tombstoned_keys() -> None:
    records = [(b"a", 1), (b"b", 2), (b"a", 3), (b"b", None), (b"c", None), (b"d", None), (b"d", 4)]
    assert latest(records) == {b"a": 3, b"d": 4}


def sub_record(name: str, policy: Any, at: int = 1) -> tuple[bytes, bytes]:
    return name.encode(), orjson.dumps({"name": name, "topic": f"out.{name}", "filter": policy, "snapshot": False,
                                        "at": at})


def test_subscriptions_fold_with_unsubscribes_and_resubscribes() -> None:
    records = [sub_record("a", {}), sub_record("b", {}), (b"a", None), sub_record("b", {"op": ["delete"]}, at=2)]
    current = current_subscriptions(records, "coredata.changes")
    assert list(current) == ["b"]
    assert (current["b"].policy.policy, current["b"].at) == ({"op": ["delete"]}, 2)


def test_an_invalid_subscription_record_is_skipped_as_the_worker_does() -> None:
    records = [sub_record("a", {"entity": ["slot"]}), sub_record("a", {"colour": ["red"]}), (b"b", b"{not json")]
    current = current_subscriptions(records, "coredata.changes")
    assert {name: sub.policy.policy for name, sub in current.items()} == {"a": {"entity": ["slot"]}}


def test_delivered_counts_decode_the_json_keys_and_values_of_the_faust_changelog() -> None:
    assert delivered_counts([(b'"a"', b"0"), (b'"b"', b"3"), (b'"a"', b"12")]) == {"a": 12, "b": 3}


def test_subscription_rows_are_sorted_and_an_unconfirmed_one_shows_a_dash() -> None:
    sub_b = subscriptions.make("b", {"entity": ["budget"]}, None, True, 1, "coredata.changes")
    sub_a = subscriptions.make("a", {}, "mine", False, 1, "coredata.changes")
    assert subscription_rows({"b": sub_b, "a": sub_a}, {"b": 7}) == [
        ["a", "mine", "no", "-", "{}"],
        ["b", "coredata.changes.b", "yes", "7", '{"entity":["budget"]}'],
    ]


# --- readable notification lines ---


def test_a_timestamp_is_utc_with_milliseconds() -> None:
    assert timestamp(AT) == "2026-11-22T02:30:00.123Z"
    assert timestamp(0) == "1970-01-01T00:00:00.000Z"


def test_an_upsert_line_names_the_versions_and_the_changed_fields() -> None:
    assert describe(note()) == "2026-11-22T02:30:00.123Z  campaign:cmp-1  upsert v3 (was v2)  changed: price, status"


def test_a_new_entity_is_marked_new() -> None:
    line = describe(note(version=1, previous=None, changed=["name", "price"]))
    assert line == "2026-11-22T02:30:00.123Z  campaign:cmp-1  upsert v1 (new)  changed: name, price"


def test_an_upsert_that_changes_nothing_says_so() -> None:
    assert describe(note(changed=[])).endswith("upsert v3 (was v2)  changed: nothing")


def test_a_snapshot_line_has_only_its_version() -> None:
    assert describe(note(op="snapshot", previous=None)) == "2026-11-22T02:30:00.123Z  campaign:cmp-1  snapshot v3"


def test_a_delete_line_names_the_versions() -> None:
    assert describe(note(op="delete", version=4, previous=3, changed=[])).endswith("campaign:cmp-1  delete v4 (was v3)")
    assert describe(note(op="delete", version=1, previous=None, changed=[])).endswith("campaign:cmp-1  delete v1")


def test_a_record_that_is_not_a_notification_is_shown_as_such() -> None:
    assert describe_value(orjson.dumps(note())).endswith("changed: price, status")
    assert describe_value(b"garbage") == "not a notification: b'garbage'"
    assert describe_value(None) == "not a notification: b''"
    assert describe_value(b'{"entity": "campaign"}').startswith("not a notification")


def test_a_notification_is_recognised_by_entity_id_and_version() -> None:
    value = orjson.dumps(note())
    assert is_notification(value, "campaign", "cmp-1", 3)
    assert not is_notification(value, "campaign", "cmp-1", 2)
    assert not is_notification(value, "budget", "cmp-1", 3)
    assert not is_notification(b"[]", "campaign", "cmp-1", 3)
    assert not is_notification(None, "campaign", "cmp-1", 3)
