"""The LangChain adapter's own behaviour: what the standard suite does not check (filters,
scores, MMR, fingerprints, deleting, construction)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("langchain_core")

from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings

from vecbridge.core import (
    DimensionMismatch,
    EmbedderMismatch,
    InvalidFilter,
    InvalidInput,
    Metric,
    MetricMismatch,
    connect,
    matches,
)
from vecbridge.core.store import Store as VectorStore
from vecbridge.embedders.hashing import HashingEmbedder
from vecbridge.integrations.langchain import VecbridgeEmbeddings, VecbridgeVectorStore

TEXTS = ["apple pie recipe", "apple pie recipe, again", "banana bread", "qdrant vector search", "pgvector sql"]
METAS: list[dict[str, Any]] = [
    {"topic": "food", "year": 2019},
    {"topic": "food", "year": 2021, "tags": ["sweet", "baked"]},
    {"topic": "food", "year": 2023, "tags": ["baked"]},
    {"topic": "db", "year": 2024},
    {"topic": "db"},
]
IDS = ["pie", "pie2", "bread", "qdrant", "pg"]


@pytest.fixture
def local() -> Iterator[VectorStore]:
    store = connect("memory://")
    yield store
    store.close()


def hashing(dim: int = 64, **kw: Any) -> HashingEmbedder:
    return HashingEmbedder(dimension=dim, **kw)


# ----- on every backend -------------------------------------------------------------------------


FILTERS: list[dict[str, Any]] = [
    {"topic": "food"},
    {"year": {"$gte": 2021}},
    {"year": {"$exists": False}},
    {"tags": "baked"},
    {"$or": [{"topic": "db"}, {"year": {"$lt": 2020}}]},
    {"$not": {"tags": {"$in": ["sweet"]}}},
]


def test_filters_pass_through_on_every_store(vb_store: VectorStore, collection_name: str) -> None:
    vs = VecbridgeVectorStore(vb_store, collection_name, hashing())
    vs.add_texts(TEXTS, METAS, ids=IDS)
    for flt in FILTERS:
        found = vs.similarity_search("apple", k=10, filter=flt)
        want = sorted(i for i, m in zip(IDS, METAS, strict=True) if matches(flt, m))
        assert sorted(d.id for d in found) == want, flt  # type: ignore[type-var]
        by_id = dict(zip(IDS, METAS, strict=True))
        assert all(d.metadata == by_id[d.id] for d in found)  # type: ignore[index]


# ----- adapter logic (one fast store) ------------------------------------------------------------


def test_scores_and_relevance(local: VectorStore) -> None:
    vs = VecbridgeVectorStore(local, "scores", hashing())
    vs.add_texts(TEXTS, METAS, ids=IDS)
    scored = vs.similarity_search_with_score("apple pie recipe", k=5)
    assert scored[0][0].id == "pie" and scored[0][1] == pytest.approx(1.0, abs=1e-4)
    assert [s for _, s in scored] == sorted((s for _, s in scored), reverse=True)
    relevance = vs.similarity_search_with_relevance_scores("apple pie recipe", k=2)
    assert relevance[0][1] == pytest.approx(1.0, abs=1e-4)

    euclid = VecbridgeVectorStore(local, "l2", hashing(), metric="euclidean")
    euclid.add_texts(TEXTS, ids=IDS)
    (doc, score), *_ = euclid.similarity_search_with_score("banana bread", k=1)
    assert doc.id == "bread" and score == pytest.approx(0.0, abs=1e-4)  # negated L2 distance
    relevances = [r for _, r in euclid.similarity_search_with_relevance_scores("banana bread", k=5)]
    distances = [-s for _, s in euclid.similarity_search_with_score("banana bread", k=5)]
    assert relevances == pytest.approx([min(1.0, max(0.0, 1 - d / math.sqrt(2))) for d in distances])
    assert relevances[0] == pytest.approx(1.0) and all(0.0 <= r <= 1.0 for r in relevances)


def test_mmr_prefers_diverse_results(local: VectorStore) -> None:
    vs = VecbridgeVectorStore(local, "mmr", hashing())
    vs.add_texts(TEXTS, METAS, ids=IDS)
    plain = [d.id for d in vs.similarity_search("apple pie recipe", k=2)]
    diverse = [d.id for d in vs.max_marginal_relevance_search("apple pie recipe", k=2, fetch_k=5, lambda_mult=0.1)]
    assert plain == ["pie", "pie2"]  # the near-duplicate ranks second by similarity ...
    assert diverse[0] == "pie" and diverse[1] != "pie2"  # ... and MMR skips it
    only_db = vs.max_marginal_relevance_search("apple", k=3, filter={"topic": "db"})
    assert sorted(d.id for d in only_db) == ["pg", "qdrant"]


async def test_async_paths_use_async_embeddings(local: VectorStore) -> None:
    class CountingEmbeddings(DeterministicFakeEmbedding):
        async_calls: int = 0

        async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
            self.async_calls += 1
            return self.embed_documents(texts)

        async def aembed_query(self, text: str) -> list[float]:
            self.async_calls += 1
            return self.embed_query(text)

    emb = CountingEmbeddings(size=8)
    vs = VecbridgeVectorStore(local, "asyncs", emb)
    assert await vs.aadd_texts(["x", "y"], ids=["1", "2"]) == ["1", "2"]
    assert [d.id for d in await vs.asimilarity_search("x", k=1)] == ["1"]
    assert [d.id for d in await vs.amax_marginal_relevance_search("y", k=1)] == ["2"]
    assert emb.async_calls == 3
    assert await vs.adelete(["1"]) is True
    assert [d.id for d in await vs.aget_by_ids(["1", "2"])] == ["2"]


def test_fingerprint_is_recorded_and_enforced(local: VectorStore) -> None:
    emb = hashing()
    VecbridgeVectorStore(local, "fp", emb).add_texts(["hello"], ids=["h"])
    spec = local.describe_collection("fp")
    assert spec.embedder is not None and spec.embedder.compatible_with(emb.fingerprint)
    other_model = VecbridgeVectorStore(local, "fp", VecbridgeEmbeddings(hashing(ngram_min=2)))
    with pytest.raises(EmbedderMismatch):
        other_model.add_texts(["hello again"])
    with pytest.raises(DimensionMismatch):
        VecbridgeVectorStore(local, "fp", hashing(dim=32)).add_texts(["x"])
    with pytest.raises(MetricMismatch):
        VecbridgeVectorStore(local, "fp", emb, metric="dot").add_texts(["x"])
    # A foreign LangChain model of the right size: only the dimension can be checked.
    VecbridgeVectorStore(local, "fp", DeterministicFakeEmbedding(size=64)).add_texts(["x"], ids=["x"])
    assert local.count("fp") == 2


def test_delete_variants(local: VectorStore) -> None:
    vs = VecbridgeVectorStore(local, "del", hashing(), metric="dot")
    vs.add_texts(TEXTS, METAS, ids=IDS)
    assert vs.delete(filter={"topic": "db"}) is True
    assert sorted(d.id for d in vs.get_by_ids(IDS)) == ["bread", "pie", "pie2"]
    with pytest.raises(InvalidInput):
        vs.delete(["pie"], filter={"topic": "food"})
    assert vs.delete() is True  # everything; the collection keeps its spec
    assert vs.get_by_ids(IDS) == [] and local.describe_collection("del").metric is Metric.DOT
    assert vs.delete([]) is True


def test_documents_round_trip(local: VectorStore) -> None:
    vs = VecbridgeVectorStore(local, "docs", hashing())
    ids = vs.add_documents(
        [Document(page_content="", metadata={"empty": True}), Document(id="kept", page_content="text", metadata={})]
    )
    assert ids[1] == "kept" and len(ids[0]) == 36  # a uuid4 for the document without an id
    got = {d.id: d for d in vs.get_by_ids(ids)}
    assert got[ids[0]] == Document(id=ids[0], page_content="", metadata={"empty": True})
    assert got["kept"].page_content == "text"
    with pytest.raises(InvalidFilter):
        vs.similarity_search("text", filter={"year": {"$regex": "x"}})


def test_construction(tmp_path: Any) -> None:
    url = "qdrant+edge://" + str(tmp_path)
    vs = VecbridgeVectorStore.from_texts(
        ["one", "two"], VecbridgeEmbeddings("hashing", dimension=16), ids=["1", "2"], store=url, collection_name="c"
    )
    assert vs.store_url == url and vs.get_by_ids(["2"])[0].page_content == "two"
    assert isinstance(vs.embeddings, Embeddings)
    retriever = vs.as_retriever(search_kwargs={"k": 1, "filter": {"$not": {"$or": [{"x": 1}]}}})
    assert [d.id for d in retriever.invoke("one")] == ["1"]
    vs.close()
    with pytest.raises(InvalidInput, match="store"):
        VecbridgeVectorStore.from_texts(["x"], hashing(), collection_name="c")
    with pytest.raises(InvalidInput):
        VecbridgeVectorStore(object(), "c", hashing())  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        VecbridgeVectorStore("memory://", "bad name", hashing())
    with pytest.raises(InvalidInput):
        VecbridgeEmbeddings(hashing(), dimension=3)  # options only go with a name
    with pytest.raises(TypeError, match="unexpected"):
        VecbridgeVectorStore("memory://", "c", hashing()).add_texts(["x"], colour="red")


def test_empty_store_answers_without_a_collection(local: VectorStore) -> None:
    vs = VecbridgeVectorStore(local, "never", hashing())
    assert vs.similarity_search("x") == []
    assert vs.max_marginal_relevance_search("x") == []
    assert vs.get_by_ids(["a"]) == []
    assert vs.delete(["a"]) is True
    assert vs.add_texts([]) == []
    assert not local.has_collection("never")
