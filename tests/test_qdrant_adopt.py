"""Adopting Qdrant collections vecbridge did not create (issue #19): data written by the real
packages (langchain-qdrant, llama-index-vector-stores-qdrant, qdrant-haystack) or by qdrant-client
itself into local mode, then adopted, queried with filters, counted, scanned and migrated into
Qdrant Edge. Local mode locks its folder, so each writer's client is closed before vecbridge opens it.

With VECBRIDGE_QDRANT_URL set (``-m integration``), every test taking the ``qdrant`` fixture runs on
that server too (REST, or gRPC with ``?grpc=true``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qdrant_client import QdrantClient
from qdrant_client import models as m

from tests.foreign_checks import check_migration_into_edge
from vecbridge.connectors.qdrant.filters import AdoptedFilterCompiler, client_dialect
from vecbridge.connectors.qdrant.layouts import layout_of
from vecbridge.connectors.qdrant.numbers import kept_exactly
from vecbridge.core import CollectionNotFound, InvalidInput, Record, connect, connect_async
from vecbridge.core.driver import Adoption
from vecbridge.core.errors import UnsupportedFeature, UnsupportedFilter, UpsertFailed
from vecbridge.core.filters import matches, parse_filter
from vecbridge.core.models import Metric
from vecbridge.core.store import Store
from vecbridge.testing.conformance import EXACT_NUMBERS, FILTER_CASES, filter_dataset

DIM = 8

#: Metadata of the documents every writer writes (text, metadata); vectors come from _vector.
DOCS: list[tuple[str, dict[str, Any]]] = [
    ("alpha report", {"source": "a", "page": 1, "score": 0.5, "draft": True, "tags": ["x", "y"]}),
    ("beta notes", {"source": "b", "page": 2, "score": 2.0, "draft": False, "tags": ["y"]}),
    ("gamma memo", {"source": "a", "page": 3, "score": 19.99, "tags": []}),
    ("delta list", {"source": "c", "page": 2, "draft": True, "the key": "v"}),
    ("epsilon", {"page": 7, "score": -1.25, "tags": ["z"]}),
]

#: Filters checked against the reference evaluation (core.filters.matches) on every layout.
FILTERS: list[dict[str, Any]] = [
    {"source": "a"},
    {"source": {"$ne": "a"}},
    {"page": 2},
    {"page": 2.0},
    {"page": {"$gte": 2, "$lt": 7}},
    {"score": {"$gt": 0.5}},
    {"score": 19.99},
    {"draft": True},
    {"draft": {"$ne": True}},
    {"draft": 1},
    {"tags": "y"},
    {"tags": {"$exists": False}},
    {"tags": {"$in": ["x", "z"]}},
    {"page": {"$nin": [1, 7]}},
    {"$or": [{"source": "c"}, {"$not": {"score": {"$exists": True}}}]},
    {"source": {"$exists": True}, "page": {"$lte": 2}},
    {"page": {"$in": [2, "2"]}},
    {"score": {"$lte": 2}},
    {"score": {"$gte": -1.25, "$lt": 19.99}},
    {"draft": {"$nin": [False]}},
    {"tags": {"$ne": "y"}},
    {"the key": "v"},
]


def _vector(i: int) -> list[float]:
    return np.random.default_rng(i).normal(size=DIM).tolist()


def _cosine_ranking(records: list[Record], query: list[float]) -> list[str]:
    q = np.asarray(query) / np.linalg.norm(query)
    scores = {r.id: float(np.dot(np.asarray(r.vector) / np.linalg.norm(r.vector), q)) for r in records}
    return sorted(scores, key=lambda i: -scores[i])


def _all(store: Store, name: str) -> list[Record]:
    return [r for page in store.scan(name, batch_size=2) for r in page.records]


def _check_reads(store: Store, name: str, expected: dict[str, tuple[str, dict[str, Any]]]) -> list[Record]:
    """Scan, get, count, filtered count and filtered query of an adopted collection against what
    the writer wrote (``expected``: record id -> (text, metadata))."""
    records = _all(store, name)
    assert {r.id: (r.text, r.metadata) for r in records} == expected
    assert store.count(name) == len(expected)
    some = sorted(expected)[:2]
    assert {r.id: (r.text, r.metadata) for r in store.get(name, some)} == {i: expected[i] for i in some}
    assert store.get(name, ["not-a-point", "7" * 30]) == []
    for flt in FILTERS:
        wanted = {r.id for r in records if matches(flt, r.metadata)}
        assert store.count(name, filter=flt) == len(wanted), flt
        hits = store.query(name, _vector(0), k=len(expected), filter=flt)
        assert [h.id for h in hits] == [i for i in _cosine_ranking(records, _vector(0)) if i in wanted], flt
    return records


def _migrate_to_edge(store: Store, name: str, tmp_path: Path, records: list[Record]) -> None:
    check_migration_into_edge(store, name, {r.id: (r.text, r.metadata, list(r.vector)) for r in records}, tmp_path)


# ----- one Qdrant: local mode, and a server with VECBRIDGE_QDRANT_URL (-m integration) -----------


@dataclass
class Qdrant:
    """How each writer reaches one Qdrant: a qdrant-client factory, Haystack's arguments, vecbridge's URL."""

    client: Callable[[], QdrantClient]
    haystack: dict[str, Any]
    url: str


@pytest.fixture(
    params=[
        "local",
        pytest.param(
            "server",
            marks=[
                pytest.mark.integration,
                pytest.mark.skipif(
                    not os.environ.get("VECBRIDGE_QDRANT_URL"), reason="VECBRIDGE_QDRANT_URL is not set"
                ),
            ],
        ),
    ]
)
def qdrant(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Qdrant]:
    if request.param == "local":
        folder = str(tmp_path / "q")
        yield Qdrant(lambda: QdrantClient(path=folder), {"path": folder}, f"qdrant+local://{folder}")
        return
    from vecbridge.connectors.qdrant.urls import client_config

    url = os.environ["VECBRIDGE_QDRANT_URL"]
    kwargs = client_config(url, {}).kwargs
    made = QdrantClient(**kwargs)
    before = {c.name for c in made.get_collections().collections}
    haystack = {k: kwargs[k] for k in ("host", "port", "grpc_port", "prefer_grpc", "https")}
    yield Qdrant(lambda: QdrantClient(**kwargs), haystack, url)
    for c in made.get_collections().collections:
        if c.name not in before:
            made.delete_collection(c.name)
    made.close()


def _unique(prefix: str) -> str:
    """A collection name no other test run on the same server uses."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


