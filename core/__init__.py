"""vecbridge core: the store- and model-independent API.

Nothing here imports a store SDK; connectors live in ``vecbridge.connectors`` and are loaded by
URL scheme through :func:`connect`.
"""

from .batching import batched, batched_by_size
from .collection import Collection, text_id
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
    StoreError,
    TransientError,
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
    embedder_from_fingerprint,
    load_embedder,
    register_connector,
    register_embedder,
)
from .store import BaseVectorStore, VectorStore, iter_records

__all__ = [
    "BaseEmbedder",
    "BaseVectorStore",
    "Collection",
    "CollectionExists",
    "CollectionNotFound",
    "CollectionSpec",
    "ConnectorNotFound",
    "DimensionMismatch",
    "Embedder",
    "EmbedderFingerprint",
    "EmbedderMismatch",
    "EmbeddingFailed",
    "FilterCompiler",
    "Hit",
    "InvalidFilter",
    "InvalidInput",
    "Metric",
    "MetricMismatch",
    "MissingExtra",
    "Record",
    "ScanPage",
    "StoreError",
    "TaskType",
    "TransientError",
    "UnsupportedFilter",
    "UpsertFailed",
    "VecbridgeError",
    "VectorStore",
    "available_connectors",
    "available_embedders",
    "batched",
    "batched_by_size",
    "connect",
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
