"""The in-memory driver of ``vecbridge.testing``: the reference backend of the conformance suite
(exact search, the reference filter semantics, BM25, tenants, split scans), sync and async."""

from __future__ import annotations

from vecbridge.core import connect, connect_async
from vecbridge.testing import Backend

MEMORY = Backend("memory", lambda: connect("memory://"), async_factory=lambda: connect_async("memory://"))
BACKENDS = [MEMORY, MEMORY.as_async()]
