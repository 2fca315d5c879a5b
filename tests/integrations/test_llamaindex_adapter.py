"""``VecbridgeVectorStore`` and ``VecbridgeEmbedding``: construction, refusals, node classes,
collection checks and the ways of opening the store (on the in-memory store; the behaviours every
backend owes are in ``test_llamaindex_store.py``)."""

from __future__ import annotations

import doctest
import importlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

pytest.importorskip("llama_index.core")

from llama_index.core import MockEmbedding
from llama_index.core.schema import (
    Document,
    ImageDocument,
    ImageNode,
    IndexNode,
    MediaResource,
    Node,
    NodeRelationship,
    RelatedNodeInfo,
    TextNode,
)
from llama_index.core.vector_stores.types import (
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)

from tests.emulators.gemini.fixtures import emulator_fixture, make_embedder  # noqa: F401
from tests.emulators.gemini.server import GeminiEmulator
from vecbridge.core import (
    CollectionSpec,
    DimensionMismatch,
    EmbedderMismatch,
    InvalidInput,
    MetricMismatch,
    Record,
    StoreError,
    UnsupportedFeature,
    UnsupportedFilter,
    connect,
    connect_async,
    load_embedder,
)
from vecbridge.core.store import Store
from vecbridge.integrations.llamaindex import VecbridgeEmbedding, VecbridgeVectorStore


@pytest.fixture
def store() -> Iterator[Store]:
    s = connect("memory://")
    yield s
    s.close()


def node(node_id: str, vector: list[float], **fields: Any) -> TextNode:
    return TextNode(id_=node_id, text=f"text of {node_id}", embedding=vector, **fields)


@pytest.mark.parametrize("name", ["vector_store", "embedding"])
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"vecbridge.integrations.llamaindex.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_construction_checks_its_arguments(store: Store) -> None:
    with pytest.raises(InvalidInput, match="collection name"):
        VecbridgeVectorStore(store, "bad name")
    with pytest.raises(InvalidInput, match="hybrid"):
        VecbridgeVectorStore(store, "c", hybrid="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="batch_size"):
        VecbridgeVectorStore(store, "c", batch_size=0)
    with pytest.raises(InvalidInput, match="metric"):
        VecbridgeVectorStore(store, "c", metric="manhattan")
    with pytest.raises(InvalidInput, match="store URL"):
        VecbridgeVectorStore(object(), "c")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="fingerprint"):  # a foreign model cannot be recorded
        VecbridgeVectorStore(store, "c", embed_model=MockEmbedding(embed_dim=2))  # type: ignore[arg-type]
    vs = VecbridgeVectorStore(store, "c", embed_model=load_embedder("hashing", dimension=8))
    assert isinstance(vs.embed_model, VecbridgeEmbedding) and vs.embed_model.embedder.dimension == 8
    assert vs.client is store and "c" in repr(vs)
    with pytest.raises(TypeError, match="unexpected"):
        vs.add([node("a", [1.0, 0.0])], colour="red")
    with pytest.raises(TypeError, match="unexpected"):
        vs.delete("doc", colour="red")


def test_serialised_form_has_no_store_url_or_password() -> None:
    vs = VecbridgeVectorStore("memory://s3cret-named-space", "c")
    dumped = json.dumps(vs.to_dict())
    assert "s3cret" not in dumped and "s3cret" not in repr(vs.model_dump())
    assert vs.to_dict()["collection_name"] == "c"
    vs.close()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (TextNode(id_="x", text="no vector"), "no embedding"),
        (node("x", [1.0, 0.0], metadata={"doc_id": "mine"}), "reserved"),
        (node("x", [1.0, 0.0], metadata={"_node_content": "{}"}), "reserved"),
        (node("x", [1.0, 0.0], metadata={"when": datetime(2024, 1, 1)}), "isoformat"),
        (node("x", [1.0, 0.0], metadata={"n": 2**60}), "2\\*\\*53"),
        (node("x", [float("nan"), 0.0]), "NaN"),
        (node("x", [1.0, 0.0, 0.0]), "dimensions"),
    ],
    ids=["no-embedding", "doc_id", "node_content", "datetime", "huge-int", "nan", "dimension"],
)
def test_bad_nodes_write_nothing(store: Store, bad: TextNode, message: str) -> None:
    vs = VecbridgeVectorStore(store, "c")
    vs.add([node("first", [0.0, 1.0])])
    with pytest.raises(InvalidInput, match=message):
        vs.add([node("good", [1.0, 0.0]), bad])
    assert [n.node_id for n in vs.get_nodes()] == ["first"]


