"""Weaviate's gRPC API (``weaviate.v1.Weaviate`` + the health check) over the emulator's database,
using the protobuf stubs that ship inside weaviate-client."""

from __future__ import annotations

import math
import struct
import time
import uuid as uuid_module
from collections.abc import Callable, Iterable
from typing import Any

import grpc
from google.protobuf import struct_pb2
from weaviate.proto.v1 import (
    aggregate_pb2,
    base_pb2,
    base_search_pb2,
    batch_delete_pb2,
    batch_pb2,
    health_weaviate_pb2,
    properties_pb2,
    search_get_pb2,
    tenants_pb2,
    weaviate_pb2_grpc,
)

from .bm25 import bm25
from .database import LEGACY_VECTOR, RETIRED, ClassData, Database, Shard, StoredObject, canonical_uuid
from .errors import EmulatedError, invalid, unimplemented
from .faults import Faults
from .filters import FilterCompiler, Predicate
from .schema import base_type, distance_of, is_array

_SEARCH_FEATURES = (
    "hybrid_search", "near_object", "near_text", "near_image", "near_audio", "near_video",
    "near_depth", "near_thermal", "near_imu", "group_by", "generative", "rerank", "boost",
)  # fmt: skip
_CONSISTENCY = {
    base_pb2.CONSISTENCY_LEVEL_ONE: "ONE",
    base_pb2.CONSISTENCY_LEVEL_QUORUM: "QUORUM",
    base_pb2.CONSISTENCY_LEVEL_ALL: "ALL",
}


# ----- protobuf <-> python values -------------------------------------------------------------


def _struct_value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind in (None, "null_value"):
        return None
    if kind == "struct_value":
        return {k: _struct_value(v) for k, v in value.struct_value.fields.items()}
    if kind == "list_value":
        return [_struct_value(v) for v in value.list_value.values]
    return getattr(value, kind)


def parse_properties(props: Any) -> dict[str, tuple[Any, str]]:
    """BatchObject.Properties / ObjectPropertiesValue -> name -> (value, container hint)."""
    out: dict[str, tuple[Any, str]] = {}
    if props.HasField("non_ref_properties"):
        for name, value in props.non_ref_properties.fields.items():
            out[name] = (_struct_value(value), "struct")
    for arr in props.number_array_properties:
        raw = arr.values_bytes
        values = list(struct.unpack(f"<{len(raw) // 8}d", raw)) if raw else list(arr.values)
        out[arr.prop_name] = (values, "number[]")
    for arr in props.int_array_properties:
        out[arr.prop_name] = (list(arr.values), "int[]")
    for arr in props.text_array_properties:
        out[arr.prop_name] = (list(arr.values), "text[]")
    for arr in props.boolean_array_properties:
        out[arr.prop_name] = (list(arr.values), "boolean[]")
    for obj in props.object_properties:
        out[obj.prop_name] = ({k: v for k, (v, _) in parse_properties(obj.value).items()}, "object")
    for arr in props.object_array_properties:
        out[arr.prop_name] = ([{k: v for k, (v, _) in parse_properties(o).items()} for o in arr.values], "object[]")
    for name in props.empty_list_props:
        out[name] = ([], "empty")
    return out


def _floats(raw: bytes) -> list[float]:
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def _vectors_of(message: Any, what: str) -> dict[str, list[float]]:
    """Vectors of a BatchObject (or NearVector): unnamed ``vector_bytes``/``vector`` and named ``vectors``."""
    out: dict[str, list[float]] = {}
    if message.vector_bytes:
        out[LEGACY_VECTOR] = _floats(message.vector_bytes)
    elif len(message.vector):
        out[LEGACY_VECTOR] = [float(x) for x in message.vector]
    for vec in message.vectors:
        if vec.type == base_pb2.Vectors.VECTOR_TYPE_MULTI_FP32:
            raise unimplemented(f"multi-vectors in {what}")
        out[vec.name] = _floats(vec.vector_bytes)
    return out


