"""Qdrant backends: Edge (Qdrant's engine in-process), qdrant-client's local mode, each sync and
async (local mode through ``AsyncQdrantClient``, Edge in a worker thread), and a real server when
``VECBRIDGE_QDRANT_URL`` is set (e.g. ``qdrant://127.0.0.1:16333``, ``?grpc=true`` for gRPC)."""

from __future__ import annotations

import os
import tempfile

from vecbridge.core import connect, connect_async
from vecbridge.core.async_store import AsyncStore
from vecbridge.core.store import Store
from vecbridge.testing import Backend


def _edge() -> Store:
    return connect("qdrant+edge://" + tempfile.mkdtemp(prefix="vb-edge-"))


def _local() -> Store:
    return connect("qdrant+local://:memory:")


def _local_async() -> AsyncStore:
    return connect_async("qdrant+local://:memory:")


def _server() -> Store:
    return connect(os.environ["VECBRIDGE_QDRANT_URL"])


def _server_async() -> AsyncStore:
    return connect_async(os.environ["VECBRIDGE_QDRANT_URL"])


def _server_skip() -> str | None:
    if not os.environ.get("VECBRIDGE_QDRANT_URL"):
        return "VECBRIDGE_QDRANT_URL is not set: no Qdrant server to test (see README, integration tests)"
    return None


EDGE = Backend("qdrant-edge", _edge)
LOCAL = Backend("qdrant-local", _local, async_factory=_local_async)
SERVER = Backend("qdrant-server", _server, skip_reason=_server_skip, integration=True, async_factory=_server_async)
BACKENDS = [EDGE, EDGE.as_async(), LOCAL, LOCAL.as_async(), SERVER, SERVER.as_async()]
