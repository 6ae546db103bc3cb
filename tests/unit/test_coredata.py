"""Core data: update validation, the version rules, and change notifications."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest

from pipeline.domain.coredata import (
    ENTITIES,
    SCHEMAS,
    Update,
    apply,
    changed_fields,
    check_data,
    decode_update,
    live_data,
    notification,
    parse_update,
)
from pipeline.domain.errors import MalformedError, SchemaError
from tests import factories

NOW = 1_767_225_600_000


def campaign(**overrides: Any) -> dict[str, Any]:
    return factories.campaign_data(**{"start_ts": NOW, "end_ts": NOW + 1000, **overrides})


VALID = {
    "campaign": campaign(),
    "publisher": factories.publisher_data(),
    "slot": factories.slot_data("pub-1"),
    "budget": {"total": 5000.0},
}


def upsert(version: int, data: dict[str, Any] | None = None, entity: str = "publisher") -> Update:
    return parse_update(factories.update(entity, "id-1", version, data or VALID[entity]))


def delete(version: int, entity: str = "publisher") -> Update:
    return parse_update(factories.update(entity, "id-1", version, op="delete"))


def schema_error(entity: str, data: Any) -> str:
    with pytest.raises(SchemaError) as info:
        check_data(entity, data)
    return str(info.value)


# -- parse_update and decode_update


@pytest.mark.parametrize("entity", ENTITIES)
def test_a_valid_upsert_of_every_entity_parses(entity: str) -> None:
    update = parse_update(factories.update(entity, "id-1", 3, VALID[entity]))
    assert update == Update(entity, "upsert", "id-1", 3, VALID[entity])
    assert update.key == f"{entity}:id-1"


@pytest.mark.parametrize("data", [None, {"name": 1}, "junk"])
def test_a_delete_ignores_its_data(data: Any) -> None:
    update = parse_update(factories.update("slot", "id-1", 2, data, op="delete"))
    assert update == Update("slot", "delete", "id-1", 2, None)


def test_an_update_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        upsert(1).version = 2  # type: ignore[misc]


def envelope_error(name: str, value: Any) -> str:
    """The error of a valid publisher upsert whose envelope field ``name`` is ``value`` (``...``: missing)."""
    raw = factories.update("publisher", "id-1", 1, VALID["publisher"])
    raw[name] = value
    raw = {k: v for k, v in raw.items() if v is not ...}
    with pytest.raises(SchemaError) as info:
        parse_update(raw)
    return str(info.value)


@pytest.mark.parametrize("entity", [..., None, "", "Campaign", "advertiser", 1, ["campaign"]])
def test_entity_must_be_campaign_publisher_slot_or_budget(entity: Any) -> None:
    shown = None if entity is ... else entity
    assert envelope_error("entity", entity) == f"entity must be one of campaign, publisher, slot, budget, got {shown!r}"


@pytest.mark.parametrize("op", [..., None, "", "insert", "DELETE", 1])
def test_op_must_be_upsert_or_delete(op: Any) -> None:
    shown = None if op is ... else op
    assert envelope_error("op", op) == f"op must be one of upsert, delete, got {shown!r}"


@pytest.mark.parametrize("id_", [..., None, "", 1, True, ["id"]])
def test_id_must_be_a_non_empty_string(id_: Any) -> None:
    assert envelope_error("id", id_) == "id must be a non-empty string"


def test_id_is_at_most_256_characters_as_in_events() -> None:
    assert envelope_error("id", "x" * 257) == "id is over 256 characters"


@pytest.mark.parametrize("version", [..., None, 0, -1, True, 1.0, "1"])
def test_version_must_be_an_integer_of_at_least_1(version: Any) -> None:
    shown = None if version is ... else version
    assert envelope_error("version", version) == f"version must be an integer >= 1, got {shown!r}"


def test_huge_versions_are_accepted() -> None:
    assert upsert(2**63 - 1).version == 2**63 - 1


@pytest.mark.parametrize("entity", ENTITIES)
@pytest.mark.parametrize("data", [None, [], "data", 1])
def test_an_upsert_needs_its_data_as_an_object(entity: str, data: Any) -> None:
    with pytest.raises(SchemaError) as info:
        parse_update(factories.update(entity, "id-1", 1, data))
    assert str(info.value) == f"{entity} data must be a JSON object"


def test_the_envelope_is_checked_before_the_data() -> None:
    with pytest.raises(SchemaError, match=r"^version must be"):
        parse_update(factories.update("publisher", "id-1", 0, {"junk": 1}))


def test_decode_update_parses_json_bytes() -> None:
    raw = factories.update("budget", "cmp-1", 4, {"total": 10})
    assert decode_update(orjson.dumps(raw)) == Update("budget", "upsert", "cmp-1", 4, {"total": 10})


def test_decode_update_of_a_tombstone_is_malformed() -> None:
    with pytest.raises(MalformedError, match=r"^no value \(tombstone\)$"):
        decode_update(None)


@pytest.mark.parametrize("value", [b"", b"{", b"nope", b"\xff", b'{"entity": "\xff"}'])
def test_decode_update_of_bytes_that_are_not_utf8_json_is_malformed(value: bytes) -> None:
    with pytest.raises(MalformedError, match=r"^not UTF-8 JSON: "):
        decode_update(value)


@pytest.mark.parametrize(("value", "kind"), [(b"[]", "list"), (b"1", "int"), (b'"x"', "str"), (b"null", "NoneType")])
def test_decode_update_of_json_that_is_not_an_object_is_malformed(value: bytes, kind: str) -> None:
    with pytest.raises(MalformedError) as info:
        decode_update(value)
    assert str(info.value) == f"expected a JSON object, got {kind}"


def test_decode_update_with_a_bad_field_is_a_schema_error() -> None:
    with pytest.raises(SchemaError, match=r"^entity must be"):
        decode_update(b"{}")


# -- check_data, field by field

BAD_STRING = [None, "", 1, True, ["x"]]
BAD_MS = [1.5, "1", True, [1], {}]
BAD_NUMBER = [-1, -0.01, "1", True, None, [1]]
BAD_DIMENSION = [0, -1, 1.5, True, "300", None]

FIELD_CASES = [
    *[("campaign", f, v, "a non-empty string") for f in ("name", "advertiser_id", "advertiser_name") for v in BAD_STRING],
    *[("campaign", "status", v, "one of active, paused, ended") for v in ("Active", "deleted", "", None, 1)],
    *[("campaign", "start_ts", v, "epoch milliseconds") for v in (*BAD_MS, None)],
    *[("campaign", "end_ts", v, "epoch milliseconds or null") for v in BAD_MS],
    *[("campaign", "pricing_model", v, "one of cpm, cpc, cpa") for v in ("CPM", "cpv", "", None, ["cpm"])],
    *[("campaign", "price", v, "a number >= 0") for v in BAD_NUMBER],
    *[
        ("campaign", "publishers", v, "a list of publisher ids, or null for all")
        for v in ("pub-1", [1], [""], ["pub-1", None], {"pub-1": True}, 0)
    ],
    *[("publisher", f, v, "a non-empty string") for f in ("name", "domain") for v in BAD_STRING],
    *[("publisher", "status", v, "one of active, blocked") for v in ("paused", "Active", None, True)],
    *[("slot", "publisher_id", v, "a non-empty string") for v in BAD_STRING],
    *[("slot", "format", v, "one of banner, video, native") for v in ("image", "Banner", None, 1)],
    *[("slot", f, v, "a positive integer") for f in ("width", "height") for v in BAD_DIMENSION],
    *[("budget", "total", v, "a number >= 0") for v in BAD_NUMBER],
]


@pytest.mark.parametrize(("entity", "name", "value", "expected"), FIELD_CASES)
def test_a_field_with_a_bad_value_is_named_with_what_it_must_be(entity: str, name: str, value: Any, expected: str) -> None:
    data = {**VALID[entity], name: value}
    assert schema_error(entity, data) == f"{entity}: {name} must be {expected}, got {value!r}"


def test_every_field_of_every_schema_has_a_bad_value_case() -> None:
    covered = {(entity, name) for entity, name, _, _ in FIELD_CASES}
    assert covered == {(entity, name) for entity, schema in SCHEMAS.items() for name in schema}


@pytest.mark.parametrize(("entity", "name"), [(e, n) for e, schema in SCHEMAS.items() for n in schema])
def test_every_field_is_required(entity: str, name: str) -> None:
    data = {k: v for k, v in VALID[entity].items() if k != name}
    assert schema_error(entity, data) == f"{entity}: {name} is missing"


@pytest.mark.parametrize(
    ("entity", "data"),
    [
        ("campaign", campaign(price=0)),
        ("campaign", campaign(price=3)),
        ("campaign", campaign(end_ts=None)),
        ("campaign", campaign(publishers=[])),
        ("campaign", campaign(publishers=["pub-1", "pub-2"])),
        ("campaign", campaign(status="ended", pricing_model="cpa")),
        ("publisher", factories.publisher_data(status="blocked")),
        ("slot", factories.slot_data("pub-1", format="native", width=1, height=1)),
        ("budget", {"total": 0}),
        ("budget", {"total": 12}),
    ],
)
def test_valid_data_is_returned_as_it_is(entity: str, data: dict[str, Any]) -> None:
    assert check_data(entity, data) is data


@pytest.mark.parametrize("entity", ENTITIES)
@pytest.mark.parametrize("data", [None, [], "x", 1])
def test_data_that_is_not_an_object_is_refused(entity: str, data: Any) -> None:
    assert schema_error(entity, data) == f"{entity} data must be a JSON object"


@pytest.mark.parametrize("entity", ENTITIES)
def test_unknown_fields_are_refused(entity: str) -> None:
    assert schema_error(entity, {**VALID[entity], "colour": "red"}) == f"{entity}: unknown field 'colour'"


def test_every_problem_is_named_in_one_error() -> None:
    data = {"colour": "red", "name": "", "domain": "d.example", "extra": 1}
    assert schema_error("publisher", data) == (
        "publisher: unknown field 'colour'; unknown field 'extra'; name must be a non-empty string, got ''; "
        "status is missing"
    )


@pytest.mark.parametrize("end_ts", [NOW, NOW - 1])
def test_a_campaign_must_end_after_it_starts(end_ts: int) -> None:
    assert schema_error("campaign", campaign(end_ts=end_ts)) == "campaign: end_ts must be after start_ts"


def test_a_campaign_may_end_one_ms_after_it_starts() -> None:
    assert check_data("campaign", campaign(end_ts=NOW + 1))["end_ts"] == NOW + 1


def test_an_end_before_the_start_is_named_next_to_other_problems() -> None:
    data = {**campaign(end_ts=NOW - 1, price=-1), "colour": "red"}
    assert schema_error("campaign", data) == (
        "campaign: unknown field 'colour'; price must be a number >= 0, got -1; end_ts must be after start_ts"
    )


def test_flight_order_is_not_checked_when_start_or_end_is_invalid() -> None:
    assert schema_error("campaign", campaign(start_ts="late")) == (
        "campaign: start_ts must be epoch milliseconds, got 'late'"
    )


# -- changed_fields


def test_changed_fields_of_new_data_are_all_its_fields_sorted() -> None:
    assert changed_fields(None, {"b": 1, "a": 2}) == ["a", "b"]


@pytest.mark.parametrize("previous", [None, {"a": 1}])
def test_changed_fields_of_a_delete_are_none(previous: dict | None) -> None:
    assert changed_fields(previous, None) == []


def test_changed_fields_name_changed_added_and_removed_fields_sorted() -> None:
    previous = {"same": 1, "changed": 1, "removed": 1, "was_none": None}
    data = {"same": 1, "changed": 2, "added": 1}
    assert changed_fields(previous, data) == ["added", "changed", "removed", "was_none"]


def test_identical_data_has_no_changed_fields() -> None:
    assert changed_fields(VALID["campaign"], dict(VALID["campaign"])) == []


def test_a_null_value_differs_from_a_missing_field() -> None:
    assert changed_fields({"end_ts": None}, {}) == ["end_ts"]
    assert changed_fields({}, {"end_ts": None}) == ["end_ts"]


def test_a_nested_change_names_the_top_level_field() -> None:
    assert changed_fields({"publishers": ["a"]}, {"publishers": ["a", "b"]}) == ["publishers"]


# -- apply: the version rules


def test_a_new_entity_is_stored_with_every_field_changed() -> None:
    data = VALID["publisher"]
    assert apply(None, upsert(1), NOW) == {
        "version": 1,
        "deleted": False,
        "data": data,
        "at": NOW,
        "previous_version": None,
        "changed_fields": ["domain", "name", "status"],
    }


def test_a_newer_version_replaces_the_data_and_names_what_changed() -> None:
    stored = apply(None, upsert(1), NOW)
    newer = {**VALID["publisher"], "status": "blocked"}
    assert apply(stored, upsert(2, newer), NOW + 5) == {
        "version": 2,
        "deleted": False,
        "data": newer,
        "at": NOW + 5,
        "previous_version": 1,
        "changed_fields": ["status"],
    }


def test_versions_may_skip_numbers() -> None:
    assert apply(apply(None, upsert(1), NOW), upsert(7), NOW)["previous_version"] == 1


def test_a_newer_version_with_the_same_data_is_stored_with_nothing_changed() -> None:
    stored = apply(apply(None, upsert(1), NOW), upsert(2), NOW + 1)
    assert (stored["version"], stored["changed_fields"]) == (2, [])


@pytest.mark.parametrize("version", [5, 4, 1])
def test_an_update_that_is_not_newer_is_ignored(version: int) -> None:
    stored = apply(None, upsert(5), NOW)
    assert apply(stored, upsert(version, {**VALID["publisher"], "name": "Changed"}), NOW + 1) is None
    assert apply(stored, delete(version), NOW + 1) is None


def test_apply_does_not_change_the_stored_form() -> None:
    stored = apply(None, upsert(1), NOW)
    before = orjson.dumps(stored)
    apply(stored, upsert(2, {**VALID["publisher"], "name": "Changed"}), NOW + 1)
    apply(stored, delete(3), NOW + 1)
    assert orjson.dumps(stored) == before


def test_a_delete_leaves_a_versioned_tombstone() -> None:
    stored = apply(None, upsert(1), NOW)
    assert apply(stored, delete(2), NOW + 1) == {
        "version": 2,
        "deleted": True,
        "data": None,
        "at": NOW + 1,
        "previous_version": 1,
        "changed_fields": [],
    }


def test_a_delete_of_an_unknown_entity_leaves_a_tombstone() -> None:
    assert apply(None, delete(3), NOW) == {
        "version": 3,
        "deleted": True,
        "data": None,
        "at": NOW,
        "previous_version": None,
        "changed_fields": [],
    }


@pytest.mark.parametrize("version", [1, 2, 3])
def test_an_older_or_equal_upsert_after_a_delete_does_not_bring_the_entity_back(version: int) -> None:
    tombstone = apply(apply(None, upsert(1), NOW), delete(3), NOW)
    assert apply(tombstone, upsert(version), NOW + 1) is None


def test_a_newer_delete_after_a_delete_moves_the_tombstone_on() -> None:
    tombstone = apply(apply(None, upsert(1), NOW), delete(2), NOW)
    assert apply(tombstone, delete(3), NOW + 1) == {
        "version": 3, "deleted": True, "data": None, "at": NOW + 1, "previous_version": 2, "changed_fields": []
    }


def test_a_newer_upsert_after_a_delete_resurrects_with_every_field_changed() -> None:
    tombstone = apply(apply(None, upsert(1), NOW), delete(2), NOW)
    assert apply(tombstone, upsert(3), NOW + 1) == {  # the very same data as before the delete
        "version": 3,
        "deleted": False,
        "data": VALID["publisher"],
        "at": NOW + 1,
        "previous_version": 2,
        "changed_fields": ["domain", "name", "status"],
    }


# -- notification and live_data


def test_the_notification_of_an_upsert_is_built_from_the_stored_form() -> None:
    newer = {**VALID["publisher"], "status": "blocked"}
    stored = apply(apply(None, upsert(1), NOW), upsert(2, newer), NOW + 5)
    stored["source"] = [0, 17]  # bookkeeping of the agent: not part of the notification
    assert notification("publisher", "id-1", stored) == {
        "entity": "publisher",
        "id": "id-1",
        "op": "upsert",
        "version": 2,
        "previous_version": 1,
        "changed_fields": ["status"],
        "data": newer,
        "at": NOW + 5,
    }


def test_the_notification_of_a_delete_has_no_data() -> None:
    stored = apply(apply(None, upsert(1), NOW), delete(2), NOW + 5)
    assert notification("publisher", "id-1", stored) == {
        "entity": "publisher",
        "id": "id-1",
        "op": "delete",
        "version": 2,
        "previous_version": 1,
        "changed_fields": [],
        "data": None,
        "at": NOW + 5,
    }


def test_the_notification_is_json_serialisable() -> None:
    stored = apply(None, upsert(1, entity="campaign"), NOW)
    note = notification("campaign", "id-1", stored)
    assert orjson.loads(orjson.dumps(note)) == note


def test_live_data_is_the_data_of_a_stored_entity() -> None:
    assert live_data(apply(None, upsert(1), NOW)) == VALID["publisher"]


def test_live_data_of_a_missing_or_deleted_entity_is_none() -> None:
    assert live_data(None) is None
    assert live_data(apply(None, delete(1), NOW)) is None
