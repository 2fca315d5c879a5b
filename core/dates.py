"""Dates in metadata: ISO-8601 strings that range filters compare as instants, on every store.

Metadata keeps dates as the strings the user wrote (they round-trip exactly). Every string value
that *is* an ISO-8601 date or date-time (``2024-05-01``, ``2024-05-01T12:30:00Z``,
``2024-05-01 12:30:00.5+02:00``; without an offset it is read as UTC) also gets a hidden shadow: its
instant as seconds since the epoch, which connectors store beside the metadata and never return.

A range filter (``$gt $gte $lt $lte``) whose value is a ``datetime`` or such a string compares
those instants: ``{"published": {"$gte": "2024-01-01T00:00:00+01:00"}}`` finds
``"2024-01-01T00:30:00+01:00"`` and ``"2023-12-31T23:30:00Z"`` alike. Numbers never match a date
range and dates never match a number range. ``$eq``/``$in`` on strings stay exact string matches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

__all__ = ["date_shadow", "instant", "is_date_string", "to_instant"]

_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|z|[+-]\d{2}(?::?\d{2})?)?)?$"
)


def instant(text: str) -> float | None:
    """Seconds since the epoch of an ISO-8601 date or date-time string, None if it is not one."""
    if not isinstance(text, str) or len(text) > 40 or not _ISO.match(text):
        return None
    value = text.replace("z", "Z")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    if "." in value:  # Python takes at most 6 fractional digits
        head, _, tail = value.partition(".")
        digits = re.match(r"\d+", tail)
        assert digits is not None
        value = f"{head}.{digits.group(0)[:6]}{tail[digits.end() :]}"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def is_date_string(value: Any) -> bool:
    return isinstance(value, str) and instant(value) is not None


def to_instant(value: Any) -> float | None:
    """A filter value as an instant: an aware ``datetime`` (a naive one is read as UTC) or an
    ISO-8601 string; None for anything else."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
        return aware.timestamp()
    if isinstance(value, str):
        return instant(value)
    return None


def date_shadow(metadata: Mapping[str, Any]) -> dict[str, float | list[float]]:
    """The instants of a record's top-level date strings (and of date strings inside top-level
    lists), by field: what connectors store to answer date ranges."""
    out: dict[str, float | list[float]] = {}
    for key, value in metadata.items():
        if isinstance(value, str):
            found = instant(value)
            if found is not None:
                out[key] = found
        elif isinstance(value, list):
            found_all = [t for t in (instant(v) for v in value if isinstance(v, str)) if t is not None]
            if found_all:
                out[key] = found_all
    return out
