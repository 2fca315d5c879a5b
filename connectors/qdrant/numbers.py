"""Exact numbers on Qdrant, whose payload storage moves some floats by up to 2 ulps.

Qdrant (server and Edge) keeps payloads as JSON text written by serde_json (shortest digits) and
parses it back without correct rounding (serde_json's default: no ``float_roundtrip``): the decimal
significand is turned into a float, then multiplied or divided by a power of ten. That is exact
when both are exactly representable — a significand of at most 2**53 and a power of ten from
10**-22 to 10**22 — and otherwise can land 1 or 2 units in the last place (ulps) off:
``123456789.12345679`` comes back as ``123456789.1234568``. Reads and filters see the parsed value.
(Measured with qdrant-edge-py 0.9 on 500,000 floats over every exponent: one in five moved, by at
most 2 ulps; every float :func:`kept_exactly` says survives did. qdrant-client's local mode keeps
Python objects and moves nothing.)

Integers are parsed exactly (core keeps them within ±(2**53 - 1)), and so are the floats of
:func:`kept_exactly` (most human-written ones: ``19.99``, ``0.5``, ``1e-7``). A float that may move
is also stored as its *key* (:func:`stored_key`): its 64 bits as a signed integer, which Qdrant
keeps and compares exactly; so is a boolean (Edge's binding turns ``MatchValue(True)`` into ``1``),
as one of two NaN bit patterns no stored float can have, and so is every float of a list that
holds floats. (Integers, not strings: Edge's binding converts a string payload value only after
failing to read it as a boolean and as three kinds of number, which made writes measurably
slower.) Then:

* a read takes a float from its key where it has one (convert.py);
* ``$eq v`` matches integers equal to v by value, floats by key, and floats kept exactly by value
  where the field has no key (:func:`equal_to`): ``2`` finds ``2.0``, ``True`` never finds ``1``;
* ``x > v`` is "the stored x is above ``v`` moved up by ``BOUND_ULPS``" — true only when x > v
  whatever the parse errors of the stored value and of the bound (a REST server parses the bound
  too) — or "x is one of the ``WINDOW_ULPS`` numbers just above v", checked as for ``$eq``, where
  the stored value is too close to v to decide. ``<``, ``>=``, ``<=`` likewise (:func:`range_plan`).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

from vecbridge.core.limits import MAX_SAFE_INTEGER

__all__ = [
    "BOUND_ULPS",
    "PARSE_ULPS",
    "WINDOW_ULPS",
    "Exact",
    "RangePlan",
    "equal_to",
    "float_of",
    "has_float",
    "kept_exactly",
    "range_plan",
    "stored_key",
]

#: Largest error of Qdrant's payload float parsing, in ulps.
PARSE_ULPS = 2
#: How far a range bound is moved away from its value: the stored value and the bound may each be
#: parsed PARSE_ULPS off, so a stored value beyond this bound is beyond the value itself.
BOUND_ULPS = 2 * PARSE_ULPS
#: Numbers next to the value that decide a range exactly: any x the moved bound misses lies
#: within BOUND_ULPS + 2 * PARSE_ULPS of the value.
WINDOW_ULPS = BOUND_ULPS + 2 * PARSE_ULPS
_EXACT_SIGNIFICAND = 2**53
_EXACT_POWER = 22


def kept_exactly(value: float) -> bool:
    """Whether Qdrant reads this float back exactly: its shortest decimal digits (what serde_json
    writes, and ``repr``) form a significand of at most 2**53 with a power of ten within ±22."""
    text = repr(value).lstrip("-")
    if "e" not in text:
        if len(text) <= 16:  # at most 15 digits, at most 15 after the point
            return True
        if len(text) >= 18 and text[0] != "0":  # 17 or more digits, none a leading zero: > 2**53
            return False
    mantissa, _, power = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0") or "0"
    exponent = (int(power) if power else 0) - len(fraction)
    return int(digits) <= _EXACT_SIGNIFICAND and -_EXACT_POWER <= exponent <= _EXACT_POWER


#: Keys of the booleans: NaN bit patterns (core refuses NaN, so no stored float has them).
TRUE_KEY = 0x7FF8_0000_0000_0001
FALSE_KEY = 0x7FF8_0000_0000_0002
_BITS = struct.Struct("<d")
_KEY = struct.Struct("<q")


def stored_key(value: bool | float) -> int:
    """The key stored for a boolean or a float: the float's bits, exact (``-0.0`` included)."""
    if value is True or value is False:
        return TRUE_KEY if value else FALSE_KEY
    key: int = _KEY.unpack(_BITS.pack(value))[0]
    return key


def float_of(key: int) -> float:
    """The float whose key this is."""
    value: float = _BITS.unpack(_KEY.pack(key))[0]
    return value


def has_float(value: Any) -> bool:
    """Whether a metadata value holds a float anywhere."""
    kind = type(value)
    if kind is float:
        return True
    if kind is dict:
        return any(has_float(v) for v in value.values())
    if kind is list:
        return any(has_float(v) for v in value)
    return False


@dataclass(frozen=True)
class Exact:
    """Stored values a condition matches: floats and booleans by key, integers by value, and floats
    kept exactly (in fields without a key) by value, as closed intervals of such floats."""

    keys: tuple[int, ...] = ()
    ints: tuple[int, ...] = ()
    spans: tuple[tuple[float, float], ...] = ()

    def __add__(self, other: Exact) -> Exact:
        return Exact(
            tuple(dict.fromkeys(self.keys + other.keys)),
            tuple(dict.fromkeys(self.ints + other.ints)),
            tuple(dict.fromkeys(self.spans + other.spans)),
        )


def equal_to(value: bool | int | float) -> Exact:
    """The stored booleans and numbers equal to ``value``."""
    if value is True or value is False:
        return Exact(keys=(stored_key(value),))
    number = float(value)
    keys = (stored_key(0.0), stored_key(-0.0)) if number == 0 else (stored_key(number),)
    ints = (int(number),) if number.is_integer() and abs(number) <= MAX_SAFE_INTEGER else ()
    spans = ((number, number),) if kept_exactly(number) else ()
    return Exact(keys, ints, spans)


def _steps(value: float, count: int, direction: float) -> list[float]:
    out = []
    for _ in range(count):
        value = math.nextafter(value, direction)
        out.append(value)
    return out


@dataclass(frozen=True)
class RangePlan:
    """``x <op> value`` as Qdrant can check it exactly: the stored number beyond ``bound``
    (``bound_op`` is ``gt`` or ``lt``; None when the bound overflowed to infinity, past which no
    number lies), or x among the ``near`` numbers."""

    bound_op: str
    bound: float | None
    near: Exact


def range_plan(op: str, value: float) -> RangePlan:
    """The exact plan of ``x <op> value`` for ``op`` in ``gt gte lt lte``."""
    value = float(value)
    upward = op in ("gt", "gte")
    direction = math.inf if upward else -math.inf
    bound = _steps(value, BOUND_ULPS, direction)[-1]
    window = [v for v in _steps(value, WINDOW_ULPS, direction) if math.isfinite(v)]
    if op in ("gte", "lte"):
        window.insert(0, value)
    near = sum((equal_to(v) for v in window), Exact())
    # The window is a run of consecutive floats: the ones kept exactly form one span.
    exact = sorted(v for v in window if kept_exactly(v))
    near = Exact(near.keys, near.ints, ((exact[0], exact[-1]),) if exact else ())
    return RangePlan("gt" if upward else "lt", bound if math.isfinite(bound) else None, near)
