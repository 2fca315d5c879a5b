"""Collections as indexes (readiness, deletion protection, URL options) and as namespaces of a
shared index (isolation, tenants, one dimension and metric per index)."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("pinecone")

from tests.emulators.pinecone import PineconeEmulator
from tests.emulators.pinecone.fixtures import TEST_KEY, emulator_fixture, make_store, records, store_fixture  # noqa: F401
from vecbridge.embedders.hashing import HashingEmbedder
from vecbridge.connectors.pinecone import PineconeStore
from vecbridge.connectors.pinecone.names import index_name_for
from vecbridge.core import (
    CollectionNotFound,
    CollectionSpec,
    DimensionMismatch,
    InvalidInput,
    Metric,
    MetricMismatch,
    StoreError,
    connect,
)

# ----- one index per collection ------------------------------------------------------------


def test_waits_for_a_new_index_to_be_ready() -> None:
    with PineconeEmulator(ready_delay=0.4) as emu:
        s = make_store(emu)
        try:
            started = time.monotonic()
            s.create_collection(CollectionSpec("slow", 8))
            assert time.monotonic() - started >= 0.4
            assert emu.indexes["slow"].ready
            assert len(emu.received("/indexes/slow")) >= 2  # polled, not assumed
            s.upsert("slow", records(3, 8))
            assert s.count("slow") == 3
        finally:
            s.close()


def test_index_not_ready_in_time_is_a_clear_error() -> None:
    with PineconeEmulator(ready_delay=30) as emu:
        s = make_store(emu, ready_timeout=0.3)
        try:
            with pytest.raises(StoreError, match=r"'never' was not ready after 0.3 s .*ready_timeout"):
                s.create_collection(CollectionSpec("never", 8))
        finally:
            s.close()


def test_deletion_protection_is_left_to_the_user(emulator: PineconeEmulator, store: PineconeStore) -> None:
    from pinecone import Pinecone

    store.create_collection(CollectionSpec("kept", 8))
    assert emulator.indexes["kept"].deletion_protection == "disabled"
    pc = Pinecone(api_key=TEST_KEY, host=emulator.control_url)
    pc.indexes.configure("kept", deletion_protection="enabled", tags={"team": "search"})  # as a user would
    with pytest.raises(StoreError, match=r"403.*[Dd]eletion protection"):
        store.drop_collection("kept")
    assert store.has_collection("kept")
    assert emulator.indexes["kept"].tags["vecbridge-name"] == "kept"  # configure merges tags
    assert emulator.indexes["kept"].tags["team"] == "search"
    pc.indexes.configure("kept", deletion_protection="disabled")
    assert store.drop_collection("kept") is True


def test_cloud_and_region_come_from_the_url(emulator: PineconeEmulator) -> None:
    s = make_store(emulator, "?cloud=gcp&region=europe-west4")
    try:
        s.create_collection(CollectionSpec("placed", 8))
        placed = emulator.indexes["placed"]
        assert (placed.cloud, placed.region) == ("gcp", "europe-west4")
    finally:
        s.close()


@pytest.mark.parametrize(
    "query, message",
    [
        ("?cloud=ibm", "cloud must be one of"),
        ("?namespace=t1", "give the index too"),
        ("?index=Bad_Name", "not a valid Pinecone index name"),
        ("?ready_timeout=0", "ready_timeout must be a positive number"),
        ("?max_concurrency=500", "max_concurrency"),
        ("?colour=blue", "unknown Pinecone option"),
    ],
)
def test_bad_options_are_refused(emulator: PineconeEmulator, query: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        make_store(emulator, query)


def test_dropped_index_is_gone_for_data_calls(emulator: PineconeEmulator, store: PineconeStore) -> None:
    store.create_collection(CollectionSpec("brief", 8))
    assert store.drop_collection("brief") is True
    assert "brief" not in emulator.indexes
    with pytest.raises(CollectionNotFound):
        store.upsert("brief", records(1, 8))


# ----- namespaces of a shared index --------------------------------------------------------


def test_collections_as_namespaces_are_isolated(emulator: PineconeEmulator) -> None:
    s = make_store(emulator, "?index=shared")
    try:
        emb = HashingEmbedder(dimension=8)
        s.create_collection(CollectionSpec("alpha", 8, Metric.COSINE, emb.fingerprint))
        s.create_collection(CollectionSpec("Beta_2", 8))
        assert list(emulator.indexes) == ["shared"]  # one index for both
        s.upsert("alpha", records(5, 8, prefix="a"))
        s.upsert("Beta_2", records(3, 8, prefix="b"))
        assert (s.count("alpha"), s.count("Beta_2")) == (5, 3)
        assert {h.id[0] for h in s.query("alpha", records(1, 8)[0].vector, k=10)} == {"a"}
        assert s.list_collections() == ["Beta_2", "alpha"]
        assert s.describe_collection("alpha").embedder == emb.fingerprint
        namespaces = set(emulator.indexes["shared"].data.namespaces)
        assert {"alpha", "Beta_2", "__vecbridge__"} <= namespaces
        assert s.drop_collection("alpha") is True
        assert s.list_collections() == ["Beta_2"] and s.count("Beta_2") == 3
        assert "alpha" not in emulator.indexes["shared"].data.namespaces
        assert s.drop_collection("alpha") is False
    finally:
        s.close()


def test_shared_index_has_one_dimension_and_metric(emulator: PineconeEmulator) -> None:
    s = make_store(emulator, "?index=shared")
    try:
        s.create_collection(CollectionSpec("first", 8, Metric.DOT))
        with pytest.raises(DimensionMismatch, match="shared index 'shared' holds 8-d"):
            s.create_collection(CollectionSpec("second", 16, Metric.DOT))
        with pytest.raises(MetricMismatch):
            s.create_collection(CollectionSpec("third", 8, Metric.COSINE))
        assert s.list_collections() == ["first"]
    finally:
        s.close()


def test_tenants_see_only_their_collections(emulator: PineconeEmulator) -> None:
    acme = make_store(emulator, "?index=shared&namespace=acme")
    globex = make_store(emulator, "?index=shared&namespace=globex")
    try:
        acme.create_collection(CollectionSpec("docs", 8))
        globex.create_collection(CollectionSpec("docs", 8))
        acme.upsert("docs", records(4, 8))
        assert (acme.count("docs"), globex.count("docs")) == (4, 0)
        assert acme.list_collections() == ["docs"] == globex.list_collections()
        assert {"acme/docs", "acme/__vecbridge__", "globex/__vecbridge__"} <= set(
            emulator.indexes["shared"].data.namespaces
        )
        globex.drop_collection("docs")
        assert acme.count("docs") == 4 and not globex.has_collection("docs")
    finally:
        acme.close()
        globex.close()


def test_layouts_do_not_mistake_each_other(emulator: PineconeEmulator) -> None:
    shared = make_store(emulator, "?index=shared")
    per_index = make_store(emulator)
    try:
        shared.create_collection(CollectionSpec("inner", 8))
        per_index.create_collection(CollectionSpec("solo", 8))
        assert per_index.list_collections() == ["solo"]  # the shared index is not a collection
        with pytest.raises(StoreError, match="shared index"):
            per_index.describe_collection("shared")
        with pytest.raises(StoreError, match="cannot also be a shared index"):
            connect(emulator.url + "?index=solo", api_key=TEST_KEY).list_collections()
        assert index_name_for("inner") not in emulator.indexes
    finally:
        shared.close()
        per_index.close()