# ----- the real packages ------------------------------------------------------------------------


def test_a_langchain_collection_is_adopted_queried_and_migrated(qdrant: Qdrant, tmp_path: Path) -> None:
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings
    from langchain_qdrant import QdrantVectorStore

    class Fixed(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            rows = {text: i + 1 for i, (text, _) in enumerate(DOCS)}
            return [_vector(rows.get(t, 0)) for t in texts]  # LangChain embeds a probe text first

        def embed_query(self, text: str) -> list[float]:
            return _vector(0)

    native = _unique("lc_docs")
    client = qdrant.client()
    client.create_collection(native, vectors_config=m.VectorParams(size=DIM, distance=m.Distance.COSINE))
    lc = QdrantVectorStore(client=client, collection_name=native, embedding=Fixed())
    ids = [str(uuid.uuid4()) for _ in DOCS]
    lc.add_documents([Document(text, metadata=md) for text, md in DOCS], ids=ids)
    client.close()

    with connect(qdrant.url) as store:
        spec = store.adopt("docs", native=native, preset="langchain")
        assert (spec.dimension, spec.metric) == (DIM, Metric.COSINE)
        records = _check_reads(store, "docs", dict(zip(ids, DOCS, strict=True)))
        _migrate_to_edge(store, "docs", tmp_path, records)


def test_a_llamaindex_collection_keeps_node_ids_texts_and_source_documents(qdrant: Qdrant, tmp_path: Path) -> None:
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
    from llama_index.vector_stores.qdrant import QdrantVectorStore

    native, client = _unique("li_docs"), qdrant.client()
    nodes = []
    for i, (text, md) in enumerate(DOCS):
        node = TextNode(text=text, id_=str(uuid.uuid4()), metadata=md, embedding=_vector(i + 1))
        if i % 2 == 0:
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=f"doc-{i}")
        nodes.append(node)
    QdrantVectorStore(collection_name=native, client=client).add(nodes)
    client.close()

    # LlamaIndex records the source document as ref_doc_id, "None" when a node has none.
    expected = {n.node_id: (n.text, {**n.metadata, "ref_doc_id": n.ref_doc_id or "None"}) for n in nodes}
    with connect(qdrant.url) as store:
        store.adopt("docs", native=native, preset="llamaindex")
        records = _check_reads(store, "docs", expected)
        assert store.count("docs", filter={"ref_doc_id": "doc-2"}) == 1
        for own in ("_node_content", "doc_id", "text"):
            with pytest.raises(UnsupportedFilter):
                store.count("docs", filter={own: "x"})
        _migrate_to_edge(store, "docs", tmp_path, records)


