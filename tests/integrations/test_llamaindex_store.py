"""``VecbridgeVectorStore`` on every backend.

llama-index-core ships no reusable vector-store suite (its own tests are not in the wheel), so the
behaviours of its reference store's tests (``tests/vector_stores/test_simple.py`` upstream:
ordering, top-k, every filter operator and condition, delete by document, delete_nodes, clear)
are restated here against the adapter, plus what a store that keeps the text owes LlamaIndex:
nodes that round-trip, the async twins, hybrid and keyword queries, and a ``VectorStoreIndex``
built from documents and queried through its retrievers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

pytest.importorskip("llama_index.core")

from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.schema import BaseNode, NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)

from vecbridge.core.driver import SearchMode
from vecbridge.core.errors import UnsupportedFeature, UnsupportedFilter
from vecbridge.core.store import Store
from vecbridge.integrations.llamaindex import VecbridgeEmbedding, VecbridgeVectorStore
from vecbridge.testing import Backend

Op = FilterOperator
A, B, C = "node-a", "node-b", "node-c"  # weight 1 rank a, weight 2 rank c, weight 3 rank c


def three_nodes() -> list[TextNode]:
    """The reference store's test data: three nodes of three documents, 2-d embeddings."""
    rows = [
        (A, [1.0, 0.0], "doc-0", {"weight": 1.0, "rank": "a", "quality": ["medium", "high"], "code": "6FTR78Yun"}),
        (B, [0.0, 1.0], "doc-1", {"weight": 2.0, "rank": "c", "quality": ["medium"], "code": "6FTR78Ygl"}),
        (C, [1.0, 1.0], "doc-2", {"weight": 3.0, "rank": "c", "quality": ["low", "medium", "high"], "code": "x"}),
    ]
    return [
        TextNode(
            id_=node_id,
            text="lorem ipsum",
            embedding=vector,
            metadata=metadata,
            relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc)},
        )
        for node_id, vector, doc, metadata in rows
    ]


def only(
    *filters: MetadataFilter | MetadataFilters, condition: FilterCondition = FilterCondition.AND
) -> MetadataFilters:
    return MetadataFilters(filters=list(filters), condition=condition)


def leaf(key: str, op: FilterOperator, value: Any) -> MetadataFilter:
    return MetadataFilter(key=key, operator=op, value=value)


def ids(vs: VecbridgeVectorStore, filters: MetadataFilters | None = None, k: int = 3) -> list[str]:
    result = vs.query(VectorStoreQuery(query_embedding=[1.0, 1.0], similarity_top_k=k, filters=filters))
    assert result.ids is not None and result.nodes is not None and result.similarities is not None
    assert [n.node_id for n in result.nodes] == result.ids and len(result.similarities) == len(result.ids)
    assert result.similarities == sorted(result.similarities, reverse=True)
    return result.ids


@pytest.fixture
def vs(vb_store: Store, collection_name: str) -> Iterator[VecbridgeVectorStore]:
    store = VecbridgeVectorStore(vb_store, collection_name)
    yield store
    store.close()  # a store passed in stays open: the fixture closes it


@pytest.fixture
def loaded(vs: VecbridgeVectorStore) -> VecbridgeVectorStore:
    assert vs.add(three_nodes()) == [A, B, C]
    return vs


