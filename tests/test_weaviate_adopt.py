"""Adopting Weaviate classes made by other tools (``store.adopt``): the classes are written with
weaviate-client directly — the way langchain-weaviate lays them out (text in ``text``, metadata as
auto-schema properties, the class's unnamed vector), and a hand-made class with named vectors and
typed, field-tokenized properties — then adopted, queried with filters, counted, scanned and
migrated into Qdrant Edge. Runs against the emulator, and against a real server when
``VECBRIDGE_WEAVIATE_URL`` is set (``-m integration``)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("weaviate", reason="the weaviate extra is not installed")
import weaviate
from weaviate.classes.config import Configure, DataType, Property, Tokenization, VectorDistances
from weaviate.classes.data import DataObject

from tests.backends.weaviate import FAST_RETRY, connect_emulator, connect_emulator_async, offline_version_check
from tests.emulators.weaviate import WeaviateEmulator
from tests.foreign_checks import check_async_adoption, check_migration_into_edge
from vecbridge.core import (
    CollectionNotFound,
    CollectionSpec,
    InvalidFilter,
    InvalidInput,
    Metric,
    Record,
    StoreError,
    UnsupportedFeature,
    connect,
    connect_async,
    iter_records,
    matches,
)
from vecbridge.core.store import Store

DIM = 6
N = 12
LANGCHAIN_CLASS = "LangChain_docs"
NAMED_CLASS = "Articles"
TENANT_CLASS = "Team_docs"
CLASSES = (LANGCHAIN_CLASS, NAMED_CLASS, TENANT_CLASS, "Empty_docs")


@pytest.fixture(name="site", params=["emulator", pytest.param("server", marks=pytest.mark.integration)])
def site_fixture(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Where the classes live: a fresh emulator, or the real server of ``VECBRIDGE_WEAVIATE_URL``
    (classes made by a test there are deleted afterwards)."""
    if request.param == "emulator":
        with WeaviateEmulator() as emulator:
            yield {"emulator": emulator}
        return
    url = os.environ.get("VECBRIDGE_WEAVIATE_URL")
    if not url:
        pytest.skip("VECBRIDGE_WEAVIATE_URL is not set: no Weaviate server to test")
    yield {"url": url}


def _raw(site: dict[str, Any]) -> weaviate.WeaviateClient:
    """weaviate-client itself (what another tool uses)."""
    if "emulator" in site:
        emulator = site["emulator"]
        with offline_version_check(emulator):
            return weaviate.connect_to_local(host=emulator.host, port=emulator.http_port, grpc_port=emulator.grpc_port)
    parts = site["url"].split("://", 1)[1]
    host_port, _, query = parts.partition("?")
    host, _, port = host_port.partition(":")
    grpc_port = int(query.split("grpc_port=", 1)[1].split("&")[0]) if "grpc_port=" in query else 50051
    return weaviate.connect_to_local(host=host, port=int(port or 8080), grpc_port=grpc_port)


@pytest.fixture(name="client")
def client_fixture(site: dict[str, Any]) -> Iterator[weaviate.WeaviateClient]:
    client = _raw(site)
    for cls in CLASSES:
        client.collections.delete(cls)
    yield client
    for cls in CLASSES:
        client.collections.delete(cls)
    client.close()


@pytest.fixture(name="store")
def store_fixture(site: dict[str, Any], client: weaviate.WeaviateClient) -> Iterator[Store]:
    opened = connect_emulator(site["emulator"], retry=FAST_RETRY) if "emulator" in site else connect(site["url"])
    yield opened
    opened.close()


def _vectors(n: int, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)


def _langchain_rows() -> list[tuple[str, dict[str, Any]]]:
    """(text, metadata) as langchain-weaviate would store Documents: metadata keys become properties."""
    return [(f"document number {i}", {"source": f"file{i % 3}.txt", "page": i, "draft": i % 2 == 0}) for i in range(N)]


def write_langchain_class(client: weaviate.WeaviateClient) -> dict[str, tuple[str, dict[str, Any], list[float]]]:
    """A class as langchain-weaviate creates it (``{"class": ..., "properties": [text]}``, the
    rest by auto-schema) and fills it (random uuids, the unnamed vector). Returns uuid -> row."""
    client.collections.create_from_dict(
        {"class": LANGCHAIN_CLASS, "properties": [{"name": "text", "dataType": ["text"]}]}
    )
    vectors = _vectors(N)
    written: dict[str, tuple[str, dict[str, Any], list[float]]] = {}
    objects = []
    for (text, metadata), vector in zip(_langchain_rows(), vectors, strict=True):
        object_id = str(uuid.uuid4())
        objects.append(DataObject(properties={"text": text, **metadata}, uuid=object_id, vector=vector.tolist()))
        written[object_id] = (text, metadata, vector.tolist())
    reply = client.collections.use(LANGCHAIN_CLASS).data.insert_many(objects)
    assert not reply.errors
    return written


