"""The portable filter AST -> Pinecone's filter dict, with the core semantics kept exact.

Pinecone has ``$eq $ne $gt $gte $lt $lte $in $nin $exists $and $or`` and no ``$not``. Where its
semantics differ from the core's (``vecbridge.core.filters``), the compiled filter makes up the
difference:

* ``$ne`` / ``$nin`` do not match records that lack the field on Pinecone (a 2024 change); the
  core says they do. Both compile to ``{"$or": [<$ne/$nin>, {field: {"$exists": false}}]}``, which
  is right whichever way Pinecone treats missing fields.
* ``$in`` / ``$nin`` take strings and numbers only: booleans in the list become ``$eq`` / ``$ne``.
* ``$not`` is pushed down to the leaves by De Morgan (``not (a and b)`` = ``not a or not b``), and
  each negated comparison becomes its exact complement: ``$eq``<->``$ne``, ``$in``<->``$nin``,
  ``$exists`` flipped. A negated range (``not year > 2020``) must also match fields that are
  missing or hold no number, which Pinecone cannot test directly; vecbridge lists the keys that hold
  numbers in the reserved key ``_vb_num`` of every record it writes, so the complement is
  ``{"$or": [{f: {"$lte": v}}, {"_vb_num": <exists and does not contain f>}]}``. On records written
  by other tools (no ``_vb_num``) a negated range matches numbers on the right side and missing
  fields, but not fields holding strings or booleans.
* Pinecone compares numbers as 64-bit floats, so integers beyond +-2**53 raise ``UnsupportedFilter``.
* A date range (a ``core.filters.Instant`` value) compares the instants vecbridge keeps beside date
  strings (see ``metadata``): ``$gt``/``$gte`` the latest of a field's dates, ``$lt``/``$lte`` the
  earliest, which is "any element matches" for lists too. Its complement is the opposite range on
  the same key or the key's absence: exact, since those keys only ever hold numbers.

Null, missing and empty lists are the same thing in the core; vecbridge never stores ``None`` or
``[]`` (see ``metadata``), so ``$exists`` is exact on what vecbridge wrote.
"""

from __future__ import annotations

from typing import Any

from vecbridge.core.errors import InvalidFilter, UnsupportedFilter
from vecbridge.core.filters import And, Comparison, FilterCompiler, FilterNode, Instant, Not, Or

from .metadata import MAX_EXACT_INT, NUMERIC_KEY, RESERVED_PREFIX, earliest_key, latest_key

__all__ = ["PineconeFilter", "PineconeFilterCompiler"]

PineconeFilter = dict[str, Any]

_RANGE_COMPLEMENT = {"gt": "$lte", "gte": "$lt", "lt": "$gte", "lte": "$gt"}


