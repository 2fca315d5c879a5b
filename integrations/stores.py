"""Opening the store an adapter works on: a store URL, or a ``VectorStore`` the caller already has.

Both framework adapters accept either. A URL is kept so that the adapter can be serialised
(Haystack pipelines are saved as YAML); a store object cannot be, and the adapter says so.
"""

from __future__ import annotations

from vecbridge.core.errors import InvalidInput
from vecbridge.core.registry import connect
from vecbridge.core.store import Store

__all__ = ["open_store"]


def open_store(store: str | Store) -> tuple[Store, str | None]:
    """Return the store and, when it was given as one, its URL."""
    if isinstance(store, str):
        return connect(store), store
    if not isinstance(store, Store):
        raise InvalidInput(
            f"store must be a store URL such as 'qdrant+edge:///path' or a vecbridge Store (from connect()), "
            f"got {type(store).__name__}"
        )
    return store, None
