"""The emulator's in-memory database: classes, their shards (one per tenant), objects, vectors.
No protocol knowledge here.

Objects are upserted whole (a batch write replaces the previous object with the same uuid, which
keeps its internal doc id), every new object gets a new doc id (as in Weaviate, where filtered
listings come back in doc id order; the doc id a delete retires stays in the shard's "universe" of
ids, see ``Shard.retired``), and each named vector's dimension is fixed by the first vector
written to it.
"""

from __future__ import annotations

import threading
import time
import uuid as uuid_module
from dataclasses import dataclass, field
from typing import Any

from .errors import EmulatedError, invalid, not_found, usage_limit
from .schema import auto_schema_class, coerce, infer_type, normalise_class, normalise_property, uppercase_first

LEGACY_VECTOR = ""  # key of the unnamed vector of classes without named vectors
#: Weaviate 1.38 maps a named vector "default" sent to a class without named vectors (as an
#: auto-schema'd class is) onto its unnamed vector.
DEFAULT_VECTOR_NAME = "default"


@dataclass
class Settings:
    version: str = "1.38.2"
    #: QUERY_MAXIMUM_RESULTS: most objects one search pages through or one batch delete removes.
    query_maximum_results: int = 10_000
    #: QUERY_DEFAULTS_LIMIT: the limit of a search that gives none.
    query_defaults_limit: int = 10
    #: AUTOSCHEMA_ENABLED: unknown properties (and classes) are added with inferred types on write.
    autoschema: bool = True
    grpc_max_message_size: int = 104_858_000
    #: MAXIMUM_ALLOWED_OBJECTS_COUNT / _COLLECTIONS_COUNT / _TENANTS_PER_COLLECTION (1.38+; None: unlimited).
    max_objects: int | None = None
    max_collections: int | None = None
    max_tenants: int | None = None
    #: ALLOWED_COMPRESSION_TYPES (1.38+; None: anything), e.g. ("rq-8",).
    allowed_compression_types: tuple[str, ...] | None = None
    #: Set by ``WeaviateEmulator.restart()``: the server was restarted on its data.
    restarted: bool = False

    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.version.split("-")[0].split(".")[:3])

    def version_at_least(self, *parts: int) -> bool:
        return self.version_tuple() >= parts

    def negation_counts_retired_ids(self) -> bool:
        """weaviate/weaviate#10260: a filtered count of a negation counts every doc id ever used
        (deleted objects too): on 1.33-1.36.2 at once, on every version after a restart (the id
        universe is re-prefilled from the doc id high-water mark)."""
        return self.restarted or (1, 33) <= self.version_tuple() <= (1, 36, 2)


@dataclass
class StoredObject:
    uuid: str
    properties: dict[str, Any]
    vectors: dict[str, list[float]]
    created_ms: int
    updated_ms: int
    doc_id: int


#: What a retired doc id looks like to a filter: an object without any property.
RETIRED = StoredObject("00000000-0000-0000-0000-000000000000", {}, {}, 0, 0, -1)


@dataclass
class Shard:
    """The objects of a class (or of one tenant of a multi-tenant class)."""

    objects: dict[str, StoredObject] = field(default_factory=dict)
    #: Doc ids a delete retired: still in the universe a negated filter starts from. (An overwrite
    #: keeps its doc id: on 1.38.2, 10 objects, 2 deleted and 5 overwritten, count Not(x == v) as 9
    #: after a restart, not 14.)
    retired: int = 0

    def in_doc_order(self) -> list[StoredObject]:
        return sorted(self.objects.values(), key=lambda o: o.doc_id)

    def in_uuid_order(self) -> list[StoredObject]:
        return sorted(self.objects.values(), key=lambda o: uuid_module.UUID(o.uuid).bytes)

    def remove(self, object_id: str) -> bool:
        if self.objects.pop(object_id, None) is None:
            return False
        self.retired += 1
        return True