def _check_value(field: str, value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_EXACT_INT:
        raise UnsupportedFilter(
            f"{field!r}: Pinecone compares numbers as 64-bit floats and cannot tell {value} from its "
            "neighbours; compare against a smaller number or store such values as strings"
        )
    return value


def _instant_key(field: str, op: str) -> str:
    """Where a date range on ``field`` looks: "some date is later than t" is "the latest is"."""
    return latest_key(field) if op in ("gt", "gte") else earliest_key(field)


def _any_of(parts: list[PineconeFilter]) -> PineconeFilter:
    return parts[0] if len(parts) == 1 else {"$or": parts}


def _all_of(parts: list[PineconeFilter]) -> PineconeFilter:
    return parts[0] if len(parts) == 1 else {"$and": parts}


class PineconeFilterCompiler(FilterCompiler[PineconeFilter]):
    """Compile a portable filter into Pinecone's filter dict (see the module docstring)."""

    def visit(self, node: FilterNode) -> PineconeFilter:
        if isinstance(node, Not):
            return self._negate(node.child)
        return super().visit(node)

    def compile_and(self, children: list[PineconeFilter]) -> PineconeFilter:
        return _all_of(children)

    def compile_or(self, children: list[PineconeFilter]) -> PineconeFilter:
        return _any_of(children)

    def compile_not(self, child: PineconeFilter) -> PineconeFilter:  # pragma: no cover - visit handles Not
        raise UnsupportedFilter("Pinecone has no $not: it is pushed down before compiling")

    def compile_comparison(self, node: Comparison) -> PineconeFilter:
        field = self._field(node.field)
        op, value = node.op, node.value
        if op == "eq":
            return {field: {"$eq": _check_value(field, value)}}
        if op == "ne":
            return self._missing_or({field: {"$ne": _check_value(field, value)}}, field)
        if op in ("gt", "gte", "lt", "lte"):
            if isinstance(value, Instant):
                return {_instant_key(field, op): {f"${op}": value.seconds}}
            return {field: {f"${op}": _check_value(field, value)}}
        if op == "in":
            return self._membership(field, value)
        if op == "nin":
            return self._missing_or(self._non_membership(field, value), field)
        if op == "exists":
            return {field: {"$exists": bool(value)}}
        raise UnsupportedFilter(f"{field!r}: operator ${op} has no Pinecone equivalent")

    # ----- helpers ------------------------------------------------------------------------

    def _field(self, name: str) -> str:
        if name.startswith(RESERVED_PREFIX):
            raise InvalidFilter(
                f"{name!r} is one of vecbridge's reserved keys (prefix {RESERVED_PREFIX!r}) on Pinecone, "
                "not a metadata field you can filter on"
            )
        return name

    @staticmethod
    def _missing_or(condition: PineconeFilter, field: str) -> PineconeFilter:
        return {"$or": [condition, {field: {"$exists": False}}]}

    @staticmethod
    def _split(field: str, values: tuple[Any, ...]) -> tuple[list[Any], list[Any], list[bool]]:
        strings = [v for v in values if isinstance(v, str)]
        numbers = [_check_value(field, v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        booleans = list(dict.fromkeys(v for v in values if isinstance(v, bool)))
        return strings, numbers, booleans

    def _membership(self, field: str, values: tuple[Any, ...]) -> PineconeFilter:
        strings, numbers, booleans = self._split(field, values)
        parts: list[PineconeFilter] = []
        if strings:
            parts.append({field: {"$in": strings}})
        if numbers:
            parts.append({field: {"$in": numbers}})
        parts.extend({field: {"$eq": b}} for b in booleans)
        return _any_of(parts)

    def _non_membership(self, field: str, values: tuple[Any, ...]) -> PineconeFilter:
        strings, numbers, booleans = self._split(field, values)
        parts: list[PineconeFilter] = []
        if strings:
            parts.append({field: {"$nin": strings}})
        if numbers:
            parts.append({field: {"$nin": numbers}})
        parts.extend({field: {"$ne": b}} for b in booleans)
        return _all_of(parts)

    def _negate(self, node: FilterNode) -> PineconeFilter:
        """The exact complement of ``node``, without $not."""
        if isinstance(node, Not):
            return self.visit(node.child)
        if isinstance(node, And):
            return _any_of([self._negate(c) for c in node.children])
        if isinstance(node, Or):
            return _all_of([self._negate(c) for c in node.children])
        op = node.op
        if op in ("eq", "ne", "in", "nin"):
            flipped = {"eq": "ne", "ne": "eq", "in": "nin", "nin": "in"}[op]
            return self.compile_comparison(Comparison(node.field, flipped, node.value))
        if op == "exists":
            return self.compile_comparison(Comparison(node.field, "exists", not node.value))
        field = self._field(node.field)
        if isinstance(node.value, Instant):
            key = _instant_key(field, op)
            return _any_of([{key: {_RANGE_COMPLEMENT[op]: node.value.seconds}}, {key: {"$exists": False}}])
        value = _check_value(field, node.value)
        return _any_of(
            [
                {field: {_RANGE_COMPLEMENT[op]: value}},
                # The field holds no number: written by vecbridge and not listed among numeric keys.
                {"$and": [{NUMERIC_KEY: {"$exists": True}}, {NUMERIC_KEY: {"$nin": [field]}}]},
                # Written by another tool (no type list): at least a missing field is known not to match.
                {"$and": [{NUMERIC_KEY: {"$exists": False}}, {field: {"$exists": False}}]},
            ]
        )
