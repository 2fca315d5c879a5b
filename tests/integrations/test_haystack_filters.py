"""The Haystack filter translation, checked against Haystack's own reference evaluation.

Where both languages mean the same thing, ``matches(translate(f), meta)`` must agree with
Haystack's ``document_matches_filter(f, doc)`` on every document; where they cannot, the
translation must refuse with a ``FilterError`` rather than answer differently.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("haystack")

from haystack.dataclasses import Document
from haystack.errors import FilterError
from haystack.utils.filters import document_matches_filter

from vecbridge.core.errors import InvalidFilter, UnsupportedFilter
from vecbridge.core.filters import And, Comparison, Not, Or, matches
from vecbridge.integrations.haystack import HaystackFilterError, UnsupportedHaystackFilter, translate_filters

# Metadata chosen inside the common ground of both languages: scalars, None and missing keys
# (no lists, no True-vs-1 mixes, no strings under range filters: those are documented differences).
METAS: list[dict[str, Any]] = [
    {},
    {"number": 2, "name": "a", "flag": True},
    {"number": -2, "name": "b", "flag": False},
    {"number": 2.0, "name": "A"},
    {"number": 100, "chapter": "intro"},
    {"number": None, "name": "a"},
    {"number": 7.5, "name": "日本語", "chapter": "abstract"},
    {"name": None, "chapter": "intro", "flag": True},
]
DOCS = [Document(content=f"doc {i}", meta=m) for i, m in enumerate(METAS)]


def cmp(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "operator": op, "value": value}


FILTERS: list[dict[str, Any]] = [
    cmp("meta.number", "==", 2),
    cmp("meta.number", "==", 2.0),
    cmp("meta.number", "==", "2"),
    cmp("meta.name", "==", "a"),
    cmp("meta.name", "==", "日本語"),
    cmp("meta.flag", "==", True),
    cmp("meta.flag", "==", False),
    cmp("meta.number", "==", None),
    cmp("meta.name", "!=", None),
    cmp("meta.number", "!=", 2),
    cmp("meta.name", "!=", "a"),
    cmp("meta.flag", "!=", True),
    cmp("meta.number", ">", 0),
    cmp("meta.number", ">=", 2),
    cmp("meta.number", "<", 7.5),
    cmp("meta.number", "<=", -2),
    cmp("meta.number", ">", None),
    cmp("meta.number", "<=", None),
    cmp("meta.number", "in", [2, 100]),
    cmp("meta.name", "in", ["a", "b", "zzz"]),
    cmp("meta.number", "in", [None, 7.5]),
    cmp("meta.number", "in", []),
    cmp("meta.number", "not in", [2, 100]),
    cmp("meta.number", "not in", [None]),
    cmp("meta.name", "not in", [None, "a"]),
    cmp("meta.name", "not in", []),
    cmp("chapter", "==", "intro"),  # Haystack's legacy form: a bare name is a metadata key
    {"operator": "AND", "conditions": [cmp("meta.number", "==", 2), cmp("meta.name", "==", "a")]},
    {"operator": "OR", "conditions": [cmp("meta.number", "==", 100), cmp("meta.name", "==", "b")]},
    {"operator": "NOT", "conditions": [cmp("meta.number", "==", 2), cmp("meta.name", "==", "a")]},
    {"operator": "NOT", "conditions": [cmp("meta.chapter", "==", "intro")]},
    {"operator": "AND", "conditions": []},
    {"operator": "OR", "conditions": []},
    {"operator": "NOT", "conditions": []},
    {"operator": "OR", "conditions": [cmp("meta.number", ">", None), cmp("meta.flag", "==", True)]},
    {"operator": "AND", "conditions": [cmp("meta.number", "not in", []), cmp("meta.name", "!=", None)]},
    {
        "operator": "OR",
        "conditions": [
            {"operator": "AND", "conditions": [cmp("meta.number", ">=", 2), cmp("meta.chapter", "!=", "intro")]},
            {"operator": "NOT", "conditions": [cmp("meta.name", "in", ["a", "A", None])]},
        ],
    },
]


def _vecbridge_matches(flt: dict[str, Any], meta: dict[str, Any]) -> bool:
    node = translate_filters(flt)
    return node if isinstance(node, bool) else matches(node, meta)


@pytest.mark.parametrize("flt", FILTERS, ids=[str(f) for f in FILTERS])
def test_translation_agrees_with_haystack(flt: dict[str, Any]) -> None:
    want = [document_matches_filter(flt, d) for d in DOCS]
    got = [_vecbridge_matches(flt, d.meta) for d in DOCS]
    assert got == want


def test_equality_is_type_strict_like_haystack() -> None:
    as_text = Document(content="x", meta={"number": "2"})
    for flt in (cmp("meta.number", "==", 2), cmp("meta.number", "!=", 2), cmp("meta.number", "in", ["2", 3])):
        assert _vecbridge_matches(flt, as_text.meta) == document_matches_filter(flt, as_text)


def test_shapes_and_constant_folding() -> None:
    assert translate_filters(None) is True
    assert translate_filters({}) is True
    assert translate_filters(cmp("meta.year", ">=", 2020)) == Comparison("year", "gte", 2020)
    assert translate_filters(cmp("meta.year", "==", None)) == Comparison("year", "exists", False)
    assert translate_filters(cmp("meta.year", "!=", None)) == Comparison("year", "exists", True)
    assert translate_filters(cmp("meta.year", "in", [None, 1])) == Or(
        (Comparison("year", "exists", False), Comparison("year", "in", (1,)))
    )
    assert translate_filters(cmp("meta.year", "not in", [None, 1])) == And(
        (Comparison("year", "exists", True), Comparison("year", "nin", (1,)))
    )
    assert translate_filters(cmp("meta.year", "in", [])) is False
    assert translate_filters(cmp("meta.year", "not in", [])) is True
    assert translate_filters(cmp("meta.year", "<", None)) is False
    # Constants vanish inside AND/OR/NOT instead of reaching a store.
    assert (
        translate_filters({"operator": "AND", "conditions": [cmp("meta.a", "==", 1), cmp("meta.b", "in", [])]}) is False
    )
    assert translate_filters({"operator": "OR", "conditions": [cmp("meta.a", "==", 1), cmp("meta.b", "in", [])]}) == (
        Comparison("a", "eq", 1)
    )
    assert translate_filters({"operator": "NOT", "conditions": [cmp("meta.a", "==", 1)]}) == Not(
        Comparison("a", "eq", 1)
    )
    assert translate_filters({"operator": "NOT", "conditions": [cmp("meta.a", ">", None)]}) is True


@pytest.mark.parametrize(
    "flt",
    [
        {"conditions": [cmp("meta.a", "==", 1)]},
        {"operator": "AND"},
        {"operator": "XOR", "conditions": []},
        {"operator": "AND", "conditions": cmp("meta.a", "==", 1)},
        {"operator": "AND", "conditions": [{"operator": "==", "value": 1}]},
        {"field": "meta.a", "value": 1},
        {"field": "meta.a", "operator": "=="},
        {"field": "meta.a", "operator": "~=", "value": 1},
        {"field": "", "operator": "==", "value": 1},
        cmp("meta.a", "in", 9),
        cmp("meta.a", "in", (1, 2)),
        cmp("meta.a", "not in", "ab"),
        cmp("meta.a", ">", [1]),
    ],
)
def test_malformed_filters_raise_filter_error(flt: dict[str, Any]) -> None:
    with pytest.raises(HaystackFilterError) as info:
        translate_filters(flt)
    assert isinstance(info.value, FilterError) and isinstance(info.value, InvalidFilter)


@pytest.mark.parametrize(
    ("flt", "says"),
    [
        (cmp("meta.date", ">", "yesterday"), "ISO-8601"),
        (cmp("meta.number", ">=", "1"), "ISO-8601"),
        (cmp("meta.flag", "<", True), "take a number"),
        (cmp("content", "==", "A Foo Document 1"), "metadata only"),
        (cmp("id", "in", ["1"]), "metadata only"),
        (cmp("meta.author.name", "==", "x"), "nested"),
        (cmp("blob.mime_type", "==", "text/plain"), "meta.<key>"),
        (cmp("meta.tags", "==", ["a", "b"]), "not a list"),
        (cmp("meta.a", "in", [["a"]]), "not a list"),
        (cmp("meta.a", "==", {"x": 1}), "not a dict"),
        (cmp("meta.a", "==", float("nan")), "NaN"),
    ],
)
def test_what_vecbridge_cannot_express_is_refused(flt: dict[str, Any], says: str) -> None:
    with pytest.raises(UnsupportedHaystackFilter, match=says) as info:
        translate_filters(flt)
    assert isinstance(info.value, FilterError) and isinstance(info.value, UnsupportedFilter)