def write_named_class(client: weaviate.WeaviateClient) -> list[str]:
    """A class with two named vectors, typed properties (int, date, field-tokenized text, text[])
    and a null-state index. Returns the uuids in writing order."""
    client.collections.create(
        NAMED_CLASS,
        vector_config=[
            Configure.Vectors.self_provided(
                name="body",
                # uncompressed, so a real server's scores are exact dot products too
                vector_index_config=Configure.VectorIndex.hnsw(
                    distance_metric=VectorDistances.DOT, quantizer=Configure.VectorIndex.Quantizer.none()
                ),
            ),
            Configure.Vectors.self_provided(name="title_vec"),
        ],
        properties=[
            Property(name="body", data_type=DataType.TEXT),
            Property(name="category", data_type=DataType.TEXT, tokenization=Tokenization.FIELD),
            Property(name="year", data_type=DataType.INT),
            Property(name="published", data_type=DataType.DATE),
            Property(name="tags", data_type=DataType.TEXT_ARRAY, tokenization=Tokenization.FIELD),
            Property(name="notes", data_type=DataType.TEXT),
        ],
        inverted_index_config=Configure.inverted_index(index_null_state=True),
    )
    body, titles = _vectors(6, seed=4), _vectors(6, seed=5)
    ids = [str(uuid.UUID(int=i + 1)) for i in range(6)]
    objects = [
        DataObject(
            properties={
                "body": f"article {i}",
                "category": ["news", "sport", "news flash"][i % 3],
                "year": 2019 + i,
                "published": f"2024-0{i + 1}-15T12:00:00Z",
                "tags": ["a", f"t{i}"],
                **({"notes": "has notes"} if i % 2 else {}),
            },
            uuid=ids[i],
            vector={"body": body[i].tolist(), "title_vec": titles[i].tolist()},
        )
        for i in range(6)
    ]
    reply = client.collections.use(NAMED_CLASS).data.insert_many(objects)
    assert not reply.errors
    return ids


# ----- the langchain-weaviate layout ---------------------------------------------------------


def test_adopt_a_langchain_class_reads_every_record(store: Store, client: weaviate.WeaviateClient) -> None:
    written = write_langchain_class(client)
    spec = store.adopt("docs", native=LANGCHAIN_CLASS, preset="langchain")
    assert (spec.name, spec.dimension, spec.metric) == ("docs", DIM, Metric.COSINE)
    assert store.count("docs") == N
    scanned = {r.id: r for r in iter_records(store, "docs", include_vectors=True)}
    assert set(scanned) == set(written)
    for object_id, (text, metadata, vector) in written.items():
        record = scanned[object_id]
        assert record.text == text
        assert record.metadata == metadata  # auto-schema made "page" a number: 3 comes back as 3.0 == 3
        np.testing.assert_allclose(record.vector, vector, rtol=1e-6)
    some = sorted(written)[:3]
    assert sorted(r.id for r in store.get("docs", [*some, "not-a-uuid", str(uuid.uuid4())])) == some


@pytest.mark.parametrize(
    "where",
    [
        {"page": {"$gte": 4}},
        {"page": {"$lt": 2.5}},
        {"draft": True},
        {"$and": [{"page": {"$in": [1, 2, 3, 7]}}, {"draft": {"$ne": True}}]},
        {"$not": {"page": {"$lte": 5}}},
        {"page": {"$nin": [0, 1]}},
        {"page": "3"},  # a string never equals a number
        {"absent": {"$exists": False}},
        {"absent": 1},
        {"text": {"$exists": True}},  # the text is not metadata
        {"page": {"$exists": True}},
        {"draft": {"$exists": False}},
    ],
)
def test_filters_on_an_adopted_class_match_the_reference(
    store: Store, client: weaviate.WeaviateClient, where: dict[str, Any]
) -> None:
    write_langchain_class(client)
    store.adopt("docs", native=LANGCHAIN_CLASS, preset="langchain")
    everything = list(iter_records(store, "docs"))
    expected = {r.id for r in everything if matches(where, r.metadata)}
    assert store.count("docs", filter=where) == len(expected)
    hits = store.query("docs", _vectors(1, seed=9)[0].tolist(), k=N, filter=where)
    assert {h.id for h in hits} == expected


def test_word_tokenized_text_cannot_be_compared_exactly(store: Store, client: weaviate.WeaviateClient) -> None:
    write_langchain_class(client)  # auto-schema tokenizes "source" by words
    store.adopt("docs", native=LANGCHAIN_CLASS, preset="langchain")
    with pytest.raises(InvalidFilter, match="tokenized 'word'"):
        store.count("docs", filter={"source": "file1.txt"})
    assert store.count("docs", filter={"source": {"$gt": 1}}) == 0  # a range never matches text
    with pytest.raises(InvalidFilter, match="null-state index"):
        store.count("docs", filter={"source": {"$exists": True}})


