"""Weaviate's where-filter semantics over the emulator's objects (``weaviate.v1.Filters`` protobuf).

What Weaviate does, and so what this does:

* The value's type is the property's type (gRPC handler): ints sent for ``number`` properties are
  converted, floats for ``int`` properties must be integral, anything else of the wrong kind fails.
* A property must exist in the schema and be filterable, else the request fails.
* Array properties match when *any* element matches (each element is its own inverted-index key).
* Text is compared per the property's tokenization: ``field`` compares the whole value with
  surrounding whitespace trimmed, ``word``/``lowercase``/``whitespace`` compare tokens (all tokens
  of the filter value must occur).
* ``NotEqual``, ``ContainsNone`` and ``Not`` are complements over all objects, so they match
  objects without the property; ``Equal``, ranges, ``Like`` and ``ContainsAny/All`` never do.
* ``IsNull`` needs ``invertedIndexConfig.indexNullState``; a missing property, null and an empty
  array all count as null.
* ``Not`` and ``ContainsNone`` exist from Weaviate 1.33 on; older versions reject them.
* Before 1.38.0 the inverted index encoded -0.0 apart from 0.0, just below it (its sortable bytes
  sit between the negative numbers and 0.0): a stored -0.0 does not equal 0 and is less than 0.
  1.38.0 normalises -0.0 to 0.0 (entities/inverted/serialization.go).
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from weaviate.proto.v1 import base_pb2

from .database import ClassData, StoredObject, canonical_uuid
from .errors import EmulatedError, invalid, unimplemented
from .schema import base_type

Predicate = Callable[[StoredObject], bool]
F = base_pb2.Filters

_WORD_SPLIT = re.compile(r"[\W_]+")  # Weaviate's "word": split on anything but letters and digits


def tokens(text: str, tokenization: str) -> list[str]:
    if tokenization == "field":
        return [text.strip()] if text.strip() else []
    if tokenization == "whitespace":
        return text.split()
    if tokenization == "lowercase":
        return text.lower().split()
    if tokenization == "word":
        return [t for t in _WORD_SPLIT.split(text.lower()) if t]
    raise unimplemented(f"filtering on {tokenization!r} tokenized text")


def _is_absent(value: Any) -> bool:
    return value is None or (isinstance(value, list) and not value)


def _elements(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _parse_date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"parse date value '{text}': not a RFC3339 date") from None


class FilterCompiler:
    def __init__(self, data: ClassData, *, supports_not: bool, negative_zero_apart: bool = False) -> None:
        self.data = data
        self.supports_not = supports_not
        self.negative_zero_apart = negative_zero_apart

    def _number(self, value: Any) -> tuple[float, int]:
        """A number as the inverted index orders it (see the module docstring on -0.0)."""
        number = float(value)
        if self.negative_zero_apart and number == 0 and math.copysign(1.0, number) < 0:
            return (0.0, -1)
        return (number, 0)

    def compile(self, node: F) -> Predicate:
        op = node.operator
        if op in (F.OPERATOR_AND, F.OPERATOR_OR):
            if not node.filters:
                raise invalid(f"no children for operator {F.Operator.Name(op)}")
            children = [self.compile(c) for c in node.filters]
            if op == F.OPERATOR_AND:
                return lambda o: all(c(o) for c in children)
            return lambda o: any(c(o) for c in children)
        if op == F.OPERATOR_NOT:
            if not self.supports_not:
                raise invalid("unknown filter operator OPERATOR_NOT")
            if len(node.filters) != 1:
                raise invalid(f"too many children for operator Not. Expected 1, given {len(node.filters)}")
            child = self.compile(node.filters[0])
            return lambda o: not child(o)
        return self._leaf(node)

    # ----- leaves -----------------------------------------------------------------------------

    def _target(self, node: F) -> str:
        if node.HasField("target"):
            kind = node.target.WhichOneof("target")
            if kind != "property":
                raise unimplemented(f"filters on references ({kind})")
            return str(node.target.property)
        if len(node.on) == 1:
            return str(node.on[0])
        raise unimplemented("filters on reference paths")

    def _leaf(self, node: F) -> Predicate:
        op = node.operator
        if op == F.OPERATOR_CONTAINS_NONE and not self.supports_not:
            raise invalid("unknown filter operator OPERATOR_CONTAINS_NONE")
        if op in (F.OPERATOR_WITHIN_GEO_RANGE, F.OPERATOR_UNSPECIFIED):
            raise unimplemented(f"the {F.Operator.Name(op)} operator")
        name = self._target(node)
        if name == "_id":
            return self._id_leaf(node)
        if name in ("_creationTimeUnix", "_lastUpdateTimeUnix"):
            raise unimplemented("filters on timestamps")
        if "." in name or name.startswith("len("):
            raise unimplemented(f"filters on {name!r} (nested paths, property length)")
        prop = self.data.prop(name)
        if prop is None:
            raise invalid(
                f"no such prop with name '{name}' found in class '{self.data.name}' in the schema. Check your "
                "schema files for which properties in this class are available"
            )
        if op == F.OPERATOR_IS_NULL:
            if not self.data.schema["invertedIndexConfig"].get("indexNullState"):
                raise invalid(
                    "Nullstate must be indexed to be filterable! Add `indexNullState: true` to the invertedIndexConfig"
                )
            if node.WhichOneof("test_value") != "value_boolean":
                raise invalid("operator IsNull requires a booleanValue")
            want = node.value_boolean
            return lambda o: _is_absent(o.properties.get(name)) == want
        ranged = op in (
            F.OPERATOR_GREATER_THAN,
            F.OPERATOR_GREATER_THAN_EQUAL,
            F.OPERATOR_LESS_THAN,
            F.OPERATOR_LESS_THAN_EQUAL,
        )
        if not prop["indexFilterable"] and not (ranged and prop.get("indexRangeFilters")):
            raise invalid(
                f"Filtering by property '{name}' requires inverted index. Is `indexFilterable` option of property "
                f"'{name}' enabled? Set it to `true` or leave empty"
            )
        dtype = base_type(prop["dataType"][0])
        values = self._values(node, dtype, name)
        equal = self._equality(dtype, prop.get("tokenization") or "word", name)
        if op == F.OPERATOR_EQUAL:
            return lambda o: equal(o, values[0])
        if op == F.OPERATOR_NOT_EQUAL:
            return lambda o: not equal(o, values[0])
        if op == F.OPERATOR_CONTAINS_ANY:
            return lambda o: any(equal(o, v) for v in values)
        if op == F.OPERATOR_CONTAINS_ALL:
            return lambda o: all(equal(o, v) for v in values)
        if op == F.OPERATOR_CONTAINS_NONE:
            return lambda o: not any(equal(o, v) for v in values)
        if op == F.OPERATOR_LIKE:
            return self._like(name, dtype, prop.get("tokenization") or "word", values[0])
        if ranged:
            return self._range(op, name, dtype, values[0])
        raise unimplemented(f"the {F.Operator.Name(op)} operator")

    def _values(self, node: F, dtype: str, name: str) -> list[Any]:
        kind = node.WhichOneof("test_value")
        if kind is None:
            raise invalid(f"filter on '{name}' has no value")
        raw = getattr(node, kind)
        values = list(raw.values) if kind.endswith("_array") else [raw]
        if not values:
            raise invalid("Filtering on empty lists is not supported")
        out: list[Any] = []
        for value in values:
            if dtype == "number":
                if isinstance(value, str):
                    try:
                        value = float(value)
                    except ValueError:
                        raise invalid(
                            f"expected a number value, but could not parse string '{value}' as float"
                        ) from None
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise invalid(f"filter on '{name}' (number): invalid value {value!r}")
                out.append(float(value))
            elif dtype == "int":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value):
                    raise invalid(f"filter on '{name}' (int): {value!r} is not an integer")
                out.append(int(value))
            elif dtype == "boolean":
                if not isinstance(value, bool):
                    raise invalid(f"filter on '{name}' (boolean): expected a boolean value, got {value!r}")
                out.append(value)
            elif dtype in ("text", "uuid", "date"):
                if not isinstance(value, str):
                    raise invalid(f"filter on '{name}' ({dtype}): expected a string value, got {value!r}")
                out.append(_parse_date(value) if dtype == "date" else value)
            else:
                raise unimplemented(f"filters on {dtype} properties")
        return out

    def _equality(self, dtype: str, tokenization: str, name: str) -> Callable[[StoredObject, Any], bool]:
        if dtype == "text":

            def text_equal(o: StoredObject, wanted: Any) -> bool:
                value = o.properties.get(name)
                if _is_absent(value):
                    return False
                query = tokens(wanted, tokenization)
                have = {t for element in _elements(value) for t in tokens(element, tokenization)}
                return bool(query) and all(t in have for t in query)

            return text_equal
        if dtype == "date":
            return lambda o, wanted: any(
                _parse_date(e) == wanted for e in _elements(o.properties.get(name)) if e is not None
            )
        if dtype == "uuid":
            return lambda o, wanted: any(
                canonical_uuid(e) == canonical_uuid(wanted) for e in _elements(o.properties.get(name)) if e is not None
            )
        if dtype == "boolean":
            return lambda o, wanted: any(e is wanted for e in _elements(o.properties.get(name)))
        return lambda o, wanted: any(
            e is not None and not isinstance(e, bool) and self._number(e) == self._number(wanted)
            for e in _elements(o.properties.get(name))
        )

    def _range(self, op: int, name: str, dtype: str, bound: Any) -> Predicate:
        if dtype not in ("number", "int", "date"):
            raise unimplemented(f"range filters on {dtype} properties")
        by_operator: dict[int, Callable[[Any], bool]] = {
            F.OPERATOR_GREATER_THAN: lambda v: v > bound,
            F.OPERATOR_GREATER_THAN_EQUAL: lambda v: v >= bound,
            F.OPERATOR_LESS_THAN: lambda v: v < bound,
            F.OPERATOR_LESS_THAN_EQUAL: lambda v: v <= bound,
        }
        parse: Callable[[Any], Any] = _parse_date if dtype == "date" else self._number
        if dtype != "date":
            bound = self._number(bound)
        compare = by_operator[op]
        return lambda o: any(e is not None and compare(parse(e)) for e in _elements(o.properties.get(name)))

    def _like(self, name: str, dtype: str, tokenization: str, pattern: Any) -> Predicate:
        if dtype != "text":
            raise unimplemented(f"Like on {dtype} properties")
        patterns = tokens(pattern, tokenization) if tokenization != "field" else [str(pattern).strip()]

        def like(o: StoredObject) -> bool:
            value = o.properties.get(name)
            if _is_absent(value):
                return False
            have = [t for element in _elements(value) for t in tokens(element, tokenization)]
            return all(any(fnmatch.fnmatchcase(t, p) for t in have) for p in patterns)

        return like

    def _id_leaf(self, node: F) -> Predicate:
        op = node.operator
        kind = node.WhichOneof("test_value")
        if kind not in ("value_text", "value_text_array"):
            raise invalid('using ["_id"] to filter by uuid: must use "valueText" to specify the id')
        raw = getattr(node, kind)
        wanted = {canonical_uuid(v) for v in (raw.values if kind == "value_text_array" else [raw])}
        if op in (F.OPERATOR_EQUAL, F.OPERATOR_CONTAINS_ANY, F.OPERATOR_CONTAINS_ALL):
            if op == F.OPERATOR_CONTAINS_ALL and len(wanted) > 1:
                return lambda o: False  # an object has exactly one id
            return lambda o: o.uuid in wanted
        if op in (F.OPERATOR_NOT_EQUAL, F.OPERATOR_CONTAINS_NONE):
            return lambda o: o.uuid not in wanted
        raise EmulatedError(f'operator "{F.Operator.Name(op)}" cannot be used on the _id property')
