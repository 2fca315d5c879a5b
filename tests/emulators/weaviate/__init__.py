"""An in-process Weaviate emulator: REST (meta, ready, schema, objects) and gRPC (batch objects,
batch delete, search with filters and near_vector, aggregate count, health) on free local ports,
built on the protobuf stubs that ship inside weaviate-client, so the real client drives it.

Semantics follow Weaviate's source and docs: class and property name rules (case-insensitive
uniqueness, reserved names and suffixes), server defaults filled into schemas, property types fixed
by the schema and by auto-schema on first write, whole-object replacement on batch writes, vector
dimensions fixed by the first vector, filters as described in :mod:`.filters` (missing/null
handling, any-element arrays, tokenization, ``Not`` only from 1.33), distances ``cosine``
(1 - cos), ``dot`` (-a·b), ``l2-squared``, ``manhattan``, ``hamming``, the default search limit
(QUERY_DEFAULTS_LIMIT, 10), the QUERY_MAXIMUM_RESULTS cap on searches and on each batch delete
(``matches`` still counts everything), the ``after`` cursor walking uuids in byte order, and
unfiltered listings in uuid order, filtered ones in write order.

Search is exact (brute force), not HNSW: recall is always perfect here.
"""

from .server import WeaviateEmulator

#: What the emulator does not do (requests for it fail with UNIMPLEMENTED / 404 / 422, never silently).
NOT_COVERED: tuple[str, ...] = (
    "GraphQL (/v1/graphql), so client paths for Weaviate < 1.29 (aggregations over GraphQL) do not work: "
    "emulate 1.29 or later",
    "REST batch endpoints (/v1/batch/*) and gRPC BatchStream (server-side batching)",
    "vectorizer, generative and reranker modules; near_text/near_object/near_image/..., hybrid and BM25 search",
    "approximate (HNSW) search behaviour: search is exact, and quantization settings are stored but ignored",
    "multi-vectors, multi-target vector search, group-by, sorting, autocut, boost, MMR selection",
    "property aggregations and group-by in Aggregate (only objects_count, with filters)",
    "multi-tenancy, replication, consistency levels, sharding, backups, RBAC/users, aliases, cluster APIs",
    "cross-references (properties, filters and returns)",
    "filters on nested object paths, property length, timestamps and geo ranges; range filters on text",
    "trigram/gse/kagome tokenization in filters",
    "schema updates (PUT /v1/schema/{class}), property/vector index deletion, object TTL",
    "auto-schema creating a missing class (objects for unknown classes fail)",
    "an unnamed (legacy) vector sent to a collection with named vectors (refused; Weaviate may map it)",
    "nested object properties: their nestedProperties are inferred but values are not type-checked",
    "authentication other than one static API key (no OIDC)",
    "persistence: everything lives in memory until the emulator stops",
)

__all__ = ["NOT_COVERED", "WeaviateEmulator"]
