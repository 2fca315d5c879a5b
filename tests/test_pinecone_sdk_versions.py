"""The two SDK generations the connector supports (9.x: API 2025-10, 10.x: API 2026-07), and why
Pinecone Local (API 2025-01) needs 9.x."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("pinecone")

from tests.emulators.pinecone import PineconeEmulator
from tests.emulators.pinecone.fixtures import make_store
from vecbridge.connectors.pinecone import sdk
from vecbridge.core import CollectionSpec, StoreError


def test_create_request_follows_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    args = {"name": "n", "dimension": 8, "metric": "dotproduct", "cloud": "gcp", "region": "r", "tags": {"a": "b"}}
    monkeypatch.setattr(sdk, "SDK_MAJOR", 10)
    modern = sdk.create_index_kwargs(**args, sparse=False)  # type: ignore[arg-type]
    assert modern["schema"] == {"fields": {"_values": {"type": "dense_vector", "dimension": 8, "metric": "dotproduct"}}}
    assert modern["deployment"] == {"deployment_type": "managed", "cloud": "gcp", "region": "r"}
    assert "dimension" not in modern and modern["timeout"] == -1 and modern["tags"] == {"a": "b"}
    hybrid = sdk.create_index_kwargs(**args, sparse=True)  # type: ignore[arg-type]
    assert hybrid["schema"]["fields"]["_sparse_values"] == {
        "type": "sparse_vector"
    }  # no metric: the server refuses one
    monkeypatch.setattr(sdk, "SDK_MAJOR", 9)
    legacy = sdk.create_index_kwargs(**args, sparse=True)  # type: ignore[arg-type]
    assert (legacy["dimension"], legacy["metric"]) == (8, "dotproduct")
    assert legacy["spec"] == {"serverless": {"cloud": "gcp", "region": "r"}} and "schema" not in legacy


class DenseVectorField:  # stand-ins named like SDK 10's schema field classes
    def __init__(self, dimension: int, metric: str) -> None:
        self.dimension, self.metric = dimension, metric


class SparseVectorField:
    pass


class LegacyMetadataField:
    filterable = True


def test_index_shapes_of_both_generations() -> None:
    def described(**fields: object) -> SimpleNamespace:
        return SimpleNamespace(schema=SimpleNamespace(fields=fields))

    # 2026-07 reports both reserved fields for every dense vectors-API index, however created.
    both = described(_values=DenseVectorField(4, "Cosine"), _sparse_values=SparseVectorField())
    assert sdk.vector_shape(both) == (4, "cosine")
    assert sdk.vector_shape(described(_values=DenseVectorField(4, "dotproduct"))) == (4, "dotproduct")
    with_metadata = described(_values=DenseVectorField(4, "euclidean"), genre=LegacyMetadataField())
    assert sdk.vector_shape(with_metadata) == (4, "euclidean")
    document = described(embedding=DenseVectorField(4, "cosine"), s=SparseVectorField())
    assert sdk.vector_shape(document) is None  # named fields: a document index, not the vectors API
    assert sdk.vector_shape(described(_sparse_values=SparseVectorField())) is None
    legacy = SimpleNamespace(dimension=6, metric="euclidean", vector_type="dense", embed=None)
    assert sdk.vector_shape(legacy) == (6, "euclidean")
    assert sdk.vector_shape(SimpleNamespace(dimension=None, metric="dotproduct", vector_type="sparse")) is None


def test_pinecone_local_shape_needs_sdk_9() -> None:
    """An emulator pinned to 2025-01 answers like Pinecone Local, whatever the SDK asks for."""
    with PineconeEmulator(pinned_version="2025-01") as emu:
        store = make_store(emu)
        try:
            if sdk.SDK_MAJOR >= 10:
                with pytest.raises(StoreError, match=r"422.*Pinecone Local.*pinecone>=9,<10"):
                    store.create_collection(CollectionSpec("local", 8))
            else:
                store.create_collection(CollectionSpec("local", 8))
                assert store.describe_collection("local").dimension == 8
                assert store.list_collections() == ["local"]
        finally:
            store.close()


def test_pinecone_local_backend_probes_before_running(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.backends.pinecone import _local_skip

    probe = _local_skip.__wrapped__  # the backend caches its answer; ask afresh
    monkeypatch.delenv("VECBRIDGE_PINECONE_URL", raising=False)
    assert "VECBRIDGE_PINECONE_URL is not set" in (probe() or "")
    with PineconeEmulator(pinned_version="2025-01") as local_like, PineconeEmulator() as modern:
        monkeypatch.setenv("VECBRIDGE_PINECONE_URL", local_like.url)
        reason = probe()
        assert (reason is not None and "pinecone>=9,<10" in reason) == (sdk.SDK_MAJOR >= 10)
        monkeypatch.setenv("VECBRIDGE_PINECONE_URL", modern.url)
        assert probe() is None
        assert modern.indexes == {}  # the probe cleans up after itself
