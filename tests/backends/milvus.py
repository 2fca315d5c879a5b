"""Milvus backends: Milvus Lite (Milvus's engine in this process, ``milvus+lite://``), through the
sync and the native async client, and a real server when ``VECBRIDGE_MILVUS_URL`` is set
(``milvus://localhost:19531`` with docker-compose.test.yml).

Flags: every filter operator is supported; metadata may be nested and keeps nulls; a record's
metadata is at most 65,536 bytes of JSON (Milvus's JSON field limit).
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from vecbridge.core import connect, connect_async
from vecbridge.core.async_store import AsyncStore
from vecbridge.core.store import VectorStore
from vecbridge.testing import Backend

#: Milvus's JSON field limit, less room for the keys the conformance suite adds around big values.
MAX_METADATA_BYTES = 60_000

_root: Path | None = None


def lite_url() -> str:
    """A fresh Milvus Lite data directory (removed at exit)."""
    global _root
    if _root is None:
        _root = Path(tempfile.mkdtemp(prefix="vb-milvus-test-"))
        atexit.register(shutil.rmtree, _root, True)
    return "milvus+lite://" + tempfile.mkdtemp(dir=_root, suffix=".db")


def _skip_without_milvus() -> str | None:
    for module in ("pymilvus", "milvus_lite"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed: pip install 'vecbridge[milvus]'"
    return None


def _lite() -> VectorStore:
    return connect(lite_url())


def _lite_async() -> AsyncStore:
    return connect_async(lite_url())


def _server() -> VectorStore:
    return connect(os.environ["VECBRIDGE_MILVUS_URL"])


def _server_async() -> AsyncStore:
    return connect_async(os.environ["VECBRIDGE_MILVUS_URL"])


def _server_skip() -> str | None:
    if importlib.util.find_spec("pymilvus") is None:
        return "pymilvus is not installed: pip install 'vecbridge[milvus]'"
    if not os.environ.get("VECBRIDGE_MILVUS_URL"):
        return (
            "VECBRIDGE_MILVUS_URL is not set: no Milvus server to test (docker compose -f docker-compose.test.yml "
            "up -d --wait milvus, then VECBRIDGE_MILVUS_URL=milvus://localhost:19531)"
        )
    return None


LITE = Backend(
    "milvus-lite",
    _lite,
    skip_reason=_skip_without_milvus,
    async_factory=_lite_async,
    max_metadata_bytes=MAX_METADATA_BYTES,
)
SERVER = Backend(
    "milvus-server",
    _server,
    skip_reason=_server_skip,
    integration=True,
    async_factory=_server_async,
    max_metadata_bytes=MAX_METADATA_BYTES,
)
BACKENDS = [LITE, LITE.as_async(), SERVER, SERVER.as_async()]
