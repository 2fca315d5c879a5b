"""The portable filter language: parsing errors and the reference semantics."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from vecbridge.core import InvalidFilter, matches, parse_filter
from vecbridge.core.filters import And, Comparison, Not, Or


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ({"a": None}, "$exists"),
        ({"a": {"$eq": None}}, "$exists"),
        ({"a": {"$gt": "2020"}}, "number"),
        ({"a": {"$gt": True}}, "number"),
        ({"a": {"$in": []}}, "non-empty"),
        ({"a": {"$in": "x"}}, "non-empty list"),
        ({"a": {"$in": [None]}}, "$exists"),
        ({"a": {"$exists": 1}}, "true or false"),
        ({"a": {"$regex": "x"}}, "unknown operator"),
        ({"a": {"b": 1}}, "nested object"),
        ({"a": [1, 2]}, "$in"),
        ({"$and": []}, "non-empty list"),
        ({"$or": {"a": 1}}, "non-empty list"),
        ({"$not": [{"a": 1}]}, "filter dicts"),
        ({"$nor": [{"a": 1}]}, "unknown operator"),
        ({"a.b": 1}, "dots"),
        ({"": 1}, "invalid field"),
        ({"a": {}}, "empty operator"),
        ({"$and": [{}]}, "empty filter"),
        ({"a": {"$eq": float("nan")}}, "NaN"),
        ("year > 3", "must be a dict"),
    ],
)
def test_invalid_filters_say_what_to_do(bad: Any, fragment: str) -> None:
    with pytest.raises(InvalidFilter, match=fragment.replace("$", r"\$")):
        parse_filter(bad)


def test_shorthand_and_implicit_and() -> None:
    node = parse_filter({"a": 1, "b": {"$gte": 2, "$lt": 5}})
    assert node == And((Comparison("a", "eq", 1), Comparison("b", "gte", 2), Comparison("b", "lt", 5)))
    assert parse_filter({"$or": [{"a": 1}, {"$not": {"b": "x"}}]}) == Or(
        (Comparison("a", "eq", 1), Not(Comparison("b", "eq", "x")))
    )
    assert parse_filter(None) is None and parse_filter({}) is None


VALUES: list[Any] = [None, 0, 1, 2, 2.0, 2.5, True, False, "1", "x", "", [], ["x"], ["x", "y"], [1, 2], {"k": 1}]
OPERANDS: list[Any] = [1, 2, 2.0, True, False, "x", "1"]


def _records() -> list[dict[str, Any]]:
    return [{}] + [{"f": v} for v in VALUES]


@pytest.mark.parametrize("operand", OPERANDS)
def test_complements_are_exact(operand: Any) -> None:
    for md in _records():
        assert matches({"f": {"$ne": operand}}, md) is not matches({"f": operand}, md)
        assert matches({"f": {"$nin": [operand]}}, md) is not matches({"f": {"$in": [operand]}}, md)
        assert matches({"$not": {"f": operand}}, md) is not matches({"f": operand}, md)


def test_absent_means_missing_null_or_empty_list() -> None:
    for md in ({}, {"f": None}, {"f": []}):
        assert matches({"f": {"$exists": False}}, md)
        assert not matches({"f": {"$exists": True}}, md)
        assert not any(matches({"f": {op: 0}}, md) for op in ("$gt", "$gte", "$lt", "$lte"))
        assert matches({"f": {"$ne": 0}}, md)
    for md in ({"f": 0}, {"f": ""}, {"f": False}, {"f": ["x"]}):
        assert matches({"f": {"$exists": True}}, md)


def test_types_are_strict_but_numbers_are_numbers() -> None:
    assert not matches({"f": 1}, {"f": True})
    assert not matches({"f": True}, {"f": 1})
    assert not matches({"f": "1"}, {"f": 1})
    assert not matches({"f": 1}, {"f": "1"})
    assert matches({"f": 2}, {"f": 2.0}) and matches({"f": 2.0}, {"f": 2})
    assert not matches({"f": {"$gt": 0}}, {"f": True}), "booleans are not numbers for ranges"
    assert not matches({"f": {"$gt": 0}}, {"f": "5"})


def test_any_element_of_a_list() -> None:
    assert matches({"f": "x"}, {"f": ["x", "y"]})
    assert matches({"f": {"$in": ["z", "y"]}}, {"f": ["x", "y"]})
    assert matches({"f": {"$gt": 1}}, {"f": [1, 2]})
    assert not matches({"f": {"$gt": 2}}, {"f": [1, 2]})
    assert not matches({"f": {"$ne": "x"}}, {"f": ["x", "y"]})


def test_logic_combinations_follow_boolean_algebra() -> None:
    atoms = [{"f": 1}, {"f": {"$gt": 1}}, {"g": "x"}, {"g": {"$exists": False}}]
    recs = [{"f": f, "g": g} for f, g in itertools.product([None, 1, 2], [None, "x", "y"])]
    for a, b in itertools.product(atoms, atoms):
        for md in recs:
            assert matches({"$and": [a, b]}, md) == (matches(a, md) and matches(b, md))
            assert matches({"$or": [a, b]}, md) == (matches(a, md) or matches(b, md))
            assert matches({"$not": {"$and": [a, b]}}, md) == matches({"$or": [{"$not": a}, {"$not": b}]}, md)
