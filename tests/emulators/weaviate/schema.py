"""Collection (class) schemas as Weaviate stores and returns them: name rules, defaults filled in
on create, property types enforced on write, and auto-schema's type inference for new properties.

Rules follow Weaviate's source (entities/schema/validation.go, usecases/schema, usecases/objects/
validation): class names ``[A-Z][_0-9A-Za-z]{0,254}`` unique case-insensitively, property names
``[_A-Za-z][_0-9A-Za-z]{0,230}`` unique case-insensitively, ``id``/``_id``/``_additional`` reserved.
"""

from __future__ import annotations

import copy
import math
import re
import uuid
from datetime import datetime
from typing import Any

from .errors import config_not_allowed, invalid

CLASS_NAME = re.compile(r"[A-Z][_0-9A-Za-z]{0,254}")
PROPERTY_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,230}")
RESERVED_PROPERTIES = ("_additional", "_id", "id")
RESERVED_SUFFIXES = ("_propertyLength", "_nullState", "_searchable", "_rangeable", "_temp", "__meta_count")
PRIMITIVE_TYPES = {
    "text", "text[]", "int", "int[]", "number", "number[]", "boolean", "boolean[]",
    "date", "date[]", "uuid", "uuid[]", "object", "object[]", "geoCoordinates", "phoneNumber", "blob",
}  # fmt: skip
TEXT_TYPES = {"text", "text[]"}
TOKENIZATIONS = {"word", "lowercase", "whitespace", "field", "trigram", "gse", "kagome_ja", "kagome_kr", "gse_ch"}

HNSW_DEFAULTS: dict[str, Any] = {
    "cleanupIntervalSeconds": 300,
    "distance": "cosine",
    "dynamicEfMin": 100,
    "dynamicEfMax": 500,
    "dynamicEfFactor": 8,
    "ef": -1,
    "efConstruction": 128,
    "filterStrategy": "acorn",
    "flatSearchCutoff": 40000,
    "maxConnections": 32,
    "skip": False,
    "skipDefaultQuantization": False,
    "trackDefaultQuantization": False,
    "vectorCacheMaxObjects": 1000000000000,
    "bq": {"enabled": False},
    "pq": {
        "enabled": False,
        "bitCompression": False,
        "segments": 0,
        "centroids": 256,
        "trainingLimit": 100000,
        "encoder": {"type": "kmeans", "distribution": "log-normal"},
    },
    "sq": {"enabled": False, "trainingLimit": 100000, "rescoreLimit": 20},
    "rq": {"enabled": False, "bits": 8, "rescoreLimit": 20},
    "multivector": {"enabled": False, "aggregation": "maxSim"},
}
FLAT_DEFAULTS: dict[str, Any] = {
    "distance": "cosine",
    "vectorCacheMaxObjects": 1000000000000,
    "bq": {"enabled": False},
    "pq": {"enabled": False},
    "sq": {"enabled": False},
    "rq": {"enabled": False},
}
DISTANCES = {"cosine", "dot", "l2-squared", "hamming", "manhattan"}
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def uppercase_first(name: str) -> str:
    return name[:1].upper() + name[1:]


def base_type(data_type: str) -> str:
    return data_type[:-2] if data_type.endswith("[]") else data_type


def is_array(data_type: str) -> bool:
    return data_type.endswith("[]")


def validate_property_name(name: Any) -> str:
    if not isinstance(name, str) or not PROPERTY_NAME.fullmatch(name):
        raise invalid(
            f"'{name}' is not a valid property name. Property names in Weaviate are restricted to valid "
            f"GraphQL names, which must be “/{PROPERTY_NAME.pattern}/”"
        )
    if name in RESERVED_PROPERTIES:
        raise invalid(f"'{name}' is a reserved property name")
    for suffix in RESERVED_SUFFIXES:
        if name.endswith(suffix):
            raise invalid(f"'{name}' is not a valid property name: suffix '{suffix}' is reserved for internal indices")
    return name


