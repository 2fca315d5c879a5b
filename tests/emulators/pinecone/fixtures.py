"""pytest fixtures and helpers for tests that drive the Pinecone emulator through vecbridge.

Import the fixtures a test module needs (``emulator_fixture``, ``store_fixture``); tests then ask
for them as ``emulator`` and ``store``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from vecbridge.core import Record, connect, connect_async
from vecbridge.core.async_store import AsyncStore
from vecbridge.core.retry import RetryPolicy
from vecbridge.core.store import Store

from .server import PineconeEmulator

#: A recognisable key, so a test can assert it never shows up in messages, reprs or logs.
TEST_KEY = "pcsk_TEST-key-DO-NOT-LEAK-0123456789"
#: A serverless spec for creating indexes with the SDK directly: SDK 9's form, which SDK 10 still
#: accepts (it translates it into a deployment).
SERVERLESS = {"serverless": {"cloud": "aws", "region": "us-east-1"}}


@pytest.fixture(name="emulator")
def emulator_fixture() -> Iterator[PineconeEmulator]:
    with PineconeEmulator(api_key=TEST_KEY) as emu:
        yield emu


def fast_retry(attempts: int = 3) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, initial_wait=0.001, max_wait=0.01)


def make_store(emu: PineconeEmulator, query: str = "", **options: Any) -> Store:
    """A store on ``emu`` through ``connect`` (``query``: URL query such as ``"?index=shared"``)."""
    options.setdefault("api_key", TEST_KEY)
    options.setdefault("retry", fast_retry())
    return connect(emu.url + query, **options)


def make_async_store(emu: PineconeEmulator, query: str = "", **options: Any) -> AsyncStore:
    """The async store on ``emu`` through ``connect_async`` (the native async driver)."""
    options.setdefault("api_key", TEST_KEY)
    options.setdefault("retry", fast_retry())
    return connect_async(emu.url + query, **options)


@pytest.fixture(name="store")
def store_fixture(emulator: PineconeEmulator) -> Iterator[Store]:
    s = make_store(emulator)
    try:
        yield s
    finally:
        s.close()


def raw_index(emu: PineconeEmulator, name: str) -> Any:
    """The SDK's own data-plane client for index ``name`` of ``emu`` (to act as another client)."""
    from pinecone import Pinecone

    pc = Pinecone(api_key=emu.api_key or "pclocal", host=emu.control_url)
    return pc.index(host=f"http://{emu.indexes[name].host}")


def vectors(n: int, dim: int, seed: int = 0) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    return [row.tolist() for row in rng.normal(size=(n, dim)).astype(np.float32)]


def records(n: int, dim: int = 8, seed: int = 0, prefix: str = "r", **metadata: Any) -> list[Record]:
    return [Record(f"{prefix}{i}", v, f"text {i}", {"i": i, **metadata}) for i, v in enumerate(vectors(n, dim, seed))]
