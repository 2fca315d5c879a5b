"""Filters on an adopted class (``foreign``): compiled against its real properties and types.

Each comparison is answered exactly, folded to a constant, or refused with ``InvalidFilter``:

* A field that is not one of the adopted metadata properties is absent from every record: it
  matches nothing (``$eq``, ranges, ``$exists: true``) or everything (``$ne``, ``$nin``,
  ``$exists: false``), without a request.
* A value of another type than the property's never matches (types are strict: ``1`` is not
  ``"1"`` nor ``True``), and so folds to a constant too; so does a range on a property that holds
  no numbers (or, for a date range, no dates).
* ``int`` properties: a non-integral bound is rounded to the integer range it selects
  (``x > 2.5`` is ``x > 2``). ``number`` properties: integers beyond +-2**53 are refused (Weaviate
  compares float64).
* ``date`` properties hold instants, read back as ``canonical_date`` strings: ``$eq`` with that
  exact string compares the instant, any other string matches nothing; date ranges compare
  instants.
* ``uuid`` properties: ``$eq`` with a lower-case uuid string (what reads return).
* ``text`` properties: equality is exact only with ``field`` tokenization (the whole value is one
  token); Weaviate trims the value's surrounding whitespace, so a filter value with surrounding
  whitespace is refused. Other tokenizations compare words, not values: refused. A date range on a
  text property (text holding dates) is refused: Weaviate cannot read text as dates.
* ``$exists`` is Weaviate's ``IsNull`` when the class indexes null state, else a range that every
  number or date satisfies, or both booleans; on text and uuid properties without null state it is
  refused.
* A property without a filterable index (or a range index, for ranges) is refused.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any

from weaviate.classes.query import Filter
from weaviate.collections.classes.filters import _FilterByProperty

from vecbridge.core.errors import InvalidFilter
from vecbridge.core.filters import Comparison, Instant

from .filters import Compiled, WeaviateFilterCompiler
from .foreign import ForeignClass, ForeignProperty, canonical_date, canonical_uuid

__all__ = ["ForeignFilterCompiler"]

_MAX_EXACT = 2**53
_INT64 = (-(2**63), 2**63 - 1)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class ForeignFilterCompiler(WeaviateFilterCompiler):
    """Compile for one adopted class (see the module docstring)."""

    def __init__(self, layout: ForeignClass, *, supports_not: bool = True, server: str = "") -> None:
        super().__init__(lambda prop: prop in layout.metadata, supports_not=supports_not, server=server)
        self._layout = layout

    def compile_comparison(self, node: Comparison) -> Compiled:
        prop = self._layout.metadata.get(node.field)
        op = node.op
        if op == "exists":
            present = self._exists(prop) if prop is not None else False
            return present if node.value else self.compile_not(present)
        if op in ("eq", "in", "ne", "nin"):
            values = [node.value] if op in ("eq", "ne") else list(node.value)
            positive = self._any_of_values(prop, values) if prop is not None else False
            return positive if op in ("eq", "in") else self.compile_not(positive)
        if prop is None:
            return False
        return self._range(prop, op, node.value)

    # ----- helpers ------------------------------------------------------------------------

    def _refuse(self, prop: ForeignProperty, why: str) -> InvalidFilter:
        return InvalidFilter(f"property {prop.name!r} of adopted Weaviate class {self._layout.cls!r}: {why}")

    def _filterable(self, prop: ForeignProperty, ranged: bool = False) -> _FilterByProperty:
        if not (prop.filterable or (ranged and prop.rangeable)):
            raise self._refuse(prop, "it has no filterable index in Weaviate, so no filter can test it")
        return Filter.by_property(prop.name)

    def _exists(self, prop: ForeignProperty) -> Compiled:
        if self._layout.null_state:
            return self._filterable(prop).is_none(False)
        if prop.base in ("int", "number"):
            target = self._filterable(prop, ranged=True)
            return Filter.any_of([target.greater_or_equal(0), target.less_than(0)])
        if prop.base == "date":
            target = self._filterable(prop, ranged=True)
            return Filter.any_of([target.greater_or_equal(_EPOCH), target.less_than(_EPOCH)])
        if prop.base == "boolean":
            return self._filterable(prop).contains_any([True, False])
        raise self._refuse(
            prop,
            f"$exists on a {prop.base} property needs the class's null-state index "
            "(invertedIndexConfig.indexNullState), which this class does not have",
        )

    def _stored(self, prop: ForeignProperty, value: Any) -> tuple[bool, Any]:
        """(whether ``value`` can equal a value of ``prop``, the value to send)."""
        base = prop.base
        if base == "boolean":
            return isinstance(value, bool), value
        if base in ("int", "number"):
            if not _is_number(value):
                return False, None
            if base == "int":
                integral = float(value).is_integer() and _INT64[0] <= value <= _INT64[1]
                return integral, int(value) if integral else None
            if isinstance(value, int) and abs(value) > _MAX_EXACT:
                raise self._refuse(prop, f"Weaviate compares numbers as float64 and cannot tell {value} apart")
            return True, float(value)
        if not isinstance(value, str):
            return False, None
        if base == "date":
            try:
                moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return False, None
            if moment.tzinfo is None or canonical_date(moment) != value:
                return False, None  # no stored date reads back as this string
            return True, moment
        if base == "uuid":
            canonical = canonical_uuid(value)
            return canonical is not None, canonical
        if prop.tokenization != "field":
            raise self._refuse(
                prop,
                f"it is tokenized {prop.tokenization!r}, so Weaviate compares its words, not whole values; "
                "only 'field' tokenization answers $eq/$in/$ne/$nin exactly",
            )
        if value != value.strip() or not value:
            raise self._refuse(
                prop, f"Weaviate trims surrounding whitespace of 'field' tokenized text, so {value!r} cannot be matched"
            )
        return True, value

    def _any_of_values(self, prop: ForeignProperty, values: Sequence[Any]) -> Compiled:
        sent: list[Any] = []
        for value in values:
            possible, stored = self._stored(prop, value)
            if possible and stored not in sent:
                sent.append(stored)
        if not sent:
            return False
        target = self._filterable(prop)
        return target.equal(sent[0]) if len(sent) == 1 else target.contains_any(sent)

    def _range(self, prop: ForeignProperty, op: str, value: Any) -> Compiled:
        if isinstance(value, Instant):
            if prop.base == "text":
                raise self._refuse(prop, "Weaviate cannot compare text as dates: a date range needs a date property")
            if prop.base != "date":
                return False
            moment = dt.datetime.fromtimestamp(value.seconds, tz=dt.timezone.utc)
            return _RANGES[op](self._filterable(prop, ranged=True), moment)
        if prop.base not in ("int", "number"):
            return False  # ranges compare numbers only, and this property holds none
        bound: Any = value
        if prop.base == "int":
            rounded = _int_bound(op, value)
            if isinstance(rounded, bool):
                return self._exists(prop) if rounded else False
            bound = rounded
        elif isinstance(value, int) and abs(value) > _MAX_EXACT:
            raise self._refuse(prop, f"Weaviate compares numbers as float64 and cannot tell {value} apart")
        else:
            bound = float(value)
        return _RANGES[op](self._filterable(prop, ranged=True), bound)


_RANGES: dict[str, Callable[[_FilterByProperty, Any], Compiled]] = {
    "gt": lambda p, v: p.greater_than(v),
    "gte": lambda p, v: p.greater_or_equal(v),
    "lt": lambda p, v: p.less_than(v),
    "lte": lambda p, v: p.less_or_equal(v),
}


def _int_bound(op: str, value: float) -> int | bool:
    """The integer bound selecting the same int64 values as ``op value``; True/False when every
    int64 value does / none does."""
    low, high = _INT64
    edge = math.floor(value) if op in ("gt", "lte") else math.ceil(value)
    if op in ("gt", "gte"):
        if edge > high:
            return False
        return True if edge < low else int(edge)
    if edge < low:
        return False
    return True if edge > high else int(edge)
