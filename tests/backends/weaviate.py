"""Weaviate backends: the real weaviate-client against the in-process emulator (REST + gRPC), and
a real server when ``VECBRIDGE_WEAVIATE_URL`` is set (e.g. ``weaviate://localhost:18080?grpc_port=50052``
from docker-compose.test.yml)."""

from __future__ import annotations

import atexit
import importlib.util
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from vecbridge.core import connect
from vecbridge.core.store import VectorStore
from vecbridge.testing import Backend

if TYPE_CHECKING:
    from tests.emulators.weaviate import WeaviateEmulator

_emulator: WeaviateEmulator | None = None
_emulator_lock = threading.Lock()


def shared_emulator() -> WeaviateEmulator:
    """One emulator for the test session, started on first use and stopped at exit."""
    from tests.emulators.weaviate import WeaviateEmulator

    global _emulator
    with _emulator_lock:
        if _emulator is None:
            _emulator = WeaviateEmulator().start()
            atexit.register(_emulator.stop)
        return _emulator


@contextmanager
def offline_version_check(emulator: WeaviateEmulator) -> Iterator[None]:
    """On connect the client asks PyPI for its latest version (best effort); point that at the
    emulator so tests never reach the network."""
    import weaviate.connect.v4 as weaviate_connection

    original = weaviate_connection.PYPI_PACKAGE_URL  # type: ignore[attr-defined]
    weaviate_connection.PYPI_PACKAGE_URL = emulator.pypi_url  # type: ignore[attr-defined]
    try:
        yield
    finally:
        weaviate_connection.PYPI_PACKAGE_URL = original  # type: ignore[attr-defined]


def connect_emulator(emulator: WeaviateEmulator, **options: object) -> VectorStore:
    with offline_version_check(emulator):
        return connect(emulator.url, **options)


def _emulated() -> VectorStore:
    return connect_emulator(shared_emulator())


def _emulated_skip() -> str | None:
    # imported lazily, so the rest of the suite still runs where the extra is not installed
    if importlib.util.find_spec("weaviate") is None:
        return "weaviate-client is not installed: pip install 'vecbridge[weaviate]'"
    return None


def _server() -> VectorStore:
    return connect(os.environ["VECBRIDGE_WEAVIATE_URL"])


def _server_skip() -> str | None:
    if importlib.util.find_spec("weaviate") is None:
        return "weaviate-client is not installed: pip install 'vecbridge[weaviate]'"
    if not os.environ.get("VECBRIDGE_WEAVIATE_URL"):
        return (
            "VECBRIDGE_WEAVIATE_URL is not set: no Weaviate server to test "
            "(start docker-compose.test.yml and set e.g. weaviate://localhost:18080?grpc_port=50052)"
        )
    return None


EMULATOR = Backend("weaviate-emulator", _emulated, skip_reason=_emulated_skip)
SERVER = Backend("weaviate-server", _server, skip_reason=_server_skip, integration=True)
BACKENDS = [EMULATOR, SERVER]