def test_a_haystack_collection_keeps_its_document_ids(qdrant: Qdrant, tmp_path: Path) -> None:
    from haystack import Document
    from haystack_integrations.document_stores.qdrant import QdrantDocumentStore

    native = _unique("hs_docs")
    hs = QdrantDocumentStore(**qdrant.haystack, index=native, embedding_dim=DIM, recreate_index=True)
    docs = [Document(id=f"doc-{i}", content=t, meta=md, embedding=_vector(i + 1)) for i, (t, md) in enumerate(DOCS)]
    hs.write_documents(docs)
    hs._client.close()  # local mode locks its folder: Haystack has no public close

    with connect(qdrant.url) as store:
        store.adopt("docs", native=native, preset="haystack")
        records = _check_reads(store, "docs", {d.id: (d.content, d.meta) for d in docs})
        _migrate_to_edge(store, "docs", tmp_path, records)


def _named_vectors(client: QdrantClient, name: str) -> None:
    client.create_collection(
        name,
        vectors_config={
            "small": m.VectorParams(size=4, distance=m.Distance.COSINE),
            "big": m.VectorParams(size=DIM, distance=m.Distance.DOT),
        },
    )
    client.upsert(
        name,
        [
            m.PointStruct(
                id=i,
                vector={"small": _vector(100 + i)[:4], "big": _vector(i + 1)},
                payload={"page_content": text, "metadata": md},
            )
            for i, (text, md) in enumerate(DOCS)
        ],
        wait=True,
    )


def test_a_named_vector_is_picked_by_name(qdrant: Qdrant) -> None:
    make, url = qdrant.client, qdrant.url
    native = _unique("named")
    client = make()
    _named_vectors(client, native)
    client.close()
    with connect(url) as store:
        with pytest.raises(InvalidInput, match="'big', 'small'"):
            store.adopt("docs", native=native, preset="langchain")
        with pytest.raises(InvalidInput, match="no vector 'huge'"):
            store.adopt("docs", native=native, preset="langchain", vector="huge")
        spec = store.adopt("docs", native=native, preset="langchain", vector="big")
        assert (spec.dimension, spec.metric) == (DIM, Metric.DOT)
        records = {r.id: r for r in _all(store, "docs")}
        assert sorted(records) == [str(i) for i in range(len(DOCS))]
        for i in range(len(DOCS)):
            assert np.allclose(records[str(i)].vector, _vector(i + 1), atol=1e-6)  # dot: kept as written
        hits = store.query("docs", _vector(3), k=2, filter={"page": 2}, include_vectors=True)
        assert hits[0].id == "1" or hits[0].id == "3"
        dots = {i: float(np.dot(records[i].vector, _vector(3))) for i in ("1", "3")}
        assert [h.id for h in hits] == sorted(dots, key=lambda i: -dots[i])
        assert hits[0].score == pytest.approx(dots[hits[0].id], rel=1e-5)
        assert store.get("docs", ["3"])[0].text == DOCS[3][0]
        small = store.adopt("small_docs", native=native, preset="langchain", vector="small")
        assert small.dimension == 4 and store.count("small_docs", filter={"source": "a"}) == 2


