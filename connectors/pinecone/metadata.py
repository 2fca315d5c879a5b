"""Record metadata <-> Pinecone metadata, exactly.

Pinecone metadata is flat: every value is a string, a number (a 64-bit float), a boolean or a list
of strings; at most 40 KB of JSON per record, text included. :func:`encode` refuses anything else
with ``InvalidInput`` naming the record and the field:

* nested objects and lists holding anything but strings (flatten or convert them);
* integers beyond +-2**53 (a 64-bit float cannot hold them exactly);
* keys starting with '$' (Pinecone's operator marker) or with ``_vb_`` (reserved below).

Nothing is lost and nothing changes. Pinecone has no null and vecbridge treats null, missing and
an empty list alike in filters, so ``None`` values and empty lists are not stored as such: their
keys are listed in reserved keys and restored on read. Numbers come back with their type and sign.

Reserved metadata keys (never returned to users):

``_vb_text``   the record's text.
``_vb_id``     the user's id, when the Pinecone id differs from it (see ``ids``).
``_vb_num``    ``["$", <keys holding numbers>...]``: a number reads back as an int unless listed in
               ``_vb_float``; lets a ``$not`` over a range stay exact (see ``filters``); always
               present on records vecbridge wrote.
``_vb_null``   keys whose value was ``None``.
``_vb_empty``  keys whose value was ``[]``.
``_vb_float``  keys holding a float with an integral value (``2.0``), so it reads back as a float.
``_vb_negz``   keys holding ``-0.0`` (a server may render it as ``0``).
``_vb_tmin_<key>`` / ``_vb_tmax_<key>``
               the earliest / latest instant (seconds since the epoch) of the ISO-8601 date strings
               in ``<key>`` (``core.dates.date_shadow``): what date ranges compare (see ``filters``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson

from vecbridge.core.dates import date_shadow
from vecbridge.core.errors import InvalidInput

from .ids import pinecone_id

__all__ = [
    "MAX_EXACT_INT",
    "MAX_METADATA_BYTES",
    "NUMERIC_KEY",
    "NUMERIC_SENTINEL",
    "RESERVED_PREFIX",
    "Encoded",
    "decode",
    "earliest_key",
    "encode",
    "latest_key",
    "problems",
]

TEXT_KEY = "_vb_text"
ID_KEY = "_vb_id"
NUMERIC_KEY = "_vb_num"
NULL_KEY = "_vb_null"
EMPTY_KEY = "_vb_empty"
FLOAT_KEY = "_vb_float"
NEGATIVE_ZERO_KEY = "_vb_negz"
RESERVED_PREFIX = "_vb_"
#: Always first in ``_vb_num``: marks a record written by vecbridge even when it holds no
#: numbers. User keys cannot start with '$', so it never names a field.
NUMERIC_SENTINEL = "$"

MAX_METADATA_BYTES = 40 * 1024
MAX_EXACT_INT = 2**53

Encoded = tuple[dict[str, Any], int]


def earliest_key(field: str) -> str:
    return f"{RESERVED_PREFIX}tmin_{field}"


def latest_key(field: str) -> str:
    return f"{RESERVED_PREFIX}tmax_{field}"


def _refuse(record_id: Any, key: Any, problem: str, fix: str) -> InvalidInput:
    return InvalidInput(f"record {record_id!r}: metadata field {key!r} {problem}; {fix}")


def _check_key(record_id: str, key: Any) -> None:
    if not isinstance(key, str) or not key:
        raise _refuse(record_id, key, "is not a non-empty string key", "use string keys")
    if key.startswith("$"):
        raise _refuse(record_id, key, "starts with '$', which Pinecone reserves for filter operators", "rename it")
    if key.startswith(RESERVED_PREFIX):
        raise _refuse(
            record_id, key, f"uses the prefix {RESERVED_PREFIX!r}, reserved for vecbridge's own keys", "rename it"
        )


def _check_value(record_id: str, key: str, value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_EXACT_INT:
        raise _refuse(
            record_id,
            key,
            f"is {value}, beyond +-2**53: Pinecone keeps numbers as 64-bit floats and would change it",
            "store it as a string",
        )
    if isinstance(value, (list, tuple)):
        odd = next((item for item in value if not isinstance(item, str)), None)
        if odd is not None or any(item is None for item in value):
            kind = type(odd).__name__ if odd is not None else "NoneType"
            raise _refuse(
                record_id,
                key,
                f"is a list holding {kind} values, but Pinecone stores only lists of strings",
                "convert the elements to strings or split them into separate fields",
            )
    elif isinstance(value, Mapping):
        raise _refuse(
            record_id,
            key,
            "is a nested object, but Pinecone metadata is flat (string, number, boolean, list of strings)",
            f"flatten it into top-level fields (e.g. '{key}_<subkey>') or store it as a JSON string",
        )
    elif value is not None and not isinstance(value, (bool, str, int, float)):
        raise _refuse(
            record_id, key, f"has type {type(value).__name__}", "use a string, number, boolean, list of strings or None"
        )


def encode(record_id: str, text: str | None, metadata: Mapping[str, Any] | None) -> Encoded:
    """The Pinecone metadata of a record and its size in JSON bytes, or ``InvalidInput`` naming
    the record and field (the 40 KB limit is left to the caller: see :func:`problems`)."""
    out: dict[str, Any] = {}
    lists: dict[str, list[str]] = {
        NUMERIC_KEY: [NUMERIC_SENTINEL],
        NULL_KEY: [],
        EMPTY_KEY: [],
        FLOAT_KEY: [],
        NEGATIVE_ZERO_KEY: [],
    }
    source = metadata or {}
    for key, value in source.items():
        _check_key(record_id, key)
        _check_value(record_id, key, value)
        if value is None:
            lists[NULL_KEY].append(key)
        elif isinstance(value, (list, tuple)):
            if value:
                out[key] = list(value)
            else:
                lists[EMPTY_KEY].append(key)
        else:
            out[key] = value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                lists[NUMERIC_KEY].append(key)
                if isinstance(value, float) and value.is_integer():
                    lists[FLOAT_KEY].append(key)
                    if math.copysign(1.0, value) < 0 and value == 0:
                        lists[NEGATIVE_ZERO_KEY].append(key)
    shadows = date_shadow(source)
    for key, instants in shadows.items():
        moments = instants if isinstance(instants, list) else [instants]
        out[earliest_key(key)] = min(moments)
        out[latest_key(key)] = max(moments)
    if text is not None:
        out[TEXT_KEY] = text
    if pinecone_id(record_id) != record_id:
        out[ID_KEY] = record_id
    out.update({k: v for k, v in lists.items() if v or k == NUMERIC_KEY})
    # Pinecone keeps (and may count) every number as a float: "7" grows to "7.0". The allowance
    # of 4 bytes a number keeps the estimate above what the server measures.
    numbers = len(lists[NUMERIC_KEY]) - 1 + 2 * len(shadows)
    return out, len(orjson.dumps(out)) + 4 * numbers


def problems(record_id: str, text: str | None, metadata: Mapping[str, Any] | None) -> list[str]:
    """What keeps a record's metadata out of Pinecone (empty: nothing)."""
    try:
        out, size = encode(record_id, text, metadata)
    except InvalidInput as exc:
        return [str(exc)]
    if size <= MAX_METADATA_BYTES:
        return []
    largest = max(out, key=lambda k: len(orjson.dumps(out[k])))
    shown = "text" if largest == TEXT_KEY else repr(largest)
    return [
        f"record {record_id!r}: metadata is {size} bytes of JSON, more than Pinecone's {MAX_METADATA_BYTES} per "
        f"record (the text is stored there too); field {shown} alone takes {len(orjson.dumps(out[largest]))}: "
        "shorten it or keep it outside the vector store"
    ]