def test_node_classes_round_trip(store: Store) -> None:
    class Custom(TextNode):
        pass

    vs = VecbridgeVectorStore(store, "c")
    nodes = [
        Document(doc_id="d", text="a whole document", metadata={"k": 1}, embedding=[1.0, 0.0]),
        IndexNode(id_="i", text="points elsewhere", index_id="other-index", embedding=[0.0, 1.0]),
        ImageNode(id_="img", text="caption", image="aGVsbG8=", embedding=[1.0, 1.0]),
        ImageDocument(id_="imgdoc", text="scan", image="aGVsbG8=", embedding=[1.0, -1.0]),
        Node(id_="n", text_resource=MediaResource(text="multimodal node"), embedding=[-1.0, 1.0]),
    ]
    vs.add(nodes)
    got = {n.node_id: n for n in vs.get_nodes()}
    for want in nodes:
        have = got[want.node_id]
        assert type(have) is type(want)
        assert have.model_dump(exclude={"embedding"}) == want.model_dump(exclude={"embedding"})
    with pytest.raises(InvalidInput, match="could not be rebuilt"):
        vs.add([Custom(id_="c", text="x", embedding=[1.0, 0.0])])


def test_records_written_by_vecbridge_read_as_text_nodes(store: Store) -> None:
    store.create_collection(CollectionSpec("plain", 2))
    store.upsert("plain", [Record("r", [1.0, 0.0], "plain text", {"lang": "en"}), Record("bare", [0.0, 1.0])])
    vs = VecbridgeVectorStore(store, "plain")
    result = vs.query(VectorStoreQuery(query_embedding=[1.0, 0.0], similarity_top_k=2))
    assert result.nodes is not None
    assert [(type(n), n.node_id, n.get_content(), n.metadata) for n in result.nodes] == [
        (TextNode, "r", "plain text", {"lang": "en"}),
        (TextNode, "bare", "", {}),
    ]


def test_a_damaged_node_is_reported(store: Store) -> None:
    vs = VecbridgeVectorStore(store, "c")
    vs.add([node("a", [1.0, 0.0])])
    [record] = store.get("c", ["a"])
    store.upsert("c", [Record("a", record.vector, record.text, {**record.metadata, "_node_content": "{not json"})])
    with pytest.raises(StoreError, match=r"record 'a' holds a damaged"):
        vs.get_nodes(["a"])


def test_existing_collection_is_checked(store: Store) -> None:
    VecbridgeVectorStore(store, "c").add([node("a", [1.0, 0.0])])
    with pytest.raises(DimensionMismatch):
        VecbridgeVectorStore(store, "c").add([node("b", [1.0, 0.0, 0.0])])
    with pytest.raises(MetricMismatch):
        VecbridgeVectorStore(store, "c", metric="dot").add([node("b", [1.0, 0.0])])
    with pytest.raises(UnsupportedFeature, match="keyword index"):
        VecbridgeVectorStore(store, "c", hybrid=True).add([node("b", [1.0, 0.0])])
    euclid = VecbridgeVectorStore(store, "e", metric="euclidean")
    euclid.add([node("a", [1.0, 0.0])])
    assert store.describe_collection("e").metric.value == "euclidean"
    assert euclid.query(VectorStoreQuery(query_embedding=[1.0, 0.0])).similarities == pytest.approx([0.0], abs=1e-6)


def test_the_embedder_fingerprint_is_recorded_and_checked(store: Store) -> None:
    embed = VecbridgeEmbedding("hashing", dimension=4)
    vs = VecbridgeVectorStore(store, "c", embed_model=embed)
    vs.add([node("a", embed.get_text_embedding("text of a"))])
    assert store.describe_collection("c").embedder == embed.fingerprint
    other = VecbridgeEmbedding("hashing", dimension=4, ngram_min=2)
    with pytest.raises(EmbedderMismatch):
        VecbridgeVectorStore(store, "c", embed_model=other).add([node("b", other.get_text_embedding("x"))])
    assert [n.node_id for n in vs.get_nodes()] == ["a"]


def test_queries_this_store_cannot_answer_are_refused(store: Store) -> None:
    vs = VecbridgeVectorStore(store, "c")
    vs.add([node("a", [1.0, 0.0])])
    for mode in (VectorStoreQueryMode.MMR, VectorStoreQueryMode.SPARSE, VectorStoreQueryMode.SVM):
        with pytest.raises(UnsupportedFeature, match="query mode"):
            vs.query(VectorStoreQuery(query_embedding=[1.0, 0.0], mode=mode))
    unused: dict[str, Any] = {"sparse_top_k": 5, "hybrid_top_k": 5, "mmr_threshold": 0.5, "output_fields": ["x"]}
    for field, value in unused.items():
        with pytest.raises(UnsupportedFeature, match=field):
            vs.query(VectorStoreQuery(query_embedding=[1.0, 0.0], **{field: value}))
    with pytest.raises(InvalidInput, match="search option"):  # per-call options are the store's own
        vs.query(VectorStoreQuery(query_embedding=[1.0, 0.0]), ef_search=10)
    with pytest.raises(InvalidInput, match="query vector"):
        vs.query(VectorStoreQuery(query_str="no embedding"))
    with pytest.raises(InvalidInput, match="alpha"):
        vs.query(VectorStoreQuery(query_embedding=[1.0, 0.0], alpha=0.5))
    with pytest.raises(UnsupportedFilter):
        vs.query(VectorStoreQuery(query_embedding=[1.0, 0.0], node_ids=["a"]))
    assert vs.query(VectorStoreQuery(query_embedding=[1.0, 0.0], node_ids=[])).ids == ["a"]  # as_retriever's []


