"""The portable filter AST -> a parameterised SQL condition on a collection's ``fields`` (its
metadata as jsonb) and ``dates`` (the instants of its date strings) columns.

Every metadata key and value travels inside a bind parameter (a text, a jsonb or a jsonpath); the
SQL text holds only fixed fragments. Each condition is two-valued (never SQL NULL), so ``NOT`` is an
exact complement, as the semantics of ``vecbridge.core.filters.matches`` require:

* ``$eq v`` / ``$in [...]`` of up to four strings: jsonb containment, ``fields @> '{"k": "v"}'
  OR fields @> '{"k": ["v"]}'`` (the string, or a list holding it), which PostgreSQL evaluates
  faster than a path test. Otherwise one SQL/JSON path test in lax mode,
  ``fields @? 'lax $."k" ? ((@ == 2 && @.type() == "number") || ...)'``, served by the GIN index
  on ``fields``. The alternatives of a long ``$in`` are grouped as a balanced tree, so 1,024
  values nest 10 levels deep instead of 1,024 (PostgreSQL's jsonpath evaluator recurses per
  level). SQL/JSON equality is type-strict (``"1" != 1``, ``true != 1``) and compares
  numbers as numbers (``2 == 2.0``); lax mode reads a list value element by element; a missing
  key, ``null`` or ``[]`` yields nothing (false, never NULL).
* ``$ne``/``$nin``/``$not``: NOT of the positive form.
* ranges: a SQL/JSON path in *strict* mode over the value wrapped as a list,
  ``strict $[*] ? (@.type() == "number" && @ > $v)`` with ``$v`` from a vars object: numbers only,
  any element of a list, and no lax-mode unwrapping of nested lists (``[[3]]`` is not > 2).
  Numbers compare as ``numeric``: exactly, and the same way as Python compares the floats (each
  float is written as its shortest round-tripping decimal).
* date ranges (the value is a ``core.filters.Instant``): the same test on ``dates``, which holds
  only the instants of date strings, so numbers never match a date range.
* ``$exists``: the key's value is not missing, ``null`` or ``[]``.

A key or string value holding NUL (U+0000) can never be stored (PostgreSQL refuses it, upserts say
so), so such a key is absent from every record and such a value equals nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from vecbridge.core.errors import UnsupportedFilter
from vecbridge.core.filters import Comparison, FilterCompiler, FilterNode, Instant

__all__ = ["PgFilterCompiler", "SqlCondition", "compile_filter"]

# The comparison sign is picked from this fixed table, never taken from input.
_RANGE_SIGN = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _json_type(value: Any) -> str:
    """The SQL/JSON ``.type()`` name of a filter value (bool before int: True is an int in Python)."""
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, (int, float)) else "string"


@dataclass(frozen=True)
class SqlCondition:
    """A boolean SQL expression and the named parameters it uses."""

    clause: sql.Composable
    params: dict[str, Any] = field(default_factory=dict)


_FALSE = SqlCondition(sql.SQL("false"))

#: Up to this many string values, ``$eq`` / ``$in`` use jsonb containment (``_contains_any``);
#: longer lists, and other types, one path test (a long OR of containments plans worse).
_CONTAINMENT_MAX = 4


def _merge(parts: list[SqlCondition], joiner: str) -> SqlCondition:
    params: dict[str, Any] = {}
    for p in parts:
        params.update(p.params)
    clause = sql.SQL("(") + sql.SQL(joiner).join(p.clause for p in parts) + sql.SQL(")")
    return SqlCondition(clause, params)


class PgFilterCompiler(FilterCompiler[SqlCondition]):
    """Compiles one filter; parameter names are unique within it (``f0``, ``f1`` ...).

    Use a new compiler per filter (``compile_filter``): the counter is per instance. ``fields``
    and ``dates``: the jsonb expressions the tests read (a vecbridge collection's columns by
    default; an adopted table's metadata expression, and None when it has no date shadow).
    ``nullable``: ``fields`` may be SQL NULL (an adopted table's nullable metadata column), so
    ``NOT`` reads NULL as false first and stays the exact complement.
    """

    def __init__(
        self,
        prefix: str = "f",
        fields: sql.Composable = sql.Identifier("fields"),
        dates: sql.Composable | None = sql.Identifier("dates"),
        nullable: bool = False,
    ) -> None:
        self._prefix = prefix
        self._nullable = nullable
        self._counter = 0
        self._fields = fields
        self._dates = dates

    def _param(self, params: dict[str, Any], value: Any) -> sql.Placeholder:
        name = f"{self._prefix}{self._counter}"
        self._counter += 1
        params[name] = value
        return sql.Placeholder(name)

    def compile_and(self, children: list[SqlCondition]) -> SqlCondition:
        return _merge(children, " AND ")

    def compile_or(self, children: list[SqlCondition]) -> SqlCondition:
        return _merge(children, " OR ")

    def compile_not(self, child: SqlCondition) -> SqlCondition:
        if self._nullable:
            # Without NOT, a NULL test behaves as false in every AND/OR above it; under NOT it must be read so first.
            return SqlCondition(sql.SQL("(NOT COALESCE({}, false))").format(child.clause), child.params)
        return SqlCondition(sql.SQL("(NOT {})").format(child.clause), child.params)

    def compile_comparison(self, node: Comparison) -> SqlCondition:
        op = node.op
        if "\x00" in node.field:
            # No stored key holds NUL (PostgreSQL cannot store it; upserts refuse it): the field is
            # absent on every record, so every positive test is false.
            positive = _FALSE
        elif op in ("eq", "ne"):
            positive = self._equals_any(node.field, [node.value])
        elif op in ("in", "nin"):
            positive = self._equals_any(node.field, list(node.value))
        elif op == "exists":
            positive = self._present(node.field)
        else:
            return self._range(node.field, op, node.value)
        negate = op in ("ne", "nin") or (op == "exists" and not node.value)
        return self.compile_not(positive) if negate else positive

    def _equals_any(self, key: str, values: list[Any]) -> SqlCondition:
        """``fields @? 'lax $."key" ? ((@ == "v" && @.type() == "string") || ...)'``, or for up
        to ``_CONTAINMENT_MAX`` strings the containment form of ``_contains_any`` (same rows).

        One SQL/JSON path test, which the GIN index (jsonb_path_ops) serves. Lax mode reads a
        missing key as nothing (false, never an error or NULL) and looks into a list value, so a
        list matches when any element does; the type test keeps types strict and stops lax mode
        from also looking into nested lists. Keys and values are written as JSON string/number
        literals (``json.dumps``), which SQL/JSON path reads the same way, and the whole path is a
        bind parameter.
        """
        values = [v for v in values if not (isinstance(v, str) and "\x00" in v)]  # never stored, so never equal
        if not values:
            return _FALSE
        if len(values) <= _CONTAINMENT_MAX and all(isinstance(v, str) for v in values):
            return self._contains_any(key, values)
        # The equality first: false for most rows, it spares them the type test (same result:
        # SQL/JSON's three-valued && is symmetric, and lax comparisons never raise).
        tests = [f'(@ == {json.dumps(v, ensure_ascii=False)} && @.type() == "{_json_type(v)}")' for v in values]
        path = f"lax $.{json.dumps(key, ensure_ascii=False)} ? {_any_of(tests)}"
        params: dict[str, Any] = {}
        clause = sql.SQL("({} @? {}::jsonpath)").format(self._fields, self._param(params, path))
        return SqlCondition(clause, params)

    def _contains_any(self, key: str, values: list[str]) -> SqlCondition:
        """``(fields @> '{"k": "v"}' OR fields @> '{"k": ["v"]}' OR ...)``: the same rows as the
        path test for strings — the value itself, or a list holding it as a direct element
        (jsonb containment does not look into nested lists, nor does the path test) — at about
        two thirds of its cost per row, and served by the same GIN index."""
        tests = []
        for form in (f for v in values for f in (v, [v])):
            params: dict[str, Any] = {}
            clause = sql.SQL("{} @> {}").format(self._fields, self._param(params, Jsonb({key: form})))
            tests.append(SqlCondition(clause, params))
        return _merge(tests, " OR ")

    def _present(self, key: str) -> SqlCondition:
        params: dict[str, Any] = {}
        value = sql.SQL("({} -> {}::text)").format(self._fields, self._param(params, key))
        # A missing key gives SQL NULL: COALESCE keeps the result two-valued.
        clause = sql.SQL("COALESCE({} NOT IN ('null'::jsonb, '[]'::jsonb), false)").format(value)
        return SqlCondition(clause, params)

    def _range(self, key: str, op: str, bound: float | Instant) -> SqlCondition:
        params: dict[str, Any] = {}
        if isinstance(bound, Instant) and self._dates is None:
            raise UnsupportedFilter(
                f"a date range on {key!r} needs the instants vecbridge keeps beside the metadata it writes, "
                "which this table (adopted) does not have: migrate it into a vecbridge collection and "
                "filter there, or compare the date strings with $eq/$in"
            )
        column = self._dates if isinstance(bound, Instant) else self._fields
        limit = bound.seconds if isinstance(bound, Instant) else bound
        value = sql.SQL("({} -> {}::text)").format(column, self._param(params, key))
        # The path text comes from the fixed sign table; it is still sent as a parameter, like
        # everything else that is not an SQL keyword.
        path = f'strict $[*] ? (@.type() == "number" && @ {_RANGE_SIGN[op]} $v)'
        clause = sql.SQL(
            "COALESCE(jsonb_path_exists("
            "CASE WHEN jsonb_typeof({value}) = 'array' THEN {value} ELSE jsonb_build_array({value}) END, "
            "{path}::jsonpath, {vars}, true), false)"
        ).format(value=value, path=self._param(params, path), vars=self._param(params, Jsonb({"v": limit})))
        return SqlCondition(clause, params)


def _any_of(tests: list[str]) -> str:
    """``(a || b || ...)`` as a balanced tree of parenthesised pairs: depth log2(n), not n."""
    if len(tests) == 1:
        return f"({tests[0]})"
    middle = len(tests) // 2
    return f"({_any_of(tests[:middle])} || {_any_of(tests[middle:])})"


def compile_filter(
    node: FilterNode | None,
    fields: sql.Composable = sql.Identifier("fields"),
    dates: sql.Composable | None = sql.Identifier("dates"),
    nullable: bool = False,
) -> SqlCondition | None:
    """SQL condition for a parsed filter, or None for "no filter" (``fields``, ``dates``,
    ``nullable``: see ``PgFilterCompiler``)."""
    return None if node is None else PgFilterCompiler(fields=fields, dates=dates, nullable=nullable).visit(node)
