"""Has Pinecone caught up with this driver's writes? (Pinecone is eventually consistent.)

Pinecone gives every write to a namespace a log sequence number (LSN), returned with the write
(``x-pinecone-request-lsn``); a query's response carries the highest LSN its results reflect
(``x-pinecone-max-indexed-lsn``) — "Check data freshness" in Pinecone's docs. :class:`Freshness`
keeps the highest LSN of this driver's upserts per index and namespace, and
:meth:`Freshness.caught_up` compares it with a one-match query. The SDK returns no LSN for
deletes, so a delete is not covered; nor are other clients' writes.
"""

from __future__ import annotations

import threading
from typing import Any

from .layout import Place
from .plan import Plan
from .planes import Planes

__all__ = ["Freshness"]


def _lsn(response: Any, name: str) -> int | None:
    value = getattr(getattr(response, "response_info", None), name, None)
    return value if isinstance(value, int) else None


class Freshness:
    """The highest LSN written per (index, namespace). Thread-safe."""

    def __init__(self) -> None:
        self._written: dict[tuple[str, str], int] = {}
        self._unknown: set[tuple[str, str]] = set()  # written, but the server sent no LSN
        self._lock = threading.Lock()

    def wrote(self, place: Place, response: Any) -> None:
        lsn = _lsn(response, "lsn_committed")
        key = (place.index, place.namespace)
        with self._lock:
            if lsn is None:
                self._unknown.add(key)
            else:
                self._written[key] = max(lsn, self._written.get(key, 0))

    def caught_up(self, planes: Planes, place: Place, dimension: int) -> Plan[bool | None]:
        """True once reads reflect every upsert this driver made to the place; None when Pinecone
        reports no LSNs (e.g. Pinecone Local), which leaves counting records as the only check."""
        key = (place.index, place.namespace)
        with self._lock:
            target, unknown = self._written.get(key), key in self._unknown
        if unknown:
            return None
        if target is None:
            return True  # nothing written here: nothing to wait for
        probe = yield from planes.data(
            place.index, "query", vector=[1.0] * dimension, top_k=1, namespace=place.namespace
        )
        indexed = _lsn(probe, "lsn_reconciled")
        return None if indexed is None else indexed >= target
