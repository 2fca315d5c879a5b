"""Eventual consistency, as Pinecone documents it ("Check data freshness"): a write is accepted at
once, gets a log sequence number (LSN) per namespace, and becomes visible to reads ``lag`` seconds
later. Upserts and deletes alike wait in one log, applied in order; a read first applies what is due.

Write responses carry the write's LSN (``x-pinecone-request-lsn``); query responses carry the
highest LSN the namespace's reads reflect (``x-pinecone-max-indexed-lsn``), so a client can tell
whether its writes are visible yet.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["REQUEST_LSN", "INDEXED_LSN", "WriteLog"]

REQUEST_LSN = "x-pinecone-request-lsn"
INDEXED_LSN = "x-pinecone-max-indexed-lsn"


@dataclass
class _Pending:
    visible_at: float
    namespace: str
    lsn: int
    apply: Callable[[], None]


class WriteLog:
    """Accepted writes not yet visible. Not thread-safe: its owner holds a lock around it."""

    def __init__(self, lag: float) -> None:
        self.lag = lag
        self._pending: deque[_Pending] = deque()
        self._assigned: dict[str, int] = {}
        self._indexed: dict[str, int] = {}

    def accept(self, namespace: str, apply: Callable[[], None]) -> int:
        """Log a write; returns its LSN. Without lag it is applied at once."""
        lsn = self._assigned[namespace] = self._assigned.get(namespace, 0) + 1
        if self.lag <= 0 and not self._pending:
            apply()
            self._indexed[namespace] = lsn
        else:
            self._pending.append(_Pending(time.monotonic() + self.lag, namespace, lsn, apply))
        return lsn

    def catch_up(self) -> None:
        """Apply every write that is due, in the order accepted."""
        now = time.monotonic()
        while self._pending and self._pending[0].visible_at <= now:
            done = self._pending.popleft()
            done.apply()
            self._indexed[done.namespace] = done.lsn

    def waiting_in(self, namespace: str) -> bool:
        return any(p.namespace == namespace for p in self._pending)

    def indexed_lsn(self, namespace: str) -> int:
        return self._indexed.get(namespace, 0)

    def settled_at(self) -> float:
        """When the last accepted write becomes visible (monotonic clock)."""
        return self._pending[-1].visible_at if self._pending else 0.0