def _value(data_type: str, value: Any) -> properties_pb2.Value:
    """A stored property value as Weaviate's reply encodes it for the property's type."""
    if value is None:
        return properties_pb2.Value(null_value=struct_pb2.NULL_VALUE)
    base = base_type(data_type)
    if is_array(data_type):
        if base == "text":
            return properties_pb2.Value(list_value=properties_pb2.ListValue(text_values={"values": value}))
        if base == "boolean":
            return properties_pb2.Value(list_value=properties_pb2.ListValue(bool_values={"values": value}))
        if base == "number":
            packed = struct.pack(f"<{len(value)}d", *value)
            return properties_pb2.Value(list_value=properties_pb2.ListValue(number_values={"values": packed}))
        if base == "int":
            packed = struct.pack(f"<{len(value)}q", *value)
            return properties_pb2.Value(list_value=properties_pb2.ListValue(int_values={"values": packed}))
        if base == "date":
            return properties_pb2.Value(list_value=properties_pb2.ListValue(date_values={"values": value}))
        if base == "uuid":
            return properties_pb2.Value(list_value=properties_pb2.ListValue(uuid_values={"values": value}))
        if base == "object":
            objs = [_object(v) for v in value]
            return properties_pb2.Value(list_value=properties_pb2.ListValue(object_values={"values": objs}))
    if base == "text":
        return properties_pb2.Value(text_value=value)
    if base == "boolean":
        return properties_pb2.Value(bool_value=value)
    if base == "number":
        return properties_pb2.Value(number_value=value)
    if base == "int":
        return properties_pb2.Value(int_value=value)
    if base == "date":
        return properties_pb2.Value(date_value=value)
    if base == "uuid":
        return properties_pb2.Value(uuid_value=value)
    if base == "object":
        return properties_pb2.Value(object_value=_object(value))
    raise unimplemented(f"returning {data_type} properties")


def _object(value: dict[str, Any]) -> properties_pb2.Properties:
    """Nested objects come back with types guessed from the Python values (nested schemas are not kept)."""
    fields = {}
    for key, item in value.items():
        if item is None:
            fields[key] = properties_pb2.Value(null_value=struct_pb2.NULL_VALUE)
        elif isinstance(item, bool):
            fields[key] = properties_pb2.Value(bool_value=item)
        elif isinstance(item, (int, float)):
            fields[key] = properties_pb2.Value(number_value=float(item))
        elif isinstance(item, dict):
            fields[key] = properties_pb2.Value(object_value=_object(item))
        elif isinstance(item, list):
            fields[key] = _value("text[]", [str(x) for x in item])
        else:
            fields[key] = properties_pb2.Value(text_value=str(item))
    return properties_pb2.Properties(fields=fields)


# ----- distances ------------------------------------------------------------------------------


def distance(kind: str, a: list[float], b: list[float]) -> float:
    if kind == "cosine":
        na = math.sqrt(sum(x * x for x in a))
        nb = math.sqrt(sum(x * x for x in b))
        if na == 0 or nb == 0:
            return 1.0
        return 1.0 - sum(x * y for x, y in zip(a, b, strict=True)) / (na * nb)
    if kind == "dot":
        return -sum(x * y for x, y in zip(a, b, strict=True))
    if kind == "l2-squared":
        return sum((x - y) ** 2 for x, y in zip(a, b, strict=True))
    if kind == "manhattan":
        return sum(abs(x - y) for x, y in zip(a, b, strict=True))
    return float(sum(1 for x, y in zip(a, b, strict=True) if x != y))  # hamming


# ----- the service ----------------------------------------------------------------------------


