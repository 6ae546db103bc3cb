"""The operators of a filter policy's alternatives, and the typed sets of tests they compile into.

``{"prefix": ...}``, ``{"suffix": ...}``, ``{"anything-but": ...}``, ``{"numeric": [...]}`` and
``{"exists": ...}``, with AWS SNS semantics (``pipeline.domain.filters`` says where this module chooses).
Each operator checks its argument once and adds closures to an attribute's ``Alternatives``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import operator
from collections.abc import Callable
from typing import Any

from pipeline.domain.errors import FilterPolicyError

Test = Callable[[Any], bool]

COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclasses.dataclass(slots=True)
class Alternatives:
    """One attribute's alternatives, by the type of value each applies to; the exists ones apart."""

    strings: set[str] = dataclasses.field(default_factory=set)
    numbers: set[int | float] = dataclasses.field(default_factory=set)
    string_tests: list[Test] = dataclasses.field(default_factory=list)
    number_tests: list[Test] = dataclasses.field(default_factory=list)
    other_tests: list[Test] = dataclasses.field(default_factory=list)
    exists: set[bool] = dataclasses.field(default_factory=set)


def refused(name: str | None, problem: str) -> FilterPolicyError:
    return FilterPolicyError(problem if name is None else f"{name}: {problem}", name)


def show(value: Any) -> str:
    """A short JSON-like rendering for messages; containers by kind, as they may be huge or deep."""
    if type(value) is int and value.bit_length() > 64:
        return "a very large number"
    if value is None or type(value) in (str, int, float, bool):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 40 else text[:39] + "…"
    if type(value) is list:
        return "a list"
    return "an object" if type(value) is dict else type(value).__name__


def is_number(value: Any) -> bool:
    # bool is an int in Python but not a number in JSON; NaN and infinity are not JSON at all.
    return type(value) is int or (type(value) is float and math.isfinite(value))


def add_operator(name: str, alternative: dict[Any, Any], into: Alternatives) -> None:
    if len(alternative) != 1:
        raise refused(name, f"an operator object needs exactly one key, got {len(alternative)}")
    [(key, argument)] = alternative.items()
    if type(key) is not str or key not in OPERATORS:
        raise refused(name, f"unknown operator {show(key)}; use prefix, suffix, anything-but, numeric or exists")
    OPERATORS[key](name, argument, into)


def _affix(name: str, key: str, argument: Any) -> str:
    # An empty affix would match every string: almost surely a mistake, and exists says it better.
    if type(argument) is not str or not argument:
        raise refused(name, f"{key} needs a non-empty string, got {show(argument)}")
    return argument


def _prefix(name: str, argument: Any, into: Alternatives) -> None:
    prefix = _affix(name, "prefix", argument)
    into.string_tests.append(lambda value: value.startswith(prefix))


def _suffix(name: str, argument: Any, into: Alternatives) -> None:
    suffix = _affix(name, "suffix", argument)
    into.string_tests.append(lambda value: value.endswith(suffix))


def _anything_but(name: str, argument: Any, into: Alternatives) -> None:
    if type(argument) is dict:
        if len(argument) != 1 or "prefix" not in argument:
            raise refused(name, 'anything-but takes a value, a list of values or {"prefix": ...}')
        prefix = _affix(name, "anything-but prefix", argument["prefix"])
        into.string_tests.append(lambda value: not value.startswith(prefix))
        return
    excluded = argument if type(argument) is list else [argument]
    if not excluded:
        raise refused(name, "anything-but needs at least one value")
    for value in excluded:
        if type(value) is not str and not is_number(value):
            raise refused(name, f"anything-but needs strings or numbers, got {show(value)}")
    strings = frozenset(v for v in excluded if type(v) is str)
    numbers = frozenset(v for v in excluded if type(v) is not str)
    into.string_tests.append(lambda value: value not in strings)
    into.number_tests.append(lambda value: value not in numbers)
    into.other_tests.append(lambda value: True)  # present, and no excluded string or number equals it


def _numeric(name: str, argument: Any, into: Alternatives) -> None:
    if type(argument) is not list or len(argument) not in (2, 4):
        wanted = 'numeric needs [comparison, number] or [">" or ">=", number, "<" or "<=", number]'
        raise refused(name, f"{wanted}, got {show(argument)}")
    for comparison, bound in zip(argument[::2], argument[1::2], strict=True):
        if type(comparison) is not str or comparison not in COMPARISONS:
            raise refused(name, f"numeric has unknown comparison {show(comparison)}; use =, <, <=, > or >=")
        if not is_number(bound):
            raise refused(name, f"numeric needs numbers, got {show(bound)}")
    if len(argument) == 2:
        compare, bound = COMPARISONS[argument[0]], argument[1]
        into.number_tests.append(lambda value: compare(value, bound))
        return
    low_op, low, high_op, high = argument
    if low_op not in (">", ">="):
        raise refused(name, f"a numeric range starts with > or >=, got {show(low_op)}")
    if high_op not in ("<", "<="):
        raise refused(name, f"a numeric range ends with < or <=, got {show(high_op)}")
    if low > high or (low == high and (low_op, high_op) != (">=", "<=")):
        shown = f"{low_op} {show(low)}, {high_op} {show(high)}"
        raise refused(name, f"numeric range {shown} matches no number")
    above, below = COMPARISONS[low_op], COMPARISONS[high_op]
    into.number_tests.append(lambda value: above(value, low) and below(value, high))


def _exists(name: str, argument: Any, into: Alternatives) -> None:
    if type(argument) is not bool:
        raise refused(name, f"exists needs true or false, got {show(argument)}")
    into.exists.add(argument)


OPERATORS: dict[str, Callable[[str, Any, Alternatives], None]] = {
    "prefix": _prefix,
    "suffix": _suffix,
    "anything-but": _anything_but,
    "numeric": _numeric,
    "exists": _exists,
}
