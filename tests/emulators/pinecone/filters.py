"""Pinecone's metadata filter language, evaluated the way Pinecone documents and behaves.

* Operators: ``$eq $ne $gt $gte $lt $lte $in $nin $exists`` on fields, ``$and $or`` on filters;
  a bare value is ``$eq``; several keys in one dict are ANDed. Anything else (``$not``,
  ``$regex``...) is a 400.
* ``$eq``/``$ne`` take a string, number or boolean; ranges a number; ``$in``/``$nin`` a list of
  strings and numbers (no booleans); ``$exists`` a boolean.
* A list of strings matches ``$eq``/``$in`` when any element does; ``$ne``/``$nin`` when none does.
* Numbers are 64-bit floats (``2 == 2.0``); a boolean is not a number; types are strict.
* A record without the field matches only ``$exists: false``. In particular ``$ne``/``$nin`` do
  not match it (Pinecone changed this in 2024; see deepset-ai/haystack-core-integrations#590).
"""

from __future__ import annotations

from typing import Any

from .errors import ApiFailure

__all__ = ["evaluate", "validate"]

_FIELD_OPS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists"})


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _bad(message: str) -> ApiFailure:
    return ApiFailure(400, f"Invalid filter: {message}")


def validate(flt: Any) -> None:
    """Raise a 400 ``ApiFailure`` for a filter Pinecone would refuse."""
    if not isinstance(flt, dict):
        raise _bad("the filter must be a JSON object")
    for key, value in flt.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise _bad(f"{key} takes a non-empty array of filters")
            for sub in value:
                validate(sub)
        elif key.startswith("$"):
            raise _bad(f"unsupported operator {key}; supported: $and, $or, " + ", ".join(sorted(_FIELD_OPS)))
        elif isinstance(value, dict):
            if not value:
                raise _bad(f"empty operator object for field {key!r}")
            for op, arg in value.items():
                _validate_op(key, op, arg)
        else:
            _validate_op(key, "$eq", value)


def _validate_op(field: str, op: str, arg: Any) -> None:
    if op not in _FIELD_OPS:
        raise _bad(f"unsupported operator {op} for field {field!r}")
    if op in ("$eq", "$ne"):
        if not isinstance(arg, (str, bool)) and not _is_number(arg):
            raise _bad(f"{op} for field {field!r} takes a string, number or boolean")
    elif op in ("$gt", "$gte", "$lt", "$lte"):
        if not _is_number(arg):
            raise _bad(f"{op} for field {field!r} takes a number")
    elif op in ("$in", "$nin"):
        if not isinstance(arg, list) or not all(isinstance(a, str) or _is_number(a) for a in arg):
            raise _bad(f"{op} for field {field!r} takes an array of strings and numbers")
    elif not isinstance(arg, bool):
        raise _bad(f"$exists for field {field!r} takes true or false")


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, bool) or isinstance(a, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(b):
        return _is_number(a) and float(a) == float(b)
    return isinstance(a, str) and a == b


def _field_matches(present: bool, value: Any, op: str, arg: Any) -> bool:
    if op == "$exists":
        return present == bool(arg)
    if not present:
        return False
    elements = value if isinstance(value, list) else [value]
    if op == "$eq":
        return any(_same(e, arg) for e in elements)
    if op == "$ne":
        return not any(_same(e, arg) for e in elements)
    if op == "$in":
        return any(_same(e, a) for e in elements for a in arg)
    if op == "$nin":
        return not any(_same(e, a) for e in elements for a in arg)
    numbers = [float(e) for e in elements if _is_number(e)]
    if op == "$gt":
        return any(n > arg for n in numbers)
    if op == "$gte":
        return any(n >= arg for n in numbers)
    if op == "$lt":
        return any(n < arg for n in numbers)
    return any(n <= arg for n in numbers)


def evaluate(flt: dict[str, Any], metadata: dict[str, Any]) -> bool:
    """Whether a record with ``metadata`` matches the (validated) filter."""
    for key, value in flt.items():
        if key == "$and":
            ok = all(evaluate(sub, metadata) for sub in value)
        elif key == "$or":
            ok = any(evaluate(sub, metadata) for sub in value)
        else:
            present = key in metadata
            ops = value if isinstance(value, dict) else {"$eq": value}
            ok = all(_field_matches(present, metadata.get(key), op, arg) for op, arg in ops.items())
        if not ok:
            return False
    return True
