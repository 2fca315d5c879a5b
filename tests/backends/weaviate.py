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

import numpy as np
import pytest

from vecbridge.core import Record, connect, connect_async
from vecbridge.core.async_store import AsyncStore
from vecbridge.core.retry import RetryPolicy
from vecbridge.core.store import Store, VectorStore
from vecbridge.testing import Backend

if TYPE_CHECKING:
    import weaviate

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


def connect_emulator_async(emulator: WeaviateEmulator, **options: object) -> AsyncStore:
    """The native async store on the emulator. It connects on first use, so the version check is
    pointed at the emulator for the whole session (see :func:`offline_for_session`)."""
    offline_for_session(emulator)
    return connect_async(emulator.url, **options)


def offline_for_session(emulator: WeaviateEmulator) -> None:
    import weaviate.connect.v4 as weaviate_connection

    weaviate_connection.PYPI_PACKAGE_URL = emulator.pypi_url  # type: ignore[attr-defined]


def _emulated() -> VectorStore:
    return connect_emulator(shared_emulator())


def _emulated_async() -> AsyncStore:
    return connect_emulator_async(shared_emulator())


def _emulated_skip() -> str | None:
    # imported lazily, so the rest of the suite still runs where the extra is not installed
    if importlib.util.find_spec("weaviate") is None:
        return "weaviate-client is not installed: pip install 'vecbridge[weaviate]'"
    return None


def _server() -> VectorStore:
    return connect(os.environ["VECBRIDGE_WEAVIATE_URL"])


def _server_async() -> AsyncStore:
    return connect_async(os.environ["VECBRIDGE_WEAVIATE_URL"])


def _server_skip() -> str | None:
    if importlib.util.find_spec("weaviate") is None:
        return "weaviate-client is not installed: pip install 'vecbridge[weaviate]'"
    if not os.environ.get("VECBRIDGE_WEAVIATE_URL"):
        return (
            "VECBRIDGE_WEAVIATE_URL is not set: no Weaviate server to test "
            "(start docker-compose.test.yml and set e.g. weaviate://localhost:18080?grpc_port=50052)"
        )
    return None


# ----- helpers shared by the Weaviate test modules ---------------------------------------------

DIM = 8
#: Retries that do not slow the tests down.
FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)


def records(n: int, prefix: str = "r") -> list[Record]:
    """``n`` records with text and metadata (``i``, ``odd``), the same on every call."""
    rng = np.random.default_rng(1)
    return [
        Record(f"{prefix}{i}", rng.normal(size=DIM).tolist(), f"text {i}", {"i": i, "odd": i % 2 == 1})
        for i in range(n)
    ]


@pytest.fixture(name="emulator")
def emulator_fixture() -> Iterator[WeaviateEmulator]:
    """A fresh emulator for one test (import this fixture into a test module)."""
    from tests.emulators.weaviate import WeaviateEmulator

    with WeaviateEmulator() as emu:
        yield emu


@pytest.fixture(name="store")
def store_fixture(emulator: WeaviateEmulator) -> Iterator[Store]:
    """A store on ``emulator`` with fast retries."""
    opened = connect_emulator(emulator, retry=FAST_RETRY)
    yield opened
    opened.close()


def raw_client(emulator: WeaviateEmulator) -> weaviate.WeaviateClient:
    """weaviate-client itself on the emulator (what another process would use)."""
    import weaviate

    with offline_version_check(emulator):
        return weaviate.connect_to_local(host=emulator.host, port=emulator.http_port, grpc_port=emulator.grpc_port)


EMULATOR = Backend("weaviate-emulator", _emulated, skip_reason=_emulated_skip, async_factory=_emulated_async)
SERVER = Backend("weaviate-server", _server, skip_reason=_server_skip, integration=True, async_factory=_server_async)
BACKENDS = [EMULATOR, EMULATOR.as_async(), SERVER, SERVER.as_async()]
