"""LlamaIndex ``MetadataFilters`` translated into vecbridge's portable filter AST.

The meaning to keep is LlamaIndex's own reference evaluation,
``llama_index.core.vector_stores.utils.build_metadata_filter_fn`` (what ``SimpleVectorStore``
runs). :func:`translate_filters` returns a vecbridge ``FilterNode``, or ``True`` / ``False`` when
the filter is constant (no filters, ``IN []``, ``NIN []``, ``ANY []``), so callers can skip the
store altogether. Each condition is parsed by vecbridge's own ``parse_filter``, so values are
checked as on every other path (finite numbers, integers within ±(2**53 - 1), clean strings).

What maps exactly:

- ``EQ`` / ``NE`` with a string or number: ``$eq`` / ``$ne``; ``NE`` matches nodes without the
  field, as in LlamaIndex.
- ``GT``, ``GTE``, ``LT``, ``LTE`` with a number; a missing field never matches.
- ``IN`` / ``NIN`` with a list: ``$in`` / ``$nin`` (``NIN`` matches nodes without the field);
  ``IN []`` matches nothing, ``NIN []`` everything.
- ``ANY`` (a stored list shares a value with the given list): ``$in``; ``ALL`` (a stored list
  holds every given value): one ``$eq`` per value, ANDed; ``CONTAINS`` (a stored list holds the
  value): ``$eq`` — vecbridge matches a stored list when any element matches.
- ``IS_EMPTY``: missing, null, ``[]`` (vecbridge's ``$exists: false``) or ``""``.
- conditions ``AND``, ``OR`` and ``NOT`` (LlamaIndex: none of the filters matches), nested
  ``MetadataFilters`` too (empty nested groups follow Python's ``all([])`` / ``any([])``).

Refused with :class:`~vecbridge.core.errors.UnsupportedFilter` (never approximated):

- ``TEXT_MATCH`` and ``TEXT_MATCH_INSENSITIVE`` (substring search in metadata);
- ranges with a string: LlamaIndex compares strings as text, vecbridge compares ISO-8601 dates as
  instants — store dates as numbers (e.g. epoch seconds) to filter on them, or pass vecbridge's
  own filter (``vecbridge_filter=``, see the vector store), whose date ranges compare instants;
- ``EQ`` / ``NE`` with ``None`` (LlamaIndex's stores disagree on its meaning: use ``IS_EMPTY``),
  or with a list (LlamaIndex compares the whole list: use ``IN``, ``ANY`` or ``ALL``);
- ``IN``, ``NIN``, ``ANY`` and ``ALL`` with a single value (in LlamaIndex that tests for a
  substring), ``CONTAINS`` with a list, ``ALL []``;
- keys with a dot (vecbridge filters name top-level metadata keys) or starting with ``$``.

Remaining differences, which no translation can detect because they depend on the stored values
(vecbridge's semantics hold on every store; LlamaIndex's in-memory evaluation is plain Python):

- a stored list matches when any element does (vecbridge) for every operator; Python compares the
  whole list, so ``EQ "a"`` does not match ``["a", "b"]`` in ``SimpleVectorStore``.
- ``ANY``, ``ALL`` and ``CONTAINS`` against a stored string: Python tests for a substring,
  vecbridge for equality.
- types are strict: ``True`` does not equal ``1``; a range against a stored non-number is no match
  in vecbridge where Python raises ``TypeError`` (or compares strings).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.vector_stores.types import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters

from vecbridge.core.errors import InvalidFilter, UnsupportedFilter
from vecbridge.core.filters import And, FilterNode, Not, Or, parse_filter

__all__ = ["Translated", "all_of", "leaf", "translate_filters"]

#: A translated filter: a node, or a constant (True: every node, False: none).
Translated = FilterNode | bool

_COMPARE = {
    FilterOperator.EQ: "$eq",
    FilterOperator.NE: "$ne",
    FilterOperator.GT: "$gt",
    FilterOperator.GTE: "$gte",
    FilterOperator.LT: "$lt",
    FilterOperator.LTE: "$lte",
}
_RANGES = frozenset({FilterOperator.GT, FilterOperator.GTE, FilterOperator.LT, FilterOperator.LTE})
# Operators taking a list, and what an empty list means (None: refused).
_LISTS: dict[FilterOperator, bool | None] = {
    FilterOperator.IN: False,
    FilterOperator.NIN: True,
    FilterOperator.ANY: False,
    FilterOperator.ALL: None,
}


def translate_filters(filters: MetadataFilters | None) -> Translated:
    """Translate LlamaIndex filters; ``None`` and an empty filter list mean no filter (``True``),
    whatever the condition, as in ``build_metadata_filter_fn``."""
    if filters is None:
        return True
    if not isinstance(filters, MetadataFilters):
        raise InvalidFilter(f"filters must be LlamaIndex MetadataFilters, got {type(filters).__name__}")
    if not filters.filters:
        return True
    return _group(filters)


def _group(filters: MetadataFilters) -> Translated:
    children = [_group(f) if isinstance(f, MetadataFilters) else _condition(f) for f in filters.filters]
    condition = filters.condition or FilterCondition.AND
    if condition == FilterCondition.AND:
        return _join(children, every=True)
    if condition == FilterCondition.OR:
        return _join(children, every=False)
    if condition == FilterCondition.NOT:  # LlamaIndex: none of the filters matches
        joined = _join(children, every=False)
        return (not joined) if isinstance(joined, bool) else Not(joined)
    raise UnsupportedFilter(f"unknown filter condition {condition!r}: use AND, OR or NOT")


def all_of(children: list[Translated]) -> Translated:
    """The AND of translated filters (constants folded)."""
    return _join(children, every=True)


def _join(children: list[Translated], *, every: bool) -> Translated:
    """AND (``every``) or OR of ``children``, with constants folded away: an AND of nothing is
    True and an OR of nothing False, as Python's ``all([])`` and ``any([])``."""
    if any(c is (not every) for c in children):
        return not every
    nodes = tuple(c for c in children if not isinstance(c, bool))
    if len(nodes) > 1:
        return And(nodes) if every else Or(nodes)
    return nodes[0] if nodes else every