def _names(value: Any) -> set[str]:
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()


def _number(value: Any, as_float: bool, negative_zero: bool) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value  # not a number after all (written by another tool): as stored
    if as_float:
        return -0.0 if negative_zero else float(value)
    if float(value).is_integer() and abs(value) <= MAX_EXACT_INT:
        return int(value)  # Pinecone keeps every number as a float
    return float(value)


def decode(stored_id: str, stored: Mapping[str, Any] | None) -> tuple[str, str | None, dict[str, Any]]:
    """(user id, text, metadata) of a stored vector; reverses :func:`encode`."""
    raw = dict(stored or {})
    user_id, text = raw.get(ID_KEY), raw.get(TEXT_KEY)
    numeric, floats, negative_zeros = (
        _names(raw.get(NUMERIC_KEY)),
        _names(raw.get(FLOAT_KEY)),
        _names(raw.get(NEGATIVE_ZERO_KEY)),
    )
    metadata: dict[str, Any] = {}
    for key, value in raw.items():
        if key.startswith(RESERVED_PREFIX):
            continue
        metadata[key] = _number(value, key in floats, key in negative_zeros) if key in numeric else value
    metadata.update({key: None for key in _names(raw.get(NULL_KEY))})
    metadata.update({key: [] for key in _names(raw.get(EMPTY_KEY))})
    return (
        user_id if isinstance(user_id, str) else stored_id,
        text if isinstance(text, str) else None,
        metadata,
    )
