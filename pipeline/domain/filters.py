"""Filter policies: which core-data change notifications a subscription wants, with AWS SNS semantics.

A policy maps attributes of a notification to lists of alternatives::

    {"entity": ["campaign"], "data.status": ["active", {"exists": false}], "data": {"price": [{"numeric": [">", 0]}]}}

Alternatives of one attribute are OR-ed, attributes are AND-ed and ``{}`` matches everything. Data fields are
named by dotted keys or nested objects, which mean the same. ``compile_policy`` checks a policy once and turns
it into closures, so ``FilterPolicy.matches`` does no checking per notification.

Where SNS leaves room, this module chooses:

- A missing key, null and an empty list are all *absent*: ``{"exists": false}`` matches them, every other
  alternative needs a present value.
- A list value (``changed_fields``, ``data.publishers``) matches when any element matches. So ``anything-but``
  on a list matches when some element is not excluded, as in SNS: ``changed_fields`` ``["status", "price"]``
  matches ``{"anything-but": "status"}``.
- Equality knows types: a string never equals a number, numbers compare by value (5 == 5.0) and booleans are
  neither. ``anything-but`` a list of values matches any present value not equal to one of them, a boolean or
  an object included; ``anything-but`` a prefix matches only strings.
- A data path leads through objects only; through anything else (a list of objects, say) it is absent.
- The limit of 150 values is SNS's: the product of the number of alternatives of each attribute.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

from pipeline.domain.errors import FilterPolicyError

Notification = dict[str, Any]
Path = tuple[str, ...]
Test = Callable[[Any], bool]

TOP_LEVEL = ("entity", "op", "id", "changed_fields")
DATA = "data"
MAX_DEPTH = 5  # path segments in one attribute name: data.a.b.c.d
MAX_COMBINATIONS = 150  # SNS's limit on a policy's complexity
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclasses.dataclass(frozen=True, slots=True)
class FilterPolicy:
    """A checked policy; ``policy`` is a copy of the original, for display and storage."""

    policy: dict[str, Any]
    _attributes: tuple[Callable[[Notification], bool], ...] = dataclasses.field(repr=False, compare=False)

    def matches(self, notification: Notification) -> bool:
        # A plain loop, here and in each attribute: it runs per notification and skips a generator per call.
        for attribute_matches in self._attributes:
            if not attribute_matches(notification):
                return False
        return True


def compile_policy(policy: Any) -> FilterPolicy:
    """Check ``policy`` and build its matcher, or raise ``FilterPolicyError`` naming the attribute and problem."""
    if type(policy) is not dict:
        raise _refused(None, f"a policy must be a JSON object, got {_show(policy)}")
    attributes: dict[Path, list[Any]] = {}
    _collect(policy, (), attributes)
    combinations = math.prod(len(alternatives) for alternatives in attributes.values())
    if combinations > MAX_COMBINATIONS:
        raise _refused(
            None,
            f"too many values: the alternatives of the attributes multiply to {combinations}, "
            f"more than {MAX_COMBINATIONS}; split the policy across subscriptions",
        )
    matchers = tuple(_attribute(path, alternatives) for path, alternatives in attributes.items())
    return FilterPolicy(copy.deepcopy(policy), matchers)


# --- the shape of a policy: attribute names to lists of alternatives ---


def _collect(node: dict[Any, Any], prefix: Path, into: dict[Path, list[Any]]) -> None:
    """Flatten nested objects and dotted keys alike into ``path -> alternatives``."""
    for key, value in node.items():
        if type(key) is not str:
            raise _refused(_name(prefix) or None, f"attribute names must be strings, got {_show(key)}")
        path = prefix + tuple(key.split("."))
        name = _name(path)
        if not prefix and (path[0] not in (*TOP_LEVEL, DATA) or (path[0] in TOP_LEVEL and len(path) > 1)):
            raise FilterPolicyError(
                f"{_show(name)}: unknown attribute; use entity, op, id, changed_fields or data.<field>", name
            )
        if "" in path:
            raise _refused(name, "a field name is empty")
        # Checked before descending, so a hostile depth cannot reach the recursion limit.
        if len(path) > MAX_DEPTH:
            raise _refused(name, f"nested too deep, more than {MAX_DEPTH} levels")
        if path == (DATA,) and type(value) is not dict:
            raise _refused(name, f"expected an object of data fields, got {_show(value)}")
        if type(value) is dict:
            if path[0] != DATA:
                raise _refused(name, "expected a list of alternatives, got an object")
            if not value:
                raise _refused(name, "an empty object names no field")
            _collect(value, path, into)
        elif type(value) is not list:
            raise _refused(name, f"expected a list of alternatives, got {_show(value)}")
        elif not value:
            raise _refused(name, "an empty list of alternatives matches nothing")
        elif path in into:
            raise _refused(name, "named twice (a dotted key and a nested object?)")
        else:
            into[path] = value


def _refused(name: str | None, problem: str) -> FilterPolicyError:
    return FilterPolicyError(problem if name is None else f"{name}: {problem}", name)


def _name(path: Path) -> str:
    return ".".join(path)


def _show(value: Any) -> str:
    """A short JSON-like rendering for messages; containers by kind, as they may be huge or deep."""
    if type(value) is int and value.bit_length() > 64:
        return "a very large number"
    if value is None or type(value) in (str, int, float, bool):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 40 else text[:39] + "…"
    if type(value) is list:
        return "a list"
    return "an object" if type(value) is dict else type(value).__name__


def _is_number(value: Any) -> bool:
    # bool is an int in Python but not a number in JSON; NaN and infinity are not JSON at all.
    return type(value) is int or (type(value) is float and math.isfinite(value))


# --- one attribute: its alternatives compiled into tests by the type of value they apply to ---


@dataclasses.dataclass(slots=True)
class _Alternatives:
    strings: set[str] = dataclasses.field(default_factory=set)
    numbers: set[int | float] = dataclasses.field(default_factory=set)
    string_tests: list[Test] = dataclasses.field(default_factory=list)
    number_tests: list[Test] = dataclasses.field(default_factory=list)
    other_tests: list[Test] = dataclasses.field(default_factory=list)
    exists: set[bool] = dataclasses.field(default_factory=set)


def _attribute(path: Path, alternatives: list[Any]) -> Callable[[Notification], bool]:
    name = _name(path)
    compiled = _Alternatives()
    for alternative in alternatives:
        if type(alternative) is str:
            compiled.strings.add(alternative)
        elif _is_number(alternative):
            compiled.numbers.add(alternative)
        elif type(alternative) is dict:
            _operator(name, alternative, compiled)
        else:
            wanted = "an alternative must be a string, a number or an operator object"
            raise _refused(name, f"{wanted}, got {_show(alternative)}")
    value_matches = _value_test(compiled)
    if_present, if_absent = True in compiled.exists, False in compiled.exists

    def attribute_matches(notification: Notification) -> bool:
        values = _values(notification, path)
        if not values:
            return if_absent
        if if_present:
            return True
        for value in values:
            if value_matches(value):
                return True
        return False

    return attribute_matches


def _values(notification: Notification, path: Path) -> Sequence[Any]:
    """The values at ``path``: none when absent or null, the non-null elements of a list, else the value."""
    node: Any = notification
    for key in path:
        if not isinstance(node, dict):
            return ()
        node = node.get(key)
    if node is None:
        return ()
    if type(node) is list:
        return node if None not in node else [v for v in node if v is not None]
    return (node,)


def _value_test(compiled: _Alternatives) -> Test:
    strings, numbers = frozenset(compiled.strings), frozenset(compiled.numbers)
    string_tests, number_tests = tuple(compiled.string_tests), tuple(compiled.number_tests)
    other_tests = tuple(compiled.other_tests)

    # Dispatch on the exact type first: it keeps "5" from 5 and True from 1, and keeps unhashable values
    # (objects, lists) away from the set lookups.
    def value_matches(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return value in strings or any(test(value) for test in string_tests)
        if kind is int or kind is float:
            return value in numbers or any(test(value) for test in number_tests)
        return any(test(value) for test in other_tests)

    return value_matches


# --- operators: {"prefix": ...}, {"suffix": ...}, {"anything-but": ...}, {"numeric": [...]}, {"exists": ...} ---


def _operator(name: str, alternative: dict[Any, Any], into: _Alternatives) -> None:
    if len(alternative) != 1:
        raise _refused(name, f"an operator object needs exactly one key, got {len(alternative)}")
    [(key, argument)] = alternative.items()
    if type(key) is not str or key not in OPERATORS:
        raise _refused(name, f"unknown operator {_show(key)}; use prefix, suffix, anything-but, numeric or exists")
    OPERATORS[key](name, argument, into)


def _affix(name: str, key: str, argument: Any) -> str:
    # An empty affix would match every string: almost surely a mistake, and exists says it better.
    if type(argument) is not str or not argument:
        raise _refused(name, f"{key} needs a non-empty string, got {_show(argument)}")
    return argument


def _prefix(name: str, argument: Any, into: _Alternatives) -> None:
    prefix = _affix(name, "prefix", argument)
    into.string_tests.append(lambda value: value.startswith(prefix))


def _suffix(name: str, argument: Any, into: _Alternatives) -> None:
    suffix = _affix(name, "suffix", argument)
    into.string_tests.append(lambda value: value.endswith(suffix))


def _anything_but(name: str, argument: Any, into: _Alternatives) -> None:
    if type(argument) is dict:
        if len(argument) != 1 or "prefix" not in argument:
            raise _refused(name, 'anything-but takes a value, a list of values or {"prefix": ...}')
        prefix = _affix(name, "anything-but prefix", argument["prefix"])
        into.string_tests.append(lambda value: not value.startswith(prefix))
        return
    excluded = argument if type(argument) is list else [argument]
    if not excluded:
        raise _refused(name, "anything-but needs at least one value")
    for value in excluded:
        if type(value) is not str and not _is_number(value):
            raise _refused(name, f"anything-but needs strings or numbers, got {_show(value)}")
    strings = frozenset(v for v in excluded if type(v) is str)
    numbers = frozenset(v for v in excluded if type(v) is not str)
    into.string_tests.append(lambda value: value not in strings)
    into.number_tests.append(lambda value: value not in numbers)
    into.other_tests.append(lambda value: True)  # present, and no excluded string or number equals it


def _numeric(name: str, argument: Any, into: _Alternatives) -> None:
    if type(argument) is not list or len(argument) not in (2, 4):
        wanted = 'numeric needs [comparison, number] or [">" or ">=", number, "<" or "<=", number]'
        raise _refused(name, f"{wanted}, got {_show(argument)}")
    for comparison, bound in zip(argument[::2], argument[1::2], strict=True):
        if type(comparison) is not str or comparison not in COMPARISONS:
            raise _refused(name, f"numeric has unknown comparison {_show(comparison)}; use =, <, <=, > or >=")
        if not _is_number(bound):
            raise _refused(name, f"numeric needs numbers, got {_show(bound)}")
    if len(argument) == 2:
        compare, bound = COMPARISONS[argument[0]], argument[1]
        into.number_tests.append(lambda value: compare(value, bound))
        return
    low_op, low, high_op, high = argument
    if low_op not in (">", ">="):
        raise _refused(name, f"a numeric range starts with > or >=, got {_show(low_op)}")
    if high_op not in ("<", "<="):
        raise _refused(name, f"a numeric range ends with < or <=, got {_show(high_op)}")
    if low > high or (low == high and (low_op, high_op) != (">=", "<=")):
        shown = f"{low_op} {_show(low)}, {high_op} {_show(high)}"
        raise _refused(name, f"numeric range {shown} matches no number")
    above, below = COMPARISONS[low_op], COMPARISONS[high_op]
    into.number_tests.append(lambda value: above(value, low) and below(value, high))


def _exists(name: str, argument: Any, into: _Alternatives) -> None:
    if type(argument) is not bool:
        raise _refused(name, f"exists needs true or false, got {_show(argument)}")
    into.exists.add(argument)


OPERATORS: dict[str, Callable[[str, Any, _Alternatives], None]] = {
    "prefix": _prefix,
    "suffix": _suffix,
    "anything-but": _anything_but,
    "numeric": _numeric,
    "exists": _exists,
}
