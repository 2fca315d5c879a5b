"""Adopting Pinecone indexes made by other tools (``store.adopt``): the index is created and filled
with the pinecone SDK directly, the way LangChain's ``PineconeVectorStore`` does (text under the
metadata key ``text``, uuid4 ids, other metadata keys flat), then adopted, queried with filters,
counted, scanned and migrated into Qdrant Edge. Runs against the emulator."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("pinecone")
from pinecone import Pinecone

from tests.emulators.pinecone import PineconeEmulator
from tests.emulators.pinecone.fixtures import SERVERLESS, TEST_KEY, make_async_store, make_store, raw_index
from tests.foreign_checks import Rows, check_async_adoption, check_migration_into_edge
from vecbridge.core import CollectionSpec, Metric, Record, iter_records, matches
from vecbridge.core.errors import CollectionNotFound, InvalidFilter, InvalidInput, UnsupportedFeature, UnsupportedFilter
from vecbridge.core.store import Store

DIM = 8
N = 14
INDEX = "langchain-docs"


@pytest.fixture(name="emulator")
def emulator_fixture() -> Iterator[PineconeEmulator]:
    with PineconeEmulator(api_key=TEST_KEY, lag=0.02) as emu:
        yield emu


@pytest.fixture(name="store")
def store_fixture(emulator: PineconeEmulator) -> Iterator[Store]:
    opened = make_store(emulator)
    yield opened
    opened.close()


def write_langchain_index(emulator: PineconeEmulator, namespace: str = "", metric: str = "cosine") -> Rows:
    """An index as a LangChain user makes it (``pc.create_index``) filled the way
    ``PineconeVectorStore.add_texts`` does: ``upsert(vectors=[(id, values, {text_key: text, **metadata})])``.
    Returns id -> (text, metadata, vector)."""
    pc = Pinecone(api_key=TEST_KEY, host=emulator.control_url)
    if INDEX not in emulator.indexes:
        pc.create_index(name=INDEX, dimension=DIM, metric=metric, spec=SERVERLESS)
    vectors = np.random.default_rng(7).normal(size=(N, DIM)).astype(np.float32)
    rows: Rows = {}
    batch = []
    for i in range(N):
        metadata: dict[str, Any] = {"source": f"file{i % 3}.txt", "page": i, "draft": i % 2 == 0}
        if i % 4:
            metadata["tags"] = ["a", f"t{i % 5}"]
        record_id = str(uuid.uuid4())
        batch.append((record_id, vectors[i].tolist(), {"text": f"document number {i}", **metadata}))
        rows[record_id] = (f"document number {i}", metadata, vectors[i].tolist())
    raw_index(emulator, INDEX).upsert(vectors=batch, namespace=namespace)
    emulator.settle()
    return rows


def test_adopt_a_langchain_index_reads_every_record(store: Store, emulator: PineconeEmulator) -> None:
    rows = write_langchain_index(emulator)
    spec = store.adopt("docs", native=INDEX, preset="langchain")
    assert (spec.name, spec.dimension, spec.metric) == ("docs", DIM, Metric.COSINE)
    assert store.count("docs") == N
    scanned = {r.id: r for r in iter_records(store, "docs", batch_size=5)}
    assert set(scanned) == set(rows)
    for record_id, (text, metadata, vector) in rows.items():
        assert scanned[record_id].text == text
        assert scanned[record_id].metadata == metadata  # numbers come back as Pinecone keeps them: 3.0 == 3
        np.testing.assert_allclose(scanned[record_id].vector, vector, rtol=1e-6)
    some = sorted(rows)[:2]
    assert sorted(r.id for r in store.get("docs", [*some, "missing"])) == some


@pytest.mark.parametrize(
    "where",
    [
        {"page": {"$gte": 9}},
        {"draft": True},
        {"source": "file1.txt"},
        {"source": {"$ne": "file1.txt"}},
        {"tags": "t2"},
        {"tags": {"$nin": ["a"]}},
        {"tags": {"$exists": False}},
        {"$not": {"source": {"$in": ["file0.txt", "file2.txt"]}}},
        {"$or": [{"page": {"$lt": 2}}, {"$and": [{"draft": False}, {"page": {"$gt": 10}}]}]},
    ],
)
def test_filters_on_an_adopted_index_match_the_reference(
    store: Store, emulator: PineconeEmulator, where: dict[str, Any]
) -> None:
    rows = write_langchain_index(emulator)
    store.adopt("docs", native=INDEX, preset="langchain")
    expected = {i for i, (_, metadata, _) in rows.items() if matches(where, metadata)}
    assert store.count("docs", filter=where) == len(expected)
    hits = store.query("docs", rows[sorted(rows)[0]][2], k=N, filter=where)
    assert {h.id for h in hits} == expected


def test_filters_an_adopted_index_cannot_answer_exactly_are_refused(store: Store, emulator: PineconeEmulator) -> None:
    write_langchain_index(emulator)
    store.adopt("docs", native=INDEX, preset="langchain")
    with pytest.raises(UnsupportedFilter, match="negation of a range"):
        store.count("docs", filter={"$not": {"page": {"$gt": 3}}})
    with pytest.raises(UnsupportedFilter, match="date range"):
        store.count("docs", filter={"when": {"$gt": "2024-01-01T00:00:00Z"}})
    with pytest.raises(InvalidFilter, match="text key"):
        store.count("docs", filter={"text": "document number 1"})
    store.adopt("pages", native=INDEX, preset="langchain", metadata_fields=("page",))
    with pytest.raises(InvalidFilter, match="not one of the metadata_fields"):
        store.count("pages", filter={"source": "file1.txt"})
    assert all(set(r.metadata) == {"page"} for r in iter_records(store, "pages"))


def test_a_namespace_is_chosen_with_group(store: Store, emulator: PineconeEmulator) -> None:
    write_langchain_index(emulator)
    rows = write_langchain_index(emulator, namespace="team-a")
    store.adopt("team", native=INDEX, preset="langchain", group="team-a")
    assert store.count("team") == N
    assert {r.id for r in iter_records(store, "team")} == set(rows)
    with pytest.raises(CollectionNotFound, match="no namespace 'team-b'"):
        store.adopt("other", native=INDEX, group="team-b")


def test_an_adopted_index_is_read_only(store: Store, emulator: PineconeEmulator) -> None:
    rows = write_langchain_index(emulator)
    store.adopt("docs", native=INDEX, preset="langchain")
    with pytest.raises(UnsupportedFeature, match="writable=True"):
        store.upsert("docs", [Record("new", [1.0] * DIM, "x", {})])
    with pytest.raises(UnsupportedFeature, match="writable=True"):
        store.delete("docs", ids=[next(iter(rows))])
    with pytest.raises(UnsupportedFeature, match="does not drop"):
        store.drop_collection("docs")
    assert INDEX in emulator.indexes and store.count("docs") == N


def test_writable_adoption_deletes_but_does_not_write(store: Store, emulator: PineconeEmulator) -> None:
    rows = write_langchain_index(emulator)
    store.adopt("docs", native=INDEX, preset="langchain", writable=True)
    with pytest.raises(UnsupportedFeature, match="does not write"):
        store.upsert("docs", [Record("new", [1.0] * DIM, "x", {})])
    victim = sorted(rows)[0]
    store.delete("docs", ids=[victim])
    store.delete("docs", filter={"page": {"$gte": 10}})
    emulator.settle()
    expected = {i for i, row in rows.items() if i != victim and row[1]["page"] < 10}
    assert {r.id for r in iter_records(store, "docs")} == expected


@pytest.mark.parametrize(
    ("adoption", "error", "match"),
    [
        ({"native": "missing"}, CollectionNotFound, "no index 'missing'"),
        ({"native": INDEX, "vector": "dense", "id": "pk"}, InvalidInput, "Adoption.id does not apply to Pinecone"),
        ({"native": INDEX, "preset": "haystack", "text": "text"}, UnsupportedFeature, "no 'haystack' preset"),
        ({"native": INDEX, "preset": "nonsense"}, InvalidInput, "unknown preset"),
    ],
)
def test_bad_layouts_are_refused(
    store: Store, emulator: PineconeEmulator, adoption: dict[str, Any], error: type[Exception], match: str
) -> None:
    write_langchain_index(emulator)
    with pytest.raises(error, match=match):
        store.adopt("docs", **adoption)
    with pytest.raises(CollectionNotFound):
        store.count("docs")  # nothing was adopted


def test_an_index_vecbridge_made_is_not_adopted(store: Store, emulator: PineconeEmulator) -> None:
    store.create_collection(CollectionSpec("ours", DIM))
    with pytest.raises(InvalidInput, match="made by vecbridge"):
        store.adopt("other", native="ours")


def test_a_custom_text_key_and_the_index_metric(store: Store, emulator: PineconeEmulator) -> None:
    rows = write_langchain_index(emulator, metric="dotproduct")
    spec = store.adopt("docs", native=INDEX, text="source")  # any key may be named the text
    assert spec.metric is Metric.DOT
    record = store.get("docs", [sorted(rows)[0]])[0]
    text, metadata, vector = rows[sorted(rows)[0]]
    assert record.text == metadata["source"]
    assert record.metadata == {"text": text, **{k: v for k, v in metadata.items() if k != "source"}}
    # Under dot product the best match of a vector need not be itself (a longer
    # vector can score higher), so the expectation is the true maximum over the index.
    scores = {rid: float(np.dot(vector, other)) for rid, (_, _, other) in rows.items()}
    expected = max(scores, key=scores.__getitem__)
    best = store.query("docs", vector, k=1)[0]
    assert best.id == expected
    assert best.score == pytest.approx(scores[expected], rel=1e-5)


def test_migrate_an_adopted_langchain_index_into_qdrant_edge(
    store: Store, emulator: PineconeEmulator, tmp_path: Path
) -> None:
    rows = write_langchain_index(emulator)
    store.adopt("docs", native=INDEX, preset="langchain")
    check_migration_into_edge(store, "docs", rows, tmp_path)


def test_async_adopt_query_count_scan(emulator: PineconeEmulator) -> None:
    rows = write_langchain_index(emulator)
    asyncio.run(check_async_adoption(make_async_store(emulator), rows, DIM, native=INDEX, preset="langchain"))