class TestReferenceBehaviour:
    """The behaviours ``SimpleVectorStore``'s tests pin down, on each backend."""

    def test_without_filters_all_rows_best_first(self, loaded: VecbridgeVectorStore) -> None:
        got = ids(loaded)
        assert sorted(got) == [A, B, C] and got[0] == C

    def test_filter_returns_matches_in_order_and_applies_top_k(self, loaded: VecbridgeVectorStore) -> None:
        rank_c = only(leaf("rank", Op.EQ, "c"))
        assert ids(loaded, rank_c) == [C, B]
        assert ids(loaded, rank_c, k=1) == [C]

    def test_exact_contradictory_and_unknown_filters(self, loaded: VecbridgeVectorStore) -> None:
        assert ids(loaded, only(leaf("rank", Op.EQ, "c"), leaf("weight", Op.EQ, 2.0))) == [B]
        assert ids(loaded, only(leaf("weight", Op.EQ, 2), leaf("weight", Op.EQ, 3))) == []
        assert ids(loaded, only(leaf("unknown_field", Op.EQ, "c"))) == []

    def test_conditions(self, loaded: VecbridgeVectorStore) -> None:
        pair = (leaf("rank", Op.EQ, "c"), leaf("weight", Op.EQ, 1.0))
        assert sorted(ids(loaded, only(*pair, condition=FilterCondition.OR))) == [A, B, C]
        assert ids(loaded, only(*pair, condition=FilterCondition.AND)) == []
        assert ids(loaded, only(leaf("rank", Op.EQ, "a"), condition=FilterCondition.NOT)) == [C, B]
        nested = only(
            leaf("weight", Op.GT, 2.5), only(*pair, condition=FilterCondition.AND), condition=FilterCondition.OR
        )
        assert ids(loaded, nested) == [C]

    @pytest.mark.parametrize(
        ("flt", "expected"),
        [
            (leaf("weight", Op.EQ, 1.0), [A]),
            (leaf("weight", Op.NE, 1.0), [C, B]),
            (leaf("weight", Op.GT, 1.5), [C, B]),
            (leaf("weight", Op.GTE, 1.0), [C, A, B]),
            (leaf("weight", Op.LT, 1.1), [A]),
            (leaf("weight", Op.LTE, 1.0), [A]),
            (leaf("rank", Op.IN, ["a", "c"]), [C, A, B]),
            (leaf("rank", Op.NIN, ["c"]), [A]),
            (leaf("quality", Op.CONTAINS, "high"), [C, A]),
            (leaf("quality", Op.ANY, ["high", "low"]), [C, A]),
            (leaf("quality", Op.ALL, ["medium", "high"]), [C, A]),
            (leaf("not_existed_key", Op.IS_EMPTY, None), [C, A, B]),
            (leaf("rank", Op.IN, []), []),
        ],
        ids=lambda x: x.operator.name if isinstance(x, MetadataFilter) else None,
    )
    def test_operator(self, loaded: VecbridgeVectorStore, flt: MetadataFilter, expected: list[str]) -> None:
        got = ids(loaded, only(flt))
        assert sorted(got) == sorted(expected) and got[:1] == expected[:1]  # A and B tie on [1, 1]

    def test_text_match_and_node_ids_are_refused(self, loaded: VecbridgeVectorStore) -> None:
        with pytest.raises(UnsupportedFilter, match="substring"):
            ids(loaded, only(leaf("code", Op.TEXT_MATCH, "6FTR78Y")))
        with pytest.raises(UnsupportedFilter, match="record ids"):
            loaded.query(VectorStoreQuery(query_embedding=[1.0, 1.0], node_ids=[C]))

    def test_delete_by_document(self, loaded: VecbridgeVectorStore) -> None:
        loaded.delete("doc-1")
        assert ids(loaded, k=2) == [C, A]

    def test_delete_nodes(self, loaded: VecbridgeVectorStore) -> None:
        loaded.delete_nodes([A, B])
        assert ids(loaded) == [C]

    def test_delete_nodes_by_filters_and_by_both(self, loaded: VecbridgeVectorStore) -> None:
        loaded.delete_nodes([A, B], filters=only(leaf("rank", Op.EQ, "c")))  # only B matches
        assert sorted(ids(loaded)) == [A, C]
        loaded.delete_nodes(filters=only(leaf("weight", Op.GT, 2)))
        assert ids(loaded) == [A]

    def test_clear_keeps_the_collection(self, loaded: VecbridgeVectorStore, vb_store: Store) -> None:
        loaded.clear()
        assert ids(loaded) == []
        assert vb_store.describe_collection(loaded.collection_name).dimension == 2
        assert loaded.add(three_nodes()[:1]) == [A]

    def test_query_by_document_ids(self, loaded: VecbridgeVectorStore) -> None:
        query = VectorStoreQuery(query_embedding=[1.0, 1.0], similarity_top_k=3, doc_ids=["doc-0", "doc-1"])
        assert sorted(loaded.query(query).ids or []) == [A, B]
        assert loaded.query(VectorStoreQuery(query_embedding=[1.0, 1.0], doc_ids=[])).ids == []

    def test_get_nodes(self, loaded: VecbridgeVectorStore) -> None:
        assert [n.node_id for n in loaded.get_nodes([C, "nope", A])] == [C, A]
        rank_c = only(leaf("rank", Op.EQ, "c"))
        assert sorted(n.node_id for n in loaded.get_nodes(filters=rank_c)) == [B, C]
        assert [n.node_id for n in loaded.get_nodes([A, B], filters=rank_c)] == [B]
        assert sorted(n.node_id for n in loaded.get_nodes()) == [A, B, C]

    def test_before_the_first_add_everything_is_empty(self, vs: VecbridgeVectorStore, vb_store: Store) -> None:
        assert ids(vs) == []
        assert vs.get_nodes() == []
        vs.delete("doc-0")
        vs.delete_nodes([A])
        vs.clear()
        assert not vb_store.has_collection(vs.collection_name)