def test_deletes_refuse_what_would_delete_everything(store: Store) -> None:
    vs = VecbridgeVectorStore(store, "c")
    vs.add([node("a", [1.0, 0.0])])
    with pytest.raises(InvalidInput, match="clear"):
        vs.delete_nodes()
    with pytest.raises(InvalidInput, match="clear"):
        vs.delete_nodes(filters=MetadataFilters(filters=[]))
    with pytest.raises(InvalidInput, match="ref_doc_id"):
        vs.delete("")
    vs.delete_nodes([])  # no ids: nothing to delete
    assert len(vs.get_nodes()) == 1


def test_a_vecbridge_filter_can_be_added(store: Store) -> None:
    vs = VecbridgeVectorStore(store, "c")
    vs.add(
        [
            node("old", [1.0, 0.0], metadata={"date": "2023-12-31T23:30:00-01:00", "kind": "a"}),  # 2024 in UTC
            node("new", [1.0, 0.1], metadata={"date": "2024-06-01", "kind": "b"}),
            node("older", [1.0, 0.2], metadata={"date": "2023-06-01", "kind": "a"}),
        ]
    )
    query = VectorStoreQuery(query_embedding=[1.0, 0.0], similarity_top_k=3)
    since = {"date": {"$gte": "2024-01-01T00:00:00Z"}}  # dates compare as instants in vecbridge
    assert vs.query(query, vecbridge_filter=since).ids == ["old", "new"]
    kind_a = MetadataFilters(filters=[MetadataFilter(key="kind", value="a")])
    query.filters = kind_a
    assert vs.query(query, vecbridge_filter=since).ids == ["old"]  # ANDed with the filters
    with pytest.raises(UnsupportedFilter, match="as text"):
        query.filters = MetadataFilters(filters=[MetadataFilter(key="date", operator=FilterOperator.GTE, value="2024")])
        vs.query(query)


async def test_an_async_store_serves_the_async_methods() -> None:
    astore = connect_async("memory://")
    vs = VecbridgeVectorStore(astore, "c")
    assert vs.client is astore
    source = {NodeRelationship.SOURCE: RelatedNodeInfo(node_id="d")}
    assert await vs.async_add([node("a", [1.0, 0.0], relationships=source)]) == ["a"]
    assert (await vs.aquery(VectorStoreQuery(query_embedding=[1.0, 0.0]))).ids == ["a"]
    with pytest.raises(UnsupportedFeature, match="async methods"):
        vs.query(VectorStoreQuery(query_embedding=[1.0, 0.0]))
    await vs.adelete("d")
    assert await vs.aget_nodes() == []
    await vs.aclose()
    await astore.close()


async def test_a_url_serves_both_faces_over_one_store() -> None:
    vs = VecbridgeVectorStore("memory://", "c")  # private in-memory data: one driver must serve both
    vs.add([node("a", [1.0, 0.0])])
    assert (await vs.aquery(VectorStoreQuery(query_embedding=[1.0, 0.0]))).ids == ["a"]
    await vs.async_add([node("b", [0.0, 1.0])])
    assert sorted(n.node_id for n in vs.get_nodes()) == ["a", "b"]
    await vs.aclose()
    vs.close()  # closing again is harmless
    with pytest.raises(StoreError, match="closed"):
        vs.get_nodes()


def test_embedding_uses_the_document_and_query_tasks(emulator: GeminiEmulator) -> None:
    embed = VecbridgeEmbedding(make_embedder(emulator, dimension=128))
    assert embed.model_name.startswith("gemini:")
    vectors = embed.get_text_embedding_batch(["first", "second"])
    query = embed.get_query_embedding("question")
    assert len(vectors) == 2 and len(query) == 128
    calls = emulator.embed_calls()
    assert [c.task_types for c in calls] == [["RETRIEVAL_DOCUMENT", "RETRIEVAL_DOCUMENT"], ["RETRIEVAL_QUERY"]]
    assert [c.texts for c in calls] == [["first", "second"], ["question"]]


async def test_embedding_async_paths_match_the_sync_ones() -> None:
    embed = VecbridgeEmbedding("hashing", dimension=16)
    assert await embed.aget_query_embedding("q") == embed.get_query_embedding("q")
    assert await embed.aget_text_embedding_batch(["a", "b"]) == embed.get_text_embedding_batch(["a", "b"])
    with pytest.raises(InvalidInput, match="only apply"):
        VecbridgeEmbedding(load_embedder("hashing"), dimension=3)
    with pytest.raises(InvalidInput, match="Embedder or its name"):
        VecbridgeEmbedding(42)  # type: ignore[arg-type]
