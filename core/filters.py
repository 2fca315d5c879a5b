"""The portable filter language: Mongo-style dicts parsed into a small AST.

Every connector compiles the same AST into its store's native filter, and the conformance suite
checks each store against :func:`matches`, the reference evaluation written here once.

Syntax::

    {"year": 2024}                                   # shorthand for {"year": {"$eq": 2024}}
    {"year": {"$gte": 2020, "$lt": 2025}}            # several operators on one field: AND
    {"lang": {"$in": ["en", "de"]}, "draft": False}  # several fields: AND
    {"$or": [{"a": 1}, {"$not": {"b": {"$exists": True}}}]}

Operators: ``$eq $ne $gt $gte $lt $lte $in $nin $exists`` on fields, ``$and $or $not`` on filters.

Semantics (the same on every store):

* A field is *absent* when the key is missing, its value is ``null`` or it is an empty list.
  Absent fields never match ``$eq``, ``$in`` or a range; they do match ``$ne`` and ``$nin``.
* ``$ne``, ``$nin`` and ``$not`` are exact complements of ``$eq``, ``$in`` and their sub-filter.
* Types are strict: the string ``"1"`` does not equal the number ``1``, and ``True`` is not ``1``.
  Integers and floats compare as numbers (``2 == 2.0``).
* Range operators take numbers only and match numeric values only.
* A list value matches when *any* element matches (``{"tags": "x"}`` finds ``tags: ["x", "y"]``).
* ``$eq``/``$ne`` take a string, number or boolean; ``null`` is not a value to compare with:
  use ``{"$exists": False}``. ``$in``/``$nin`` take a non-empty list of those.
* Field names are top-level metadata keys; dotted paths into nested objects are not part of the
  portable language (a dot raises ``InvalidFilter``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .errors import InvalidFilter

__all__ = [
    "And",
    "Comparison",
    "FilterCompiler",
    "FilterNode",
    "Not",
    "Or",
    "is_absent",
    "matches",
    "parse_filter",
]

Scalar = str | int | float | bool

FIELD_OPS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists")
RANGE_OPS = ("$gt", "$gte", "$lt", "$lte")


@dataclass(frozen=True)
class Comparison:
    """``field <op> value``; ``op`` is one of FIELD_OPS without the ``$``."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class And:
    children: tuple[FilterNode, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[FilterNode, ...]


@dataclass(frozen=True)
class Not:
    child: FilterNode


FilterNode = Comparison | And | Or | Not


def parse_filter(obj: Mapping[str, Any] | FilterNode | None) -> FilterNode | None:
    """Parse a filter dict (or pass an AST through). ``None`` and ``{}`` mean "no filter"."""
    if obj is None:
        return None
    if isinstance(obj, (Comparison, And, Or, Not)):
        return obj
    if not isinstance(obj, Mapping):
        raise InvalidFilter(f"a filter must be a dict such as {{'year': {{'$gte': 2020}}}}, got {type(obj).__name__}")
    if not obj:
        return None
    return _parse_mapping(obj)


def _parse_mapping(obj: Mapping[str, Any]) -> FilterNode:
    if not obj:
        raise InvalidFilter("an empty filter {} is not allowed inside $and/$or/$not")
    parts: list[FilterNode] = []
    for key, value in obj.items():
        if not isinstance(key, str):
            raise InvalidFilter(f"filter keys must be strings, got {key!r}")
        if key in ("$and", "$or"):
            if not isinstance(value, (list, tuple)) or not value:
                raise InvalidFilter(f"{key} takes a non-empty list of filters, got {value!r}")
            children = tuple(_parse_mapping(_as_mapping(v, key)) for v in value)
            parts.append(And(children) if key == "$and" else Or(children))
        elif key == "$not":
            parts.append(Not(_parse_mapping(_as_mapping(value, key))))
        elif key.startswith("$"):
            raise InvalidFilter(
                f"unknown operator {key!r} at the top level: use $and, $or, $not, or a field name"
            )
        else:
            parts.extend(_parse_field(key, value))
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _as_mapping(value: Any, op: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidFilter(f"{op} takes filter dicts, got {value!r}")
    return value


def _check_field(name: str) -> str:
    if not name or "." in name:
        raise InvalidFilter(
            f"invalid field name {name!r}: use a top-level metadata key without dots "
            "(nested paths are not part of the portable filter language)"
        )
    return name


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_scalar(field: str, op: str, v: Any) -> Scalar:
    if v is None:
        raise InvalidFilter(
            f"{field!r}: {op} null is not supported; use {{'{field}': {{'$exists': false}}}} "
            "to find records where the field is missing or null"
        )
    if isinstance(v, float) and v != v:  # NaN never equals anything
        raise InvalidFilter(f"{field!r}: {op} NaN is not a comparable value")
    if not isinstance(v, (str, int, float, bool)):
        raise InvalidFilter(
            f"{field!r}: {op} takes a string, number or boolean, got {type(v).__name__} "
            "(use $in for a list of values)"
        )
    return v


def _parse_field(field: str, spec: Any) -> list[FilterNode]:
    _check_field(field)
    if not isinstance(spec, Mapping):
        return [Comparison(field, "eq", _check_scalar(field, "$eq", spec))]
    if not spec:
        raise InvalidFilter(f"{field!r}: empty operator dict; e.g. {{'{field}': {{'$eq': 1}}}}")
    out: list[FilterNode] = []
    for op, value in spec.items():
        if op not in FIELD_OPS:
            if isinstance(op, str) and not op.startswith("$"):
                raise InvalidFilter(
                    f"{field!r}: nested object {{'{op}': ...}} is not a filter; "
                    f"field operators are {', '.join(FIELD_OPS)}"
                )
            raise InvalidFilter(f"{field!r}: unknown operator {op!r}; use one of {', '.join(FIELD_OPS)}")
        if op in ("$eq", "$ne"):
            out.append(Comparison(field, op[1:], _check_scalar(field, op, value)))
        elif op in RANGE_OPS:
            if not _is_number(value) or value != value:
                raise InvalidFilter(f"{field!r}: {op} takes a number, got {value!r}")
            out.append(Comparison(field, op[1:], value))
        elif op in ("$in", "$nin"):
            if not isinstance(value, (list, tuple)) or not value:
                raise InvalidFilter(
                    f"{field!r}: {op} takes a non-empty list of values, got {value!r} "
                    "(an empty $in can match nothing: skip the query instead)"
                )
            out.append(Comparison(field, op[1:], tuple(_check_scalar(field, op, v) for v in value)))
        else:  # $exists
            if not isinstance(value, bool):
                raise InvalidFilter(f"{field!r}: $exists takes true or false, got {value!r}")
            out.append(Comparison(field, "exists", value))
    return out


# --- reference evaluation -------------------------------------------------------------------


def is_absent(value: Any) -> bool:
    """Missing, null and empty lists all count as absent."""
    return value is None or (isinstance(value, (list, tuple)) and len(value) == 0)


def _elements(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _same(a: Any, b: Scalar) -> bool:
    if isinstance(b, bool):
        return isinstance(a, bool) and a == b
    if _is_number(b):
        return _is_number(a) and a == b
    return isinstance(a, str) and a == b


def _compare(a: Any, op: str, b: float) -> bool:
    if not _is_number(a):
        return False
    if op == "gt":
        return bool(a > b)
    if op == "gte":
        return bool(a >= b)
    if op == "lt":
        return bool(a < b)
    return bool(a <= b)


def matches(node: FilterNode | Mapping[str, Any] | None, metadata: Mapping[str, Any]) -> bool:
    """Evaluate a filter against one record's metadata: the definition of the semantics."""
    if node is None or isinstance(node, Mapping):
        node = parse_filter(node)
        if node is None:
            return True
    if isinstance(node, And):
        return all(matches(c, metadata) for c in node.children)
    if isinstance(node, Or):
        return any(matches(c, metadata) for c in node.children)
    if isinstance(node, Not):
        return not matches(node.child, metadata)
    value = metadata.get(node.field)
    op = node.op
    if op == "exists":
        return (not is_absent(value)) is bool(node.value)
    if op in ("ne", "nin"):
        positive = Comparison(node.field, "eq" if op == "ne" else "in", node.value)
        return not matches(positive, metadata)
    if is_absent(value):
        return False
    elements = _elements(value)
    if op == "eq":
        return any(_same(e, node.value) for e in elements)
    if op == "in":
        return any(_same(e, v) for e in elements for v in node.value)
    return any(_compare(e, op, node.value) for e in elements)


# --- compiler base --------------------------------------------------------------------------

T = TypeVar("T")


class FilterCompiler(Generic[T]):
    """Base of each connector's filter compiler: one method per node type.

    Subclasses implement the four ``compile_*`` methods; ``compile`` parses and dispatches.
    Anything the store cannot express must raise ``UnsupportedFilter``, never be dropped.
    """

    def compile(self, filter: Mapping[str, Any] | FilterNode | None) -> T | None:
        node = parse_filter(filter)
        return None if node is None else self.visit(node)

    def visit(self, node: FilterNode) -> T:
        if isinstance(node, And):
            return self.compile_and([self.visit(c) for c in node.children])
        if isinstance(node, Or):
            return self.compile_or([self.visit(c) for c in node.children])
        if isinstance(node, Not):
            return self.compile_not(self.visit(node.child))
        return self.compile_comparison(node)

    def compile_and(self, children: list[T]) -> T:
        raise NotImplementedError

    def compile_or(self, children: list[T]) -> T:
        raise NotImplementedError

    def compile_not(self, child: T) -> T:
        raise NotImplementedError

    def compile_comparison(self, node: Comparison) -> T:
        raise NotImplementedError
