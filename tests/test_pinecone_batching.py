"""Upserts are split by Pinecone's per-request vector count and byte size, sent with bounded
concurrency; large reads are chunked too. Checked on the requests the emulator received."""

from __future__ import annotations

import pytest

pytest.importorskip("pinecone")

from tests.emulators.pinecone import PineconeEmulator, limits
from tests.emulators.pinecone.fixtures import emulator_fixture, make_store, records, store_fixture, vectors  # noqa: F401
from vecbridge.core import CollectionSpec, InvalidInput, Record
from vecbridge.core.store import Store


def test_split_by_vector_count(emulator: PineconeEmulator, store: Store) -> None:
    store.create_collection(CollectionSpec("many", 4))
    recs = records(2500, 4)
    assert store.upsert("many", recs, batch_size=2500) == 2500
    sent = emulator.received("/vectors/upsert")
    sizes = [len(r.vectors) for r in sent]
    assert max(sizes) <= limits.MAX_UPSERT_VECTORS and sum(sizes) == 2500 and len(sent) == 3
    assert all(r.status == 200 for r in sent)
    assert sorted(v["id"] for r in sent for v in r.vectors) == sorted(r.id for r in recs)
    assert store.count("many") == 2500


def test_split_by_request_bytes(emulator: PineconeEmulator, store: Store) -> None:
    dim = 512
    store.create_collection(CollectionSpec("heavy", dim))
    # ~30 KB of metadata + ~6 KB of vector each: 300 of them are ~11 MB, far over one request.
    recs = [Record(f"h{i}", v, "t" * 30_000, {"i": i}) for i, v in enumerate(vectors(300, dim))]
    assert store.upsert("heavy", recs) == 300
    sent = emulator.received("/vectors/upsert")
    assert sum(r.body_bytes for r in sent) > 5 * limits.MAX_REQUEST_BYTES
    assert all(r.body_bytes <= limits.MAX_REQUEST_BYTES and r.status == 200 for r in sent)
    assert len(sent) >= 6 and sum(len(r.vectors) for r in sent) == 300
    # Requests are filled close to the limit, not split arbitrarily small.
    assert max(r.body_bytes for r in sent) > limits.MAX_REQUEST_BYTES * 0.8


def test_concurrency_is_bounded(emulator: PineconeEmulator) -> None:
    s = make_store(emulator, max_concurrency=2)
    try:
        dim = 512
        s.create_collection(CollectionSpec("busy", dim))
        recs = [Record(f"b{i}", v, "t" * 20_000, {}) for i, v in enumerate(vectors(400, dim, seed=2))]
        s.upsert("busy", recs)
        assert len(emulator.received("/vectors/upsert")) >= 4
        assert emulator.max_in_flight["/vectors/upsert"] <= 2
    finally:
        s.close()


def test_get_and_scan_chunk_their_requests(emulator: PineconeEmulator, store: Store) -> None:
    store.create_collection(CollectionSpec("reads", 4))
    recs = records(1200, 4)
    store.upsert("reads", recs)
    emulator.clear()
    got = store.get("reads", [r.id for r in recs])
    assert len(got) == 1200
    fetches = emulator.received("/vectors/fetch")
    assert all(len(f.query["ids"]) <= limits.MAX_FETCH_IDS for f in fetches) and len(fetches) >= 2
    emulator.clear()
    pages = list(store.scan("reads", batch_size=250))
    assert [len(p.records) for p in pages] == [250, 250, 250, 250, 200]
    assert all(int(r.query["limit"][0]) <= limits.MAX_LIST_LIMIT for r in emulator.received("/vectors/list"))
    resumed = [r.id for p in store.scan("reads", batch_size=250, cursor=pages[1].next_cursor) for r in p.records]
    assert sorted(resumed) == sorted(r.id for p in pages[2:] for r in p.records)


def test_small_searches_are_one_query(emulator: PineconeEmulator, store: Store) -> None:
    store.create_collection(CollectionSpec("few", 4))
    recs = records(30, 4)
    store.upsert("few", recs)
    emulator.clear()
    hits = store.query("few", recs[0].vector, k=10, include_vectors=True)
    assert hits[0].id == "r0" and hits[0].metadata == {"i": 0} and hits[0].vector is not None
    (q,) = emulator.received("/query")
    assert q.body["topK"] == 10 and q.body["includeMetadata"] and q.body["includeValues"]
    assert emulator.received("/vectors/fetch") == []


def test_searches_stay_under_the_4mb_response_limit(emulator: PineconeEmulator, store: Store) -> None:
    """A query response holds at most 4 MB (Pinecone's "Query limits"): 1,000 matches carrying
    20 KB of text each would be 20 MB, so the search asks for ids and scores, then fetches."""
    dim = 16
    store.create_collection(CollectionSpec("wide", dim))
    recs = [Record(f"w{i}", v, f"{i} " + "t" * 20_000, {"i": i}) for i, v in enumerate(vectors(1000, dim))]
    store.upsert("wide", recs)
    emulator.clear()
    hits = store.query("wide", recs[0].vector, k=1000, include_vectors=True)
    assert len(hits) == 1000 and hits[0].id == "w0" and hits[0].text == recs[0].text
    assert all(h.vector is not None and len(h.vector) == dim for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(r.status == 200 for r in emulator.received())
    (q,) = emulator.received("/query")
    assert q.body["topK"] == 1000 and not q.body["includeMetadata"] and not q.body["includeValues"]
    assert len(emulator.received("/vectors/fetch")) >= 2


def test_k_up_to_10000_with_metadata_and_values(emulator: PineconeEmulator, store: Store) -> None:
    store.create_collection(CollectionSpec("deep", 4))
    recs = records(10_050, 4)
    store.upsert("deep", recs)
    hits = store.query("deep", recs[7].vector, k=10_000, include_vectors=True, filter={"i": {"$gte": 0}})
    assert len(hits) == 10_000 and hits[0].id == "r7"
    by_id = {r.id: r for r in recs}
    assert all(h.metadata == by_id[h.id].metadata and h.vector is not None for h in hits)
    with pytest.raises(InvalidInput, match="10,000"):
        store.query("deep", recs[0].vector, k=10_001)


def test_count_with_filter_past_the_query_ceiling(emulator: PineconeEmulator, store: Store) -> None:
    store.create_collection(CollectionSpec("lots", 2))
    recs = [Record(f"n{i}", [1.0, float(i % 7)], None, {"odd": i % 2 == 1}) for i in range(10_050)]
    store.upsert("lots", recs)
    assert store.count("lots", filter={"odd": False}) == 5025  # under 10,000: one filtered query
    emulator.clear()
    assert store.count("lots", filter={"i": {"$exists": False}}) == 10_050  # past it: a scan
    assert emulator.received("/vectors/list")
