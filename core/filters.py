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
* Range operators take numbers and match numeric values only, or take a date (a ``datetime`` or
  an ISO-8601 string) and match date strings only, compared as instants (see ``dates.py``).
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

from .dates import instant, to_instant
from .errors import InvalidFilter
from .limits import MAX_FILTER_CONDITIONS, MAX_FILTER_DEPTH, MAX_FILTER_LIST, MAX_SAFE_INTEGER

__all__ = [
    "And",
    "Comparison",
    "Instant",
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
class Instant:
    """The value of a date range: seconds since the epoch (UTC), and the value as given."""

    seconds: float
    given: str


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
    """Parse a filter dict (or pass an AST through). ``None`` and ``{}`` mean "no filter".

    Limits (``vecbridge.core.limits``): at most ``MAX_FILTER_DEPTH`` nested ``$and/$or/$not``,
    ``MAX_FILTER_CONDITIONS`` field conditions and ``MAX_FILTER_LIST`` values per ``$in``/``$nin``.
    """
    if obj is None:
        return None
    if isinstance(obj, (Comparison, And, Or, Not)):
        _check_size(obj)
        return obj
    if not isinstance(obj, Mapping):
        raise InvalidFilter(f"a filter must be a dict such as {{'year': {{'$gte': 2020}}}}, got {type(obj).__name__}")
    if not obj:
        return None
    counter = [0]
    return _parse_mapping(obj, 1, counter)


def _check_size(node: FilterNode) -> None:
    """An AST built by hand obeys the same limits as a parsed one."""
    stack: list[tuple[FilterNode, int]] = [(node, 1)]
    conditions = 0
    while stack:
        current, depth = stack.pop()
        if depth > MAX_FILTER_DEPTH:
            raise InvalidFilter(f"filter nested more than {MAX_FILTER_DEPTH} levels deep (vecbridge's limit)")
        if isinstance(current, (And, Or)):
            stack.extend((c, depth + 1) for c in current.children)
        elif isinstance(current, Not):
            stack.append((current.child, depth + 1))
        else:
            conditions += 1
    if conditions > MAX_FILTER_CONDITIONS:
        raise InvalidFilter(
            f"filter has {conditions} conditions, more than vecbridge's limit of {MAX_FILTER_CONDITIONS}"
        )


def _parse_mapping(obj: Mapping[str, Any], depth: int, counter: list[int]) -> FilterNode:
    if depth > MAX_FILTER_DEPTH:
        raise InvalidFilter(f"filter nested more than {MAX_FILTER_DEPTH} levels deep (vecbridge's limit): simplify it")
    if not obj:
        raise InvalidFilter("an empty filter {} is not allowed inside $and/$or/$not")
    parts: list[FilterNode] = []
    for key, value in obj.items():
        if not isinstance(key, str):
            raise InvalidFilter(f"filter keys must be strings, got {key!r}")
        if key in ("$and", "$or"):
            if not isinstance(value, (list, tuple)) or not value:
                raise InvalidFilter(f"{key} takes a non-empty list of filters, got {_short(value)}")
            children = tuple(_parse_mapping(_as_mapping(v, key), depth + 1, counter) for v in value)
            parts.append(And(children) if key == "$and" else Or(children))
        elif key == "$not":
            parts.append(Not(_parse_mapping(_as_mapping(value, key), depth + 1, counter)))
        elif key.startswith("$"):
            raise InvalidFilter(f"unknown operator {key!r} at the top level: use $and, $or, $not, or a field name")
        else:
            fields = _parse_field(key, value)
            counter[0] += len(fields)
            if counter[0] > MAX_FILTER_CONDITIONS:
                raise InvalidFilter(
                    f"filter has more than {MAX_FILTER_CONDITIONS} conditions (vecbridge's limit): "
                    "use $in for many values of one field"
                )
            parts.extend(fields)
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _as_mapping(value: Any, op: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidFilter(f"{op} takes filter dicts, got {_short(value)}")
    return value


def _check_field(name: str) -> str:
    if not name or "." in name:
        raise InvalidFilter(
            f"invalid field name {name!r}: use a top-level metadata key without dots "
            "(nested paths are not part of the portable filter language)"
        )
    _check_string(name, "a field name")
    return name


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_string(text: str, where: str) -> None:
    if "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text):
        raise InvalidFilter(f"{where} contains a NUL character or a lone surrogate (invalid Unicode)")


def _check_number(field: str, op: str, v: Any) -> None:
    if isinstance(v, float) and v != v:  # NaN never equals anything
        raise InvalidFilter(f"{field!r}: {op} NaN is not a comparable value")
    if isinstance(v, float) and v in (float("inf"), float("-inf")):
        raise InvalidFilter(f"{field!r}: {op} takes a finite number, got {v}")
    if isinstance(v, int) and not -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER:
        raise InvalidFilter(f"{field!r}: {op} {v} is beyond ±(2**53 - 1), the integers every store compares exactly")


def _check_scalar(field: str, op: str, v: Any) -> Scalar:
    if v is None:
        raise InvalidFilter(
            f"{field!r}: {op} null is not supported; use {{'{field}': {{'$exists': false}}}} "
            "to find records where the field is missing or null"
        )
    if not isinstance(v, (str, int, float, bool)):
        raise InvalidFilter(
            f"{field!r}: {op} takes a string, number or boolean, got {type(v).__name__} (use $in for a list of values)"
        )
    if isinstance(v, str):
        _check_string(v, f"{field!r}: the {op} value")
    elif _is_number(v):
        _check_number(field, op, v)
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
            moment = None if _is_number(value) else to_instant(value)
            if moment is not None:
                out.append(Comparison(field, op[1:], Instant(moment, str(value))))
                continue
            if not _is_number(value):
                raise InvalidFilter(
                    f"{field!r}: {op} takes a number or a date (datetime or ISO-8601 string such as "
                    f"'2024-05-01T12:00:00Z'), got {_short(value)}"
                )
            _check_number(field, op, value)
            out.append(Comparison(field, op[1:], value))
        elif op in ("$in", "$nin"):
            if not isinstance(value, (list, tuple)) or not value:
                raise InvalidFilter(
                    f"{field!r}: {op} takes a non-empty list of values, got {_short(value)} "
                    "(an empty $in can match nothing: skip the query instead)"
                )
            if len(value) > MAX_FILTER_LIST:
                raise InvalidFilter(
                    f"{field!r}: {op} has {len(value)} values, more than vecbridge's limit of {MAX_FILTER_LIST}: "
                    "split the query, or fetch records by id with get()"
                )
            out.append(Comparison(field, op[1:], tuple(_check_scalar(field, op, v) for v in value)))
        else:  # $exists
            if not isinstance(value, bool):
                raise InvalidFilter(f"{field!r}: $exists takes true or false, got {_short(value)}")
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


def _compare(a: Any, op: str, b: Any) -> bool:
    if isinstance(b, Instant):
        a = instant(a) if isinstance(a, str) else None
        if a is None:
            return False
        b = b.seconds
    elif not _is_number(a):
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