def stored_metadata(backend: Backend) -> dict[str, Any]:
    """Metadata of every JSON kind the backend keeps (see the conformance ``Backend`` flags)."""
    metadata: dict[str, Any] = {"n": 7, "x": 0.5, "big": 2**53 - 1, "s": "é ✓", "yes": True, "tags": ["a", "b"]}
    if backend.nested_metadata:
        metadata.update({"nested": {"k": [1, 2.5]}, "numbers": [1, 2]})
    if backend.keeps_null_metadata:
        metadata["nothing"] = None
    return metadata


def rich_node(backend: Backend) -> TextNode:
    return TextNode(
        id_="rich",
        text="Ångström  spacing\nand lines ",
        embedding=[0.5, -0.5, 0.5, 0.5],  # unit length: cosine stores may keep only the direction
        metadata=stored_metadata(backend),
        relationships={
            NodeRelationship.SOURCE: RelatedNodeInfo(node_id="doc-9", metadata={"page": 3}),
            NodeRelationship.PREVIOUS: RelatedNodeInfo(node_id="before"),
        },
        excluded_embed_metadata_keys=["n"],
        excluded_llm_metadata_keys=["tags"],
        start_char_idx=10,
        end_char_idx=36,
        text_template="{metadata_str}::{content}",
    )


def same_node(got: BaseNode, want: BaseNode, tolerance: float) -> None:
    """Equal in every field; the embedding within the store's float32 (or halfvec) precision."""
    assert got.model_dump(exclude={"embedding"}) == want.model_dump(exclude={"embedding"})
    if want.embedding is None:
        assert got.embedding is None
    else:
        assert got.embedding == pytest.approx(want.embedding, abs=max(tolerance, 1e-6))


class TestRoundTrip:
    def test_node_round_trips(self, vs: VecbridgeVectorStore, backend: Backend) -> None:
        node = rich_node(backend)
        blank = TextNode(id_="blank", text="   ", embedding=[0.0, 1.0, 0.0, 0.0], metadata={"k": "v"})
        vs.add([node, blank])
        for want in (node, blank):
            [got] = vs.get_nodes([want.node_id])
            same_node(got, want, backend.tolerance)
        assert vs.get_nodes(["rich"])[0].ref_doc_id == "doc-9"
        result = vs.query(VectorStoreQuery(query_embedding=node.embedding, similarity_top_k=1))
        assert result.nodes is not None
        same_node(result.nodes[0], node.model_copy(update={"embedding": None}), backend.tolerance)

    def test_re_adding_overwrites(self, loaded: VecbridgeVectorStore) -> None:
        changed = three_nodes()[0].model_copy(update={"text": "changed", "metadata": {"rank": "z"}})
        loaded.add([changed])
        [node] = loaded.get_nodes([A])
        assert (node.get_content(), node.metadata) == ("changed", {"rank": "z"})
        assert ids(loaded, only(leaf("rank", Op.EQ, "z"))) == [A]


class TestAsync:
    @pytest.fixture
    async def avs(self, vb_store: Store, collection_name: str) -> AsyncIterator[VecbridgeVectorStore]:
        store = VecbridgeVectorStore(vb_store, collection_name)
        yield store
        await store.aclose()

    async def test_async_twins(self, avs: VecbridgeVectorStore) -> None:
        assert await avs.async_add(three_nodes()) == [A, B, C]
        query = VectorStoreQuery(query_embedding=[1.0, 1.0], similarity_top_k=3, filters=only(leaf("rank", Op.EQ, "c")))
        assert (await avs.aquery(query)).ids == [C, B]
        assert [n.node_id for n in await avs.aget_nodes([B])] == [B]
        await avs.adelete("doc-1")
        await avs.adelete_nodes(filters=only(leaf("weight", Op.EQ, 3.0)))
        assert [n.node_id for n in await avs.aget_nodes()] == [A]
        await avs.aclear()
        assert (await avs.aquery(query)).ids == []
        assert avs.query(VectorStoreQuery(query_embedding=[1.0, 0.0])).ids == []  # the sync face sees the same


WORDS = [
    ("fruit", "Bananas are yellow and rich in potassium."),
    ("db", "Qdrant is a vector database written in Rust."),
    ("fruit", "Apples grow red or green in orchards."),
    ("db", "PostgreSQL stores vectors with the pgvector extension."),
]


