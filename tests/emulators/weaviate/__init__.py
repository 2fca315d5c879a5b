"""An in-process Weaviate emulator: REST (meta, ready, schema, objects) and gRPC (batch objects,
batch delete, search with filters, near_vector and BM25, aggregate count, tenants, health) on free
local ports, built on the protobuf stubs that ship inside weaviate-client, so the real client drives it.

It claims Weaviate 1.38.2 (the version docker-compose.test.yml runs) and behaves as that version
unless told another (``WeaviateEmulator(version=...)``). Semantics follow Weaviate's source and were
checked against a 1.38.2 server built from source: class and property name rules (case-insensitive
uniqueness, reserved names and suffixes), server defaults filled into schemas, property types fixed
by the schema and by auto-schema on first write, auto-schema creating a class a batch writes into
(unnamed index, "default" vector mapped onto it), whole-object replacement on batch writes,
vector dimensions fixed by the first vector, filters as described in :mod:`.filters` (missing/null
handling, any-element arrays, tokenization, ``Not`` only from 1.33, -0.0 apart from 0.0 before
1.38), BM25 as in :mod:`.bm25` (scores equal to the server's to 5 digits), multi-tenancy (one
shard per tenant, auto tenant creation, "tenant not found"), negated counts that include deleted
doc ids (weaviate/weaviate#10260: 1.33-1.36.2, or after :meth:`WeaviateEmulator.restart`), usage
limits (1.38: 429 / RESOURCE_EXHAUSTED / per-object messages) and ALLOWED_COMPRESSION_TYPES (1.38:
422 CONFIG_NOT_ALLOWED), distances ``cosine`` (1 - cos), ``dot`` (-a·b), ``l2-squared``,
``manhattan``, ``hamming``, the default search limit (QUERY_DEFAULTS_LIMIT, 10), the
QUERY_MAXIMUM_RESULTS cap on searches and on each batch delete (``matches`` still counts
everything), the gRPC message size limit announced in ``/v1/meta``, the ``after`` cursor walking
uuids in byte order, and unfiltered listings in uuid order, filtered ones in doc id order.

Search is exact (brute force), not HNSW: recall is always perfect here.
"""

from .server import WeaviateEmulator

#: What the emulator does not do (requests for it fail with UNIMPLEMENTED / 404 / 422, never silently).
NOT_COVERED: tuple[str, ...] = (
    "GraphQL (/v1/graphql), so client paths for Weaviate < 1.29 (aggregations over GraphQL) do not work: "
    "emulate 1.29 or later",
    "REST batch endpoints (/v1/batch/*) and gRPC BatchStream (server-side batching)",
    "vectorizer, generative and reranker modules; near_text/near_object/near_image/...; Weaviate's own hybrid "
    "query (vecbridge fuses dense and BM25 itself) and BM25 over several properties (BM25F)",
    "approximate (HNSW) search behaviour: search is exact, and quantization settings are stored but ignored",
    "multi-vectors, multi-target vector search, group-by, sorting, autocut, boost, MMR selection",
    "property aggregations and group-by in Aggregate (only objects_count, with filters)",
    "replication (consistency levels are logged, never refused), tenant activity states (every tenant is HOT), "
    "REST tenant endpoints, sharding, backups, RBAC/users, aliases, cluster APIs",
    "cross-references (properties, filters and returns)",
    "filters on nested object paths, property length, timestamps and geo ranges; range filters on text",
    "trigram/gse/kagome tokenization in filters and BM25",
    "schema updates (PUT /v1/schema/{class}), property/vector index deletion, object TTL",
    "an unnamed (legacy) vector sent to a collection with named vectors (refused; Weaviate may map it)",
    "nested object properties: their nestedProperties are inferred but values are not type-checked",
    "authentication other than one static API key (no OIDC)",
    "usage limits are counted exactly (the server counts objects asynchronously, so it may let a batch "
    "past the cap), and persistence: everything lives in memory until the emulator stops",
)

__all__ = ["NOT_COVERED", "WeaviateEmulator"]
