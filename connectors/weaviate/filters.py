"""The portable filter AST -> ``weaviate.classes.query.Filter`` over the typed filter properties.

A sub-filter that can be decided without the server compiles to the constant ``True`` or
``False``: Weaviate rejects conditions on properties missing from its schema, and a key that no
record ever held (in that value type) matches nothing. Constants fold through ``$and``, ``$or``
and ``$not``; the driver skips the request when the whole filter is ``False`` and sends no filter
when it is ``True``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Union

from weaviate.classes.query import Filter
from weaviate.collections.classes.filters import _Filters

from vecbridge.core.errors import UnsupportedFilter
from vecbridge.core.filters import Comparison, FilterCompiler, Instant

from .convert import index_value, scalar_kind, wrap_text
from .schema import KEYS_PROP, filter_property

__all__ = ["Compiled", "WeaviateFilterCompiler", "match_all"]

#: A compiled filter, or a constant when the answer is known without asking the server.
Compiled = Union[_Filters, bool]  # noqa: UP007 - a runtime alias, evaluated on Python 3.10

_NIL_UUID = "00000000-0000-0000-0000-000000000000"

_RANGES: dict[str, Callable[[Any, float], _Filters]] = {
    "gt": lambda p, v: p.greater_than(v),
    "gte": lambda p, v: p.greater_or_equal(v),
    "lt": lambda p, v: p.less_than(v),
    "lte": lambda p, v: p.less_or_equal(v),
}


def match_all() -> _Filters:
    """A filter every object matches, for deletes that must send one (``id == nil or id != nil``)."""
    return Filter.any_of([Filter.by_id().equal(_NIL_UUID), Filter.by_id().not_equal(_NIL_UUID)])


class WeaviateFilterCompiler(FilterCompiler[Compiled]):
    """Compile for one collection.

    ``has_property(name)`` says whether the collection's schema holds a property (the store looks
    it up, refreshing its cache on a miss). ``supports_not``: Weaviate's ``Not`` operator, needed for
    ``$ne``, ``$nin``, ``$not`` and ``$exists: false``, exists from Weaviate 1.33 on.
    """

    def __init__(self, has_property: Callable[[str], bool], *, supports_not: bool = True, server: str = "") -> None:
        self._has = has_property
        self._supports_not = supports_not
        self._server = server

    # ----- combinators with constant folding ------------------------------------------------

    def compile_and(self, children: list[Compiled]) -> Compiled:
        if any(c is False for c in children):
            return False
        live = [c for c in children if not isinstance(c, bool)]
        return Filter.all_of(live) if live else True

    def compile_or(self, children: list[Compiled]) -> Compiled:
        if any(c is True for c in children):
            return True
        live = [c for c in children if not isinstance(c, bool)]
        return Filter.any_of(live) if live else False

    def compile_not(self, child: Compiled) -> Compiled:
        if isinstance(child, bool):
            return not child
        if not self._supports_not:
            raise UnsupportedFilter(
                f"Weaviate {self._server or 'before 1.33'} has no Not operator, which $ne, $nin, $not and "
                "$exists: false need to match exactly (including records without the field): upgrade "
                "Weaviate to 1.33 or later, or rewrite the filter without negation"
            )
        return Filter.not_(child)

    # ----- field comparisons ----------------------------------------------------------------

    def compile_comparison(self, node: Comparison) -> Compiled:
        op = node.op
        if op == "exists":
            present = self._present(node.field)
            return present if node.value else self.compile_not(present)
        if op == "ne":
            return self.compile_not(self._any_of(node.field, [node.value]))
        if op == "nin":
            return self.compile_not(self._any_of(node.field, node.value))
        if op == "eq":
            return self._any_of(node.field, [node.value])
        if op == "in":
            return self._any_of(node.field, node.value)
        if op in _RANGES:
            # A date range compares the instants of date strings; a number range, numbers only.
            kind, value = ("date", node.value.seconds) if isinstance(node.value, Instant) else ("number", node.value)
            prop = filter_property(node.field, kind)
            if not self._has(prop):
                return False
            return _RANGES[op](Filter.by_property(prop), index_value(kind, value))
        raise UnsupportedFilter(f"operator ${op} is not known to the Weaviate connector")  # pragma: no cover

    def _present(self, key: str) -> Compiled:
        return Filter.by_property(KEYS_PROP).equal(wrap_text(key))

    def _any_of(self, key: str, values: Sequence[Any]) -> Compiled:
        """Any element of ``key`` equals any of ``values``, each compared within its own type."""
        by_kind: dict[str, list[Any]] = {}
        for value in values:
            kind = scalar_kind(value)
            assert kind is not None  # the parser admits scalars only
            stored = index_value(kind, value)
            bucket = by_kind.setdefault(kind, [])
            if stored not in bucket:
                bucket.append(stored)
        parts: list[Compiled] = []
        for kind, stored_values in by_kind.items():
            prop = filter_property(key, kind)
            if not self._has(prop):
                continue
            target = Filter.by_property(prop)
            single = len(stored_values) == 1
            parts.append(target.equal(stored_values[0]) if single else target.contains_any(stored_values))
        return self.compile_or(parts)