class WeaviateService(weaviate_pb2_grpc.WeaviateServicer):
    def __init__(self, db: Database, faults: Faults, api_key: str | None) -> None:
        self.db = db
        self.faults = faults
        self.api_key = api_key

    # every RPC: authentication, injected faults, EmulatedError -> gRPC status
    def _run(self, method: str, context: grpc.ServicerContext, body: Callable[[], Any]) -> Any:
        self.faults.record(f"grpc:{method}")
        if self.api_key is not None:
            metadata = dict(context.invocation_metadata())
            if metadata.get("authorization") != f"Bearer {self.api_key}":
                context.abort(grpc.StatusCode.UNAUTHENTICATED, "unauthorized: invalid or missing api key")
        fault = self.faults.take_rpc_fault(method)
        if fault is not None:
            context.abort(fault[0], fault[1])
        try:
            return body()
        except EmulatedError as exc:
            context.abort(exc.code, exc.message)

    def _predicate(self, data: ClassData, filters: base_pb2.Filters | None) -> Predicate | None:
        if filters is None:
            return None
        settings = self.db.settings
        return FilterCompiler(
            data,
            supports_not=settings.version_at_least(1, 33),
            negative_zero_apart=not settings.version_at_least(1, 38),
        ).compile(filters)

    def _consistency(self, method: str, request: Any) -> None:
        """Log the consistency level a request asked for (tests check what the client sent)."""
        if request.HasField("consistency_level"):
            self.faults.record(f"consistency:{method}:{_CONSISTENCY.get(request.consistency_level, '?')}")

    # ----- writes -----------------------------------------------------------------------------

    def BatchObjects(self, request: batch_pb2.BatchObjectsRequest, context: grpc.ServicerContext) -> Any:
        def body() -> batch_pb2.BatchObjectsReply:
            start = time.perf_counter()
            self._consistency("BatchObjects", request)
            self.faults.batch_sizes.append(len(request.objects))
            errors = []
            try:
                with self.db.lock:
                    self.db.check_object_limit(len(request.objects))
            except EmulatedError as exc:  # the shard refuses the whole batch: every object says why
                return batch_pb2.BatchObjectsReply(
                    took=time.perf_counter() - start,
                    errors=[
                        batch_pb2.BatchObjectsReply.BatchError(index=i, error=exc.message)
                        for i in range(len(request.objects))
                    ],
                )
            for index, obj in enumerate(request.objects):
                try:
                    injected = self.faults.object_error(obj.uuid)
                    if injected is not None:
                        raise invalid(injected)
                    if obj.properties.single_target_ref_props or obj.properties.multi_target_ref_props:
                        raise unimplemented("cross-references")
                    self.db.put_object(
                        obj.collection,
                        obj.uuid,
                        parse_properties(obj.properties),
                        _vectors_of(obj, "batch objects"),
                        tenant=obj.tenant,
                    )
                except EmulatedError as exc:
                    errors.append(batch_pb2.BatchObjectsReply.BatchError(index=index, error=exc.message))
            return batch_pb2.BatchObjectsReply(took=time.perf_counter() - start, errors=errors)

        return self._run("BatchObjects", context, body)

    def BatchReferences(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._run("BatchReferences", context, lambda: self._unimplemented("cross-references"))

    def BatchStream(self, request_iterator: Iterable[Any], context: grpc.ServicerContext) -> Any:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "the Weaviate emulator does not implement server-side batching")

    def BatchDelete(self, request: batch_delete_pb2.BatchDeleteRequest, context: grpc.ServicerContext) -> Any:
        def body() -> batch_delete_pb2.BatchDeleteReply:
            start = time.perf_counter()
            with self.db.lock:
                data = self.db.require_class(request.collection)
                shard = self._shard(
                    data, request.tenant if request.HasField("tenant") else "", "batch delete: cannot find objects"
                )
                if not request.HasField("filters"):
                    raise invalid("no filters in batch delete request")
                predicate = self._predicate(data, request.filters)
                assert predicate is not None
                matched = [o for o in shard.in_doc_order() if predicate(o)]
                limit = self.db.settings.query_maximum_results
                objects = []
                successful = failed = 0
                for obj in matched[:limit]:
                    error = self.faults.delete_error(obj.uuid)
                    if error is None and not request.dry_run:
                        shard.remove(obj.uuid)
                    if error is None:
                        successful += 1
                    else:
                        failed += 1
                    if request.verbose:
                        objects.append(
                            batch_delete_pb2.BatchDeleteObject(
                                uuid=uuid_module.UUID(obj.uuid).bytes, successful=error is None, error=error or ""
                            )
                        )
            return batch_delete_pb2.BatchDeleteReply(
                took=time.perf_counter() - start,
                failed=failed,
                matches=len(matched),  # all matches, though at most QUERY_MAXIMUM_RESULTS are deleted
                successful=successful,
                objects=objects,
            )

        return self._run("BatchDelete", context, body)

    # ----- reads ------------------------------------------------------------------------------

    def Search(self, request: search_get_pb2.SearchRequest, context: grpc.ServicerContext) -> Any:
        return self._run("Search", context, lambda: self._search(request))

    def _search(self, req: search_get_pb2.SearchRequest) -> search_get_pb2.SearchReply:
        start = time.perf_counter()
        for feature in _SEARCH_FEATURES:
            if req.HasField(feature):
                raise unimplemented(f"{feature} in searches")
        if req.sort_by:
            raise unimplemented("sorting")
        if req.autocut:
            raise unimplemented("autocut")
        settings = self.db.settings
        self._consistency("Search", req)
        with self.db.lock:
            data = self.db.require_class(req.collection)
            shard = self._shard(
                data, req.tenant, "explorer: list class: search: object search at index " + data.name.lower()
            )
            limit = req.limit or settings.query_defaults_limit
            if req.offset + limit > settings.query_maximum_results:
                raise invalid(
                    f"query maximum results exceeded: offset + limit ({req.offset + limit}) is more than "
                    f"QUERY_MAXIMUM_RESULTS ({settings.query_maximum_results})"
                )
            predicate = self._predicate(data, req.filters if req.HasField("filters") else None)
            distances: dict[str, float] = {}
            scores: dict[str, float] = {}
            target: str | None = None
            if req.after:
                clashing = [n for n, on in (("offset", req.offset), ("where", predicate is not None)) if on]
                if clashing:
                    raise invalid(f"{','.join(clashing)} cannot be set with after and limit parameters")
                if req.HasField("near_vector"):
                    raise invalid("a cursor (after) cannot be combined with a vector search")
                after = uuid_module.UUID(canonical_uuid(req.after)).bytes
                page = [o for o in shard.in_uuid_order() if uuid_module.UUID(o.uuid).bytes > after][:limit]
            elif req.HasField("near_vector"):
                target = self._target_vector(data, req.near_vector)
                page = self._nearest(data, shard, req.near_vector, target, predicate, distances)
                page = page[req.offset : req.offset + limit]
            elif req.HasField("bm25_search"):
                scored = bm25(
                    data, shard.in_doc_order(), req.bm25_search.query, list(req.bm25_search.properties), predicate
                )
                page = [o for _, o in scored][req.offset : req.offset + limit]
                scores.update((o.uuid, s) for s, o in scored)
            elif predicate is not None:
                page = [o for o in shard.in_doc_order() if predicate(o)][req.offset : req.offset + limit]
            else:
                page = shard.in_uuid_order()[req.offset : req.offset + limit]  # an unfiltered listing walks uuids
            results = [self._result(data, req, o, distances.get(o.uuid), target, scores.get(o.uuid)) for o in page]
        return search_get_pb2.SearchReply(took=time.perf_counter() - start, results=results)

    def _target_vector(self, data: ClassData, near: base_search_pb2.NearVector) -> str:
        named = data.named_vectors
        targets = list(near.targets.target_vectors) if near.HasField("targets") else list(near.target_vectors)
        if len(targets) > 1:
            raise unimplemented("multi-target vector search")
        if not named:
            if targets:
                raise invalid(
                    f"class {data.name} does not have named vectors configured, but target vectors were given"
                )
            return LEGACY_VECTOR
        if not targets:
            if len(named) > 1:
                raise invalid(f"class {data.name} has multiple vectors, but no target vectors were provided")
            return named[0]
        if targets[0] not in named:
            raise invalid(
                f"class {data.name} does not have named vector {targets[0]} configured. Available named vectors {named}"
            )
        return str(targets[0])

    def _nearest(
        self,
        data: ClassData,
        shard: Shard,
        near: base_search_pb2.NearVector,
        target: str,
        predicate: Predicate | None,
        distances: dict[str, float],
    ) -> list[StoredObject]:
        given = _vectors_of(near, "near_vector")
        if near.vector_for_targets:
            raise unimplemented("vector_for_targets")
        query = given.get(target) or given.get(LEGACY_VECTOR) or (next(iter(given.values())) if given else None)
        if not query:
            raise invalid("near_vector: no vector given")
        dims = data.dimensions.get(target)
        if dims is not None and dims != len(query):
            raise invalid(
                "vector search: knn search: distance between entrypoint and query node: "
                f"vector lengths don't match: {dims} vs {len(query)}"
            )
        kind = distance_of(data.schema, target or None)
        scored = []
        for obj in shard.objects.values():
            vec = obj.vectors.get(target)
            if vec is None or (predicate is not None and not predicate(obj)):
                continue
            d = distance(kind, vec, query)
            if near.HasField("distance") and d > near.distance:
                continue
            if near.HasField("certainty"):
                if kind != "cosine":
                    raise invalid("can't compute and return certainty when vector index is configured with " + kind)
                if 1 - d / 2 < near.certainty:
                    continue
            distances[obj.uuid] = d
            scored.append((d, obj.doc_id, obj))
        scored.sort(key=lambda t: (t[0], t[1]))
        return [obj for _, _, obj in scored]

    def _selected_properties(self, data: ClassData, req: search_get_pb2.SearchRequest) -> list[dict[str, Any]]:
        props = [p for p in data.schema["properties"] if p["dataType"][0] != "blob"]
        if not req.HasField("properties") or req.properties.return_all_nonref_properties:
            return props
        if req.properties.ref_properties:
            raise unimplemented("returning cross-references")
        names = list(req.properties.non_ref_properties) + [o.prop_name for o in req.properties.object_properties]
        by_name = {p["name"]: p for p in props}
        return [by_name.get(n, {"name": n, "dataType": ["text"]}) for n in names]

    def _result(
        self,
        data: ClassData,
        req: search_get_pb2.SearchRequest,
        obj: StoredObject,
        dist: float | None,
        target: str | None,
        score: float | None = None,
    ) -> search_get_pb2.SearchResult:
        fields = {
            p["name"]: _value(p["dataType"][0], obj.properties.get(p["name"]))
            for p in self._selected_properties(data, req)
        }
        meta = search_get_pb2.MetadataResult()
        md = req.metadata if req.HasField("metadata") else search_get_pb2.MetadataRequest(uuid=True)
        if md.uuid:
            meta.id = obj.uuid
            meta.id_as_bytes = uuid_module.UUID(obj.uuid).bytes
        if md.creation_time_unix:
            meta.creation_time_unix, meta.creation_time_unix_present = obj.created_ms, True
        if md.last_update_time_unix:
            meta.last_update_time_unix, meta.last_update_time_unix_present = obj.updated_ms, True
        if md.distance and dist is not None:
            meta.distance, meta.distance_present = dist, True
        if md.score and score is not None:
            meta.score, meta.score_present = score, True
        if (
            md.certainty
            and dist is not None
            and target is not None
            and distance_of(data.schema, target or None) == "cosine"
        ):
            meta.certainty, meta.certainty_present = 1 - dist / 2, True
        wanted = list(md.vectors)
        if md.vector:
            if data.named_vectors:
                wanted = data.named_vectors  # "vector: true" returns every named vector
            elif LEGACY_VECTOR in obj.vectors:
                meta.vector_bytes = struct.pack(f"<{len(obj.vectors[LEGACY_VECTOR])}f", *obj.vectors[LEGACY_VECTOR])
        for name in wanted:
            vec = obj.vectors.get(name)
            if vec:
                meta.vectors.append(
                    base_pb2.Vectors(
                        name=name,
                        vector_bytes=struct.pack(f"<{len(vec)}f", *vec),
                        type=base_pb2.Vectors.VECTOR_TYPE_SINGLE_FP32,
                    )
                )
        props = search_get_pb2.PropertiesResult(target_collection=data.name)
        if fields:
            props.non_ref_props.CopyFrom(properties_pb2.Properties(fields=fields))
        return search_get_pb2.SearchResult(properties=props, metadata=meta)

    def Aggregate(self, request: aggregate_pb2.AggregateRequest, context: grpc.ServicerContext) -> Any:
        def body() -> aggregate_pb2.AggregateReply:
            start = time.perf_counter()
            if request.aggregations or request.HasField("group_by"):
                raise unimplemented("property aggregations and group-by (only objects_count is emulated)")
            for feature in ("hybrid", "near_vector", "near_object", "near_text", "near_image"):
                if request.HasField(feature):
                    raise unimplemented(f"{feature} in aggregations")
            with self.db.lock:
                data = self.db.require_class(request.collection)
                shard = self._shard(data, request.tenant, "aggregate")
                predicate = self._predicate(data, request.filters if request.HasField("filters") else None)
                count = sum(1 for o in shard.objects.values() if predicate is None or predicate(o))
                if predicate is not None and self.db.settings.negation_counts_retired_ids() and predicate(RETIRED):
                    # weaviate/weaviate#10260: the retired doc ids are in the universe a negation
                    # starts from, and the count does not resolve them to objects
                    count += shard.retired
            single = aggregate_pb2.AggregateReply.Single()
            if request.objects_count:
                single.objects_count = count
            return aggregate_pb2.AggregateReply(took=time.perf_counter() - start, single_result=single)

        return self._run("Aggregate", context, body)

    def TenantsGet(self, request: tenants_pb2.TenantsGetRequest, context: grpc.ServicerContext) -> Any:
        def body() -> tenants_pb2.TenantsGetReply:
            with self.db.lock:
                data = self.db.require_class(request.collection)
                if not data.multi_tenant:
                    raise invalid(f"multi-tenancy is not enabled for class {data.name!r}")
                wanted = set(request.names.values) if request.HasField("names") else None
                names = [t for t in data.shards if wanted is None or t in wanted]
            hot = tenants_pb2.TENANT_ACTIVITY_STATUS_HOT
            return tenants_pb2.TenantsGetReply(tenants=[tenants_pb2.Tenant(name=n, activity_status=hot) for n in names])

        return self._run("TenantsGet", context, body)

    @staticmethod
    def _shard(data: ClassData, tenant: str, context: str) -> Shard:
        """The shard a read names, with Weaviate's error wording when it cannot."""
        try:
            return data.shard(tenant)
        except EmulatedError as exc:
            raise EmulatedError(f"{context}: {exc.message}", status=exc.status, code=exc.code) from None

    def _unimplemented(self, feature: str) -> Any:
        raise unimplemented(feature)


class HealthService:
    """``grpc.health.v1.Health/Check`` with Weaviate's own message types, as the client calls it."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults

    def check(self, request: health_weaviate_pb2.WeaviateHealthCheckRequest, context: grpc.ServicerContext) -> Any:
        self.faults.record("grpc:Health/Check")
        return health_weaviate_pb2.WeaviateHealthCheckResponse(
            status=health_weaviate_pb2.WeaviateHealthCheckResponse.SERVING
        )

    def handler(self) -> grpc.GenericRpcHandler:
        return grpc.method_handlers_generic_handler(
            "grpc.health.v1.Health",
            {
                "Check": grpc.unary_unary_rpc_method_handler(
                    self.check,
                    request_deserializer=health_weaviate_pb2.WeaviateHealthCheckRequest.FromString,
                    response_serializer=health_weaviate_pb2.WeaviateHealthCheckResponse.SerializeToString,
                )
            },
        )
