"""The emulator's in-memory database: classes, objects, vectors. No protocol knowledge here.

Objects are upserted whole (a batch write replaces the previous object with the same uuid), every
write gets a new internal doc id (as in Weaviate, where filtered listings come back in doc id
order), and each named vector's dimension is fixed by the first vector written to it.
"""

from __future__ import annotations

import threading
import time
import uuid as uuid_module
from dataclasses import dataclass, field
from typing import Any

from .errors import EmulatedError, invalid, not_found
from .schema import coerce, infer_type, normalise_class, normalise_property, uppercase_first

LEGACY_VECTOR = ""  # key of the unnamed vector of classes without named vectors


@dataclass
class Settings:
    version: str = "1.36.2"
    #: QUERY_MAXIMUM_RESULTS: most objects one search pages through or one batch delete removes.
    query_maximum_results: int = 10_000
    #: QUERY_DEFAULTS_LIMIT: the limit of a search that gives none.
    query_defaults_limit: int = 10
    #: AUTOSCHEMA_ENABLED: unknown properties are added with an inferred type on first write.
    autoschema: bool = True
    grpc_max_message_size: int = 104_858_000

    def version_at_least(self, *parts: int) -> bool:
        mine = tuple(int(p) for p in self.version.split("-")[0].split(".")[:3])
        return mine >= parts


@dataclass
class StoredObject:
    uuid: str
    properties: dict[str, Any]
    vectors: dict[str, list[float]]
    created_ms: int
    updated_ms: int
    doc_id: int


@dataclass
class ClassData:
    schema: dict[str, Any]
    objects: dict[str, StoredObject] = field(default_factory=dict)
    dimensions: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.schema["class"])

    def prop(self, name: str) -> dict[str, Any] | None:
        for prop in self.schema["properties"]:
            if prop["name"] == name:
                return prop  # type: ignore[no-any-return]
        return None

    @property
    def named_vectors(self) -> list[str]:
        return list(self.schema.get("vectorConfig") or {})

    def in_doc_order(self) -> list[StoredObject]:
        return sorted(self.objects.values(), key=lambda o: o.doc_id)

    def in_uuid_order(self) -> list[StoredObject]:
        return sorted(self.objects.values(), key=lambda o: uuid_module.UUID(o.uuid).bytes)


