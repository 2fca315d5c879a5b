"""Haystack's own document-store test mixins, unmodified, on every backend.

Two hooks are ours, both the ones Haystack's mixins ask implementers to provide:
``test_write_documents`` (Haystack leaves the default policy to each store and raises
NotImplementedError until a store says what it does) and ``assert_documents_are_equal`` (stores
may return documents in another order and embeddings at float32 precision).
Standard tests a store or vecbridge cannot pass are skipped in the fixture, with the reason, so
the tests themselves stay Haystack's.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

pytest.importorskip("haystack")

from haystack.dataclasses import Document
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.testing.document_store import CountDocumentsByFilterTest, DocumentStoreBaseExtendedTests
from haystack.testing.document_store_async import (
    CountDocumentsAsyncTest,
    CountDocumentsByFilterAsyncTest,
    DeleteAllAsyncTest,
    DeleteByFilterAsyncTest,
    DeleteDocumentsAsyncTest,
    FilterDocumentsAsyncTest,
    UpdateByFilterAsyncTest,
    WriteDocumentsAsyncTest,
)

from vecbridge.core.store import Store as VectorStore
from vecbridge.integrations.haystack import VecbridgeDocumentStore
from vecbridge.testing import Backend

#: The filterable documents of Haystack's mixins carry 768-d embeddings.
DIMENSION = 768

#: Standard tests that cannot pass, by test name (none: the ISO-date range tests run since
#: vecbridge compares date strings as instants on every store).
SKIPS: dict[str, str] = {}


def _store_for_test(
    request: pytest.FixtureRequest, vb_store: VectorStore, collection_name: str, backend: Backend
) -> VecbridgeDocumentStore:
    test_name = getattr(request.node, "originalname", request.node.name)
    reason = SKIPS.get(test_name)
    if reason:
        pytest.skip(reason)
    # Placeholders: the mixins write documents without embeddings and expect them back.
    return VecbridgeDocumentStore(vb_store, collection_name, dimension=DIMENSION, missing_embeddings="placeholder")


def _assert_same_documents(received: list[Document], expected: list[Document], tolerance: float) -> None:
    """Order-free equality; embeddings within the store's precision (float32, halfvec), all else exact."""
    assert sorted(d.id for d in received) == sorted(d.id for d in expected)
    got = {d.id: d for d in received}
    for want in expected:
        have = got[want.id]
        assert (have.content, have.meta, have.score, have.blob, have.sparse_embedding) == (
            want.content,
            want.meta,
            want.score,
            want.blob,
            want.sparse_embedding,
        )
        if want.embedding is None:
            assert have.embedding is None
        else:
            assert have.embedding is not None
            np.testing.assert_allclose(have.embedding, want.embedding, rtol=0, atol=max(tolerance, 1e-6) * 10)


class TestDocumentStoreStandard(DocumentStoreBaseExtendedTests, CountDocumentsByFilterTest):
    @pytest.fixture
    def document_store(
        self, request: pytest.FixtureRequest, vb_store: VectorStore, collection_name: str, backend: Backend
    ) -> Iterator[VecbridgeDocumentStore]:
        self._tolerance = backend.tolerance
        yield _store_for_test(request, vb_store, collection_name, backend)

    def assert_documents_are_equal(self, received: list[Document], expected: list[Document]) -> None:
        _assert_same_documents(received, expected, self._tolerance)

    def test_write_documents(self, document_store: VecbridgeDocumentStore) -> None:
        """The default policy (NONE) is FAIL, as in Haystack's in-memory store."""
        doc = Document(content="test doc", meta={"n": 1}, embedding=[0.5] * DIMENSION)
        assert document_store.write_documents([doc]) == 1
        with pytest.raises(DuplicateDocumentError):
            document_store.write_documents([doc])
        self.assert_documents_are_equal(document_store.filter_documents(), [doc])


class TestDocumentStoreStandardAsync(
    CountDocumentsAsyncTest,
    WriteDocumentsAsyncTest,
    DeleteDocumentsAsyncTest,
    FilterDocumentsAsyncTest,
    DeleteAllAsyncTest,
    DeleteByFilterAsyncTest,
    UpdateByFilterAsyncTest,
    CountDocumentsByFilterAsyncTest,
):
    @pytest.fixture
    def document_store(
        self, request: pytest.FixtureRequest, vb_store: VectorStore, collection_name: str, backend: Backend
    ) -> Iterator[VecbridgeDocumentStore]:
        self._tolerance = backend.tolerance
        yield _store_for_test(request, vb_store, collection_name, backend)

    def assert_documents_are_equal(self, received: list[Document], expected: list[Document]) -> None:
        _assert_same_documents(received, expected, self._tolerance)

    async def test_write_documents_async(self, document_store: VecbridgeDocumentStore) -> None:
        """The default policy (NONE) is FAIL, as in Haystack's in-memory store."""
        doc = Document(content="test doc", embedding=[0.25] * DIMENSION)
        assert await document_store.write_documents_async([doc]) == 1
        with pytest.raises(DuplicateDocumentError):
            await document_store.write_documents_async([doc])
        self.assert_documents_are_equal(await document_store.filter_documents_async(), [doc])