def test_a_single_named_vector_is_picked_without_asking(qdrant: Qdrant) -> None:
    make, url = qdrant.client, qdrant.url
    native = _unique("one")
    client = make()
    client.create_collection(native, vectors_config={"dense": m.VectorParams(size=DIM, distance=m.Distance.EUCLID)})
    client.upsert(native, [m.PointStruct(id=5, vector={"dense": _vector(1)}, payload={"body": "hi"})], wait=True)
    client.close()
    with connect(url) as store:
        spec = store.adopt("docs", native=native, text="body")
        assert (spec.dimension, spec.metric) == (DIM, Metric.EUCLIDEAN)
        hit = store.query("docs", _vector(1), k=1)[0]
        assert (hit.id, hit.text, hit.metadata) == ("5", "hi", {})
        assert hit.score == pytest.approx(0.0, abs=1e-5)  # the negated L2 distance to itself
        assert store.query("docs", _vector(1), k=1, exact=True, hnsw_ef=16)[0].id == "5"  # per-call options
        with pytest.raises(InvalidInput):
            store.query("docs", _vector(1), k=1, hnsw_ef=0)


def test_a_custom_layout_names_the_id_text_and_metadata_keys(qdrant: Qdrant, tmp_path: Path) -> None:
    make, url = qdrant.client, qdrant.url
    native = _unique("items")
    client = make()
    client.create_collection(native, vectors_config=m.VectorParams(size=DIM, distance=m.Distance.COSINE))
    points = [
        m.PointStruct(id=str(uuid.uuid4()), vector=_vector(i + 1), payload={"item_id": f"item-{i}", "body": t, **md})
        for i, (t, md) in enumerate(DOCS)
    ]
    client.upsert(native, points, wait=True)
    client.close()
    expected = {f"item-{i}": (t, md) for i, (t, md) in enumerate(DOCS)}
    with connect(url) as store:
        store.adopt("items", native=native, id="item_id", text="body")  # every other key is metadata
        records = _check_reads(store, "items", expected)
        for own in ("item_id", "body"):
            with pytest.raises(UnsupportedFilter, match="not metadata"):
                store.count("items", filter={own: "x"})
        store.adopt("picked", native=native, id="item_id", text="body", metadata_fields=("source", "page"))
        assert store.get("picked", ["item-0"])[0].metadata == {"source": "a", "page": 1}
        assert store.count("picked", filter={"page": 2}) == 2
        with pytest.raises(UnsupportedFilter, match="'source', 'page'"):
            store.count("picked", filter={"draft": True})
        _migrate_to_edge(store, "items", tmp_path, records)


