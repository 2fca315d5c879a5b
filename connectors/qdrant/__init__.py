"""Qdrant connector: a server (``qdrant://``, ``qdrants://``), qdrant-client's local mode
(``qdrant+local:///path``, ``qdrant+local://:memory:``) and Qdrant Edge, Qdrant's own engine
in-process (``qdrant+edge:///path``, the embedded default)."""

from vecbridge.core.errors import MissingExtra

try:
    import qdrant_client  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("the qdrant connector", "qdrant", exc) from exc

from .edge import QdrantEdgeStore
from .store import QdrantStore

__all__ = ["QdrantEdgeStore", "QdrantStore"]
