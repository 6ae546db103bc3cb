"""Reading a back-office export: JSONL or a JSON array of updates, refused whole on the first bad one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from pipeline.cli.loader import read_updates
from pipeline.domain.coredata import ENTITIES, parse_update
from pipeline.domain.errors import CoreDataFileError
from tests import factories
from tests.harness import ROOT

SAMPLE = ROOT / "config" / "coredata.sample.jsonl"

UPDATES = [
    factories.update("publisher", "pub-1", 1, factories.publisher_data()),
    factories.update("slot", "slot-1", 1, factories.slot_data("pub-1")),
    factories.update("budget", "cmp-1", 2, {"total": 100.0}),
    factories.update("campaign", "cmp-1", 1, op="delete"),
]


def write(tmp_path: Path, text: bytes | str, name: str = "export.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def jsonl(*items: Any) -> bytes:
    return b"".join(orjson.dumps(item) + b"\n" for item in items)


def refusal(path: Path) -> str:
    with pytest.raises(CoreDataFileError) as info:
        read_updates(path)
    return str(info.value)


def test_a_jsonl_file_is_read_in_order(tmp_path: Path) -> None:
    assert read_updates(write(tmp_path, jsonl(*UPDATES))) == UPDATES


def test_a_json_array_is_read_in_order(tmp_path: Path) -> None:
    assert read_updates(write(tmp_path, orjson.dumps(UPDATES), "export.json")) == UPDATES


def test_a_json_array_may_be_indented_and_preceded_by_whitespace(tmp_path: Path) -> None:
    text = b"\n  " + orjson.dumps(UPDATES, option=orjson.OPT_INDENT_2)
    assert read_updates(write(tmp_path, text, "export.json")) == UPDATES


def test_blank_lines_in_jsonl_are_skipped(tmp_path: Path) -> None:
    text = b"\n" + orjson.dumps(UPDATES[0]) + b"\n   \n\t\n" + orjson.dumps(UPDATES[1]) + b"\r\n\n"
    assert read_updates(write(tmp_path, text)) == UPDATES[:2]


def test_a_jsonl_file_without_a_final_newline_is_read(tmp_path: Path) -> None:
    assert read_updates(write(tmp_path, jsonl(*UPDATES).rstrip(b"\n"))) == UPDATES


@pytest.mark.parametrize("text", [b"", b"\n\n", b"[]"], ids=["empty", "blank", "empty-array"])
def test_an_empty_export_has_no_updates(tmp_path: Path, text: bytes) -> None:
    assert read_updates(write(tmp_path, text)) == []


def test_a_line_that_is_not_json_is_refused_with_its_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, jsonl(UPDATES[0]) + b"\n" + b'{"entity": "slot", oops}\n' + jsonl(UPDATES[1]))
    assert refusal(path).startswith(f"{path}:3: not JSON: ")


def test_a_line_that_is_not_utf8_is_refused_with_its_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, jsonl(UPDATES[0]) + b'{"id": "\xff"}\n')
    assert refusal(path).startswith(f"{path}:2: not JSON: ")


def test_a_line_that_is_not_an_object_is_refused_with_its_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, jsonl(UPDATES[0], UPDATES[1], [UPDATES[2]]))
    assert refusal(path) == f"{path}:3: expected a JSON object"


def test_an_invalid_update_is_refused_with_its_file_line_and_problem(tmp_path: Path) -> None:
    bad = factories.update("slot", "slot-2", 1, factories.slot_data("pub-1", width=0))
    path = write(tmp_path, jsonl(UPDATES[0]) + b"\n" + jsonl(bad))
    assert refusal(path) == f"{path}:3: slot: width must be a positive integer, got 0"


def test_the_first_bad_line_is_the_one_reported(tmp_path: Path) -> None:
    path = write(tmp_path, jsonl(UPDATES[0], {"entity": "nope"}, "not an object"))
    assert refusal(path) == f"{path}:2: entity must be one of campaign, publisher, slot, budget, got 'nope'"


def test_a_bad_item_of_a_json_array_is_refused_with_its_position(tmp_path: Path) -> None:
    path = write(tmp_path, orjson.dumps([UPDATES[0], UPDATES[1], {**UPDATES[2], "version": 0}]), "export.json")
    assert refusal(path) == f"{path}:3: version must be an integer >= 1, got 0"


def test_a_json_array_item_that_is_not_an_object_is_refused_with_its_position(tmp_path: Path) -> None:
    path = write(tmp_path, orjson.dumps([UPDATES[0], 7]), "export.json")
    assert refusal(path) == f"{path}:2: expected a JSON object"


def test_a_broken_json_array_is_refused_with_its_file(tmp_path: Path) -> None:
    path = write(tmp_path, orjson.dumps(UPDATES)[:-1], "export.json")
    assert refusal(path).startswith(f"{path}: not JSON/JSONL: ")


def test_a_missing_file_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "missing.jsonl"
    assert refusal(path) == f"{path}: No such file or directory"


def test_the_sample_export_loads_fully() -> None:
    lines = [line for line in SAMPLE.read_bytes().splitlines() if line.strip()]
    assert read_updates(SAMPLE) == [orjson.loads(line) for line in lines]


def test_the_sample_export_contains_every_entity_kind() -> None:
    assert {parse_update(u).entity for u in read_updates(SAMPLE)} == set(ENTITIES)


def test_the_sample_export_has_one_update_per_entity_key() -> None:
    keys = [parse_update(u).key for u in read_updates(SAMPLE)]
    assert len(keys) == len(set(keys))


def test_the_sample_export_only_refers_to_entities_it_defines() -> None:
    updates = [parse_update(u) for u in read_updates(SAMPLE)]
    ids = {entity: {u.id for u in updates if u.entity == entity} for entity in ENTITIES}
    assert {u.data["publisher_id"] for u in updates if u.entity == "slot"} <= ids["publisher"]
    assert {p for u in updates if u.entity == "campaign" for p in u.data["publishers"] or ()} <= ids["publisher"]
    assert ids["budget"] <= ids["campaign"]