@pytest.mark.parametrize(
    ("fields", "payload"),
    [
        ({"preset": "langchain"}, lambda r: {"page_content": r.text, "metadata": r.metadata}),
        ({"text": "body", "id": "key"}, lambda r: {"body": r.text, "key": r.id, **r.metadata}),
    ],
    ids=["metadata-object", "top-level"],
)
def test_the_conformance_filters_hold_on_adopted_layouts(
    qdrant: Qdrant, fields: dict[str, Any], payload: Callable[[Record], dict[str, Any]]
) -> None:
    """The conformance suite's filter cases, on data another tool wrote: nulls, empty lists, mixed
    types, ``1`` against ``True``, ``2`` against ``2.0``, unicode, nested $and/$or/$not."""
    data = filter_dataset()
    native, client = _unique("filters"), qdrant.client()
    client.create_collection(native, vectors_config=m.VectorParams(size=len(data[0].vector), distance=m.Distance.DOT))
    client.upsert(
        native,
        [m.PointStruct(id=i, vector=list(r.vector), payload=payload(r)) for i, r in enumerate(data)],
        wait=True,
    )
    client.close()
    with connect(qdrant.url) as store:
        store.adopt("data", native=native, **fields)
        records = _all(store, "data")
        assert {r.metadata.get("year") for r in records} == {r.metadata.get("year") for r in data}
        query = data[0].vector
        for flt in FILTER_CASES:
            wanted = [r for r in records if matches(flt, r.metadata)]
            assert store.count("data", filter=flt) == len(wanted), flt
            dots = {r.id: float(np.dot(r.vector, query)) for r in wanted}
            hits = store.query("data", query, k=10, filter=flt)
            assert [h.id for h in hits] == sorted(dots, key=lambda i: -dots[i])[:10], flt


def test_numbers_are_compared_as_qdrant_reads_them_back(qdrant: Qdrant) -> None:
    """Each number of the conformance suite, found by the value it reads back as; over REST a float
    a server may parse a few ulps off is refused instead (gRPC and local mode compare it exactly)."""
    native, client = _unique("numbers"), qdrant.client()
    client.create_collection(native, vectors_config=m.VectorParams(size=2, distance=m.Distance.COSINE))
    points = [
        m.PointStruct(id=i, vector=[1.0, float(i + 1)], payload={"page_content": None, "metadata": {"n": v}})
        for i, v in enumerate(EXACT_NUMBERS)
    ]
    client.upsert(native, points, wait=True)
    client.close()
    with connect(qdrant.url) as store:
        store.adopt("numbers", native=native, preset="langchain")
        exact = client_config_of(qdrant.url)
        read = [r.metadata["n"] for r in _all(store, "numbers")]
        for value in read:
            for flt in ({"n": value}, {"n": {"$gte": value}}, {"n": {"$lt": value}}):
                if not exact and not kept_exactly(float(value)):
                    with pytest.raises(UnsupportedFilter, match="grpc=true"):
                        store.count("numbers", filter=flt)
                    continue
                assert store.count("numbers", filter=flt) == sum(matches(flt, {"n": v}) for v in read), flt


def client_config_of(url: str) -> bool:
    """Whether vecbridge hands this Qdrant filter floats exactly (local mode, gRPC)."""
    from vecbridge.connectors.qdrant.urls import client_config

    config = client_config(url, {})
    return config.local or bool(config.kwargs.get("prefer_grpc"))


# ----- refusals ---------------------------------------------------------------------------------


@pytest.fixture
def langchain_store(tmp_path: Path) -> Iterator[Store]:
    """A local-mode store holding a LangChain-layout collection "lc" of DOCS, adopted as "docs"."""
    client = QdrantClient(path=str(tmp_path / "q"))
    client.create_collection("lc", vectors_config=m.VectorParams(size=DIM, distance=m.Distance.COSINE))
    client.upsert(
        "lc",
        [
            m.PointStruct(id=str(uuid.uuid4()), vector=_vector(i), payload={"page_content": t, "metadata": md})
            for i, (t, md) in enumerate(DOCS)
        ],
    )
    client.close()
    with connect(f"qdrant+local://{tmp_path / 'q'}") as store:
        store.adopt("docs", native="lc", preset="langchain")
        yield store


def test_an_adopted_collection_is_read_only_unless_adopted_writable(langchain_store: Store) -> None:
    store = langchain_store
    first = _all(store, "docs")[0]
    with pytest.raises(UnsupportedFeature, match="writable=True"):
        store.upsert("docs", [Record(str(uuid.uuid4()), _vector(9), "new")])
    with pytest.raises(UnsupportedFeature, match="writable=True"):
        store.delete("docs", [first.id])
    with pytest.raises(UnsupportedFeature, match="writable=True"):
        store.delete("docs", filter={"source": "a"})
    with pytest.raises(UnsupportedFeature, match="does not drop"):
        store.drop_collection("docs")
    assert store.count("docs") == len(DOCS) and store.get("docs", [first.id]) == [first]
    store.adopt("mine", native="lc", preset="langchain", writable=True)
    with pytest.raises(UnsupportedFeature, match="does not drop"):
        store.drop_collection("mine")


