"""Haystack filters translated into vecbridge's portable filter AST.

Haystack writes ``{"field": "meta.year", "operator": ">=", "value": 2020}`` and nests them in
``{"operator": "AND" | "OR" | "NOT", "conditions": [...]}`` (NOT negates the AND of its
conditions). :func:`translate_filters` returns a vecbridge ``FilterNode``, or ``True`` / ``False``
when the filter is constant (``{"operator": "OR", "conditions": []}``, a range against ``None``,
``in []``) so callers can skip the store altogether.

What maps exactly (Haystack's meaning, checked against ``haystack.utils.filters``):

- ``==`` / ``!=`` with a string, number or boolean: ``$eq`` / ``$ne``; ``!=`` matches documents
  without the field, as in Haystack.
- ``== None`` / ``!= None``: ``$exists: false`` / ``$exists: true``.
- ``>``, ``>=``, ``<``, ``<=`` with a number; a missing field never matches; against ``None``
  nothing matches. With an ISO-8601 date string, a ``datetime`` or a ``date``: compared as instants
  with stored ISO-8601 strings, as Haystack does (a date without a UTC offset is read as UTC on
  both sides; see ``vecbridge.core.dates``).
- ``in`` / ``not in`` with a list (``None`` allowed in it); ``not in`` matches documents without
  the field.
- ``meta.x`` and a bare ``x`` (Haystack's legacy form) both name metadata key ``x``.

Where vecbridge cannot say what Haystack means, the translation raises
:class:`UnsupportedHaystackFilter` (a Haystack ``FilterError``) instead of answering differently:

- ranges on strings that are not ISO-8601 dates (Haystack raises for those too);
- fields other than metadata (``content``, ``id``, ``embedding`` ...) and nested paths
  (``meta.a.b``);
- comparisons with lists, dicts or dates as the value.

Remaining differences, which no translation can detect because they depend on the stored values
(documented, not silently different by choice):

- vecbridge treats an empty list like a missing field (``== None`` matches ``[]``); Haystack
  does not.
- a stored list matches ``==`` when any element does (vecbridge); Haystack compares the whole list.
- a range filter meeting a stored string: Haystack raises (unless both are ISO dates); vecbridge
  treats it as no match (a date range matches stored date strings only).
- types are strict: ``True`` does not equal ``1`` and ``"2020-01-01"`` equals only that exact
  string; Python (and so Haystack) says ``True == 1`` and compares ISO dates as instants.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

from haystack.errors import FilterError

from vecbridge.core.dates import to_instant
from vecbridge.core.errors import InvalidFilter, UnsupportedFilter
from vecbridge.core.filters import And, Comparison, FilterNode, Instant, Not, Or

__all__ = ["HaystackFilterError", "Translated", "UnsupportedHaystackFilter", "translate_filters"]

#: A translated filter: a node, or a constant (True: every document, False: none).
Translated = FilterNode | bool

_RANGES = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
_COMPARISONS = ("==", "!=", *_RANGES, "in", "not in")
_LOGIC = ("AND", "OR", "NOT")
# Document attributes that are not metadata: vecbridge filters cannot reach them.
_DOCUMENT_FIELDS = frozenset({"id", "content", "blob", "meta", "score", "embedding", "sparse_embedding"})


class HaystackFilterError(FilterError, InvalidFilter):
    """The filter is malformed by Haystack's own rules (missing keys, unknown operator ...)."""


class UnsupportedHaystackFilter(FilterError, UnsupportedFilter):
    """A valid Haystack filter whose meaning vecbridge's portable filters cannot express."""


def translate_filters(filters: Mapping[str, Any] | None) -> Translated:
    """Translate a Haystack filter; ``None`` and ``{}`` mean no filter (``True``)."""
    if filters is None:
        return True
    if not isinstance(filters, Mapping):
        raise HaystackFilterError(f"filters must be a dict, got {type(filters).__name__}")
    if not filters:
        return True
    return _translate(filters)


def _translate(condition: Any) -> Translated:
    if not isinstance(condition, Mapping):
        raise HaystackFilterError(f"a filter condition must be a dict, got {condition!r}")
    if "field" in condition:
        return _comparison(condition)
    if "operator" not in condition:
        raise HaystackFilterError(f"'operator' key missing in {dict(condition)}")
    if "conditions" not in condition:
        raise HaystackFilterError(f"'conditions' key missing in {dict(condition)}")
    op, conditions = condition["operator"], condition["conditions"]
    if op not in _LOGIC:
        raise HaystackFilterError(f"unknown logical operator {op!r}: use one of {', '.join(_LOGIC)}")
    if not isinstance(conditions, list):
        raise HaystackFilterError(f"'conditions' must be a list of filters, got {conditions!r}")
    children = [_translate(c) for c in conditions]
    if op == "OR":
        return _any(children)
    both = _all(children)
    return both if op == "AND" else _negate(both)


