"""The LlamaIndex filter translation, checked against LlamaIndex's own reference evaluation.

Where both languages mean the same thing, vecbridge's ``matches(translate(f), meta)`` must agree
with ``build_metadata_filter_fn`` (what ``SimpleVectorStore`` runs) on every metadata dict below;
where they cannot, the translation must refuse with ``UnsupportedFilter`` rather than answer
differently.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

pytest.importorskip("llama_index.core")

from llama_index.core.vector_stores.types import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters
from llama_index.core.vector_stores.utils import build_metadata_filter_fn

from vecbridge.core.errors import InvalidFilter, UnsupportedFilter
from vecbridge.core.filters import And, Comparison, Not, Or, matches
from vecbridge.integrations.llamaindex import translate_filters
from vecbridge.integrations.llamaindex.filters import Translated

# Inside the common ground of both languages: scalar fields (strings and numbers, never a bool next
# to a number), null and missing keys, lists only in "tags" (the field ANY/ALL/CONTAINS are for,
# never a string there), numbers only in "weight" (ranges). The differences outside it are
# documented in vecbridge.integrations.llamaindex.filters.
METAS: list[dict[str, Any]] = [
    {},
    {"rank": "a", "weight": 1.0, "tags": ["medium", "high"], "note": "x"},
    {"rank": "c", "weight": 2, "tags": ["medium"], "note": ""},
    {"rank": "c", "weight": 3.5, "tags": ["low", "medium", "high"]},
    {"rank": "日本語", "weight": -2, "tags": [], "note": None},
    {"rank": None, "weight": None, "note": "2"},
    {"rank": "2", "weight": 2.0, "tags": ["high"], "flag": True},
]


def f(key: str, op: FilterOperator, value: Any) -> MetadataFilter:
    return MetadataFilter(key=key, operator=op, value=value)


Op = FilterOperator
LEAVES: list[MetadataFilter] = [
    f("rank", Op.EQ, "c"),
    f("rank", Op.EQ, "2"),
    f("weight", Op.EQ, 2),
    f("weight", Op.EQ, 2.0),
    f("rank", Op.EQ, "日本語"),
    f("missing", Op.EQ, "c"),
    f("rank", Op.NE, "c"),
    f("weight", Op.NE, 1),
    f("missing", Op.NE, "news"),
    f("weight", Op.GT, 1.5),
    f("weight", Op.GTE, 2),
    f("weight", Op.LT, 1.1),
    f("weight", Op.LTE, -2),
    f("rank", Op.IN, ["a", "c"]),
    f("weight", Op.IN, [2, 3.5]),
    f("rank", Op.IN, []),
    f("rank", Op.NIN, ["c"]),
    f("weight", Op.NIN, [1.0, 2.0]),
    f("rank", Op.NIN, []),
    f("tags", Op.ANY, ["high", "low"]),
    f("tags", Op.ANY, ["none"]),
    f("tags", Op.ANY, []),
    f("tags", Op.ALL, ["medium", "high"]),
    f("tags", Op.ALL, ["low"]),
    f("tags", Op.CONTAINS, "high"),
    f("missing", Op.CONTAINS, "high"),
    f("note", Op.IS_EMPTY, None),
    f("tags", Op.IS_EMPTY, None),
    f("missing", Op.IS_EMPTY, None),
]
CONDITIONS = [FilterCondition.AND, FilterCondition.OR, FilterCondition.NOT, None]


def reference(filters: MetadataFilters, metadata: dict[str, Any]) -> bool:
    """LlamaIndex's evaluation; nested groups (which it does not take) combined the same way."""
    if not any(isinstance(c, MetadataFilters) for c in filters.filters):
        return build_metadata_filter_fn(lambda _: metadata, filters)("node")
    results = [
        reference(c if isinstance(c, MetadataFilters) else MetadataFilters(filters=[c]), metadata)
        for c in filters.filters
    ]
    if filters.condition == FilterCondition.OR:
        return any(results)
    if filters.condition == FilterCondition.NOT:
        return not any(results)
    return all(results)


def evaluate(translated: Translated, metadata: dict[str, Any]) -> bool:
    return translated if isinstance(translated, bool) else matches(translated, metadata)


def agree(filters: MetadataFilters) -> None:
    translated = translate_filters(filters)
    for metadata in METAS:
        assert evaluate(translated, metadata) is reference(filters, metadata), (filters, metadata, translated)


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda x: f"{x.key}-{x.operator.name}-{x.value}")
@pytest.mark.parametrize("condition", CONDITIONS, ids=str)
def test_single_conditions_agree(leaf: MetadataFilter, condition: FilterCondition | None) -> None:
    agree(MetadataFilters(filters=[leaf], condition=condition))


@pytest.mark.parametrize("condition", CONDITIONS, ids=str)
def test_pairs_agree(condition: FilterCondition | None) -> None:
    for a, b in itertools.combinations(LEAVES, 2):
        agree(MetadataFilters(filters=[a, b], condition=condition))


