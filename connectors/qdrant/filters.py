"""Portable filter AST -> Qdrant filter, for qdrant-client models and Qdrant Edge alike.

The two APIs name their classes alike but differ in constructors, so the compiler speaks to a
small ``Dialect``. Semantics, mapped onto the payload layout of ``convert.py``:

* strings compare on ``metadata."field"`` with ``MatchValue`` / ``MatchAny``;
* integers compare with ``MatchValue``/``MatchAny`` on ``metadata."field"``, booleans and floats
  Qdrant may move on their keys (``"vecbridge_key:field"``), floats it keeps exactly by value
  (numbers.py): ``2`` finds ``2.0``, ``True`` never finds ``1`` (Edge's binding turns
  ``MatchValue(True)`` into ``1``), and a float Qdrant parsed a few ulps off still matches;
* a range is the stored number beyond a moved bound, or a key next to the value
  (numbers.py); a date range does the same on the instants of date strings (``vecbridge_dates``);
* ``$ne``/``$nin``/``$not`` become ``must_not``, an exact complement (it matches points where the
  field is missing, as the portable semantics require);
* "absent" is Qdrant's ``IsEmpty`` (missing, null or ``[]``) — the same definition as ours;
* Qdrant matches a list payload when any element matches, as ours does.

In a multi-tenant collection every filter is wrapped with the tenant's condition on
``vecbridge_tenant``, which no user filter can address (user fields live under ``metadata``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vecbridge.core.errors import UnsupportedFilter
from vecbridge.core.filters import Comparison, FilterCompiler, FilterNode, Instant

from .convert import DATE_KEYS_KEY, DATES_KEY, METADATA_KEY, TENANT_KEY, field_path, key_path
from .numbers import Exact, equal_to, kept_exactly, range_plan

__all__ = ["AdoptedFilterCompiler", "Dialect", "QdrantFilterCompiler", "client_dialect", "edge_dialect"]


@dataclass(frozen=True)
class Dialect:
    filter: Callable[..., Any]  # (must=, should=, must_not=) -> Filter
    filter_type: type  # the Filter class, to tell a compiled Filter from a bare condition
    match_value: Callable[[str, str | int], Any]
    match_any: Callable[[str, list[str] | list[int]], Any]
    range: Callable[..., Any]  # (key, gt= | lt=) -> condition
    is_empty: Callable[[str], Any]


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
    )


class QdrantFilterCompiler(FilterCompiler[Any]):
    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect

    def root(self, node: FilterNode | None, tenant: str | None = None) -> Any:
        """The filter a request takes: always a Filter (None: no filter and no tenant)."""
        parts = [] if tenant is None else [self.d.match_value(TENANT_KEY, tenant)]
        if node is not None:
            compiled = self.visit(node)
            if not parts and isinstance(compiled, self.d.filter_type):
                return compiled
            parts.append(compiled)
        return self.d.filter(must=parts) if parts else None

    def compile_and(self, children: list[Any]) -> Any:
        return self.d.filter(must=children)

    def compile_or(self, children: list[Any]) -> Any:
        return self.d.filter(should=children)

    def compile_not(self, child: Any) -> Any:
        return self.d.filter(must_not=[child])

    def _any_of(self, conditions: list[Any]) -> Any:
        return conditions[0] if len(conditions) == 1 else self.d.filter(should=conditions)

    def _in(self, field: str, values: tuple[Any, ...]) -> Any:
        strings = [v for v in values if isinstance(v, str)]
        exact = sum((equal_to(v) for v in values if not isinstance(v, str)), Exact())
        conditions = [self._match(field_path(METADATA_KEY, field), strings)] if strings else []
        conditions += self._exact(field_path(METADATA_KEY, field), key_path(field), exact)
        return self._any_of(conditions)

    def _match(self, path: str, values: list[Any]) -> Any:
        return self.d.match_value(path, values[0]) if len(values) == 1 else self.d.match_any(path, values)

    def _exact(self, values: str, keys: str, exact: Exact) -> list[Any]:
        """Conditions for stored values among ``exact``: integers and floats kept exactly on
        ``values`` (the floats only where the field has no keys), keys on ``keys``."""
        conditions = [self._match(values, list(exact.ints))] if exact.ints else []
        if exact.keys:
            conditions.append(self._match(keys, list(exact.keys)))
        for low, high in exact.spans:
            span = self.d.range(values, gte=low, lte=high)
            conditions.append(self.d.filter(must=[span, self.d.is_empty(keys)]))
        return conditions

    def _range(self, field: str, op: str, value: Any) -> Any:
        if isinstance(value, Instant):  # instants are floats with a key each
            plan = range_plan(op, value.seconds)
            numbers, keys, near = field_path(DATES_KEY, field), field_path(DATE_KEYS_KEY, field), plan.near
            near = Exact(keys=near.keys)
        else:
            plan = range_plan(op, value)
            numbers, keys, near = field_path(METADATA_KEY, field), key_path(field), plan.near
        conditions = self._exact(numbers, keys, near)
        if plan.bound is not None:
            conditions.insert(0, self.d.range(numbers, **{plan.bound_op: plan.bound}))
        return self._any_of(conditions)

    def compile_comparison(self, node: Comparison) -> Any:
        if '"' in node.field:
            raise UnsupportedFilter(f"Qdrant cannot filter on a metadata key containing a double quote: {node.field!r}")
        field, op, value = node.field, node.op, node.value
        if op in ("eq", "ne"):
            positive = self._in(field, (value,))
            return positive if op == "eq" else self.d.filter(must_not=[positive])
        if op in ("in", "nin"):
            positive = self._in(field, value)
            return positive if op == "in" else self.d.filter(must_not=[positive])
        if op in ("gt", "gte", "lt", "lte"):
            return self._range(field, op, value)
        if op == "exists":
            empty = self.d.is_empty(field_path(METADATA_KEY, field))
            return self.d.filter(must_not=[empty]) if value else empty
        raise UnsupportedFilter(f"operator ${op} is not supported by the Qdrant connector")


class AdoptedFilterCompiler(QdrantFilterCompiler):
    """Filters on a collection another tool wrote (layouts.py): each field at the payload path its
    layout gives (``path``), numbers and booleans compared by value, as that tool stored them.

    ``2`` finds ``2.0`` (a number is matched with a closed range on itself, which Qdrant applies to
    integers and floats alike and never to booleans); ``True`` is matched as a boolean, never ``1``.
    Over Qdrant's REST API the server parses a float in a filter the way it parses payloads, which
    can move it by up to 2 ulps (numbers.py): there a float it may move is refused (gRPC and local
    mode compare it exactly, and the numbers people write, ``19.99`` or ``0.5``, are kept exactly; an
    integer travels as a float too, ``n.0``, so this refuses integers above 2**53 // 10).
    Date ranges need the instants vecbridge stores beside its own date strings, which another tool's
    points do not have: refused.
    """

    def __init__(self, dialect: Dialect, path: Callable[[str], str], *, exact_floats: bool) -> None:
        super().__init__(dialect)
        self.path = path
        self.exact_floats = exact_floats

    def _number(self, value: int | float) -> float | int:
        # Ranges carry floats (an integer too: 2**53 - 1 travels as 9007199254740991.0).
        if not self.exact_floats and not kept_exactly(float(value)):
            raise UnsupportedFilter(
                f"a Qdrant server over REST may read the number {value!r} a few ulps off: connect with ?grpc=true "
                "to filter on it exactly, or use a value with at most 15 significant digits"
            )
        return value

    def compile_comparison(self, node: Comparison) -> Any:
        path, op, value = self.path(node.field), node.op, node.value
        if op in ("eq", "ne", "in", "nin"):
            values = (value,) if op in ("eq", "ne") else tuple(value)
            strings = [v for v in values if type(v) is str]
            conditions = [self._match(path, strings)] if strings else []
            conditions += [self.d.match_value(path, v) for v in dict.fromkeys(values) if type(v) is bool]
            conditions += [
                self.d.range(path, gte=self._number(v), lte=self._number(v))
                for v in dict.fromkeys(values)
                if type(v) in (int, float)
            ]
            positive = self._any_of(conditions)
            return positive if op in ("eq", "in") else self.d.filter(must_not=[positive])
        if op in ("gt", "gte", "lt", "lte"):
            if isinstance(value, Instant):
                raise UnsupportedFilter(
                    f"date ranges ({node.field!r} {op} {value.given!r}) need the instants vecbridge stores beside its "
                    "own date strings; this collection was written by another tool: migrate it first to filter by date"
                )
            return self.d.range(path, **{op: self._number(value)})
        if op == "exists":
            empty = self.d.is_empty(path)
            return self.d.filter(must_not=[empty]) if value else empty
        raise UnsupportedFilter(f"operator ${op} is not supported by the Qdrant connector")
