"""Qdrant connector: a server (``qdrant://``, ``qdrants://``), qdrant-client's local mode
(``qdrant+local://<folder>``, ``qdrant+local://:memory:``) and Qdrant Edge, Qdrant's own engine
in-process (``qdrant+edge://<folder>``, the embedded default).

Drivers: ``QdrantDriver`` (qdrant-client; ``async_from_url`` gives ``AsyncQdrantDriver`` over
``AsyncQdrantClient``) and ``EdgeDriver`` (qdrant-edge-py, sync only: the async store runs it in a
worker thread). Each is imported on first use, so Edge users do not pay for importing
qdrant-client, and a missing package raises ``MissingExtra`` naming the extra.

Modules: ``store.py`` / ``aio.py`` (the client drivers' sync and async shells), ``operations.py``
(their operations, once, without I/O), ``edge.py`` + ``edge_shards.py`` + ``sidecar.py`` (Edge),
``convert.py`` (record <-> point), ``numbers.py`` (exact number comparisons), ``filters.py``,
``options.py``, ``scan.py``, ``urls.py``, ``errors.py`` (the one translation of SDK errors).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .aio import AsyncQdrantDriver
    from .edge import EdgeDriver
    from .store import QdrantDriver

__all__ = ["AsyncQdrantDriver", "EdgeDriver", "QdrantDriver"]

_HOMES = {"QdrantDriver": ".store", "AsyncQdrantDriver": ".aio", "EdgeDriver": ".edge"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home, __name__), name)
