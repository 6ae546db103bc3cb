"""Filter policies: the SNS grammar by example, every refusal with its message, and the algebra as properties."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.domain.errors import FilterPolicyError
from pipeline.domain.filters import FilterPolicy, compile_policy
from tests.factories import campaign_data


def notification(**overrides: Any) -> dict[str, Any]:
    """A campaign upsert that changed status and price; each test overrides what it is about."""
    base = {
        "entity": "campaign",
        "id": "cmp-spring",
        "op": "upsert",
        "version": 2,
        "previous_version": 1,
        "changed_fields": ["price", "status"],
        "data": campaign_data(price=5, publishers=["pub-ledger", "pub-herald"]),
        "at": 1_700_000_000_000,
    }
    return {**base, **overrides}


def with_data(**fields: Any) -> dict[str, Any]:
    return notification(data=campaign_data(**fields))


def matches(policy: Any, item: dict[str, Any]) -> bool:
    return compile_policy(policy).matches(item)


DELETE = notification(op="delete", changed_fields=[], data=None)


# --- AND, OR and the empty policy ---


def test_an_empty_policy_matches_every_notification() -> None:
    assert matches({}, notification())
    assert matches({}, DELETE)


def test_an_exact_string_matches_only_that_string_case_sensitively() -> None:
    assert matches({"entity": ["campaign"]}, notification())
    assert not matches({"entity": ["publisher"]}, notification())
    assert not matches({"entity": ["Campaign"]}, notification())


def test_alternatives_of_one_attribute_are_or_ed() -> None:
    policy = {"op": ["upsert", "delete"]}
    assert matches(policy, notification())
    assert matches(policy, DELETE)
    assert not matches(policy, notification(op="snapshot"))


def test_attributes_of_a_policy_are_and_ed() -> None:
    policy = {"entity": ["campaign"], "op": ["delete"]}
    assert matches(policy, DELETE)
    assert not matches(policy, notification())
    assert not matches(policy, {**DELETE, "entity": "slot"})


# --- values: strings, numbers and their types ---


def test_an_exact_number_matches_numerically_equal_numbers() -> None:
    assert matches({"data.price": [5]}, with_data(price=5.0))
    assert matches({"data.price": [5.0]}, with_data(price=5))
    assert not matches({"data.price": [5]}, with_data(price=5.5))


def test_a_string_never_matches_a_number_nor_a_number_a_string() -> None:
    assert not matches({"data.price": ["5"]}, with_data(price=5))
    assert not matches({"data.name": [5]}, with_data(name="5"))
    assert not matches({"data.name": [{"numeric": ["=", 5]}]}, with_data(name="5"))
    assert not matches({"data.price": [{"prefix": "5"}]}, with_data(price=5))


def test_a_boolean_is_neither_a_number_nor_a_string() -> None:
    assert not matches({"data.flag": [1]}, with_data(flag=True))
    assert not matches({"data.flag": [0]}, with_data(flag=False))
    assert not matches({"data.flag": [{"numeric": [">", 0]}]}, with_data(flag=True))
    assert not matches({"data.flag": ["true"]}, with_data(flag=True))


# --- prefix and suffix ---


def test_prefix_matches_strings_that_start_with_it() -> None:
    assert matches({"id": [{"prefix": "cmp-"}]}, notification())
    assert not matches({"id": [{"prefix": "pub-"}]}, notification())


def test_suffix_matches_strings_that_end_with_it() -> None:
    assert matches({"data.advertiser_id": [{"suffix": "-acme"}]}, notification())
    assert not matches({"data.advertiser_id": [{"suffix": "acme-"}]}, notification())


# --- anything-but ---


def test_anything_but_a_value_matches_every_other_present_value() -> None:
    assert matches({"data.status": [{"anything-but": "paused"}]}, with_data(status="active"))
    assert not matches({"data.status": [{"anything-but": "active"}]}, with_data(status="active"))
    assert not matches({"data.price": [{"anything-but": 5.0}]}, with_data(price=5))


def test_anything_but_a_list_excludes_every_listed_value() -> None:
    policy = {"data.status": [{"anything-but": ["paused", "ended"]}]}
    assert matches(policy, with_data(status="active"))
    assert not matches(policy, with_data(status="paused"))
    assert not matches(policy, with_data(status="ended"))


def test_anything_but_a_string_matches_a_number_because_they_are_never_equal() -> None:
    assert matches({"data.price": [{"anything-but": ["5"]}]}, with_data(price=5))


def test_anything_but_a_prefix_matches_strings_that_do_not_start_with_it_and_no_numbers() -> None:
    policy = {"data.advertiser_id": [{"anything-but": {"prefix": "adv-test"}}]}
    assert matches(policy, with_data(advertiser_id="adv-acme"))
    assert not matches(policy, with_data(advertiser_id="adv-test-1"))
    assert not matches(policy, with_data(advertiser_id=7))


def test_anything_but_never_matches_an_absent_or_null_attribute() -> None:
    policy = {"data.end_ts": [{"anything-but": 0}]}
    assert not matches(policy, with_data(end_ts=None))
    assert not matches({"data.status": [{"anything-but": "active"}]}, DELETE)


# --- numeric ---


@pytest.mark.parametrize(
    ("comparison", "bound", "value", "expected"),
    [
        ("=", 5, 5.0, True),
        ("=", 5, 5.01, False),
        ("<", 5, 4.99, True),
        ("<", 5, 5, False),
        ("<=", 5, 5, True),
        (">", -2.5, -2.4, True),
        (">", -2.5, -2.5, False),
        (">=", -2.5, -2.5, True),
        (">=", 0, -0.0, True),
    ],
)
def test_a_numeric_comparison_holds_for_its_bound_exactly_as_written(
    comparison: str, bound: float, value: float, expected: bool
) -> None:
    assert matches({"data.price": [{"numeric": [comparison, bound]}]}, with_data(price=value)) is expected


@pytest.mark.parametrize(
    ("bounds", "inside", "outside"),
    [
        ([">", 0, "<=", 5], [0.001, 5], [0, 5.001, -1]),
        ([">=", 0, "<", 5], [0, 4.999], [-0.001, 5]),
        ([">=", -10, "<=", -10], [-10], [-9.999, -10.001]),
        ([">", -1e9, "<", 1e9], [-999_999_999, 0, 999_999_999], [-1e9, 1e9]),
    ],
)
def test_a_numeric_range_includes_its_bounds_only_where_it_says_so(
    bounds: list[Any], inside: list[float], outside: list[float]
) -> None:
    policy = compile_policy({"data.price": [{"numeric": bounds}]})
    assert all(policy.matches(with_data(price=value)) for value in inside)
    assert not any(policy.matches(with_data(price=value)) for value in outside)


# --- exists, null and absent ---


def test_exists_true_matches_a_present_attribute_and_nothing_absent() -> None:
    policy = {"data.end_ts": [{"exists": True}]}
    assert matches(policy, with_data(end_ts=1_800_000_000_000))
    assert not matches(policy, with_data(end_ts=None))
    assert not matches(policy, notification(data={"status": "active"}))
    assert not matches(policy, DELETE)


def test_exists_false_matches_a_missing_key_a_null_an_empty_list_and_a_delete() -> None:
    assert matches({"data.end_ts": [{"exists": False}]}, with_data(end_ts=None))
    assert matches({"data.end_ts": [{"exists": False}]}, notification(data={"status": "active"}))
    assert matches({"data.status": [{"exists": False}]}, DELETE)
    assert matches({"changed_fields": [{"exists": False}]}, notification(changed_fields=[]))
    assert not matches({"data.status": [{"exists": False}]}, notification())


def test_exists_false_among_alternatives_reads_as_or_absent() -> None:
    policy = {"data.status": ["active", {"exists": False}]}
    assert matches(policy, with_data(status="active"))
    assert matches(policy, DELETE)
    assert not matches(policy, with_data(status="paused"))


def test_a_list_of_nulls_is_as_absent_as_null() -> None:
    assert matches({"data.publishers": [{"exists": False}]}, with_data(publishers=[None]))
    assert not matches({"data.publishers": [{"anything-but": "pub-x"}]}, with_data(publishers=[None]))


# --- data fields: dotted keys and nested objects ---


def test_a_nested_object_and_a_dotted_key_name_the_same_data_field() -> None:
    nested = compile_policy({"data": {"status": ["active"], "price": [{"numeric": [">", 1]}]}})
    dotted = compile_policy({"data.status": ["active"], "data.price": [{"numeric": [">", 1]}]})
    for item in (notification(), with_data(status="paused"), with_data(price=0.5), DELETE):
        assert nested.matches(item) is dotted.matches(item)
    assert nested.matches(notification())


def test_deeper_data_fields_are_reached_by_dots_nesting_or_both() -> None:
    item = with_data(geo={"country": "NL", "region": {"code": "NH"}})
    assert matches({"data.geo.country": ["NL"]}, item)
    assert matches({"data": {"geo": {"region": {"code": ["NH"]}}}}, item)
    assert matches({"data.geo": {"region.code": ["NH"]}}, item)
    assert not matches({"data.geo.country": ["BE"]}, item)


def test_a_path_through_a_non_object_is_absent() -> None:
    assert matches({"data.status.code": [{"exists": False}]}, notification())
    assert not matches({"data.status.code": [{"anything-but": "x"}]}, notification())


# --- list attributes ---


def test_a_list_attribute_matches_when_any_element_matches() -> None:
    assert matches({"changed_fields": ["status"]}, notification(changed_fields=["price", "status"]))
    assert not matches({"changed_fields": ["name"]}, notification(changed_fields=["price", "status"]))
    assert matches({"data.publishers": [{"prefix": "pub-h"}]}, notification())
    assert not matches({"changed_fields": ["status"]}, notification(changed_fields=[]))


def test_anything_but_on_a_list_matches_when_some_element_is_not_excluded() -> None:
    policy = {"changed_fields": [{"anything-but": ["status"]}]}
    assert matches(policy, notification(changed_fields=["price", "status"]))
    assert not matches(policy, notification(changed_fields=["status"]))
    assert not matches(policy, notification(changed_fields=[]))


# --- the compiled policy ---


def test_a_compiled_policy_keeps_a_copy_of_the_original_for_display() -> None:
    original = {"data": {"status": ["active"]}}
    policy = compile_policy(original)
    original["data"]["status"].append("paused")
    assert policy.policy == {"data": {"status": ["active"]}}
    assert not policy.matches(with_data(status="paused"))
    assert policy == compile_policy({"data": {"status": ["active"]}})
    assert repr(policy) == "FilterPolicy(policy={'data': {'status': ['active']}})"


def test_a_policy_at_the_limits_is_accepted() -> None:
    assert isinstance(compile_policy({"data": {"a": {"b": {"c": {"d": [1]}}}}}), FilterPolicy)
    assert isinstance(compile_policy({"id": list(range(10)), "data.price": list(range(15))}), FilterPolicy)
    assert isinstance(compile_policy({"entity": [str(n) for n in range(150)]}), FilterPolicy)


# --- refusals ---

REFUSALS: dict[str, tuple[Any, str]] = {
    "a list": ([], "a policy must be a JSON object, got a list"),
    "a string": ("entity", 'a policy must be a JSON object, got "entity"'),
    "null": (None, "a policy must be a JSON object, got null"),
    "unknown attribute": (
        {"version": [2]},
        '"version": unknown attribute; use entity, op, id, changed_fields or data.<field>',
    ),
    "below a top-level one": (
        {"entity.name": ["x"]},
        '"entity.name": unknown attribute; use entity, op, id, changed_fields or data.<field>',
    ),
    "non-string name": ({1: ["x"]}, "attribute names must be strings, got 1"),
    "non-string data name": ({"data": {1: ["x"]}}, "data: attribute names must be strings, got 1"),
    "non-list value": ({"entity": "campaign"}, 'entity: expected a list of alternatives, got "campaign"'),
    "object below entity": ({"entity": {"x": ["y"]}}, "entity: expected a list of alternatives, got an object"),
    "list for data": ({"data": ["x"]}, "data: expected an object of data fields, got a list"),
    "empty list": ({"op": []}, "op: an empty list of alternatives matches nothing"),
    "empty data object": ({"data": {}}, "data: an empty object names no field"),
    "empty field name": ({"data.": ["x"]}, "data.: a field name is empty"),
    "empty middle field name": ({"data": {"geo..code": ["x"]}}, "data.geo..code: a field name is empty"),
    "named twice": (
        {"data.status": ["active"], "data": {"status": ["paused"]}},
        "data.status: named twice (a dotted key and a nested object?)",
    ),
    "too deep, nested": (
        {"data": {"a": {"b": {"c": {"d": {"e": ["x"]}}}}}},
        "data.a.b.c.d.e: nested too deep, more than 5 levels",
    ),
    "too deep, dotted": ({"data.a.b.c.d.e": ["x"]}, "data.a.b.c.d.e: nested too deep, more than 5 levels"),
    "too many values": (
        {"entity": list("abcdef"), "op": list("abcdef"), "id": list("abcdef")},
        "too many values: the alternatives of the attributes multiply to 216, more than 150; "
        "split the policy across subscriptions",
    ),
    "null alternative": (
        {"data.end_ts": [None]},
        "data.end_ts: an alternative must be a string, a number or an operator object, got null",
    ),
    "boolean alternative": (
        {"data.flag": [True]},
        "data.flag: an alternative must be a string, a number or an operator object, got true",
    ),
    "list alternative": (
        {"id": [["a"]]},
        "id: an alternative must be a string, a number or an operator object, got a list",
    ),
    "NaN": (
        {"data.price": [math.nan]},
        "data.price: an alternative must be a string, a number or an operator object, got NaN",
    ),
    "no operator": ({"id": [{}]}, "id: an operator object needs exactly one key, got 0"),
    "two operators": (
        {"id": [{"prefix": "a", "suffix": "b"}]},
        "id: an operator object needs exactly one key, got 2",
    ),
    "unknown operator": (
        {"id": [{"wildcard": "a*"}]},
        'id: unknown operator "wildcard"; use prefix, suffix, anything-but, numeric or exists',
    ),
    "prefix of a number": ({"id": [{"prefix": 5}]}, "id: prefix needs a non-empty string, got 5"),
    "empty prefix": ({"id": [{"prefix": ""}]}, 'id: prefix needs a non-empty string, got ""'),
    "suffix of null": ({"id": [{"suffix": None}]}, "id: suffix needs a non-empty string, got null"),
    "anything-but nothing": ({"op": [{"anything-but": []}]}, "op: anything-but needs at least one value"),
    "anything-but null": (
        {"op": [{"anything-but": ["delete", None]}]},
        "op: anything-but needs strings or numbers, got null",
    ),
    "anything-but a boolean": ({"op": [{"anything-but": True}]}, "op: anything-but needs strings or numbers, got true"),
    "anything-but suffix": (
        {"id": [{"anything-but": {"suffix": "x"}}]},
        'id: anything-but takes a value, a list of values or {"prefix": ...}',
    ),
    "anything-but empty prefix": (
        {"id": [{"anything-but": {"prefix": ""}}]},
        'id: anything-but prefix needs a non-empty string, got ""',
    ),
    "numeric of a string": (
        {"data.price": [{"numeric": [">", "5"]}]},
        'data.price: numeric needs numbers, got "5"',
    ),
    "numeric of infinity": (
        {"data.price": [{"numeric": ["<", math.inf]}]},
        "data.price: numeric needs numbers, got Infinity",
    ),
    "numeric of a boolean": (
        {"data.price": [{"numeric": [">", False]}]},
        "data.price: numeric needs numbers, got false",
    ),
    "numeric not a list": (
        {"data.price": [{"numeric": "> 5"}]},
        'data.price: numeric needs [comparison, number] or [">" or ">=", number, "<" or "<=", number], got "> 5"',
    ),
    "numeric of three": (
        {"data.price": [{"numeric": [">", 1, "<"]}]},
        'data.price: numeric needs [comparison, number] or [">" or ">=", number, "<" or "<=", number], got a list',
    ),
    "unknown comparison": (
        {"data.price": [{"numeric": ["!=", 5]}]},
        'data.price: numeric has unknown comparison "!="; use =, <, <=, > or >=',
    ),
    "range from above": (
        {"data.price": [{"numeric": ["<", 5, ">", 1]}]},
        'data.price: a numeric range starts with > or >=, got "<"',
    ),
    "range with two lower bounds": (
        {"data.price": [{"numeric": [">", 1, ">=", 5]}]},
        'data.price: a numeric range ends with < or <=, got ">="',
    ),
    "range upside down": (
        {"data.price": [{"numeric": [">", 5, "<", 1]}]},
        "data.price: numeric range > 5, < 1 matches no number",
    ),
    "range of one excluded point": (
        {"data.price": [{"numeric": [">=", 5, "<", 5]}]},
        "data.price: numeric range >= 5, < 5 matches no number",
    ),
    "exists of a string": ({"data.end_ts": [{"exists": "yes"}]}, 'data.end_ts: exists needs true or false, got "yes"'),
    "exists of a number": ({"data.end_ts": [{"exists": 1}]}, "data.end_ts: exists needs true or false, got 1"),
}


@pytest.mark.parametrize(("policy", "message"), REFUSALS.values(), ids=REFUSALS.keys())
def test_an_invalid_policy_is_refused_with_a_message_naming_attribute_and_problem(policy: Any, message: str) -> None:
    with pytest.raises(FilterPolicyError) as refused:
        compile_policy(policy)
    assert str(refused.value) == message


def test_a_refusal_carries_the_attribute_at_fault() -> None:
    with pytest.raises(FilterPolicyError) as refused:
        compile_policy({"data": {"price": [{"numeric": [">", "5"]}]}})
    assert refused.value.attribute == "data.price"
    with pytest.raises(FilterPolicyError) as refused:
        compile_policy([])
    assert refused.value.attribute is None


def test_an_absurdly_deep_policy_is_refused_without_recursing_into_it() -> None:
    deep: dict[str, Any] = {"x": ["y"]}
    for _ in range(10_000):
        deep = {"x": deep}
    with pytest.raises(FilterPolicyError, match="nested too deep"):
        compile_policy({"data": deep})


# --- properties ---

WORDS = st.sampled_from(
    ["campaign", "slot", "upsert", "delete", "cmp-1", "active", "paused", "price", "status", "a", ""]
)
NUMBERS = st.one_of(st.integers(-3, 3), st.sampled_from([-1.5, -0.0, 2.5, 1e9]))
SCALARS = st.one_of(WORDS, NUMBERS, st.booleans())
AFFIXES = st.sampled_from(["a", "c", "cmp-", "e", "pa", "s", "-1"])
COMPARISON = st.sampled_from(["=", "<", "<=", ">", ">="])
FIELDS = ["status", "price", "publishers", "end_ts"]
ATTRIBUTES = ["entity", "op", "id", "changed_fields", *(f"data.{field}" for field in FIELDS)]

notifications = st.builds(
    lambda entity, op, id_, changed, data: {
        "entity": entity,
        "id": id_,
        "op": op,
        "version": 2,
        "previous_version": 1,
        "changed_fields": changed,
        "data": data,
        "at": 0,
    },
    st.sampled_from(["campaign", "publisher", "slot", "budget"]),
    st.sampled_from(["upsert", "delete", "snapshot"]),
    st.sampled_from(["cmp-1", "cmp-2", "slot-1"]),
    st.lists(st.sampled_from(FIELDS), max_size=3, unique=True),
    st.none() | st.dictionaries(st.sampled_from(FIELDS), st.none() | SCALARS | st.lists(SCALARS, max_size=3)),
)

alternatives = st.one_of(
    WORDS,
    NUMBERS,
    AFFIXES.map(lambda affix: {"prefix": affix}),
    AFFIXES.map(lambda affix: {"suffix": affix}),
    st.one_of(WORDS, NUMBERS, st.lists(WORDS | NUMBERS, min_size=1, max_size=3)).map(lambda v: {"anything-but": v}),
    AFFIXES.map(lambda affix: {"anything-but": {"prefix": affix}}),
    st.tuples(COMPARISON, NUMBERS).map(lambda c: {"numeric": list(c)}),
    st.tuples(NUMBERS, st.integers(0, 4)).map(lambda r: {"numeric": [">=", r[0], "<=", r[0] + r[1]]}),
    st.booleans().map(lambda exists: {"exists": exists}),
)
alternative_lists = st.lists(alternatives, min_size=1, max_size=3)


@given(
    notifications,
    st.lists(st.sampled_from(ATTRIBUTES), min_size=2, max_size=2, unique=True),
    alternative_lists,
    alternative_lists,
)
def test_a_policy_matches_exactly_when_each_of_its_attributes_matches_alone(
    item: dict[str, Any], names: list[str], first: list[Any], second: list[Any]
) -> None:
    a, b = names
    both = matches({a: first, b: second}, item)
    assert both is (matches({a: first}, item) and matches({b: second}, item))


@given(notifications, st.sampled_from(ATTRIBUTES), alternatives, alternatives)
def test_alternatives_match_exactly_when_one_of_them_matches_alone(
    item: dict[str, Any], name: str, x: Any, y: Any
) -> None:
    assert matches({name: [x, y]}, item) is (matches({name: [x]}, item) or matches({name: [y]}, item))


@given(notifications, st.sampled_from(FIELDS), alternative_lists)
def test_a_nested_data_field_means_the_same_as_its_dotted_key(
    item: dict[str, Any], field: str, alts: list[Any]
) -> None:
    assert matches({"data": {field: alts}}, item) is matches({f"data.{field}": alts}, item)


def _kind(value: Any) -> str:
    if type(value) is str:
        return "string"
    return "number" if type(value) in (int, float) else "other"


@given(st.none() | SCALARS, st.lists(WORDS | NUMBERS, min_size=1, max_size=4), st.booleans())
def test_anything_but_on_a_scalar_means_present_and_equal_to_none_of_the_values(
    value: Any, excluded: list[Any], as_scalar: bool
) -> None:
    argument = excluded[0] if as_scalar else excluded
    excluded = excluded[:1] if as_scalar else excluded
    equal = any(_kind(value) == _kind(v) != "other" and value == v for v in excluded)
    assert matches({"data.x": [{"anything-but": argument}]}, with_data(x=value)) is (value is not None and not equal)


REAL_NUMBERS = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -0.0, 1, -1, 0.1, -0.1]),
)


def _holds(value: float, comparison: str, bound: float) -> bool:
    if comparison == "=":
        return value == bound
    if comparison == "<":
        return value < bound
    if comparison == "<=":
        return value <= bound
    if comparison == ">":
        return value > bound
    return value >= bound


@given(st.data(), COMPARISON, REAL_NUMBERS)
def test_a_numeric_comparison_agrees_with_python(data: st.DataObject, comparison: str, bound: float) -> None:
    value = data.draw(st.one_of(st.just(bound), REAL_NUMBERS, st.just(float(bound))))
    policy = compile_policy({"data.price": [{"numeric": [comparison, bound]}]})
    assert policy.matches(with_data(price=value)) is _holds(value, comparison, bound)


@given(st.data(), st.sampled_from([">", ">="]), REAL_NUMBERS, st.sampled_from(["<", "<="]), REAL_NUMBERS)
def test_a_numeric_range_agrees_with_python_or_is_refused_when_empty(
    data: st.DataObject, low_op: str, low: float, high_op: str, high: float
) -> None:
    argument = {"numeric": [low_op, low, high_op, high]}
    if low > high or (low == high and (low_op, high_op) != (">=", "<=")):
        with pytest.raises(FilterPolicyError, match="matches no number"):
            compile_policy({"data.price": [argument]})
        return
    value = data.draw(st.one_of(st.sampled_from([low, high]), REAL_NUMBERS))
    expected = _holds(value, low_op, low) and _holds(value, high_op, high)
    assert matches({"data.price": [argument]}, with_data(price=value)) is expected


# Words of the grammar, so that random input reaches deep into the checks instead of failing at the first.
ATTRIBUTE_WORDS = ["entity", "op", "id", "changed_fields", "data", "data.status", "status", ""]
OPERATOR_WORDS = ["prefix", "suffix", "anything-but", "numeric", "exists", "=", "<", "<=", ">", ">="]
GRAMMAR = st.sampled_from(ATTRIBUTE_WORDS + OPERATOR_WORDS)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4) | GRAMMAR,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(GRAMMAR | st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=25,
)
policy_shaped = st.dictionaries(
    GRAMMAR,
    st.lists(json_values | st.dictionaries(GRAMMAR, json_values, max_size=2), max_size=4) | json_values,
    max_size=4,
)


@given(st.one_of(json_values, policy_shaped), notifications | json_values)
def test_compiling_any_json_value_either_works_or_raises_filter_policy_error(policy: Any, item: Any) -> None:
    try:
        compiled = compile_policy(policy)
    except FilterPolicyError:
        return
    assert compiled.matches(item) in (True, False)


@given(st.dictionaries(st.sampled_from(ATTRIBUTES), alternative_lists, max_size=3), json_values)
def test_matching_never_raises_whatever_the_notification_holds(policy: dict[str, Any], item: Any) -> None:
    compiled = compile_policy(policy)
    assert compiled.matches(item) in (True, False)
    assert compiled.matches({"entity": item, "changed_fields": item, "data": item}) in (True, False)
