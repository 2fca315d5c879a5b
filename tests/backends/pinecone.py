"""Pinecone backends: the real ``pinecone`` SDK against vecbridge's in-process emulator of
Pinecone's REST API (sync and native async drivers), and against Pinecone Local
(docker-compose.test.yml) when ``VECBRIDGE_PINECONE_URL`` is set
(``pinecone+local://localhost:15080`` with docker-compose.test.yml).

The emulator runs eventually consistent, like Pinecone: writes become visible to reads
``LAG`` seconds after they are accepted, and ``settle`` waits until every write so far is visible.

Flags: every filter operator is supported ($not is pushed down, see connectors/pinecone/filters.py);
metadata is flat (nested objects and lists of non-strings raise ``InvalidInput``); ``None`` values
come back (restored from a reserved key); at most 40 KB of metadata per record, text included.
"""

from __future__ import annotations

import atexit
import functools
import os
import threading
import time
import uuid

from tests.emulators.pinecone import PineconeEmulator
from vecbridge.core import CollectionSpec, StoreError, connect, connect_async
from vecbridge.core.async_store import AsyncStore
from vecbridge.core.store import VectorStore
from vecbridge.testing import Backend

_lock = threading.Lock()
_emulator: PineconeEmulator | None = None

#: Seconds before the emulator shows a write to reads.
LAG = 0.05
#: Pinecone's 40 KB per record, less room for vecbridge's reserved keys (text, type list).
MAX_METADATA_BYTES = 40_000
#: How long Pinecone Local may take to show a write (it is documented as eventually consistent too).
LOCAL_SETTLE_SECONDS = 1.0


def emulator() -> PineconeEmulator:
    """One emulator for the whole test session, started on first use."""
    global _emulator
    with _lock:
        if _emulator is None:
            _emulator = PineconeEmulator(lag=LAG).start()
            atexit.register(_emulator.stop)
        return _emulator


def _emulated() -> VectorStore:
    return connect(emulator().url)


def _emulated_async() -> AsyncStore:
    return connect_async(emulator().url)


def _settle() -> None:
    emulator().settle()


def _sdk_missing() -> str | None:
    try:
        import vecbridge.connectors.pinecone  # noqa: F401
    except ImportError as exc:
        return str(exc)
    return None


def _local() -> VectorStore:
    return connect(os.environ["VECBRIDGE_PINECONE_URL"])


@functools.lru_cache(maxsize=1)
def _local_skip() -> str | None:
    url = os.environ.get("VECBRIDGE_PINECONE_URL")
    missing = _sdk_missing()
    if missing:
        return missing
    if not url:
        return (
            "VECBRIDGE_PINECONE_URL is not set: no Pinecone Local to test (docker compose -f "
            "docker-compose.test.yml up -d --wait, then VECBRIDGE_PINECONE_URL=pinecone+local://localhost:15080)"
        )
    # Pinecone Local is documented to speak API 2025-01, which SDK 10 cannot use. Probe instead of
    # guessing from version numbers: create and drop a tiny collection with the installed SDK.
    store = connect(url)
    try:
        probe = f"vbprobe-{uuid.uuid4().hex[:8]}"
        store.create_collection(CollectionSpec(probe, 2))
        store.drop_collection(probe)
    except StoreError as exc:
        if "pinecone>=9,<10" in str(exc):
            from vecbridge.connectors.pinecone.sdk import sdk_version

            return f"{url} cannot be driven by pinecone SDK {sdk_version()}: {exc}"
        raise
    finally:
        store.close()
    return None


EMULATOR = Backend(
    "pinecone-emulator",
    _emulated,
    skip_reason=_sdk_missing,
    nested_metadata=False,
    keeps_null_metadata=True,
    max_metadata_bytes=MAX_METADATA_BYTES,
    settle=_settle,
    async_factory=_emulated_async,
)
LOCAL = Backend(
    "pinecone-local",
    _local,
    skip_reason=_local_skip,
    integration=True,
    nested_metadata=False,
    keeps_null_metadata=True,
    max_metadata_bytes=MAX_METADATA_BYTES,
    settle=lambda: time.sleep(LOCAL_SETTLE_SECONDS),
)

BACKENDS = [EMULATOR, EMULATOR.as_async(), LOCAL]