def normalise_property(prop: dict[str, Any]) -> dict[str, Any]:
    """A property as Weaviate stores it: known keys only, defaults filled in."""
    name = validate_property_name(prop.get("name"))
    data_type = prop.get("dataType")
    if not isinstance(data_type, list) or len(data_type) != 1 or data_type[0] not in PRIMITIVE_TYPES:
        raise invalid(f"property '{name}': invalid dataType: {data_type} (cross-references are not emulated)")
    dtype = data_type[0]
    out: dict[str, Any] = {"name": name, "dataType": [dtype], "description": prop.get("description")}
    textual = dtype in TEXT_TYPES
    tokenization = prop.get("tokenization")
    if textual:
        tokenization = tokenization or "word"
        if tokenization not in TOKENIZATIONS:
            raise invalid(f"Tokenization '{tokenization}' is not allowed for data type '{dtype}'")
    elif tokenization:
        raise invalid(f"Tokenization is not allowed for data type '{dtype}'")
    out["tokenization"] = tokenization if textual else None
    out["indexFilterable"] = bool(prop.get("indexFilterable", True))
    out["indexSearchable"] = bool(prop.get("indexSearchable", textual)) and textual
    out["indexRangeFilters"] = bool(prop.get("indexRangeFilters", False))
    if prop.get("nestedProperties"):
        out["nestedProperties"] = copy.deepcopy(prop["nestedProperties"])
    if out["description"] is None:
        del out["description"]
    return out


