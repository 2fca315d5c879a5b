"""Pinecone's documented limits, as the emulator enforces them (docs.pinecone.io, "Limits")."""

from __future__ import annotations

MAX_UPSERT_VECTORS = 1000
MAX_REQUEST_BYTES = 2 * 1024 * 1024
MAX_METADATA_BYTES = 40 * 1024
MAX_TOP_K = 10_000
#: Above this top_k a query may not ask for metadata or values.
MAX_TOP_K_WITH_PAYLOAD = 1000
MAX_FETCH_IDS = 1000
MAX_DELETE_IDS = 1000
MAX_LIST_LIMIT = 100
MAX_DIMENSION = 20_000
MAX_ID_LENGTH = 512
MAX_NAMESPACE_LENGTH = 512
MAX_INDEX_NAME = 45
MAX_TAGS = 20
MAX_TAG_KEY = 80
MAX_TAG_VALUE = 120

METRICS = ("cosine", "euclidean", "dotproduct")
CLOUDS = ("aws", "gcp", "azure")

#: API versions whose control plane describes indexes with ``schema``/``deployment``; the others
#: use ``dimension``/``metric``/``spec`` (Pinecone Local speaks 2025-01).
SCHEMA_VERSIONS = frozenset({"2026-01.alpha", "2026-07"})
LEGACY_VERSIONS = frozenset({"2024-04", "2024-07", "2024-10", "2025-01", "2025-04", "2025-10", "2026-04"})
#: What a request without the version header gets (the oldest version Pinecone Local serves).
DEFAULT_VERSION = "2025-01"
