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
- The operators and their arguments are in ``pipeline.domain.filter_operators``.
- The limit of 150 values is SNS's: the product of the number of alternatives of each attribute.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

from pipeline.domain.errors import FilterPolicyError
from pipeline.domain.filter_operators import Alternatives, Test, add_operator, is_number, refused, show

Notification = dict[str, Any]
Path = tuple[str, ...]

TOP_LEVEL = ("entity", "op", "id", "changed_fields")
DATA = "data"
MAX_DEPTH = 5  # path segments in one attribute name: data.a.b.c.d
MAX_COMBINATIONS = 150  # SNS's limit on a policy's complexity


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
        raise refused(None, f"a policy must be a JSON object, got {show(policy)}")
    attributes: dict[Path, list[Any]] = {}
    _collect(policy, (), attributes)
    combinations = math.prod(len(alternatives) for alternatives in attributes.values())
    if combinations > MAX_COMBINATIONS:
        raise refused(
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
            raise refused(_name(prefix) or None, f"attribute names must be strings, got {show(key)}")
        path = prefix + tuple(key.split("."))
        name = _name(path)
        if not prefix and (path[0] not in (*TOP_LEVEL, DATA) or (path[0] in TOP_LEVEL and len(path) > 1)):
            raise FilterPolicyError(
                f"{show(name)}: unknown attribute; use entity, op, id, changed_fields or data.<field>", name
            )
        if "" in path:
            raise refused(name, "a field name is empty")
        # Checked before descending, so a hostile depth cannot reach the recursion limit.
        if len(path) > MAX_DEPTH:
            raise refused(name, f"nested too deep, more than {MAX_DEPTH} levels")
        if path == (DATA,) and type(value) is not dict:
            raise refused(name, f"expected an object of data fields, got {show(value)}")
        if type(value) is dict:
            if path[0] != DATA:
                raise refused(name, "expected a list of alternatives, got an object")
            if not value:
                raise refused(name, "an empty object names no field")
            _collect(value, path, into)
        elif type(value) is not list:
            raise refused(name, f"expected a list of alternatives, got {show(value)}")
        elif not value:
            raise refused(name, "an empty list of alternatives matches nothing")
        elif path in into:
            raise refused(name, "named twice (a dotted key and a nested object?)")
        else:
            into[path] = value


def _name(path: Path) -> str:
    return ".".join(path)



# --- one attribute: its alternatives compiled into tests by the type of value they apply to ---


def _attribute(path: Path, alternatives: list[Any]) -> Callable[[Notification], bool]:
    name = _name(path)
    compiled = Alternatives()
    for alternative in alternatives:
        if type(alternative) is str:
            compiled.strings.add(alternative)
        elif is_number(alternative):
            compiled.numbers.add(alternative)
        elif type(alternative) is dict:
            add_operator(name, alternative, compiled)
        else:
            wanted = "an alternative must be a string, a number or an operator object"
            raise refused(name, f"{wanted}, got {show(alternative)}")
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


def _value_test(compiled: Alternatives) -> Test:
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