def test_an_adopted_class_is_read_only(store: Store, client: weaviate.WeaviateClient) -> None:
    written = write_langchain_class(client)
    store.adopt("docs", native=LANGCHAIN_CLASS, preset="langchain")
    record = Record(str(uuid.uuid4()), [1.0] * DIM, "new", {})
    with pytest.raises(UnsupportedFeature, match="writable=True"):
        store.upsert("docs", [record])
    with pytest.raises(UnsupportedFeature, match="writable=True"):
        store.delete("docs", ids=[next(iter(written))])
    with pytest.raises(UnsupportedFeature, match="does not drop"):
        store.drop_collection("docs")
    assert client.collections.use(LANGCHAIN_CLASS).aggregate.over_all(total_count=True).total_count == N


def test_writable_adoption_deletes_but_does_not_write(store: Store, client: weaviate.WeaviateClient) -> None:
    written = write_langchain_class(client)
    store.adopt("docs", native=LANGCHAIN_CLASS, preset="langchain", writable=True)
    with pytest.raises(UnsupportedFeature, match="does not write"):
        store.upsert("docs", [Record(str(uuid.uuid4()), [1.0] * DIM, "new", {})])
    victim = sorted(written)[0]
    store.delete("docs", ids=[victim, "not-a-uuid"])
    store.delete("docs", filter={"page": {"$gte": 10}})
    remaining = {r.id for r in iter_records(store, "docs")}
    assert remaining == {i for i, row in written.items() if i != victim and row[1]["page"] < 10}


# ----- named vectors and typed properties ----------------------------------------------------


def test_named_vector_class_with_typed_properties(store: Store, client: weaviate.WeaviateClient) -> None:
    ids = write_named_class(client)
    for vector, refusal in ((None, "choose one with vector="), ("nope", "no vector 'nope'")):
        with pytest.raises(InvalidInput, match=refusal):  # two named vectors: one must be chosen
            store.adopt("articles", native=NAMED_CLASS, text="body", vector=vector)
    spec = store.adopt("articles", native=NAMED_CLASS, text="body", vector="body")
    assert (spec.dimension, spec.metric) == (DIM, Metric.DOT)
    records = {r.id: r for r in iter_records(store, "articles", include_vectors=True)}
    assert set(records) == set(ids)
    first = records[ids[0]]
    assert first.text == "article 0"
    assert first.metadata == {
        "category": "news",
        "year": 2019,
        "published": "2024-01-15T12:00:00Z",
        "tags": ["a", "t0"],
    }
    np.testing.assert_allclose(first.vector, _vectors(6, seed=4)[0], rtol=1e-6)
    wheres: list[dict[str, Any]] = [
        {"category": "news"},
        {"category": {"$in": ["sport", "news flash"]}},
        {"category": {"$ne": "news"}},
        {"tags": "t3"},
        {"year": {"$gt": 2021.5}},
        {"year": 2020.0},
        {"published": "2024-03-15T12:00:00Z"},
        {"published": "2024-03-15T12:00:00+00:00"},  # not the text reads return
        {"published": {"$gte": "2024-04-01T00:00:00Z"}},
        {"notes": {"$exists": False}},
        {"$not": {"notes": {"$exists": True}}},
    ]
    for where in wheres:
        expected = {i for i, r in records.items() if matches(where, r.metadata)}
        assert store.count("articles", filter=where) == len(expected), where
        hits = store.query("articles", _vectors(1, seed=4)[0].tolist(), k=10, filter=where)
        assert {h.id for h in hits} == expected, where
    query = _vectors(1, seed=8)[0]
    body = _vectors(6, seed=4)
    best = store.query("articles", query.tolist(), k=1, include_vectors=True)[0]
    assert best.id == ids[int(np.argmax(body @ query))]  # ranked by the "body" vector's dot product
    assert best.score == pytest.approx(float(np.dot(query, best.vector)), rel=1e-5)
    with pytest.raises(InvalidFilter, match="surrounding whitespace"):
        store.count("articles", filter={"category": " news"})
    with pytest.raises(InvalidFilter, match="cannot compare text as dates"):
        store.count("articles", filter={"category": {"$gt": "2024-01-01T00:00:00Z"}})


