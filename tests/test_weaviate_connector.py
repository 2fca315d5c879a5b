"""Weaviate connector behaviour beyond the conformance suite, through the real weaviate-client
against the emulator: names, metadata layout, deletes, URLs, secrets, connecting, closing."""

from __future__ import annotations

import asyncio
import json

import pytest

pytest.importorskip("weaviate", reason="the weaviate extra is not installed")
import grpc

from tests.backends import weaviate as backend
from tests.backends.weaviate import (
    DIM,
    connect_emulator,
    connect_emulator_async,
    offline_version_check,
    raw_client,
    records,
)
from tests.emulators.weaviate import WeaviateEmulator
from vecbridge.connectors.weaviate import AsyncWeaviateDriver, WeaviateDriver
from vecbridge.connectors.weaviate.schema import class_name, filter_property
from vecbridge.core import (
    CollectionExists,
    CollectionNotFound,
    CollectionSpec,
    InvalidInput,
    Record,
    StoreError,
    UnsupportedFilter,
    connect,
    connect_async,
    point_uuid,
)
from vecbridge.core.retry import RetryPolicy
from vecbridge.core.store import Store

# The shared fixtures (an emulator per test, a store on it with fast retries).
emulator_fixture = backend.emulator_fixture
store_fixture = backend.store_fixture

# ----- names ----------------------------------------------------------------------------------


def test_names_are_normalised_and_the_users_name_is_kept(store: Store, emulator: WeaviateEmulator) -> None:
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
def test_names_that_map_to_the_same_class_cannot_coexist(store: Store, clash: str) -> None:
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


def test_classes_not_made_by_vecbridge_are_left_alone(store: Store, emulator: WeaviateEmulator) -> None:
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


def test_a_class_changed_outside_vecbridge_is_reported(store: Store, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("edited", DIM))
    schema = emulator.db.get_class("Edited").schema  # type: ignore[union-attr]
    schema["vectorConfig"]["default"]["vectorIndexConfig"]["distance"] = "dot"
    with pytest.raises(StoreError, match="changed outside vecbridge"):
        store.describe_collection("edited")


def test_collection_dropped_behind_the_stores_back(store: Store, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("gone", DIM))
    store.upsert("gone", records(2))
    emulator.db.delete_class("Gone")
    with pytest.raises(CollectionNotFound):
        store.query("gone", records(1)[0].vector)
    assert not store.has_collection("gone")  # the cached spec was forgotten


# ----- metadata mapping -----------------------------------------------------------------------


def test_metadata_is_typed_by_vecbridge_not_by_auto_schema(store: Store, emulator: WeaviateEmulator) -> None:
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
    # an RFC 3339 string stays text (auto-schema would have made it a date and refused other
    # strings); its instant goes to a number shadow that date ranges compare
    assert props[filter_property("when", "text")] == "text[]" and props[filter_property("when", "date")] == "number[]"
    assert {filter_property("mixed", k) for k in ("number", "text", "bool")} <= set(props)
    assert store.count("typed", filter={"year": 2020}) == 1
    assert store.count("typed", filter={"year": "2020"}) == 1
    assert store.count("typed", filter={"flag": True}) == 1 and store.count("typed", filter={"flag": 1}) == 1
    assert store.count("typed", filter={"when": {"$gte": "2023-12-31T23:00:00-02:00"}}) == 0
    assert store.count("typed", filter={"when": {"$lt": "2023-12-31T23:00:00-02:00"}}) == 1
    assert [r.metadata for r in store.get("typed", ["b"])] == [
        {"year": "2020", "flag": 1, "mixed": [1, "one", True, None, {"n": 1}]}
    ]


def test_filters_on_keys_never_written_need_no_request(store: Store, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("sparse", DIM))
    store.upsert("sparse", records(6))
    before = emulator.faults.count("grpc:Search")
    assert store.query("sparse", records(1)[0].vector, k=6, filter={"nokey": 1}) == []
    assert emulator.faults.count("grpc:Search") == before  # folded to "nothing matches" locally
    assert len(store.query("sparse", records(1)[0].vector, k=6, filter={"nokey": {"$ne": 1}})) == 6
    assert store.count("sparse", filter={"$not": {"nokey": {"$exists": True}}}) == 6


def test_a_key_another_writer_added_is_found(store: Store, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("shared", DIM))
    store.upsert("shared", records(2))
    assert store.count("shared", filter={"late": 1}) == 0  # this driver has not seen "late" yet
    other = connect_emulator(emulator)
    try:
        other.upsert("shared", [Record("x", records(1)[0].vector, None, {"late": 1})])
    finally:
        other.close()
    assert store.count("shared", filter={"late": 1}) == 1  # the schema is read again on a miss


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


def test_objects_weaviate_fails_to_delete_are_reported(store: Store, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("stuck", DIM))
    store.upsert("stuck", records(4))
    emulator.faults.fail_deletes([point_uuid("r1")], "shard is read-only")
    with pytest.raises(StoreError, match="read-only") as info:
        store.delete("stuck", ["r0", "r1"])
    assert point_uuid("r1") in str(info.value)
    assert sorted(r.id for r in store.get("stuck", ["r0", "r1"])) == ["r1"]


