"""The filter index of a record: what vecbridge stores beside the metadata to answer filters exactly.

Milvus filters JSON metadata with its own rules, which are not vecbridge's: in Milvus Lite 3.2
``meta["x"] == 1`` also finds ``true``, ``meta["t"] == "a"`` does not look inside lists, ``in``
does not take a JSON path, and a comparison on a missing key is *null*, so ``not (...)`` drops
those records instead of matching them. So every record also gets a hidden JSON field
(``vb_filter``, never returned) built here from its metadata, on which the compiled filters run:

* ``"t"``: a list of *terms*, one per (key, typed scalar) of the metadata, list elements included,
  plus a presence term per key that is not absent (missing, null and ``[]`` are absent). ``$eq``,
  ``$in`` and ``$exists`` become ``json_contains`` / ``json_contains_any`` on this list, which is
  always there: every comparison is true or false, never null, so ``$ne``, ``$nin`` and ``$not``
  are exact complements.
* ``"lo<hex>"`` / ``"hi<hex>"``: the smallest and largest number under a key (``<hex>`` is the key
  in hexadecimal UTF-8, so any key is a safe JSON path). "Any element > x" is "largest > x", so
  ranges over lists are one comparison. ``"dlo<hex>"`` / ``"dhi<hex>"`` hold the same for the
  instants of ISO-8601 date strings (``core.dates.date_shadow``).

A term is ``<length of key>:<key><type tag><value>``: the length prefix keeps keys and values
apart whatever characters they hold. Numbers are written as their float ``repr`` (metadata integers
are within ±(2**53 - 1), so exact), which makes ``2`` and ``2.0`` one term while ``"2"`` and ``true``
stay different. Strings longer than ``LONG_STRING`` characters are represented by their SHA-256, so
the index stays small next to big values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from vecbridge.core.dates import date_shadow
from vecbridge.core.filters import is_absent

__all__ = [
    "LONG_STRING",
    "TERMS",
    "filter_index",
    "key_path",
    "presence_term",
    "value_term",
]

#: Key of the term list inside the filter index.
TERMS = "t"
#: Strings up to this many characters appear verbatim in terms; longer ones by their SHA-256.
LONG_STRING = 256

_STRING, _HASHED, _NUMBER, _BOOL, _PRESENT = "s", "h", "n", "b", "p"


def _key_part(key: str) -> str:
    return f"{len(key)}:{key}"


def number_text(value: int | float) -> str:
    """A number as Milvus literals and terms write it: its float ``repr`` (``-0.0`` as ``0.0``)."""
    as_float = float(value)
    return "0.0" if as_float == 0 else repr(as_float)


def value_term(key: str, value: Any) -> str | None:
    """The term of ``key`` holding the scalar ``value``; None for what no equality can match
    (null, nested lists and objects)."""
    if isinstance(value, bool):
        return _key_part(key) + _BOOL + ("1" if value else "0")
    if isinstance(value, (int, float)):
        return _key_part(key) + _NUMBER + number_text(value)
    if isinstance(value, str):
        if len(value) > LONG_STRING:
            return _key_part(key) + _HASHED + hashlib.sha256(value.encode("utf-8")).hexdigest()
        return _key_part(key) + _STRING + value
    return None


def presence_term(key: str) -> str:
    """The term every record whose ``key`` is not absent carries."""
    return _key_part(key) + _PRESENT


def key_path(prefix: str, key: str) -> str:
    """The key, inside the filter index, of a range bound (``lo``, ``hi``, ``dlo``, ``dhi``) of ``key``."""
    return prefix + key.encode("utf-8").hex()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def filter_index(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The hidden filter index of one record's metadata (see the module docstring)."""
    terms: dict[str, None] = {}  # ordered and without repeats
    index: dict[str, Any] = {}
    for key, value in metadata.items():
        if is_absent(value):
            continue
        terms[presence_term(key)] = None
        elements = value if isinstance(value, list) else [value]
        numbers = [float(e) for e in elements if _is_number(e)]
        for element in elements:
            term = value_term(key, element)
            if term is not None:
                terms[term] = None
        if numbers:
            index[key_path("lo", key)] = min(numbers)
            index[key_path("hi", key)] = max(numbers)
    for key, moments in date_shadow(metadata).items():
        found = moments if isinstance(moments, list) else [moments]
        index[key_path("dlo", key)] = min(found)
        index[key_path("dhi", key)] = max(found)
    index[TERMS] = list(terms)
    return index


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON: what Milvus counts against a JSON field's limit."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
