"""Qdrant connector: a server (``qdrant://``, ``qdrants://``), qdrant-client's local mode
(``qdrant+local:///path``, ``qdrant+local://:memory:``) and Qdrant Edge, Qdrant's own engine
in-process (``qdrant+edge:///path``, the embedded default).

The two stores are imported on first use, so Edge users do not pay for importing qdrant-client
(and its gRPC and pydantic models), and each raises ``MissingExtra`` naming the extra when its
package is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .edge import QdrantEdgeStore
    from .store import QdrantStore

__all__ = ["QdrantEdgeStore", "QdrantStore"]


def __getattr__(name: str) -> Any:
    if name == "QdrantStore":
        from .store import QdrantStore

        return QdrantStore
    if name == "QdrantEdgeStore":
        from .edge import QdrantEdgeStore

        return QdrantEdgeStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