def _vector_index(kind: str, config: dict[str, Any] | None) -> dict[str, Any]:
    defaults = FLAT_DEFAULTS if kind == "flat" else HNSW_DEFAULTS
    merged = copy.deepcopy(defaults)
    for key, value in (config or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    if merged.get("distance") not in DISTANCES:
        raise invalid(f"invalid vector index config: unsupported distance '{merged.get('distance')}'")
    return merged


def _compression(index: dict[str, Any]) -> str:
    """The compression a vector index config selects, named as ALLOWED_COMPRESSION_TYPES names it
    ("" when it leaves the server's default), after usecases/schema/class.go."""
    for kind in ("pq", "sq"):
        if (index.get(kind) or {}).get("enabled"):
            return kind
    rq = index.get("rq") or {}
    if rq.get("enabled"):
        return "rq-1" if rq.get("bits") == 1 else "rq-8"
    if (index.get("bq") or {}).get("enabled"):
        return "bq"
    return "none" if index.get("skipDefaultQuantization") else ""


def _check_compression(index: dict[str, Any], allowed: tuple[str, ...] | None) -> None:
    chosen = _compression(index)
    if allowed is not None and chosen and chosen not in allowed:
        raise config_not_allowed("compression", chosen, allowed)


def _multi_tenancy(config: dict[str, Any] | None) -> dict[str, Any]:
    config = config or {}
    return {
        "enabled": bool(config.get("enabled", False)),
        "autoTenantCreation": bool(config.get("autoTenantCreation", False)),
        "autoTenantActivation": bool(config.get("autoTenantActivation", False)),
    }


#: How auto-schema describes the classes and properties it creates (1.38.2).
AUTO_SCHEMA_NOTE = "This property was generated by Weaviate's auto-schema feature on {when}"


def auto_schema_class(name: str) -> dict[str, Any]:
    """The class auto-schema creates for a write into a class that does not exist, as 1.38.2 does:
    an unnamed HNSW index (cosine, the server's default compression), no vectorizer, default
    inverted index (stopwords "en"), no multi-tenancy; properties follow from the objects."""
    schema = normalise_class({"class": name}, [], None)
    schema["description"] = AUTO_SCHEMA_NOTE.format(when=datetime.now().strftime("%a %b %d %H:%M:%S %Y"))
    return schema


def normalise_class(
    body: dict[str, Any], existing: list[str], allowed_compression: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """Validate a ``POST /v1/schema`` body against ``existing`` class names; return the stored class."""
    if not isinstance(body, dict):
        raise invalid("the request body must be a class object")
    name = uppercase_first(str(body.get("class") or ""))
    if not CLASS_NAME.fullmatch(name):
        raise invalid(f"'{body.get('class')}' is not a valid class name")
    for other in existing:
        if other == name:
            raise invalid(f"class name {name} already exists")
        if other.lower() == name.lower():
            raise invalid(f'class already exists: found similar class "{other}"')
    properties: list[dict[str, Any]] = []
    seen: set[str] = set()
    for prop in body.get("properties") or []:
        normalised = normalise_property(prop)
        if normalised["name"].lower() in seen:
            raise invalid(
                f'class "{name}": conflict for property "{normalised["name"]}": '
                "already in use or provided multiple times"
            )
        seen.add(normalised["name"].lower())
        properties.append(normalised)
    inverted: dict[str, Any] = {
        "bm25": {"b": 0.75, "k1": 1.2},
        "cleanupIntervalSeconds": 60,
        "stopwords": {"preset": "en", "additions": None, "removals": None},
        "indexNullState": False,
        "indexPropertyLength": False,
        "indexTimestamps": False,
        "usingBlockMaxWAND": True,
    }
    for key, value in (body.get("invertedIndexConfig") or {}).items():
        if key == "stopwords":
            inverted["stopwords"].update({k: v for k, v in (value or {}).items() if v is not None})
        elif key == "bm25":
            inverted["bm25"].update(value or {})
        elif value is not None:
            inverted[key] = value
    out: dict[str, Any] = {
        "class": name,
        "description": body.get("description"),
        "properties": properties,
        "invertedIndexConfig": inverted,
        "multiTenancyConfig": _multi_tenancy(body.get("multiTenancyConfig")),
        "replicationConfig": {"factor": 1, "asyncEnabled": False, "deletionStrategy": "TimeBasedResolution"},
        "shardingConfig": {
            "actualCount": 1,
            "actualVirtualCount": 128,
            "desiredCount": 1,
            "desiredVirtualCount": 128,
            "function": "murmur3",
            "key": "_id",
            "strategy": "hash",
            "virtualPerPhysical": 128,
        },
    }
    named = body.get("vectorConfig")
    if named:
        out["vectorConfig"] = {}
        for vector_name, vector in named.items():
            kind = vector.get("vectorIndexType") or "hnsw"
            if kind not in ("hnsw", "flat"):
                raise invalid(f"vector index type '{kind}' is not emulated")
            vectorizer = vector.get("vectorizer") or {"none": {}}
            if list(vectorizer) != ["none"]:
                raise invalid(f"vectorizer {list(vectorizer)} is not available: no modules are enabled")
            index = _vector_index(kind, vector.get("vectorIndexConfig"))
            _check_compression(index, allowed_compression)
            out["vectorConfig"][vector_name] = {
                "vectorizer": {"none": {}},
                "vectorIndexType": kind,
                "vectorIndexConfig": index,
            }
    else:
        kind = body.get("vectorIndexType") or "hnsw"
        if kind not in ("hnsw", "flat"):
            raise invalid(f"vector index type '{kind}' is not emulated")
        if (body.get("vectorizer") or "none") != "none":
            raise invalid(f"vectorizer '{body.get('vectorizer')}' is not available: no modules are enabled")
        out["vectorizer"] = "none"
        out["vectorIndexType"] = kind
        out["vectorIndexConfig"] = _vector_index(kind, body.get("vectorIndexConfig"))
        _check_compression(out["vectorIndexConfig"], allowed_compression)
    if out["description"] is None:
        del out["description"]
    return out


def distance_of(schema: dict[str, Any], vector_name: str | None) -> str:
    if vector_name is None:
        return str(schema["vectorIndexConfig"]["distance"])
    return str(schema["vectorConfig"][vector_name]["vectorIndexConfig"]["distance"])


# --- values on write --------------------------------------------------------------------------


def is_date(value: str) -> bool:
    if not _RFC3339.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def infer_type(value: Any, hint: str) -> dict[str, Any] | None:
    """Auto-schema: the property Weaviate adds for a first-seen value (None: cannot infer, skip).

    ``hint`` says which protobuf container carried the value ("struct", "int[]", "number[]",
    "text[]", "boolean[]", "object", "object[]", "empty"), because gRPC structs carry every number
    as a float64 and only the typed arrays keep ints apart.
    """
    if value is None or hint == "empty":
        return None
    if hint in ("int[]", "number[]", "boolean[]"):
        return {"dataType": [hint]}
    if hint == "text[]" or (hint == "struct" and isinstance(value, list)):
        items = [v for v in value if v is not None]
        if not items:
            return None
        first = items[0]
        if isinstance(first, bool):
            return {"dataType": ["boolean[]"]}
        if isinstance(first, (int, float)):
            return {"dataType": ["number[]"]}
        if isinstance(first, dict):
            return {"dataType": ["object[]"], "nestedProperties": _infer_nested(first)}
        text = str(first)
        return {"dataType": ["date[]" if is_date(text) else "uuid[]" if is_uuid(text) else "text[]"]}
    if hint in ("object", "object[]"):
        sample = value if isinstance(value, dict) else (value[0] if value else {})
        return {"dataType": [hint], "nestedProperties": _infer_nested(sample)}
    if isinstance(value, bool):
        return {"dataType": ["boolean"]}
    if isinstance(value, (int, float)):
        return {"dataType": ["number"]}  # AUTOSCHEMA_DEFAULT_NUMBER
    if isinstance(value, dict):
        return {"dataType": ["object"], "nestedProperties": _infer_nested(value)}
    text = str(value)
    if is_date(text):
        return {"dataType": ["date"]}
    if is_uuid(text):
        return {"dataType": ["uuid"]}
    return {"dataType": ["text"]}


def _infer_nested(sample: dict[str, Any]) -> list[dict[str, Any]]:
    nested = []
    for key, value in sample.items():
        inferred = infer_type(value, "struct")
        if inferred is not None:
            nested.append({"name": key, "indexFilterable": True, "indexSearchable": False, **inferred})
    return nested


def coerce(prop: dict[str, Any], class_name: str, value: Any) -> Any:
    """Check ``value`` against the property's type; return it as stored (e.g. ints as int)."""
    dtype = prop["dataType"][0]
    name = prop["name"]
    base = base_type(dtype)
    label = {"int": "integer", "uuid": "uuid", "date": "date", "boolean": "boolean"}.get(base, base)
    if is_array(dtype):
        if not isinstance(value, list):
            raise invalid(f"invalid {label} array property '{name}' on class '{class_name}': not an array")
        return [_coerce_one(base, label, name, class_name, v, array=True) for v in value]
    return _coerce_one(base, label, name, class_name, value, array=False)


def _coerce_one(base: str, label: str, name: str, class_name: str, value: Any, *, array: bool) -> Any:
    what = f"invalid {label}{' array' if array else ''} property '{name}' on class '{class_name}'"
    go_type = type(value).__name__.replace("float", "float64").replace("str", "string").replace("dict", "map")
    if base in ("text", "date", "uuid"):
        if not isinstance(value, str):
            raise invalid(f"{what}: not a string, but {go_type}")
        if base == "date" and not is_date(value):
            raise invalid(f"{what}: requires a string with a RFC3339 formatted date, but the given value is '{value}'")
        if base == "uuid" and not is_uuid(value):
            raise invalid(f"{what}: invalid uuid property value '{value}'")
        return value
    if base == "boolean":
        if not isinstance(value, bool):
            raise invalid(f"{what}: not a boolean, but {go_type}")
        return value
    if base in ("number", "int"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise invalid(f"{what}: requires a float, the given value is {value!r}")
        if base == "int":
            if float(value) != int(value):
                raise invalid(f"{what}: requires an integer, the given value is '{value}'")
            return int(value)
        return float(value)
    if base == "object":
        if not isinstance(value, dict):
            raise invalid(f"{what}: not an object, but {go_type}")
        return value
    return value  # geoCoordinates, phoneNumber, blob: stored as given
