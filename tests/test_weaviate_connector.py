"""Weaviate connector behaviour beyond the conformance suite, through the real weaviate-client
against the emulator: names, failed batch objects, the delete_many cap, secrets, URLs, faults."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest

pytest.importorskip("weaviate", reason="the weaviate extra is not installed")
import grpc
import weaviate

from tests.backends.weaviate import connect_emulator, offline_version_check
from tests.emulators.weaviate import WeaviateEmulator
from vecbridge.connectors.weaviate import WeaviateStore
from vecbridge.connectors.weaviate.schema import class_name, filter_property
from vecbridge.core import (
    CollectionExists,
    CollectionNotFound,
    CollectionSpec,
    InvalidInput,
    Record,
    StoreError,
    UnsupportedFilter,
    UpsertFailed,
    connect,
    point_uuid,
)
from vecbridge.core.retry import RetryPolicy

DIM = 8
FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.05)


def records(n: int, prefix: str = "r") -> list[Record]:
    rng = np.random.default_rng(1)
    return [
        Record(f"{prefix}{i}", rng.normal(size=DIM).tolist(), f"text {i}", {"i": i, "odd": i % 2 == 1})
        for i in range(n)
    ]


@pytest.fixture
def emulator() -> Iterator[WeaviateEmulator]:
    with WeaviateEmulator() as emu:
        yield emu


@pytest.fixture
def store(emulator: WeaviateEmulator) -> Iterator[WeaviateStore]:
    s = connect_emulator(emulator)
    assert isinstance(s, WeaviateStore)
    s.retry_policy = FAST_RETRY
    yield s
    s.close()


def raw_client(emulator: WeaviateEmulator) -> weaviate.WeaviateClient:
    with offline_version_check(emulator):
        return weaviate.connect_to_local(host=emulator.host, port=emulator.http_port, grpc_port=emulator.grpc_port)


# ----- names ----------------------------------------------------------------------------------


def test_names_are_normalised_and_the_users_name_is_kept(store: WeaviateStore, emulator: WeaviateEmulator) -> None:
    assert class_name("docs-v2") == "Docs_v2" and class_name("Already") == "Already"
    store.create_collection(CollectionSpec("docs-v2", DIM))
    assert emulator.db.get_class("Docs_v2") is not None  # Weaviate's rules: capitalised, no '-'
    assert store.list_collections() == ["docs-v2"]
    assert store.describe_collection("docs-v2").name == "docs-v2"
    description = emulator.db.get_class("Docs_v2").schema["description"]  # type: ignore[union-attr]
    assert json.loads(description.split("vecbridge-spec:", 1)[1])["dimension"] == DIM
    # A second process sees the same spec (it lives in Weaviate, not in this object).
    other = connect_emulator(emulator)
    try:
        assert other.describe_collection("docs-v2") == store.describe_collection("docs-v2")
    finally:
        other.close()


@pytest.mark.parametrize("clash", ["docs_v2", "Docs-v2", "DOCS-V2"])
def test_names_that_map_to_the_same_class_cannot_coexist(store: WeaviateStore, clash: str) -> None:
    store.create_collection(CollectionSpec("docs-v2", DIM))
    store.upsert("docs-v2", records(3))
    with pytest.raises(CollectionExists, match="docs-v2") as info:
        store.create_collection(CollectionSpec(clash, DIM))
    assert "Docs_v2" in str(info.value)
    with pytest.raises(CollectionExists):  # exist_ok does not mean "reuse someone else's class"
        store.create_collection(CollectionSpec(clash, DIM), exist_ok=True)
    assert not store.has_collection(clash)
    assert store.drop_collection(clash) is False  # never drops the other collection's data
    assert store.count("docs-v2") == 3


def test_classes_not_made_by_vecbridge_are_left_alone(store: WeaviateStore, emulator: WeaviateEmulator) -> None:
    client = raw_client(emulator)
    try:
        client.collections.create("Foreign")
    finally:
        client.close()
    assert store.list_collections() == []
    assert not store.has_collection("foreign")
    with pytest.raises(CollectionExists, match="not made by vecbridge"):
        store.create_collection(CollectionSpec("foreign", DIM))
    assert store.drop_collection("Foreign") is False
    assert emulator.db.get_class("Foreign") is not None


def test_a_class_changed_outside_vecbridge_is_reported(store: WeaviateStore, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("edited", DIM))
    schema = emulator.db.get_class("Edited").schema  # type: ignore[union-attr]
    schema["vectorConfig"]["default"]["vectorIndexConfig"]["distance"] = "dot"
    fresh = connect_emulator(emulator)
    try:
        with pytest.raises(StoreError, match="changed outside vecbridge"):
            fresh.describe_collection("edited")
    finally:
        fresh.close()


def test_collection_dropped_behind_the_stores_back(store: WeaviateStore, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("gone", DIM))
    store.upsert("gone", records(2))
    emulator.db.delete_class("Gone")
    with pytest.raises(CollectionNotFound):
        store.query("gone", records(1)[0].vector)
    assert not store.has_collection("gone")  # the cached spec was forgotten


# ----- metadata mapping -----------------------------------------------------------------------


def test_metadata_is_typed_by_vecbridge_not_by_auto_schema(store: WeaviateStore, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("typed", DIM))
    vec = records(1)[0].vector
    store.upsert(
        "typed",
        [
            Record("a", vec, None, {"year": 2020, "título": "x", "flag": True, "when": "2024-01-01T00:00:00Z"}),
            Record("b", vec, None, {"year": "2020", "flag": 1, "mixed": [1, "one", True, None, {"n": 1}]}),
        ],
    )
    props = {p["name"]: p["dataType"][0] for p in emulator.db.get_class("Typed").schema["properties"]}  # type: ignore[union-attr]
    assert props[filter_property("year", "number")] == "number[]" and props["m_year_s"] == "text[]"
    assert props[filter_property("título", "text")] == "text[]" and filter_property("título", "text").startswith("h_")
    # an RFC 3339 string stays text: auto-schema would have made it a date and refused other strings
    assert props[filter_property("when", "text")] == "text[]"
    assert {filter_property("mixed", k) for k in ("number", "text", "bool")} <= set(props)
    assert store.count("typed", filter={"year": 2020}) == 1
    assert store.count("typed", filter={"year": "2020"}) == 1
    assert store.count("typed", filter={"flag": True}) == 1 and store.count("typed", filter={"flag": 1}) == 1
    assert [r.metadata for r in store.get("typed", ["b"])] == [
        {"year": "2020", "flag": 1, "mixed": [1, "one", True, None, {"n": 1}]}
    ]


def test_filters_on_keys_never_written_need_no_request(store: WeaviateStore, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("sparse", DIM))
    store.upsert("sparse", records(6))
    before = emulator.faults.count("grpc:Search")
    assert store.query("sparse", records(1)[0].vector, k=6, filter={"nokey": 1}) == []
    assert emulator.faults.count("grpc:Search") == before  # folded to "nothing matches" locally
    assert len(store.query("sparse", records(1)[0].vector, k=6, filter={"nokey": {"$ne": 1}})) == 6
    assert store.count("sparse", filter={"$not": {"nokey": {"$exists": True}}}) == 6


def test_negation_needs_weaviate_133() -> None:
    with WeaviateEmulator(version="1.32.4") as old:
        s = connect_emulator(old)
        try:
            s.create_collection(CollectionSpec("old", DIM))
            s.upsert("old", records(4))
            assert s.count("old", filter={"odd": True}) == 2
            for flt in ({"i": {"$ne": 1}}, {"i": {"$nin": [1, 2]}}, {"$not": {"odd": True}}, {"i": {"$exists": False}}):
                with pytest.raises(UnsupportedFilter, match=r"1\.33"):
                    s.query("old", records(1)[0].vector, filter=flt)
        finally:
            s.close()


# ----- batches --------------------------------------------------------------------------------


def test_failed_batch_objects_are_reported_with_their_ids(store: WeaviateStore, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("fails", DIM))
    recs = records(12)
    bad = {"r3", "r7"}
    emulator.faults.fail_objects([point_uuid(i) for i in bad], "invalid text property 'vb_id' on class 'Fails'")
    with pytest.raises(UpsertFailed) as info:
        store.upsert("fails", recs)
    err = info.value
    assert bad <= set(err.failed_ids)
    assert "'r3'" in str(err.cause) and "'r7'" in str(err.cause) and "invalid text property" in str(err.cause)
    assert emulator.faults.count("grpc:BatchObjects") == 1  # a validation error is not retried
    assert emulator.object_count("Fails") == len(recs) - len(bad)  # the others landed


def test_transient_object_failures_are_sent_again(store: WeaviateStore, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("flaky", DIM))
    emulator.faults.fail_objects([point_uuid("r2")], "connection refused: node unavailable (503)", times=1)
    assert store.upsert("flaky", records(10)) == 10
    assert emulator.object_count("Flaky") == 10
    assert emulator.faults.count("grpc:BatchObjects") == 2  # the whole batch, then only the failed object


def test_upserts_go_in_fixed_size_concurrent_requests(emulator: WeaviateEmulator) -> None:
    s = connect_emulator(emulator, batch_size=10, concurrent_requests=3)
    try:
        s.create_collection(CollectionSpec("chunks", DIM))
        assert s.upsert("chunks", records(95)) == 95
        assert emulator.faults.count("grpc:BatchObjects") == 10
        assert s.count("chunks") == 95
    finally:
        s.close()


def test_transient_grpc_errors_are_retried(store: WeaviateStore, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("retry", DIM))
    store.upsert("retry", records(5))
    emulator.faults.fail_rpc("Search", grpc.StatusCode.RESOURCE_EXHAUSTED, "too many requests", times=2)
    assert len(store.query("retry", records(1)[0].vector, k=5)) == 5
    emulator.faults.fail_rpc("Search", grpc.StatusCode.INVALID_ARGUMENT, "bad request", times=1)
    with pytest.raises(StoreError, match="bad request"):
        store.query("retry", records(1)[0].vector, k=5)


# ----- deletes --------------------------------------------------------------------------------


def test_delete_many_cap_is_looped_until_done() -> None:
    with WeaviateEmulator(query_maximum_results=25) as emu:
        s = connect_emulator(emu)
        try:
            s.create_collection(CollectionSpec("capped", DIM))
            s.upsert("capped", records(100))
            s.delete("capped", filter={"i": {"$lt": 70}})  # 70 matches, 25 per call
            assert s.count("capped") == 30
            assert emu.faults.count("grpc:BatchDelete") == 3
            s.delete("capped", [f"r{i}" for i in range(70, 100)])  # ids: the same loop
            assert s.count("capped") == 0
        finally:
            s.close()


def test_objects_weaviate_fails_to_delete_are_reported(store: WeaviateStore, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("stuck", DIM))
    store.upsert("stuck", records(4))
    emulator.faults.fail_deletes([point_uuid("r1")], "shard is read-only")
    with pytest.raises(StoreError, match="read-only") as info:
        store.delete("stuck", ["r0", "r1"])
    assert point_uuid("r1") in str(info.value)
    assert sorted(r.id for r in store.get("stuck", ["r0", "r1"])) == ["r1"]


# ----- connecting, secrets --------------------------------------------------------------------


def test_api_key_is_sent_but_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEAVIATE_API_KEY", raising=False)
    key = "wv-secret-0123456789"
    with WeaviateEmulator(api_key=key) as emu:
        s = connect_emulator(emu, api_key=key)
        try:
            s.create_collection(CollectionSpec("auth", DIM))
            s.upsert("auth", records(3))
            assert s.count("auth") == 3  # REST and gRPC both carried the key
            assert key not in repr(s) and key not in str(s)
            # even a server (or proxy) that echoes the header does not leak it through our errors
            emu.faults.fail_rpc("Search", grpc.StatusCode.INVALID_ARGUMENT, f"rejected header Bearer {key}")
            with pytest.raises(StoreError) as info:
                s.query("auth", records(1)[0].vector)
            assert key not in str(info.value) and "***" in str(info.value)
        finally:
            s.close()
        for wrong in ("wv-wrong-key-987654", None):
            with pytest.raises(StoreError, match="API key") as refused:
                connect_emulator(emu, **({"api_key": wrong} if wrong else {}))
            assert "wv-wrong-key-987654" not in str(refused.value)


def test_weaviate_cloud_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEAVIATE_API_KEY", raising=False)
    with pytest.raises(InvalidInput, match="WEAVIATE_API_KEY"):
        connect("weaviate+cloud://abc123.c0.europe-west3.gcp.weaviate.cloud")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("weaviate://localhost:8080?embedded=true", "no embedded Weaviate"),
        ("weaviate://:memory:", "no embedded Weaviate"),
        ("weaviate:///var/lib/weaviate", "names no host"),
        ("weaviate://localhost:8080?api_key=abc", "do not put 'api_key' in the URL"),
        ("weaviate://user:pw@localhost:8080", "do not put credentials"),
        ("weaviate://localhost:8080?grpc_prot=1", "unknown Weaviate option"),
        ("weaviate://localhost:8080?grpc_port=fifty", "grpc_port must be an integer"),
        ("weaviate://localhost:8080?timeout=soon", "timeout must be a number"),
    ],
)
def test_bad_urls_fail_clearly_before_connecting(url: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        WeaviateStore.from_url(url)


def test_unreachable_server_gives_a_clear_error(emulator: WeaviateEmulator) -> None:
    url = f"weaviate://127.0.0.1:{emulator.http_port}?grpc_port=1&skip_init_checks=false"
    with offline_version_check(emulator), pytest.raises(StoreError, match="gRPC"):
        connect(url)


def test_closed_store_says_so(emulator: WeaviateEmulator) -> None:
    s = connect_emulator(emulator)
    s.create_collection(CollectionSpec("closing", DIM))
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.count("closing")


def test_scan_cursor_must_come_from_a_scan(store: WeaviateStore) -> None:
    store.create_collection(CollectionSpec("scan", DIM))
    with pytest.raises(InvalidInput, match="cursor"):
        list(store.scan("scan", cursor="page-2"))