@dataclass
class ClassData:
    schema: dict[str, Any]
    shards: dict[str, Shard] = field(default_factory=dict)
    dimensions: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.schema["class"])

    @property
    def multi_tenant(self) -> bool:
        return bool(self.schema["multiTenancyConfig"]["enabled"])

    def prop(self, name: str) -> dict[str, Any] | None:
        for prop in self.schema["properties"]:
            if prop["name"] == name:
                return prop  # type: ignore[no-any-return]
        return None

    @property
    def named_vectors(self) -> list[str]:
        return list(self.schema.get("vectorConfig") or {})

    @property
    def objects(self) -> dict[str, StoredObject]:
        """The objects of a class without tenants (tests read them)."""
        return self.shards.setdefault("", Shard()).objects

    def shard(self, tenant: str, *, create: bool = False, max_tenants: int | None = None) -> Shard:
        """The shard a request with ``tenant`` ("" for none) reads or writes, as Weaviate checks it."""
        if not self.multi_tenant:
            if tenant:
                raise invalid(f"class {self.name} has multi-tenancy disabled, but request was with tenant")
            return self.shards.setdefault("", Shard())
        if not tenant:
            raise invalid(f"class {self.name} has multi-tenancy enabled, but request was without tenant")
        found = self.shards.get(tenant)
        if found is not None:
            return found
        if create and self.schema["multiTenancyConfig"].get("autoTenantCreation"):
            self.add_tenant(tenant, max_tenants)
            return self.shards[tenant]
        raise EmulatedError(f'tenant not found: "{tenant}"')

    def add_tenant(self, tenant: str, max_tenants: int | None) -> None:
        if tenant in self.shards:
            return
        if not tenant or len(tenant) > 64 or not all(ch.isalnum() or ch in "_-" for ch in tenant):
            raise EmulatedError(
                f"auto create tenants: auto-tenant: add tenants to collection {self.name!r}: tenant name at index 0: "
                f" '{tenant}' is not a valid tenant name"
            )
        if max_tenants is not None and len(self.shards) >= max_tenants:
            raise usage_limit("tenants", max_tenants)
        self.shards[tenant] = Shard()


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
            limit = self.settings.max_collections
            if limit is not None and self.settings.version_at_least(1, 38) and len(self.classes) >= limit:
                raise usage_limit("collections", limit)
            allowed = self.settings.allowed_compression_types if self.settings.version_at_least(1, 38) else None
            schema = normalise_class(body, list(self.classes), allowed)
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

    def _class_for_write(self, class_name: str) -> ClassData:
        data = self.get_class(class_name)
        if data is not None:
            return data
        if not self.settings.autoschema:
            raise invalid(f"class {uppercase_first(class_name)} not found in schema")
        # Auto-schema creates the missing class with the server's defaults (seen on 1.38.2).
        schema = auto_schema_class(uppercase_first(class_name))
        data = self.classes[schema["class"]] = ClassData(schema)
        return data

    def check_object_limit(self, adding: int) -> None:
        """MAXIMUM_ALLOWED_OBJECTS_COUNT (1.38+): a batch that would pass the cap is refused whole."""
        limit = self.settings.max_objects
        if limit is None or not self.settings.version_at_least(1, 38):
            return
        current = sum(len(s.objects) for d in self.classes.values() for s in d.shards.values())
        if current + adding > limit:
            raise usage_limit("objects", limit)

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
            data = self._class_for_write(class_name)
            shard = data.shard(tenant, create=True, max_tenants=self.settings.max_tenants)
            object_id = canonical_uuid(object_id)
            stored_props = self._check_properties(data, properties)
            stored_vectors = self._check_vectors(data, vectors)
            now = int(time.time() * 1000)
            previous = shard.objects.get(object_id)
            if previous is None:
                self._doc_ids += 1
            doc_id = previous.doc_id if previous is not None else self._doc_ids
            obj = StoredObject(
                object_id, stored_props, stored_vectors, previous.created_ms if previous else now, now, doc_id
            )
            shard.objects[object_id] = obj
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
        if not named and set(vectors) == {DEFAULT_VECTOR_NAME}:
            vectors = {LEGACY_VECTOR: vectors[DEFAULT_VECTOR_NAME]}
        for vector_name, vector in vectors.items():
            if vector_name == LEGACY_VECTOR and named:
                raise invalid(
                    f"collection {data.name} has only named vectors {named}: send the vector by name (the emulator "
                    "does not map an unnamed vector onto a named one, see NOT_COVERED)"
                )
            if vector_name != LEGACY_VECTOR and vector_name not in named:
                raise invalid(f"collection {data.name} does not have configuration for vector {vector_name}")
            if not vector:
                continue
            expected = data.dimensions.get(vector_name)
            if expected is not None and expected != len(vector):
                raise invalid(
                    f"insert to vector index: calculate distance between insert node and entrypoint: "
                    f"{expected} vs {len(vector)}: vector lengths don't match"
                )
        for vector_name, vector in vectors.items():
            if vector:
                data.dimensions.setdefault(vector_name, len(vector))
        return {k: list(v) for k, v in vectors.items() if v}

    def get_object(self, class_name: str, object_id: str, tenant: str = "") -> StoredObject | None:
        with self.lock:
            data = self.get_class(class_name)
            if data is None:
                return None
            return data.shard(tenant).objects.get(canonical_uuid(object_id))

    def delete_object(self, class_name: str, object_id: str, tenant: str = "") -> bool:
        with self.lock:
            data = self.get_class(class_name)
            if data is None:
                raise not_found(f"class {class_name} not found")
            return data.shard(tenant).remove(canonical_uuid(object_id))