def test_nested_groups_agree() -> None:
    for outer, inner in itertools.product(CONDITIONS[:3], repeat=2):
        for a, b, c in itertools.islice(itertools.combinations(LEAVES, 3), 0, None, 37):
            agree(MetadataFilters(filters=[a, MetadataFilters(filters=[b, c], condition=inner)], condition=outer))


def test_translations_are_the_expected_vecbridge_filters() -> None:
    def one(leaf: MetadataFilter) -> Translated:
        return translate_filters(MetadataFilters(filters=[leaf]))

    assert one(f("rank", Op.EQ, "c")) == Comparison("rank", "eq", "c")
    assert one(f("rank", Op.NIN, ["c"])) == Comparison("rank", "nin", ("c",))
    assert one(f("tags", Op.ANY, ["x", "y"])) == Comparison("tags", "in", ("x", "y"))
    assert one(f("tags", Op.ALL, ["x", "y"])) == And((Comparison("tags", "eq", "x"), Comparison("tags", "eq", "y")))
    assert one(f("tags", Op.IS_EMPTY, None)) == Or((Comparison("tags", "exists", False), Comparison("tags", "eq", "")))
    negated = MetadataFilters(filters=[f("a", Op.EQ, 1), f("b", Op.EQ, 2)], condition=FilterCondition.NOT)
    assert translate_filters(negated) == Not(Or((Comparison("a", "eq", 1), Comparison("b", "eq", 2))))


def test_constants_fold_away() -> None:
    assert translate_filters(None) is True
    for condition in CONDITIONS:  # no filters means no filter, whatever the condition (as LlamaIndex)
        assert translate_filters(MetadataFilters(filters=[], condition=condition)) is True
    assert translate_filters(MetadataFilters(filters=[f("a", Op.IN, [])])) is False
    assert translate_filters(MetadataFilters(filters=[f("a", Op.NIN, [])])) is True
    assert translate_filters(MetadataFilters(filters=[f("a", Op.IN, [])], condition=FilterCondition.NOT)) is True
    either = MetadataFilters(filters=[f("a", Op.IN, []), f("b", Op.EQ, 1)], condition=FilterCondition.OR)
    assert translate_filters(either) == Comparison("b", "eq", 1)
    nested_or = MetadataFilters(filters=[MetadataFilters(filters=[], condition=FilterCondition.OR)])
    assert translate_filters(nested_or) is False  # an OR of nothing, as Python's any([])


@pytest.mark.parametrize(
    ("leaf", "message"),
    [
        (f("identifier", Op.TEXT_MATCH, "6FTR"), "substring"),
        (f("identifier", Op.TEXT_MATCH_INSENSITIVE, "6ftr"), "substring"),
        (f("date", Op.GT, "2024-01-01"), "as text"),
        (f("rank", Op.LTE, "c"), "as text"),
        (f("rank", Op.EQ, None), "IS_EMPTY"),
        (f("rank", Op.NE, None), "IS_EMPTY"),
        (f("tags", Op.EQ, ["a"]), "IN, ANY or ALL"),
        (f("rank", Op.IN, "abc"), "substring"),
        (f("rank", Op.NIN, "abc"), "substring"),
        (f("tags", Op.ANY, "high"), "substring"),
        (f("tags", Op.ALL, "high"), "substring"),
        (f("tags", Op.ALL, []), "at least one"),
        (f("tags", Op.CONTAINS, ["a"]), "single value"),
        (f("meta.rank", Op.EQ, "a"), "top-level"),
        (f("$or", Op.EQ, "a"), "top-level"),
    ],
    ids=lambda x: x if isinstance(x, str) else f"{x.key}-{x.operator.name}",
)
def test_unmappable_filters_are_refused(leaf: MetadataFilter, message: str) -> None:
    with pytest.raises(UnsupportedFilter, match=message):
        translate_filters(MetadataFilters(filters=[leaf]))
    nested = MetadataFilters(filters=[f("ok", Op.EQ, 1), MetadataFilters(filters=[leaf])], condition=FilterCondition.OR)
    with pytest.raises(UnsupportedFilter):  # wherever it stands
        translate_filters(nested)


@pytest.mark.parametrize(
    "leaf",
    [
        f("weight", Op.EQ, float("nan")),
        f("weight", Op.GT, 2**60),
        f("rank", Op.EQ, "nul\x00"),
        MetadataFilter.model_construct(key="flag", operator=Op.EQ, value=True),
        MetadataFilter.model_construct(key="", operator=Op.EQ, value="a"),
    ],
    ids=["nan", "huge-int", "nul", "bool", "empty-key"],
)
def test_invalid_values_are_refused(leaf: MetadataFilter) -> None:
    with pytest.raises(InvalidFilter):
        translate_filters(MetadataFilters(filters=[leaf]))


def test_not_filters_are_refused() -> None:
    with pytest.raises(InvalidFilter):
        translate_filters({"rank": "a"})  # type: ignore[arg-type]