def test_a_writable_langchain_collection_is_written_in_its_layout(tmp_path: Path) -> None:
    from langchain_core.embeddings import DeterministicFakeEmbedding
    from langchain_qdrant import QdrantVectorStore

    client = QdrantClient(path=str(tmp_path / "q"))
    client.create_collection("lc", vectors_config=m.VectorParams(size=DIM, distance=m.Distance.COSINE))
    client.close()
    new_id, gone_id = str(uuid.uuid4()), str(uuid.uuid4())
    with connect(f"qdrant+local://{tmp_path / 'q'}") as store:
        store.adopt("docs", native="lc", preset="langchain", writable=True)
        with pytest.raises(InvalidInput, match="point id"):
            store.upsert("docs", [Record("doc-1", _vector(1), "x")])
        store.upsert(
            "docs",
            [Record(new_id, _vector(1), "kept", {"k": 1, "f": 0.1}), Record(gone_id, _vector(2), "gone", {"k": 2})],
        )
        store.delete("docs", filter={"k": 2})
        assert store.count("docs") == 1
    client = QdrantClient(path=str(tmp_path / "q"))
    lc = QdrantVectorStore(client=client, collection_name="lc", embedding=DeterministicFakeEmbedding(size=DIM))
    [doc] = lc.get_by_ids([new_id])  # LangChain adds the point id and collection as "_id", "_collection_name"
    assert (doc.page_content, doc.metadata) == ("kept", {"k": 1, "f": 0.1, "_id": new_id, "_collection_name": "lc"})
    client.close()


def test_a_writable_haystack_collection_overwrites_documents_by_their_id(tmp_path: Path) -> None:
    from haystack import Document
    from haystack_integrations.document_stores.qdrant import QdrantDocumentStore

    def haystack() -> QdrantDocumentStore:
        return QdrantDocumentStore(path=str(tmp_path / "q"), index="hs", embedding_dim=DIM)

    hs = haystack()
    hs.write_documents([Document(id="doc-1", content="old", meta={"v": 1}, embedding=_vector(1))])
    hs._client.close()
    with connect(f"qdrant+local://{tmp_path / 'q'}") as store:
        store.adopt("docs", native="hs", preset="haystack", writable=True)
        store.upsert("docs", [Record("doc-1", _vector(1), "new", {"v": 2}), Record("doc-2", _vector(2), "two")])
        assert store.count("docs") == 2  # doc-1 overwritten where Haystack put it, not duplicated
        store.delete("docs", ["doc-2"])
    hs = haystack()
    assert [(d.id, d.content, d.meta) for d in hs.filter_documents()] == [("doc-1", "new", {"v": 2})]
    hs.write_documents([Document(id="doc-3", content="three", embedding=_vector(3))])
    hs._client.close()
    with connect(f"qdrant+local://{tmp_path / 'q'}") as store:  # Haystack finds vecbridge's writes, and back
        store.adopt("docs", native="hs", preset="haystack", writable=True)
        store.upsert("docs", [Record("doc-3", _vector(3), "three again")])
        assert {r.id: r.text for r in _all(store, "docs")} == {"doc-1": "new", "doc-3": "three again"}