def leaf(key: str, op: str, value: Any) -> FilterNode:
    """``{key: {op: value}}`` parsed by vecbridge (which checks the value as on every path)."""
    node = parse_filter({key: {op: value}})  # vecbridge's own checks of the value
    assert node is not None
    return node


def _condition(flt: MetadataFilter) -> Translated:
    if not isinstance(flt, MetadataFilter):
        raise InvalidFilter(f"a filter must be a MetadataFilter or MetadataFilters, got {type(flt).__name__}")
    key, op, value = flt.key, flt.operator, flt.value
    if not isinstance(key, str) or not key:
        raise InvalidFilter(f"a filter key must be a non-empty string, got {key!r}")
    if "." in key or key.startswith("$"):
        raise UnsupportedFilter(
            f"cannot filter on {key!r}: vecbridge filters name top-level metadata keys (no dots, no leading '$')"
        )
    if op == FilterOperator.IS_EMPTY:
        return Or((leaf(key, "$exists", False), leaf(key, "$eq", "")))
    if op in _COMPARE:
        return leaf(key, _COMPARE[op], _scalar(key, op, value))
    if op == FilterOperator.CONTAINS:
        return leaf(key, "$eq", _scalar(key, op, value))
    if op in _LISTS:
        return _membership(key, op, value)
    raise UnsupportedFilter(
        f"{key!r} {_name(op)}: vecbridge has no substring or text search in metadata filters; filter on exact "
        "values (EQ, IN ...), or search the text with a hybrid collection (VectorStoreQueryMode.HYBRID)"
    )


def _name(op: FilterOperator) -> str:
    return f"FilterOperator.{op.name}"


def _scalar(key: str, op: FilterOperator, value: Any) -> str | int | float:
    if value is None:
        hint = "use FilterOperator.IS_EMPTY for a missing or empty field" if op in _COMPARE else "give a value"
        raise UnsupportedFilter(f"{key!r} {_name(op)} None: {hint}")
    if isinstance(value, (list, tuple)):
        hint = "use IN, ANY or ALL for lists of values" if op in _COMPARE else "use ANY or ALL for several values"
        raise UnsupportedFilter(f"{key!r} {_name(op)} takes a single value, got a list: {hint}")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidFilter(f"{key!r} {_name(op)} takes a string or a number, got {type(value).__name__}")
    if op in _RANGES and isinstance(value, str):
        raise UnsupportedFilter(
            f"{key!r} {_name(op)} {value!r}: LlamaIndex orders strings as text, vecbridge orders numbers (and "
            "ISO-8601 dates as instants), so the answer could differ. Store the value as a number (dates as "
            "epoch seconds) and compare with a number, or pass vecbridge_filter={...} with a date range"
        )
    return value


def _membership(key: str, op: FilterOperator, value: Any) -> Translated:
    if not isinstance(value, (list, tuple)):
        raise UnsupportedFilter(
            f"{key!r} {_name(op)} takes a list of values, got {type(value).__name__}: with a single string "
            "LlamaIndex tests for a substring, which vecbridge cannot; use EQ or CONTAINS for one value"
        )
    values: Sequence[Any] = [_scalar(key, op, v) for v in value]
    if not values:
        empty = _LISTS[op]
        if empty is None:
            raise UnsupportedFilter(f"{key!r} {_name(op)} []: give at least one value")
        return empty
    if op == FilterOperator.ALL:
        return _join([leaf(key, "$eq", v) for v in values], every=True)
    return leaf(key, "$nin" if op == FilterOperator.NIN else "$in", list(values))