def keyword_nodes() -> list[TextNode]:
    # Embeddings that rank the nodes in reverse: only a keyword search finds the right one first.
    return [
        TextNode(id_=f"w{i}", text=text, metadata={"topic": topic}, embedding=[float(i + 1), 1.0])
        for i, (topic, text) in enumerate(WORDS)
    ]


class TestHybrid:
    def test_keyword_and_hybrid_queries(self, vb_store: Store, collection_name: str) -> None:
        vs = VecbridgeVectorStore(vb_store, collection_name, hybrid=True)
        if SearchMode.KEYWORD not in vb_store.capabilities.search_modes:
            with pytest.raises(UnsupportedFeature, match="keyword index"):
                vs.add(keyword_nodes())
            return
        vs.add(keyword_nodes())

        def run(mode: VectorStoreQueryMode, **extra: Any) -> list[str]:
            query = VectorStoreQuery(query_embedding=[4.0, 1.0], query_str="potassium", mode=mode, **extra)
            return vs.query(query).ids or []

        assert run(VectorStoreQueryMode.TEXT_SEARCH, similarity_top_k=4) == ["w0"]  # only it has the word
        assert run(VectorStoreQueryMode.DEFAULT)[0] == "w3"
        assert run(VectorStoreQueryMode.HYBRID, alpha=0.0, similarity_top_k=1) == ["w0"]
        assert run(VectorStoreQueryMode.HYBRID, alpha=1.0, hybrid_top_k=1) == ["w3"]
        fruit = only(leaf("topic", Op.EQ, "db"))
        assert run(VectorStoreQueryMode.TEXT_SEARCH, filters=fruit) == []

    def test_hybrid_needs_a_hybrid_collection(self, loaded: VecbridgeVectorStore) -> None:
        query = VectorStoreQuery(query_embedding=[1.0, 1.0], query_str="lorem", mode=VectorStoreQueryMode.HYBRID)
        with pytest.raises(UnsupportedFeature, match="keyword index"):
            loaded.query(query)


DOCUMENTS = [
    Document(doc_id="banana", text=WORDS[0][1], metadata={"topic": "fruit", "year": 2021}),
    Document(doc_id="qdrant", text=WORDS[1][1], metadata={"topic": "db", "year": 2023}),
    Document(doc_id="apple", text=WORDS[2][1], metadata={"topic": "fruit", "year": 2019}),
    Document(doc_id="pg", text=WORDS[3][1], metadata={"topic": "db", "year": 2024}),
]


class TestVectorStoreIndex:
    """End to end: documents -> nodes -> embeddings -> this store -> retrievers."""

    async def test_index_from_documents(self, vb_store: Store, collection_name: str) -> None:
        embed = VecbridgeEmbedding("hashing", dimension=256)
        vs = VecbridgeVectorStore(vb_store, collection_name, embed_model=embed)
        context = StorageContext.from_defaults(vector_store=vs)
        index = VectorStoreIndex.from_documents(DOCUMENTS, storage_context=context, embed_model=embed)

        def found(retriever: Any, question: str) -> list[str]:
            return [hit.node.ref_doc_id for hit in retriever.retrieve(question)]

        assert found(index.as_retriever(similarity_top_k=1), "a vector database written in Rust") == ["qdrant"]
        recent_db = only(leaf("topic", Op.EQ, "db"), leaf("year", Op.GTE, 2024))
        assert found(index.as_retriever(similarity_top_k=4, filters=recent_db), "vector database") == ["pg"]
        fruit = only(leaf("topic", Op.EQ, "fruit"))
        hits = await index.as_retriever(similarity_top_k=4, filters=fruit).aretrieve("red apples")
        assert [h.node.ref_doc_id for h in hits] == ["apple", "banana"]
        assert hits[0].node.get_content() == WORDS[2][1] and hits[0].node.metadata == {"topic": "fruit", "year": 2019}

        index.delete_ref_doc("qdrant")
        assert "qdrant" not in found(index.as_retriever(similarity_top_k=4), "a vector database written in Rust")

        # Another process opening the same collection: the store alone holds the index.
        again = VecbridgeVectorStore(vb_store, collection_name)
        reopened = VectorStoreIndex.from_vector_store(again, embed_model=embed)
        assert found(reopened.as_retriever(similarity_top_k=1), "potassium rich bananas") == ["banana"]
        await vs.aclose()
