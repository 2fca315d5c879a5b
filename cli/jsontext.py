"""Strict JSON for what users type or feed in (``--filter``, JSONL lines).

Python's ``json`` quietly keeps the last of two equal keys, reads ``NaN`` and ``Infinity``
(which are not JSON) and turns ``1e400`` into ``inf``; each would change a value without a word.
Here each of them, and nesting too deep for Python's parser, is a :class:`JsonProblem`.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["JsonProblem", "load_json"]


class JsonProblem(ValueError):
    """Why a text is not acceptable JSON (the message has no position prefix of its own)."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise JsonProblem(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _constant(name: str) -> Any:
    raise JsonProblem(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonProblem(f"the number {text} is too large for a 64-bit float")
    return value


def load_json(text: str) -> Any:
    """Parse ``text`` as one JSON value, or raise :class:`JsonProblem` saying why not."""
    try:
        return json.loads(text, object_pairs_hook=_object, parse_constant=_constant, parse_float=_float)
    except JsonProblem:
        raise
    except json.JSONDecodeError as exc:
        raise JsonProblem(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise JsonProblem("nested too deeply to read (vecbridge keeps at most 32 levels)") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise JsonProblem(f"not acceptable JSON ({exc})") from None
