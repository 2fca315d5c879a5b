"""Portable filter AST -> Qdrant filter, for qdrant-client models and Qdrant Edge alike.

The two APIs name their classes alike but differ in a few constructors, so the compiler speaks to
a small ``Dialect``. Semantics, mapped to Qdrant's:

* numbers compare with ``Range(gte=v, lte=v)`` rather than ``MatchValue``, so ``2`` finds ``2.0``
  (MatchValue only matches integers) and booleans never match numbers;
* ``$ne``/``$nin``/``$not`` become ``must_not``, which is an exact complement (it matches points
  where the field is missing, as the portable semantics require);
* "absent" is Qdrant's ``IsEmpty`` (missing, null or ``[]``) — the same definition as ours;
* Qdrant matches a list payload when any element matches, as ours does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vecbridge.core.errors import UnsupportedFilter
from vecbridge.core.filters import Comparison, FilterCompiler, FilterNode

from .convert import bool_path, metadata_path

__all__ = ["Dialect", "QdrantFilterCompiler", "client_dialect", "edge_dialect"]


@dataclass(frozen=True)
class Dialect:
    filter: Callable[..., Any]  # (must=, should=, must_not=) -> Filter
    filter_type: type  # the Filter class, to tell a compiled Filter from a bare condition
    match_value: Callable[[str, Any], Any]
    match_any: Callable[[str, list[str]], Any]
    range: Callable[..., Any]  # (key, gt=, gte=, lt=, lte=) -> condition
    is_empty: Callable[[str], Any]
    #: Edge: booleans are matched on a shadow copy (see convert.BOOL_KEY).
    bool_shadow: bool = False


def client_dialect() -> Dialect:
    from qdrant_client import models as m

    return Dialect(
        filter=lambda **kw: m.Filter(**kw),
        filter_type=m.Filter,
        match_value=lambda k, v: m.FieldCondition(key=k, match=m.MatchValue(value=v)),
        match_any=lambda k, vs: m.FieldCondition(key=k, match=m.MatchAny(any=vs)),
        range=lambda k, **kw: m.FieldCondition(key=k, range=m.Range(**kw)),
        is_empty=lambda k: m.IsEmptyCondition(is_empty=m.PayloadField(key=k)),
    )


def edge_dialect() -> Dialect:
    import qdrant_edge as e

    return Dialect(
        filter=lambda **kw: e.Filter(**kw),
        filter_type=e.Filter,
        match_value=lambda k, v: e.FieldCondition(k, match=e.MatchValue(v)),
        match_any=lambda k, vs: e.FieldCondition(k, match=e.MatchAny(vs)),
        range=lambda k, **kw: e.FieldCondition(k, range=e.RangeFloat(**kw)),
        is_empty=lambda k: e.IsEmptyCondition(k),
        bool_shadow=True,
    )


class QdrantFilterCompiler(FilterCompiler[Any]):
    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect

    def root(self, node: FilterNode | None) -> Any:
        """The filter a query takes: always a Filter, never a bare condition (None: no filter)."""
        if node is None:
            return None
        compiled = self.visit(node)
        return compiled if isinstance(compiled, self.d.filter_type) else self.d.filter(must=[compiled])

    def compile_and(self, children: list[Any]) -> Any:
        return self.d.filter(must=children)

    def compile_or(self, children: list[Any]) -> Any:
        return self.d.filter(should=children)

    def compile_not(self, child: Any) -> Any:
        return self.d.filter(must_not=[child])

    def _eq(self, field: str, value: Any) -> Any:
        if isinstance(value, bool) and self.d.bool_shadow:
            return self.d.match_value(bool_path(field), "true" if value else "false")
        if isinstance(value, (str, bool)):
            return self.d.match_value(metadata_path(field), value)
        return self.d.range(metadata_path(field), gte=float(value), lte=float(value))

    def _in(self, field: str, values: tuple[Any, ...]) -> Any:
        if all(isinstance(v, str) for v in values):
            return self.d.match_any(metadata_path(field), list(values))
        return self.d.filter(should=[self._eq(field, v) for v in values])

    def compile_comparison(self, node: Comparison) -> Any:
        if '"' in node.field:
            raise UnsupportedFilter(f"Qdrant cannot filter on a metadata key containing a double quote: {node.field!r}")
        field, key = node.field, metadata_path(node.field)
        op, value = node.op, node.value
        if op == "eq":
            return self._eq(field, value)
        if op == "ne":
            return self.d.filter(must_not=[self._eq(field, value)])
        if op == "in":
            return self._in(field, value)
        if op == "nin":
            return self.d.filter(must_not=[self._in(field, value)])
        if op in ("gt", "gte", "lt", "lte"):
            return self.d.range(key, **{op: float(value)})
        if op == "exists":
            empty = self.d.is_empty(key)
            return self.d.filter(must_not=[empty]) if value else empty
        raise UnsupportedFilter(f"operator ${op} is not supported by the Qdrant connector")
