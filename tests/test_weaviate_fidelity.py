"""The Weaviate connector against what real Weaviate servers do (each behaviour checked on a
1.38.2 server built from source, and reproduced by the emulator at the version it claims):
partial batch failures, retries, negated counts, auto-schema, usage limits, message size, -0.0,
compression allow-lists, consistency levels."""

from __future__ import annotations

import pytest

pytest.importorskip("weaviate", reason="the weaviate extra is not installed")
import grpc

from tests.backends import weaviate as backend
from tests.backends.weaviate import (
    DIM,
    FAST_RETRY,
    connect_emulator,
    raw_client,
    records,
)
from tests.emulators.weaviate import WeaviateEmulator
from vecbridge.core import (
    CollectionNotFound,
    CollectionSpec,
    InvalidInput,
    Record,
    StoreError,
    TransientError,
    UnsupportedFeature,
    UpsertFailed,
    matches,
    point_uuid,
)
from vecbridge.core.store import Store

# The shared fixtures (an emulator per test, a store on it with fast retries).
emulator_fixture = backend.emulator_fixture
store_fixture = backend.store_fixture


def test_the_emulator_claims_the_version_compose_runs(emulator: WeaviateEmulator) -> None:
    from pathlib import Path

    compose = (Path(__file__).parents[1] / "docker-compose.test.yml").read_text()
    assert f"semitechnologies/weaviate:{emulator.settings.version}" in compose


# ----- batches --------------------------------------------------------------------------------


def test_a_partial_batch_failure_names_exactly_what_landed(store: Store, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("fails", DIM))
    recs = records(12)
    bad = {"r3", "r7"}
    emulator.faults.fail_objects([point_uuid(i) for i in bad], "invalid text property 'vb_id' on class 'Fails'")
    with pytest.raises(UpsertFailed) as info:
        store.upsert("fails", recs)
    err = info.value
    assert set(err.failed_ids) == bad  # not all 12
    assert sorted(err.written_ids) == sorted(r.id for r in recs if r.id not in bad)  # the 10 that landed
    assert all("invalid text property" in err.reasons[i] for i in bad)
    assert emulator.faults.batch_sizes == [12]  # a validation error is not retried
    assert emulator.object_count("Fails") == 10


def test_transient_object_failures_are_resent_alone_by_the_store(store: Store, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("flaky", DIM))
    emulator.faults.fail_objects([point_uuid("r2")], "connection refused: node unavailable (503)", times=1)
    emulator.faults.fail_objects(
        [point_uuid("r5")], "cannot achieve consistency level QUORUM: replica timeout", times=1
    )
    assert store.upsert("flaky", records(10)) == 10
    assert emulator.object_count("Flaky") == 10
    assert emulator.faults.batch_sizes == [10, 2]  # the batch, then only the two failed objects


def test_every_object_failing_is_still_accounted_per_record(store: Store, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("allfail", DIM))
    emulator.faults.fail_objects(None, "invalid number property 'm_i_n'")
    with pytest.raises(UpsertFailed) as info:
        store.upsert("allfail", records(4))
    assert sorted(info.value.failed_ids) == ["r0", "r1", "r2", "r3"] and info.value.written_ids == []


