"""Fixtures shared by the adapter suites: every backend of the conformance suite, one store per
backend and test class, and a fresh collection name per test (dropped afterwards).

Backends come from ``tests.conformance.backends.BACKENDS``, so a store added there is covered by
the LangChain and Haystack suites too, with no change here. Integration backends keep their
``integration`` mark (deselected by default; ``pytest -m integration`` runs them).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest

from tests.conformance.backends import BACKENDS
from vecbridge.core.store import Store
from vecbridge.testing import Backend

from .settling import settling_store

#: The adapters take a sync ``Store`` and reach the async API through ``store.async_view()``, so
#: they run once per store (the async-mode backend variants would only repeat them).
SYNC_BACKENDS = [b for b in BACKENDS if not b.asynchronous]


@pytest.fixture(scope="class", params=[b.param() for b in SYNC_BACKENDS])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="class")
def vb_store(backend: Backend) -> Iterator[Store]:
    """An open store of ``backend`` that settles after writes (see ``settling.py``)."""
    reason = backend.skip_reason()
    if reason:
        pytest.skip(reason)
    inner = backend.factory()
    assert isinstance(inner, Store)
    try:
        yield settling_store(inner, backend.settle)
    finally:
        inner.close()


@pytest.fixture
def collection_name(vb_store: Store) -> Iterator[str]:
    """A collection name no other test uses; the collection is dropped after the test."""
    name = "a" + uuid.uuid4().hex[:12]
    yield name
    with contextlib.suppress(Exception):  # cleanup must not hide the test's own failure
        vb_store.drop_collection(name)