def test_other_named_vector_and_chosen_metadata(store: Store, client: weaviate.WeaviateClient) -> None:
    ids = write_named_class(client)
    store.adopt("titles", native=NAMED_CLASS, text="body", vector="title_vec", metadata_fields=("year",))
    record = store.get("titles", [ids[1]], include_vectors=True)[0]
    assert record.metadata == {"year": 2020}
    np.testing.assert_allclose(record.vector, _vectors(6, seed=5)[1], rtol=1e-6)
    assert store.count("titles", filter={"category": "news"}) == 0  # not adopted as metadata: absent


def test_a_multi_tenant_class_is_read_per_tenant(store: Store, client: weaviate.WeaviateClient) -> None:
    client.collections.create(
        TENANT_CLASS,
        vector_config=Configure.Vectors.self_provided(),
        properties=[Property(name="text", data_type=DataType.TEXT), Property(name="n", data_type=DataType.INT)],
        multi_tenancy_config=Configure.multi_tenancy(enabled=True, auto_tenant_creation=True),
    )
    collection = client.collections.use(TENANT_CLASS)
    vectors = _vectors(5)
    for tenant, rows in (("alpha", range(3)), ("beta", range(3, 5))):
        objects = [
            DataObject(properties={"text": f"t{i}", "n": i}, vector={"default": vectors[i].tolist()}) for i in rows
        ]
        assert not collection.with_tenant(tenant).data.insert_many(objects).errors
    spec = store.adopt("team", native=TENANT_CLASS, preset="langchain")
    assert spec.multi_tenant and spec.dimension == DIM
    assert store.count("team", tenant="alpha") == 3
    assert store.count("team", tenant="beta", filter={"n": {"$gte": 4}}) == 1
    assert sorted(r.text or "" for r in iter_records_of(store, "team", "beta")) == ["t3", "t4"]


def iter_records_of(store: Store, name: str, tenant: str) -> list[Record]:
    return [r for page in store.scan(name, tenant=tenant, batch_size=2) for r in page.records]


def test_a_class_dropped_by_its_owner_is_gone(store: Store, client: weaviate.WeaviateClient) -> None:
    write_langchain_class(client)
    store.adopt("docs", native=LANGCHAIN_CLASS, preset="langchain")
    client.collections.delete(LANGCHAIN_CLASS)
    with pytest.raises(CollectionNotFound):
        store.count("docs")
    assert not store.has_collection("docs")


# ----- bad layouts -----------------------------------------------------------------------------


def test_bad_layouts_are_refused(store: Store, client: weaviate.WeaviateClient) -> None:
    write_langchain_class(client)
    with pytest.raises(CollectionNotFound, match="no class 'Missing'"):
        store.adopt("docs", native="Missing")
    with pytest.raises(InvalidInput, match="no text property 'body'"):
        store.adopt("docs", native=LANGCHAIN_CLASS, text="body")
    with pytest.raises(InvalidInput, match="not properties"):
        store.adopt("docs", native=LANGCHAIN_CLASS, preset="langchain", metadata_fields=("nope",))
    with pytest.raises(InvalidInput, match="does not apply to Weaviate"):
        store.adopt("docs", native=LANGCHAIN_CLASS, id="source")
    with pytest.raises(UnsupportedFeature, match="no 'llamaindex' preset"):
        store.adopt("docs", native=LANGCHAIN_CLASS, preset="llamaindex")
    with pytest.raises(InvalidInput, match="unknown preset"):
        store.adopt("docs", native=LANGCHAIN_CLASS, preset="nonsense")
    client.collections.create_from_dict({"class": "Empty_docs", "properties": [{"name": "text", "dataType": ["text"]}]})
    with pytest.raises(StoreError, match="holds no object with a vector"):
        store.adopt("empty", native="Empty_docs")
    store.create_collection(CollectionSpec("ours", DIM))
    try:
        with pytest.raises(InvalidInput, match="made by vecbridge"):
            store.adopt("other", native="Ours")
    finally:
        store.drop_collection("ours")
    with pytest.raises(CollectionNotFound):
        store.count("docs")  # nothing was adopted


# ----- migration ---------------------------------------------------------------------------------


def test_migrate_an_adopted_langchain_class_into_qdrant_edge(
    store: Store, client: weaviate.WeaviateClient, tmp_path: Path
) -> None:
    written = write_langchain_class(client)
    store.adopt("docs", native=LANGCHAIN_CLASS, preset="langchain")
    check_migration_into_edge(store, "docs", written, tmp_path)


# ----- the async driver --------------------------------------------------------------------------


def test_async_adopt_query_count_scan(site: dict[str, Any], client: weaviate.WeaviateClient) -> None:
    written = write_langchain_class(client)
    if "emulator" in site:
        store = connect_emulator_async(site["emulator"], retry=FAST_RETRY)
    else:
        store = connect_async(site["url"], retry=FAST_RETRY)
    asyncio.run(check_async_adoption(store, written, DIM, native=LANGCHAIN_CLASS, preset="langchain"))