def test_transient_grpc_errors_are_retried_by_the_store(store: Store, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("retry", DIM))
    store.upsert("retry", records(5))
    emulator.faults.fail_rpc("Search", grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded", times=2)
    assert len(store.query("retry", records(1)[0].vector, k=5)) == 5
    emulator.faults.fail_rpc("Search", grpc.StatusCode.UNKNOWN, "cannot achieve consistency level QUORUM", times=1)
    assert len(store.query("retry", records(1)[0].vector, k=5)) == 5
    emulator.faults.fail_rpc("Search", grpc.StatusCode.INVALID_ARGUMENT, "bad request", times=1)
    before = emulator.faults.count("grpc:Search")
    with pytest.raises(StoreError, match="bad request"):
        store.query("retry", records(1)[0].vector, k=5)
    assert emulator.faults.count("grpc:Search") == before + 1


# ----- negated counts (weaviate/weaviate#10260) -----------------------------------------------

NEGATED = [
    {"i": {"$ne": 3}},
    {"i": {"$nin": [1, 2]}},
    {"$not": {"odd": True}},
    {"gone": {"$exists": False}},
    {"$or": [{"i": 4}, {"$not": {"i": {"$gte": 2}}}]},
    {"$and": [{"odd": True}, {"$not": {"i": 5}}]},
]


def _churn(s: Store) -> list[Record]:
    """Records after deletes and overwrites: the deleted doc ids stay in Weaviate's universe."""
    s.create_collection(CollectionSpec("churn", DIM))
    recs = records(10)
    s.upsert("churn", [Record(r.id, r.vector, r.text, {**r.metadata, "gone": 1}) for r in recs])
    s.delete("churn", ["r0", "r1"])
    s.upsert("churn", recs[5:])  # overwrite: new doc ids, old ones retired
    return recs[2:5] + recs[5:]


@pytest.mark.parametrize("restart", [False, True], ids=["live", "after-restart"])
def test_negated_counts_are_exact_on_1382(emulator: WeaviateEmulator, restart: bool) -> None:
    s = connect_emulator(emulator)
    try:
        live = _churn(s)
        stored = {r.id: (r.metadata if int(r.id[1:]) >= 5 else {**r.metadata, "gone": 1}) for r in live}
        if restart:
            emulator.restart()
        for flt in NEGATED:
            assert s.count("churn", filter=flt) == sum(matches(flt, m) for m in stored.values()), flt
        assert s.count("churn") == 8
    finally:
        s.close()


def test_negated_counts_are_exact_on_1362_at_once() -> None:
    with WeaviateEmulator(version="1.36.2") as emu:
        s = connect_emulator(emu)
        try:
            live = _churn(s)
            stored = {r.id: (r.metadata if int(r.id[1:]) >= 5 else {**r.metadata, "gone": 1}) for r in live}
            for flt in NEGATED:
                assert s.count("churn", filter=flt) == sum(matches(flt, m) for m in stored.values()), flt
        finally:
            s.close()


def test_the_emulator_overcounts_like_the_server(emulator: WeaviateEmulator) -> None:
    """What the connector works around: the raw server count of a negation after a restart."""
    from weaviate.classes.query import Filter

    s = connect_emulator(emulator)
    try:
        _churn(s)
    finally:
        s.close()
    client = raw_client(emulator)
    try:
        collection = client.collections.use("Churn")
        negated = Filter.not_(Filter.by_property("m_i_n").equal(3.0))

        def count() -> int:
            return int(collection.aggregate.over_all(total_count=True, filters=negated).total_count or 0)

        assert count() == 7  # 1.38.2 before a restart: exact
        emulator.restart()
        assert count() == 7 + 2  # the two deleted objects' doc ids (overwrites keep theirs), as 1.38.2 says
        assert len(collection.query.fetch_objects(filters=negated, limit=100).objects) == 7  # searches resolve ids
    finally:
        client.close()


# ----- auto-schema ----------------------------------------------------------------------------


def test_a_write_into_a_dropped_collection_does_not_recreate_it(store: Store, emulator: WeaviateEmulator) -> None:
    store.create_collection(CollectionSpec("dropped", DIM))
    store.upsert("dropped", records(3))  # the driver now knows the class's properties
    emulator.db.delete_class("Dropped")  # another process drops it
    with pytest.raises(CollectionNotFound, match="auto-schema"):
        store.upsert("dropped", records(3, prefix="again"))
    assert emulator.db.get_class("Dropped") is None  # the stray class auto-schema made is gone
    assert not store.has_collection("dropped")


def test_auto_schema_recreates_a_dropped_class_in_the_emulator_as_on_the_server(emulator: WeaviateEmulator) -> None:
    from weaviate.classes.data import DataObject

    client = raw_client(emulator)
    try:
        client.collections.create("Ghost")
        collection = client.collections.use("Ghost")
        client.collections.delete("Ghost")
        reply = collection.data.insert_many(
            [DataObject(properties={"t": "x", "n": [1.0]}, vector={"default": [1.0, 2.0]})]
        )
        assert not reply.errors
        config = collection.config.get()
        assert "auto-schema" in (config.description or "")
        assert {p.name: p.data_type.value for p in config.properties} == {"t": "text", "n": "number[]"}
        assert config.vector_config is None  # the unnamed index; "default" was mapped onto it
        assert collection.query.fetch_objects(include_vector=True).objects[0].vector == {"default": [1.0, 2.0]}
    finally:
        client.close()


# ----- permanent refusals ---------------------------------------------------------------------


def test_usage_limits_are_permanent_and_named() -> None:
    with WeaviateEmulator(max_objects=5, max_collections=2) as emu:
        s = connect_emulator(emu, retry=FAST_RETRY)
        try:
            s.create_collection(CollectionSpec("limited", DIM))
            assert s.upsert("limited", records(4)) == 4
            with pytest.raises(UpsertFailed) as info:
                s.upsert("limited", records(3, prefix="more"))
            assert not isinstance(info.value.cause, TransientError)
            assert all("usage limit" in reason for reason in info.value.reasons.values())
            assert emu.faults.batch_sizes == [4, 3]  # not retried
            s.create_collection(CollectionSpec("second", DIM))
            with pytest.raises(StoreError, match="usage limit") as refused:
                s.create_collection(CollectionSpec("third", DIM))
            assert not isinstance(refused.value, TransientError)
            assert emu.faults.count("rest:POST /v1/schema") == 3
        finally:
            s.close()


def test_a_batch_larger_than_the_grpc_limit_is_not_retried() -> None:
    with WeaviateEmulator(grpc_max_message_size=64_000) as emu:
        s = connect_emulator(emu, retry=FAST_RETRY)
        try:
            s.create_collection(CollectionSpec("big", DIM))
            big = [Record(f"b{i}", r.vector, "x" * 20_000) for i, r in enumerate(records(5))]
            with pytest.raises(StoreError, match="batch_size") as info:  # nothing landed: the cause itself
                s.upsert("big", big)
            assert not isinstance(info.value, TransientError)
            assert emu.faults.batch_sizes == []  # the client refused to send it (once: no retry)
            assert s.upsert("big", big, batch_size=2) == 5
        finally:
            s.close()


def test_a_cluster_that_refuses_uncompressed_indexes_says_what_to_do() -> None:
    with WeaviateEmulator(allowed_compression_types=("rq-8",)) as emu:
        s = connect_emulator(emu, retry=FAST_RETRY)
        try:
            with pytest.raises(UnsupportedFeature, match="compression=") as info:
                s.create_collection(CollectionSpec("exact", DIM))
            assert "rq-8" in str(info.value)
            assert emu.faults.count("rest:POST /v1/schema") == 1
        finally:
            s.close()
        compressed = connect_emulator(emu, compression="rq-8")
        try:
            compressed.create_collection(CollectionSpec("exact", DIM))
            compressed.upsert("exact", records(3))
            assert compressed.count("exact") == 3
        finally:
            compressed.close()


# ----- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.37.1", "1.38.2"])
def test_negative_zero_filters_as_zero_on_every_version(version: str) -> None:
    with WeaviateEmulator(version=version) as emu:
        s = connect_emulator(emu)
        try:
            s.create_collection(CollectionSpec("zeros", DIM))
            vec = records(1)[0].vector
            stored = {"neg": -0.0, "pos": 0.0, "minus": -1.5}
            s.upsert("zeros", [Record(k, vec, None, {"x": v}) for k, v in stored.items()])
            for flt in ({"x": 0}, {"x": -0.0}, {"x": {"$lt": 0}}, {"x": {"$gte": 0}}, {"x": {"$ne": 0}}):
                want = {k for k, v in stored.items() if matches(flt, {"x": v})}
                assert {h.id for h in s.query("zeros", vec, k=5, filter=flt)} == want, flt
            (neg,) = s.get("zeros", ["neg"])
            assert str(neg.metadata["x"]) == "-0.0"  # the value itself round-trips with its sign
        finally:
            s.close()


# ----- consistency ----------------------------------------------------------------------------


def test_consistency_levels(emulator: WeaviateEmulator) -> None:
    s = connect_emulator(emulator)
    try:
        s.create_collection(CollectionSpec("levels", DIM))
        s.upsert("levels", records(3))
        s.query("levels", records(1)[0].vector)
        s.get("levels", ["r0"])
        s.query("levels", records(1)[0].vector, consistency="one")
        with pytest.raises(InvalidInput, match="consistency"):
            s.query("levels", records(1)[0].vector, consistency="most")
    finally:
        s.close()
    levels = [c for c in emulator.faults.calls if c.startswith("consistency:")]
    assert levels == [
        "consistency:BatchObjects:QUORUM",
        "consistency:Search:QUORUM",
        "consistency:Search:QUORUM",
        "consistency:Search:ONE",
    ]
    emulator.faults.reset()
    every = connect_emulator(emulator, consistency="ALL")
    try:
        every.upsert("levels", records(1))
    finally:
        every.close()
    assert [c for c in emulator.faults.calls if c.startswith("consistency:")] == ["consistency:BatchObjects:ALL"]


def test_what_the_client_already_retried_is_not_retried_again(
    store: Store, emulator: WeaviateEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """weaviate-client retries gRPC UNAVAILABLE inside searches itself (5 times, 1+2+4+8+16 s, not
    configurable): the store must not nest its own retries around that."""
    store.create_collection(CollectionSpec("down", DIM))
    store.upsert("down", records(3))
    monkeypatch.setattr("weaviate.retry.time.sleep", lambda seconds: None)  # the client's own backoff
    emulator.faults.fail_rpc("Search", grpc.StatusCode.UNAVAILABLE, "node shutting down", times=100)
    before = emulator.faults.count("grpc:Search")
    with pytest.raises(StoreError, match="own retries") as info:
        store.query("down", records(1)[0].vector)
    assert not isinstance(info.value, TransientError)
    assert emulator.faults.count("grpc:Search") - before == 6  # the client's attempts, once