def canonical_uuid(value: str) -> str:
    try:
        return str(uuid_module.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise invalid(f"invalid UUID length: {len(str(value))}") from None


class Database:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lock = threading.RLock()
        self.classes: dict[str, ClassData] = {}
        self._doc_ids = 0

    # ----- schema -----------------------------------------------------------------------------

    def create_class(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            schema = normalise_class(body, list(self.classes))
            self.classes[schema["class"]] = ClassData(schema)
            return schema

    def get_class(self, name: str) -> ClassData | None:
        with self.lock:
            return self.classes.get(uppercase_first(name))

    def require_class(self, name: str) -> ClassData:
        data = self.get_class(name)
        if data is None:
            raise EmulatedError(f"could not find class {uppercase_first(name)} in schema", status=404)
        return data

    def delete_class(self, name: str) -> None:
        with self.lock:
            self.classes.pop(uppercase_first(name), None)  # deleting an absent class is not an error

    def add_property(self, class_name: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            data = self.require_class(class_name)
            prop = normalise_property(body)
            if any(p["name"].lower() == prop["name"].lower() for p in data.schema["properties"]):
                raise invalid(
                    f'class "{data.name}": conflict for property "{prop["name"]}": already in use or provided '
                    "multiple times"
                )
            data.schema["properties"].append(prop)
            return prop

    # ----- objects ----------------------------------------------------------------------------

    def put_object(
        self,
        class_name: str,
        object_id: str,
        properties: dict[str, tuple[Any, str]],
        vectors: dict[str, list[float]],
        *,
        tenant: str = "",
    ) -> StoredObject:
        """Insert or replace one object. ``properties`` maps name -> (value, protobuf container
        hint); ``vectors`` maps a vector name (``LEGACY_VECTOR`` for the unnamed one) -> floats."""
        with self.lock:
            data = self.get_class(class_name)
            if data is None:
                raise invalid(
                    f"class {uppercase_first(class_name)} not found in schema: the emulator's auto-schema "
                    "does not create classes (see NOT_COVERED)"
                )
            if tenant:
                raise invalid(f"class {data.name} has multi-tenancy disabled, but request was with tenant")
            object_id = canonical_uuid(object_id)
            stored_props = self._check_properties(data, properties)
            stored_vectors = self._check_vectors(data, vectors)
            now = int(time.time() * 1000)
            previous = data.objects.get(object_id)
            self._doc_ids += 1
            obj = StoredObject(
                object_id, stored_props, stored_vectors, previous.created_ms if previous else now, now, self._doc_ids
            )
            data.objects[object_id] = obj
            return obj

    def _check_properties(self, data: ClassData, properties: dict[str, tuple[Any, str]]) -> dict[str, Any]:
        stored: dict[str, Any] = {}
        for name, (value, hint) in properties.items():
            if name in ("id", "_id", "_additional", "vector"):
                raise invalid(f"'{name}' is a reserved property name")
            prop = data.prop(name)
            if prop is None:
                match = next((p for p in data.schema["properties"] if p["name"].lower() == name.lower()), None)
                if match is not None:
                    raise invalid(f"property '{name}' conflicts with '{match['name']}': names are case-insensitive")
                if not self.settings.autoschema:
                    raise invalid(
                        f"no such prop with name '{name}' found in class '{data.name}' in the schema. Check your "
                        "schema files for which properties in this class are available"
                    )
                inferred = infer_type(value, hint)
                if inferred is None:
                    continue  # null or empty list: nothing to infer a type from, nothing stored
                prop = normalise_property({"name": name, **inferred})
                data.schema["properties"].append(prop)
            if value is None:
                continue  # nulls are not stored
            if hint == "empty":
                if not prop["dataType"][0].endswith("[]"):
                    raise invalid(f"property '{name}' is not an array but an empty list was given")
                stored[name] = []
                continue
            stored[name] = coerce(prop, data.name, value)
        return stored

    def _check_vectors(self, data: ClassData, vectors: dict[str, list[float]]) -> dict[str, list[float]]:
        named = data.named_vectors
        for vector_name, vector in vectors.items():
            if vector_name == LEGACY_VECTOR and named:
                raise invalid(
                    f"collection {data.name} has only named vectors {named}: send the vector by name (the emulator "
                    "does not map an unnamed vector onto a named one, see NOT_COVERED)"
                )
            if vector_name != LEGACY_VECTOR and vector_name not in named:
                raise invalid(
                    f'collection {data.name} does not have named vector "{vector_name}" configured. '
                    f"Available named vectors {named}"
                )
            if not vector:
                continue
            expected = data.dimensions.get(vector_name)
            if expected is not None and expected != len(vector):
                raise invalid(
                    f"new node has a vector with length {len(vector)}. "
                    f"Existing nodes have vectors with length {expected}"
                )
        for vector_name, vector in vectors.items():
            if vector:
                data.dimensions.setdefault(vector_name, len(vector))
        return {k: list(v) for k, v in vectors.items() if v}

    def get_object(self, class_name: str, object_id: str) -> StoredObject | None:
        with self.lock:
            data = self.get_class(class_name)
            if data is None:
                return None
            return data.objects.get(canonical_uuid(object_id))

    def delete_object(self, class_name: str, object_id: str) -> bool:
        with self.lock:
            data = self.get_class(class_name)
            if data is None:
                raise not_found(f"class {class_name} not found")
            return data.objects.pop(canonical_uuid(object_id), None) is not None
