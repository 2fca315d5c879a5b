"""Collections as indexes (readiness, deletion protection, URL options) and as namespaces of a
shared index (isolation, tenants, one dimension and metric per index)."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("pinecone")

from tests.emulators.pinecone import PineconeEmulator
from tests.emulators.pinecone.fixtures import TEST_KEY, emulator_fixture, make_store, records, store_fixture  # noqa: F401
from vecbridge.connectors.pinecone.names import index_name_for
from vecbridge.core import (
    CollectionNotFound,
    CollectionSpec,
    DimensionMismatch,
    InvalidInput,
    Metric,
    MetricMismatch,
    StoreError,
    UnsupportedFeature,
    connect,
)
from vecbridge.core.store import Store
from vecbridge.embedders.hashing import HashingEmbedder

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


def test_deletion_protection_is_left_to_the_user(emulator: PineconeEmulator, store: Store) -> None:
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


def test_dropped_index_is_gone_for_data_calls(emulator: PineconeEmulator, store: Store) -> None:
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


# ----- what the 2026-07 control plane is sent and says --------------------------------------


def test_sdk10_creates_an_index_the_published_spec_describes(emulator: PineconeEmulator, store: Store) -> None:
    """SDK 10 creates a vectors-API index with the reserved ``_values`` field only; described,
    such an index reports ``_sparse_values`` too (db_control 2026-07), which is still a plain
    dense collection."""
    emb = HashingEmbedder(dimension=8)
    spec = store.create_collection(CollectionSpec("plain", 8, Metric.DOT, emb.fingerprint))
    (create,) = [r for r in emulator.received("/indexes") if r.method == "POST"]
    assert set(create.body) <= {"name", "schema", "deployment", "tags", "deletion_protection"}
    assert create.body["schema"] == {
        "fields": {"_values": {"type": "dense_vector", "dimension": 8, "metric": "dotproduct"}}
    }
    assert create.body["deployment"] == {"deployment_type": "managed", "cloud": "aws", "region": "us-east-1"}
    assert not emulator.indexes["plain"].sparse
    described = make_store(emulator)
    try:
        assert described.describe_collection("plain") == spec and not spec.hybrid and not spec.multi_tenant
    finally:
        described.close()


def test_hybrid_collections_get_a_sparse_field_on_a_dotproduct_index(emulator: PineconeEmulator, store: Store) -> None:
    spec = store.create_collection(CollectionSpec("mixed", 8, Metric.COSINE, hybrid=True))
    index = emulator.indexes["mixed"]
    assert (index.metric, index.sparse) == ("dotproduct", True)
    assert index.tags["vecbridge-flags"] == "hybrid,unit"  # cosine kept as unit vectors
    assert (spec.metric, spec.hybrid) == (Metric.COSINE, True)
    (create,) = [r for r in emulator.received("/indexes") if r.method == "POST"]
    assert create.body["schema"]["fields"]["_sparse_values"] == {"type": "sparse_vector"}
    with pytest.raises(UnsupportedFeature, match="euclidean"):
        store.create_collection(CollectionSpec("far", 8, Metric.EUCLIDEAN, hybrid=True))
    assert "far" not in emulator.indexes


def test_a_disabled_index_is_reported_as_disabled(emulator: PineconeEmulator, store: Store) -> None:
    """Pinecone reports some indexes as ``Disabled``: they exist, but serve nothing. That is what
    the user hears, with what to do, not "absent" (nor "created meanwhile by someone else")."""
    store.create_collection(CollectionSpec("paused", 8))
    emulator.set_state("paused", "Disabled")
    other = make_store(emulator)
    try:
        for attempt in (
            lambda: other.has_collection("paused"),
            lambda: other.describe_collection("paused"),
            lambda: other.create_collection(CollectionSpec("paused", 8)),
            lambda: other.create_collection(CollectionSpec("paused", 8), exist_ok=True),
        ):
            with pytest.raises(StoreError, match=r"'paused' exists but is Disabled.*Re-enable it.*or drop"):
                attempt()
        assert "paused" in other.list_collections()
        assert other.drop_collection("paused") is True and "paused" not in emulator.indexes
    finally:
        other.close()


# ----- tenants -----------------------------------------------------------------------------


def test_tenants_are_namespaces_of_the_collections_index(emulator: PineconeEmulator, store: Store) -> None:
    store.create_collection(CollectionSpec("crm", 8, multi_tenant=True))
    store.upsert("crm", records(3, 8), tenant="acme")
    store.upsert("crm", records(2, 8), tenant="globex")
    assert set(emulator.indexes["crm"].data.namespaces) == {"acme", "globex"}
    assert emulator.indexes["crm"].tags["vecbridge-flags"] == "tenants"
    assert store.describe_collection("crm").multi_tenant


def test_tenants_in_a_shared_index(emulator: PineconeEmulator) -> None:
    plain, prefixed = make_store(emulator, "?index=shared"), make_store(emulator, "?index=shared&namespace=team")
    try:
        plain.create_collection(CollectionSpec("crm", 8, multi_tenant=True))
        prefixed.create_collection(CollectionSpec("crm", 8, multi_tenant=True))
        plain.upsert("crm", records(3, 8), tenant="acme")
        prefixed.upsert("crm", records(2, 8), tenant="acme")
        namespaces = set(emulator.indexes["shared"].data.namespaces)
        assert {"crm/@acme", "team/crm/@acme"} <= namespaces
        assert (plain.count("crm", tenant="acme"), prefixed.count("crm", tenant="acme")) == (3, 2)
        assert plain.drop_collection("crm") is True
        left = set(emulator.indexes["shared"].data.namespaces)
        assert "crm/@acme" not in left and "team/crm/@acme" in left
        assert prefixed.count("crm", tenant="acme") == 2 and not plain.has_collection("crm")
    finally:
        plain.close()
        prefixed.close()


def test_a_shared_index_admits_what_fits_it(emulator: PineconeEmulator) -> None:
    hybrid = make_store(emulator, "?index=kw")
    plain = make_store(emulator, "?index=dense")
    try:
        hybrid.create_collection(CollectionSpec("first", 8, Metric.COSINE, hybrid=True))
        assert (emulator.indexes["kw"].metric, emulator.indexes["kw"].sparse) == ("dotproduct", True)
        hybrid.create_collection(CollectionSpec("dots", 8, Metric.DOT))  # dot product fits a dotproduct index
        with pytest.raises(MetricMismatch, match="dotproduct"):
            hybrid.create_collection(CollectionSpec("angles", 8, Metric.COSINE))  # not hybrid: needs cosine
        plain.create_collection(CollectionSpec("first", 8, Metric.DOT))
        with pytest.raises(UnsupportedFeature, match="without a keyword"):
            plain.create_collection(CollectionSpec("words", 8, Metric.DOT, hybrid=True))
        assert hybrid.describe_collection("first").hybrid and sorted(hybrid.list_collections()) == ["dots", "first"]
    finally:
        hybrid.close()
        plain.close()


def test_shared_index_catalog_changes_are_waited_for() -> None:
    """Catalog records are records: on an eventually consistent index they show up (and go) late;
    creating and dropping a collection wait for that, so what follows sees the change."""
    with PineconeEmulator(lag=0.2) as emu:
        s = make_store(emu, "?index=slow")
        try:
            s.create_collection(CollectionSpec("c", 8))
            assert s.has_collection("c") and s.list_collections() == ["c"]
            assert s.drop_collection("c") is True
            assert not s.has_collection("c") and s.list_collections() == []
        finally:
            s.close()