def test_a_writable_custom_layout_keeps_point_ids_and_refuses_what_it_cannot_hold(
    qdrant: Qdrant,
) -> None:
    make, url = qdrant.client, qdrant.url
    native = _unique("items")
    client = make()
    client.create_collection(native, vectors_config=m.VectorParams(size=DIM, distance=m.Distance.COSINE))
    first, twin_a, twin_b = (str(uuid.uuid4()) for _ in range(3))
    client.upsert(
        native,
        [
            m.PointStruct(id=first, vector=_vector(1), payload={"item_id": "item-1", "body": "old", "n": 1}),
            m.PointStruct(id=twin_a, vector=_vector(2), payload={"item_id": "twin", "body": "a"}),
            m.PointStruct(id=twin_b, vector=_vector(3), payload={"item_id": "twin", "body": "b"}),
        ],
        wait=True,
    )
    client.close()  # local mode: one client per folder
    with connect(url) as store:
        store.adopt("items", native=native, id="item_id", text="body", writable=True)
        for bad, message in (
            (Record("x", _vector(1), "t", {"body": "clash"}), "no place for the metadata key 'body'"),
            (Record("x", _vector(1), "t", {"item_id": "clash"}), "no place for the metadata key 'item_id'"),
        ):
            with pytest.raises(InvalidInput, match=message):
                store.upsert("items", [bad])
        store.upsert("items", [Record("item-1", _vector(4), "new", {"n": 2}), Record("item-2", _vector(5), "two")])
        with pytest.raises(UpsertFailed) as failed:
            store.upsert("items", [Record("twin", _vector(6), "c")])
        assert failed.value.failed_ids == ["twin"] and failed.value.written_ids == []
        assert store.count("items") == 4
    client = make()
    point = client.retrieve(native, [first])[0]  # overwritten in place
    assert point.payload == {"item_id": "item-1", "body": "new", "n": 2}
    client.close()


def test_what_another_tools_layout_cannot_hold_exactly_is_refused_before_writing() -> None:
    layout = layout_of(Adoption(preset="langchain", writable=True))
    record = Record(str(uuid.uuid4()), _vector(1), "t", {"x": [{"y": 0.1 + 0.2}]})
    assert layout.problems(record, floats_kept=True) == []
    [problem] = layout.problems(record, floats_kept=False)  # a server may move the float, no room for its key
    assert "0.30000000000000004" in problem
    assert "no text" in layout.problems(Record(record.id, _vector(1), None), floats_kept=True)[0]
    text_only = layout_of(Adoption(metadata="meta", writable=True))
    assert "no text key" in text_only.problems(record, floats_kept=True)[0]
    picked = layout_of(Adoption(text="t", metadata_fields=("a",), writable=True))
    assert picked.problems(Record("1", _vector(1), None, {"a": 1, "b": 2}), floats_kept=True) == [
        "record '1': the layout given has no place for the metadata key 'b'"
    ]


def test_collections_vecbridge_cannot_write_faithfully_are_not_adopted_writable(tmp_path: Path) -> None:
    client = QdrantClient(path=str(tmp_path / "q"))
    _named_vectors(client, "named")
    client.close()
    with connect(f"qdrant+local://{tmp_path / 'q'}") as store:
        with pytest.raises(UnsupportedFeature, match="several named vectors"):
            store.adopt("docs", native="named", preset="langchain", vector="big", writable=True)
        with pytest.raises(UnsupportedFeature, match="LlamaIndex"):
            store.adopt("docs", native="named", preset="llamaindex", vector="big", writable=True)


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"preset": "haystack"}, InvalidInput, "payload key 'content'"),
        ({"text": "page_contents", "metadata": "metadata"}, InvalidInput, "payload key 'page_contents'"),
        ({"text": "metadata"}, InvalidInput, "keeps a dict under 'metadata'"),
        ({"preset": "langchain-pgvectorstore"}, InvalidInput, "not a Qdrant layout"),
        ({"preset": "langchain", "group": "g"}, InvalidInput, "group="),
        ({"preset": "llamaindex", "text": "t"}, InvalidInput, "takes no text="),
        ({}, InvalidInput, "needs a preset"),
        ({"preset": "nope"}, InvalidInput, "unknown preset"),
        ({"preset": "langchain", "vector": "named"}, InvalidInput, "one unnamed vector"),
        ({"preset": "langchain", "native": "missing"}, CollectionNotFound, "no collection 'missing'"),
    ],
)
def test_a_layout_the_collection_does_not_have_is_refused(
    langchain_store: Store, fields: dict[str, Any], error: type[Exception], message: str
) -> None:
    fields = {"native": "lc", **fields}
    with pytest.raises(error, match=message):
        langchain_store.adopt("other", **fields)
    with pytest.raises(CollectionNotFound):
        langchain_store.count("other")


