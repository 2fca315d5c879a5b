"""Pinecone's documented limits, as the emulator enforces them (docs.pinecone.io, "Database limits",
and the 2026-07 OpenAPI specs in pinecone-io/pinecone-api)."""

from __future__ import annotations

MAX_UPSERT_VECTORS = 1000
MAX_REQUEST_BYTES = 2 * 1024 * 1024
MAX_METADATA_BYTES = 40 * 1024
MAX_TOP_K = 10_000
#: "Max result size 4MB" of a query ("Query limits"): top_k is not otherwise tied to what a match holds.
MAX_QUERY_RESPONSE_BYTES = 4 * 1024 * 1024
MAX_FETCH_IDS = 1000
MAX_DELETE_IDS = 1000
MAX_LIST_LIMIT = 100
MAX_NAMESPACE_LIST_LIMIT = 100
MAX_DIMENSION = 20_000
MAX_ID_LENGTH = 512
MAX_NAMESPACE_LENGTH = 512
MAX_INDEX_NAME = 45
MAX_TAGS = 20
MAX_TAG_KEY = 80
MAX_TAG_VALUE = 120
#: SparseValues: 1..2048 entries, indices are unsigned 32-bit integers (db_data 2026-07).
MAX_SPARSE_VALUES = 2048
MAX_SPARSE_INDEX = 2**32 - 1
#: A dense vector needs one value at least this large in magnitude, or it "contains only zeros".
MIN_DENSE_MAGNITUDE = 1e-8

METRICS = ("cosine", "euclidean", "dotproduct")
CLOUDS = ("aws", "gcp", "azure")

#: API versions whose control plane describes indexes with ``schema``/``deployment``; the others
#: use ``dimension``/``metric``/``spec`` (Pinecone Local speaks 2025-01).
SCHEMA_VERSIONS = frozenset({"2026-01.alpha", "2026-07"})
LEGACY_VERSIONS = frozenset({"2024-04", "2024-07", "2024-10", "2025-01", "2025-04", "2025-10", "2026-04"})
#: What a request without the version header gets (the oldest version Pinecone Local serves).
DEFAULT_VERSION = "2025-01"
