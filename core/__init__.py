"""vecbridge core: the store- and model-independent API.

Nothing here imports a store SDK; connectors live in ``vecbridge.connectors`` and are loaded by
URL scheme through :func:`connect`.
"""

from .async_store import AsyncStore, ThreadedAsyncDriver
from .batching import batched, batched_by_size
from .collection import AsyncCollection, Collection, text_id
from .driver import (
    Adoption,
    AsyncDriver,
    Batch,
    Capabilities,
    Driver,
    Failure,
    ScanRange,
    SearchMode,
    SearchRequest,
    Target,
    WriteResult,
)
from .embedders import BaseEmbedder, Embedder
from .errors import (
    CollectionExists,
    CollectionNotFound,
    ConnectorNotFound,
    DimensionMismatch,
    EmbedderMismatch,
    EmbeddingFailed,
    InvalidFilter,
    InvalidInput,
    MetricMismatch,
    MissingExtra,
    QuotaExceeded,
    StoreDamaged,
    StoreError,
    StoreInUse,
    TransientError,
    UnsupportedFeature,
    UnsupportedFilter,
    UpsertFailed,
    VecbridgeError,
)
from .filters import FilterCompiler, matches, parse_filter
from .ids import point_uuid
from .models import CollectionSpec, EmbedderFingerprint, Hit, Metric, Record, ScanPage, TaskType
from .registry import (
    available_connectors,
    available_embedders,
    connect,
    connect_async,
    embedder_from_fingerprint,
    load_embedder,
    register_connector,
    register_embedder,
)
from .retry import RetryPolicy
from .store import Store, VectorStore, iter_records

__all__ = [
    "Adoption",
    "AsyncCollection",
    "AsyncDriver",
    "AsyncStore",
    "Batch",
    "BaseEmbedder",
    "Capabilities",
    "Collection",
    "CollectionExists",
    "CollectionNotFound",
    "CollectionSpec",
    "ConnectorNotFound",
    "DimensionMismatch",
    "Driver",
    "Embedder",
    "EmbedderFingerprint",
    "EmbedderMismatch",
    "EmbeddingFailed",
    "Failure",
    "FilterCompiler",
    "Hit",
    "InvalidFilter",
    "InvalidInput",
    "Metric",
    "MetricMismatch",
    "MissingExtra",
    "QuotaExceeded",
    "Record",
    "RetryPolicy",
    "ScanPage",
    "ScanRange",
    "SearchMode",
    "SearchRequest",
    "Store",
    "StoreDamaged",
    "StoreError",
    "StoreInUse",
    "Target",
    "TaskType",
    "ThreadedAsyncDriver",
    "TransientError",
    "UnsupportedFeature",
    "UnsupportedFilter",
    "UpsertFailed",
    "VecbridgeError",
    "VectorStore",
    "WriteResult",
    "available_connectors",
    "available_embedders",
    "batched",
    "batched_by_size",
    "connect",
    "connect_async",
    "embedder_from_fingerprint",
    "iter_records",
    "load_embedder",
    "matches",
    "parse_filter",
    "point_uuid",
    "register_connector",
    "register_embedder",
    "text_id",
]