# ----- constant folding: True/False never reach a store --------------------------------------


def _all(children: list[Translated]) -> Translated:
    if any(c is False for c in children):
        return False
    nodes = [c for c in children if not isinstance(c, bool)]
    if not nodes:
        return True  # AND of nothing, as Python's all([])
    return nodes[0] if len(nodes) == 1 else And(tuple(nodes))


def _any(children: list[Translated]) -> Translated:
    if any(c is True for c in children):
        return True
    nodes = [c for c in children if not isinstance(c, bool)]
    if not nodes:
        return False  # OR of nothing, as Python's any([])
    return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))


def _negate(child: Translated) -> Translated:
    return (not child) if isinstance(child, bool) else Not(child)


# ----- comparisons ----------------------------------------------------------------------------


def _metadata_key(field: Any) -> str:
    if not isinstance(field, str) or not field:
        raise HaystackFilterError(f"'field' must be a non-empty string such as 'meta.year', got {field!r}")
    if field.startswith("meta."):
        key = field[len("meta.") :]
    elif field in _DOCUMENT_FIELDS:
        raise UnsupportedHaystackFilter(
            f"cannot filter on the document's {field!r}: vecbridge filters apply to metadata only "
            "('meta.<key>'). Copy the value into the metadata to filter on it"
        )
    elif "." in field:
        raise UnsupportedHaystackFilter(f"cannot filter on {field!r}: only 'meta.<key>' fields are supported")
    else:
        key = field  # Haystack's legacy form: a bare name is a metadata key
    if not key or "." in key:
        raise UnsupportedHaystackFilter(
            f"cannot filter on {field!r}: vecbridge filters take top-level metadata keys, not nested paths"
        )
    return key


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _scalar(field: str, op: str, value: Any) -> str | int | float | bool:
    if isinstance(value, float) and math.isnan(value):
        raise UnsupportedHaystackFilter(f"{field!r} {op} NaN: NaN equals nothing, drop the condition")
    if isinstance(value, (str, int, float, bool)):
        return value
    raise UnsupportedHaystackFilter(
        f"{field!r} {op} {value!r}: vecbridge compares metadata with a string, number or boolean, "
        f"not a {type(value).__name__}"
    )


def _comparison(condition: Mapping[str, Any]) -> Translated:
    if "operator" not in condition:
        raise HaystackFilterError(f"'operator' key missing in {dict(condition)}")
    if "value" not in condition:
        raise HaystackFilterError(f"'value' key missing in {dict(condition)}")
    field, op, value = condition["field"], condition["operator"], condition["value"]
    if op not in _COMPARISONS:
        raise HaystackFilterError(f"unknown comparison operator {op!r}: use one of {', '.join(_COMPARISONS)}")
    key = _metadata_key(field)
    if op in ("==", "!="):
        if value is None:  # Haystack: a missing field equals None
            return Comparison(key, "exists", op == "!=")
        return Comparison(key, "eq" if op == "==" else "ne", _scalar(field, op, value))
    if op in _RANGES:
        return _range(field, key, op, value)
    return _membership(field, key, op, value)


def _range(field: str, key: str, op: str, value: Any) -> Translated:
    if value is None:
        return False  # Haystack: nothing is ordered against None
    if isinstance(value, list):
        raise HaystackFilterError(f"{field!r} {op} takes a single value, not a list: {value!r}")
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if isinstance(value, (str, datetime)):
        moment = to_instant(value)
        if moment is None:
            raise UnsupportedHaystackFilter(
                f"{field!r} {op} {value!r}: a range takes a number or an ISO-8601 date such as '2024-01-31T12:00:00Z'"
            )
        return Comparison(key, _RANGES[op], Instant(moment, str(value)))
    if not _is_number(value) or math.isnan(value):
        raise UnsupportedHaystackFilter(f"{field!r} {op} {value!r}: range filters take a number")
    return Comparison(key, _RANGES[op], value)


def _membership(field: str, key: str, op: str, value: Any) -> Translated:
    if not isinstance(value, list):
        raise HaystackFilterError(f"{field!r} {op!r} takes a list, received type {type(value).__name__!r}: {value!r}")
    with_none = any(v is None for v in value)
    scalars = tuple(_scalar(field, op, v) for v in value if v is not None)
    if op == "in":  # equal to one of them; None stands for a missing field
        parts: list[Translated] = [Comparison(key, "exists", False)] if with_none else []
        if scalars:
            parts.append(Comparison(key, "in", scalars))
        return _any(parts)
    parts = [Comparison(key, "exists", True)] if with_none else []
    if scalars:
        parts.append(Comparison(key, "nin", scalars))
    return _all(parts)
