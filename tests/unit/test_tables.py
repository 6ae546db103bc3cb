"""The one text-table printer of the command line and the tools."""

from __future__ import annotations

import pytest

from pipeline.cli.tables import text_table


def test_columns_are_as_wide_as_their_widest_cell_two_spaces_apart() -> None:
    assert text_table(("name", "n"), [["a", "1"], ["long-name", "12"]]) == "name       n\na          1\nlong-name  12"


def test_without_a_header_only_the_rows_are_printed() -> None:
    assert text_table(None, [("worker CPU", "1.0 s"), ("ratio", "0.5")]) == "worker CPU  1.0 s\nratio       0.5"


def test_right_aligned_columns_pad_on_the_left() -> None:
    assert text_table(("campaign", "rows"), [("a", 7), ("b", 1234)], align="<>") == (
        "campaign  rows\na            7\nb         1234")


def test_cells_are_printed_with_str() -> None:
    assert text_table(("n", "ok"), [(1, True), (None, 2.5)]) == "n     ok\n1     True\nNone  2.5"


def test_trailing_spaces_are_dropped_also_after_an_empty_last_cell() -> None:
    table = text_table(("a", "verdict"), [("x", ""), ("y", "MISMATCH")])
    assert table.splitlines() == ["a  verdict", "x", "y  MISMATCH"]


def test_a_row_shorter_than_the_others_is_printed_as_far_as_it_goes() -> None:
    assert text_table(None, [("a", "b", "c"), ("long",)]) == "a     b  c\nlong"


def test_no_header_and_no_rows_is_an_empty_table() -> None:
    assert text_table(None, []) == ""


def test_an_alignment_other_than_left_or_right_is_refused() -> None:
    with pytest.raises(ValueError, match="'\\^'"):
        text_table(("a",), [("b",)], align="^")