def test_reads_of_a_tenant_never_written_are_empty(store: Store) -> None:
    store.create_collection(CollectionSpec("mt", DIM, multi_tenant=True))
    store.upsert("mt", records(3), tenant="acme")
    vec = records(1)[0].vector
    assert store.count("mt", tenant="nobody") == 0
    assert store.count("mt", tenant="nobody", filter={"i": {"$ne": 1}}) == 0
    assert store.query("mt", vec, tenant="nobody") == []
    assert store.get("mt", ["r0"], tenant="nobody") == []
    assert [p.records for p in store.scan("mt", tenant="nobody")] == [[]]
    store.delete("mt", ["r0"], tenant="nobody")  # nothing to delete, no error
    assert store.count("mt", tenant="acme") == 3


# ----- connecting, secrets --------------------------------------------------------------------


def test_api_key_is_sent_but_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEAVIATE_API_KEY", raising=False)
    key = "wv-secret-0123456789"
    header = "module-key-9876543210"
    with WeaviateEmulator(api_key=key) as emu:
        s = connect_emulator(emu, api_key=key, headers={"X-Module-Api-Key": header})
        try:
            s.create_collection(CollectionSpec("auth", DIM))
            s.upsert("auth", records(3))
            assert s.count("auth") == 3  # REST and gRPC both carried the key
            for shown in (repr(s), str(s), repr(s.driver), repr(s.driver.settings)):  # type: ignore[attr-defined]
                assert key not in shown and header not in shown
            # even a server (or proxy) that echoes the header does not leak it through our errors
            emu.faults.fail_rpc("Search", grpc.StatusCode.INVALID_ARGUMENT, f"rejected Bearer {key} and {header}")
            with pytest.raises(StoreError) as info:
                s.query("auth", records(1)[0].vector)
            assert key not in str(info.value) and header not in str(info.value) and "***" in str(info.value)
            emu.faults.fail_objects(None, f"token {key} refused", times=1)
            with pytest.raises(Exception) as failed:
                s.upsert("auth", records(1))
            assert key not in str(failed.value) and key not in repr(getattr(failed.value, "reasons", ""))
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
        ("weaviate://localhost:8080?consistency=most", "consistency must be"),
        ("weaviate://localhost:8080?compression=zip", "compression must be one of"),
        ("weaviate://localhost:8080?object_retries=2", "was removed"),
        ("weaviate://localhost:8080?batch_size=0", "batch_size must be positive"),
    ],
)
def test_bad_urls_fail_clearly_before_connecting(url: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        WeaviateDriver.from_url(url)
    with pytest.raises(InvalidInput, match=message):
        WeaviateDriver.async_from_url(url)


def test_unreachable_server_gives_a_clear_error(emulator: WeaviateEmulator) -> None:
    url = f"weaviate://127.0.0.1:{emulator.http_port}?grpc_port=1&skip_init_checks=false"
    with offline_version_check(emulator), pytest.raises(StoreError, match="gRPC"):
        connect(url)


def test_the_async_driver_connects_on_first_use(emulator: WeaviateEmulator) -> None:
    # nothing listens there: building the store must not touch the network
    dead = connect_async("weaviate://127.0.0.1:1?grpc_port=2", retry=RetryPolicy(attempts=1))
    assert isinstance(dead.driver, AsyncWeaviateDriver)
    with pytest.raises(StoreError, match="could not connect"):
        asyncio.run(dead.list_collections())
    live = connect_emulator_async(emulator)
    before = len(emulator.faults.calls)

    async def use() -> int:
        await live.create_collection(CollectionSpec("lazy", DIM))
        await live.upsert("lazy", records(4))
        counted = await live.count("lazy")
        await live.close()
        return counted

    assert len(emulator.faults.calls) == before  # still nothing sent
    assert asyncio.run(use()) == 4


def test_closed_store_says_so(emulator: WeaviateEmulator) -> None:
    s = connect_emulator(emulator)
    s.create_collection(CollectionSpec("closing", DIM))
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.count("closing")


def test_scan_cursor_must_come_from_a_scan(store: Store) -> None:
    store.create_collection(CollectionSpec("scan", DIM))
    with pytest.raises(InvalidInput, match="cursor"):
        list(store.scan("scan", cursor="page-2"))


def test_scan_stops_before_its_stop_cursor(store: Store) -> None:
    store.create_collection(CollectionSpec("ranged", DIM))
    store.upsert("ranged", records(30))
    pages = list(store.scan("ranged", batch_size=10))
    stop = pages[1].next_cursor  # the uuid that ends the second page
    assert stop is not None
    head = [r.id for p in store.scan("ranged", batch_size=7, stop=stop) for r in p.records]
    assert head == [r.id for p in pages[:2] for r in p.records][: len(head)] and len(head) == 19