def test_filters_an_adopted_collection_cannot_answer_exactly_are_refused(langchain_store: Store) -> None:
    with pytest.raises(UnsupportedFilter, match="date ranges"):
        langchain_store.count("docs", filter={"day": {"$gte": "2024-01-01"}})
    with pytest.raises(UnsupportedFilter, match="double quote"):
        langchain_store.count("docs", filter={'a"b': 1})
    # Over REST a server parses a filter's floats like payloads: one it may move is refused there.
    layout = layout_of(Adoption(preset="langchain"))
    rest = AdoptedFilterCompiler(client_dialect(), layout.path, exact_floats=False)
    grpc = AdoptedFilterCompiler(client_dialect(), layout.path, exact_floats=True)
    moved = parse_filter({"score": {"$gt": 0.1 + 0.2}})
    with pytest.raises(UnsupportedFilter, match="grpc=true"):
        rest.root(moved)
    assert grpc.root(moved) is not None and rest.root(parse_filter({"score": {"$gt": 0.3}})) is not None


async def test_the_async_store_adopts_and_reads_too(tmp_path: Path) -> None:
    client = QdrantClient(path=str(tmp_path / "q"))
    client.create_collection("lc", vectors_config=m.VectorParams(size=DIM, distance=m.Distance.COSINE))
    client.upsert(
        "lc",
        [
            m.PointStruct(id=i, vector=_vector(i), payload={"page_content": t, "metadata": md})
            for i, (t, md) in enumerate(DOCS)
        ],
    )
    client.close()
    store = connect_async(f"qdrant+local://{tmp_path / 'q'}")
    try:
        await store.adopt("docs", native="lc", preset="langchain")
        assert await store.count("docs", filter={"source": "a"}) == 2
        hits = await store.query("docs", _vector(1), k=1, filter={"draft": {"$ne": True}})
        assert hits[0].id == "1" and hits[0].text == DOCS[1][0]
        assert [r.id for r in await store.get("docs", ["4", "9"])] == ["4"]
    finally:
        await store.close()


# ----- a foreign collection opened without adopt -------------------------------------------------


def test_a_foreign_collection_is_refused_until_adopted_and_listed_by_the_cli(qdrant: Qdrant) -> None:
    """Read through vecbridge's own layout, a LangChain collection would answer ``{"draft": True}``
    with nothing: refused, pointing at adopt; the CLI lists it as made by another tool."""
    import json

    from typer.testing import CliRunner

    from vecbridge.cli.app import app

    native = _unique("foreign")
    client = qdrant.client()
    client.create_collection(native, vectors_config=m.VectorParams(size=DIM, distance=m.Distance.COSINE))
    payload = {"page_content": "draft text", "metadata": {"draft": True}}
    client.upsert(native, [m.PointStruct(id=str(uuid.uuid4()), vector=_vector(1), payload=payload)])
    client.close()
    with connect(qdrant.url) as store:
        with pytest.raises(UnsupportedFeature, match="adopt"):
            store.count(native, filter={"draft": True})
        store.adopt("drafts", native=native, preset="langchain")
        assert store.count("drafts", filter={"draft": True}) == 1
    result = CliRunner().invoke(app, ["collections", "--store", qdrant.url, "--json"])
    assert result.exit_code == 0, result.output
    listed = {row["name"]: row for row in json.loads(result.output)}
    assert listed[native]["foreign"] is True and "adopt" in listed[native]["note"]
