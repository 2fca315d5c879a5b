"""The Haystack adapter's own behaviour: what the standard mixins leave open or do not check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

pytest.importorskip("haystack")

from haystack import Pipeline
from haystack.core.errors import SerializationError
from haystack.dataclasses import ByteStream, Document, SparseEmbedding
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.document_stores.types import DuplicatePolicy, FilterPolicy
from haystack.utils import Secret

from vecbridge.core import CollectionSpec, DimensionMismatch, InvalidInput, MetricMismatch, connect
from vecbridge.core.store import Store as VectorStore
from vecbridge.integrations.haystack import (
    PLACEHOLDER_KEY,
    MissingEmbedding,
    UnsupportedHaystackFilter,
    VecbridgeDocumentStore,
    VecbridgeEmbeddingRetriever,
)

DIM = 8


def unit(i: int) -> list[float]:
    v = [0.0] * DIM
    v[i] = 1.0
    return v


@pytest.fixture
def local() -> Iterator[VectorStore]:
    store = connect("memory://")
    yield store
    store.close()


@pytest.fixture
def ds(local: VectorStore) -> VecbridgeDocumentStore:
    return VecbridgeDocumentStore(local, "docs", dimension=DIM, missing_embeddings="placeholder")


# ----- on every backend -------------------------------------------------------------------------


def test_embedding_retrieval_on_every_store(vb_store: VectorStore, collection_name: str) -> None:
    ds = VecbridgeDocumentStore(vb_store, collection_name, dimension=DIM, missing_embeddings="placeholder")
    near = [0.9, 0.1] + [0.0] * (DIM - 2)
    docs = [
        Document(id="a", content="a", meta={"lang": "en", "year": 2021}, embedding=unit(0)),
        Document(id="b", content="b", meta={"lang": "de", "year": 2019}, embedding=near),
        Document(id="c", content="c", meta={"lang": "en", "year": 2018}, embedding=unit(1)),
        # Without an embedding: its placeholder vector equals unit(0), the query, yet it must not come back.
        Document(id="p", content="no vector", meta={"lang": "en"}),
    ]
    assert ds.write_documents(docs) == 4
    hits = ds.embedding_retrieval(unit(0), top_k=10)
    assert [d.id for d in hits] == ["a", "b", "c"]
    assert [d.score for d in hits] == pytest.approx([1.0, 0.9, 0.0], abs=1e-2)  # dot product
    assert all(d.embedding is None for d in hits)
    english = ds.embedding_retrieval(unit(0), filters={"field": "meta.lang", "operator": "==", "value": "en"})
    assert [d.id for d in english] == ["a", "c"]
    recent = ds.embedding_retrieval(
        unit(1),
        top_k=1,
        filters={"operator": "NOT", "conditions": [{"field": "meta.year", "operator": "<", "value": 2019}]},
        return_embedding=True,
    )
    assert [d.id for d in recent] == ["b"]
    assert recent[0].embedding == pytest.approx(near, abs=1e-2)
    assert ds.embedding_retrieval(unit(0), filters={"field": "meta.year", "operator": ">", "value": None}) == []
    assert ds.count_documents_by_filter({"field": "meta.lang", "operator": "==", "value": "en"}) == 3
    (placeholder,) = ds.filter_documents({"field": "meta.year", "operator": "==", "value": None})
    assert (placeholder.id, placeholder.embedding, placeholder.meta) == ("p", None, {"lang": "en"})


# ----- adapter logic (one fast store) ------------------------------------------------------------


def test_documents_without_embedding_are_refused_by_default(local: VectorStore) -> None:
    ds = VecbridgeDocumentStore(local, "strict")
    with pytest.raises(MissingEmbedding, match="no embedding"):
        ds.write_documents([Document(id="1", content="has", embedding=unit(0)), Document(id="2", content="lacks")])
    assert ds.count_documents() == 0  # refused before anything was written
    assert not local.has_collection("strict")


def test_placeholders_need_a_dimension(local: VectorStore) -> None:
    ds = VecbridgeDocumentStore(local, "nodim", missing_embeddings="placeholder")
    with pytest.raises(MissingEmbedding, match="dimension"):
        ds.write_documents([Document(content="no embedding yet")])
    assert ds.write_documents([Document(id="e", content="x", embedding=unit(2))]) == 1
    assert ds.write_documents([Document(id="n", content="no embedding")]) == 1  # dimension now known
    assert local.describe_collection("nodim").dimension == DIM


def test_placeholder_flag_is_stored_and_hidden(ds: VecbridgeDocumentStore, local: VectorStore) -> None:
    ds.write_documents([Document(id="n", content="text", meta={"k": 1})])
    (record,) = local.get("docs", ["n"])
    assert record.metadata == {"k": 1, PLACEHOLDER_KEY: True}
    assert ds.filter_documents()[0].meta == {"k": 1}
    with pytest.raises(InvalidInput, match="reserved"):
        ds.write_documents([Document(content="x", meta={PLACEHOLDER_KEY: False}, embedding=unit(0))])
    with pytest.raises(InvalidInput, match="reserved"):
        ds.update_by_filter({"field": "meta.k", "operator": "==", "value": 1}, {PLACEHOLDER_KEY: False})


@pytest.mark.parametrize(
    ("doc", "says"),
    [
        (Document(content="x", blob=ByteStream(b"raw"), embedding=unit(0)), "blob"),
        (Document(content="x", sparse_embedding=SparseEmbedding([1], [0.5]), embedding=unit(0)), "sparse"),
    ],
)
def test_fields_vecbridge_cannot_keep_are_refused(ds: VecbridgeDocumentStore, doc: Document, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        ds.write_documents([doc])
    assert ds.count_documents() == 0


def test_duplicate_ids_within_one_write(ds: VecbridgeDocumentStore) -> None:
    first = Document(id="x", content="first", embedding=unit(0))
    second = Document(id="x", content="second", embedding=unit(1))
    with pytest.raises(DuplicateDocumentError):
        ds.write_documents([first, second])
    assert ds.count_documents() == 0
    assert ds.write_documents([first, second], policy=DuplicatePolicy.SKIP) == 1
    assert ds.filter_documents()[0].content == "first"
    # OVERWRITE: the last one wins, and the count is the input's, as Haystack's protocol says.
    assert ds.write_documents([first, second], policy=DuplicatePolicy.OVERWRITE) == 2
    assert [d.content for d in ds.filter_documents()] == ["second"]


def test_fail_policy_writes_nothing_when_one_id_exists(ds: VecbridgeDocumentStore) -> None:
    ds.write_documents([Document(id="old", content="old", embedding=unit(0))])
    with pytest.raises(DuplicateDocumentError, match="'old'"):
        ds.write_documents([Document(id="new", content="new", embedding=unit(1)), Document(id="old", content="o2")])
    assert sorted(d.id for d in ds.filter_documents()) == ["old"]
    written = ds.write_documents(
        [Document(id="new", content="new", embedding=unit(1)), Document(id="old", content="o2")],
        policy=DuplicatePolicy.SKIP,
    )
    assert written == 1
    assert {d.id: d.content for d in ds.filter_documents()} == {"old": "old", "new": "new"}


def test_update_by_filter_keeps_vectors_and_text(ds: VecbridgeDocumentStore) -> None:
    ds.write_documents(
        [
            Document(id="a", content="alpha", meta={"group": "x"}, embedding=unit(3)),
            Document(id="b", content="beta", meta={"group": "y"}, embedding=unit(4)),
        ]
    )
    assert ds.update_by_filter({"field": "meta.group", "operator": "==", "value": "x"}, {"seen": True}) == 1
    docs = {d.id: d for d in ds.filter_documents()}
    assert docs["a"].meta == {"group": "x", "seen": True} and docs["a"].content == "alpha"
    assert docs["a"].embedding == pytest.approx(unit(3))
    assert docs["b"].meta == {"group": "y"}


def test_delete_all_keeps_the_collection_spec(local: VectorStore) -> None:
    ds = VecbridgeDocumentStore(local, "spec", metric="cosine")
    ds.write_documents([Document(id=str(i), content=f"d{i}", embedding=unit(i)) for i in range(3)])
    for recreate in (False, True):
        ds.delete_all_documents(recreate_index=recreate)
        assert ds.count_documents() == 0
        spec = local.describe_collection("spec")
        assert (spec.dimension, spec.metric.value) == (DIM, "cosine")
        ds.write_documents([Document(id="again", content="x", embedding=unit(0))])
    assert ds.delete_by_filter({"operator": "AND", "conditions": []}) == 1  # an always-true filter
    assert ds.count_documents() == 0


def test_existing_collection_is_checked(local: VectorStore) -> None:
    local.create_collection(CollectionSpec("made", DIM, "euclidean"))
    with pytest.raises(MetricMismatch):
        VecbridgeDocumentStore(local, "made", metric="dot_product").write_documents(
            [Document(content="x", embedding=unit(0))]
        )
    with pytest.raises(DimensionMismatch):
        VecbridgeDocumentStore(local, "made").write_documents([Document(content="x", embedding=[1.0, 0.0])])
    keeps = VecbridgeDocumentStore(local, "made")  # no metric given: the collection's own is kept
    assert keeps.write_documents([Document(id="e", content="x", embedding=unit(0))]) == 1
    assert keeps.embedding_retrieval(unit(0), top_k=1)[0].score == pytest.approx(0.0, abs=1e-5)  # -L2


def test_date_ranges_compare_instants(ds: VecbridgeDocumentStore) -> None:
    ds.write_documents(
        [
            Document(id="moon", content="x", meta={"date": "1969-07-21T20:17:40"}, embedding=unit(0)),
            Document(id="later", content="y", meta={"date": "1972-12-11T19:54:59+00:00"}, embedding=unit(1)),
            Document(id="text", content="z", meta={"date": "not a date"}, embedding=unit(2)),
        ]
    )
    after = ds.filter_documents({"field": "meta.date", "operator": ">", "value": "1972-12-11T19:54:58"})
    assert [d.id for d in after] == ["later"]
    before = ds.filter_documents({"field": "meta.date", "operator": "<=", "value": datetime(1970, 1, 1)})
    assert [d.id for d in before] == ["moon"]
    with pytest.raises(UnsupportedHaystackFilter, match="ISO-8601"):
        ds.filter_documents({"field": "meta.date", "operator": ">", "value": "yesterday"})


def test_unsupported_filters_fail_on_every_path(ds: VecbridgeDocumentStore) -> None:
    ds.write_documents([Document(content="x", embedding=unit(0))])
    bad = {"field": "content", "operator": "==", "value": "x"}
    for call in (
        lambda: ds.filter_documents(bad),
        lambda: ds.count_documents_by_filter(bad),
        lambda: ds.delete_by_filter(bad),
        lambda: ds.update_by_filter(bad, {"a": 1}),
        lambda: ds.embedding_retrieval(unit(0), filters=bad),
    ):
        with pytest.raises(UnsupportedHaystackFilter):
            call()
    assert ds.count_documents() == 1


# ----- serialisation and the retriever component -------------------------------------------------


@pytest.fixture
def edge_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = "qdrant+edge://" + str(tmp_path_factory.mktemp("edge"))
    yield url


def test_to_dict_round_trip_with_a_url(edge_url: str) -> None:
    ds = VecbridgeDocumentStore(edge_url, "saved", dimension=DIM, metric="l2", missing_embeddings="placeholder")
    data = ds.to_dict()
    assert data["init_parameters"] == {
        "store": edge_url,
        "collection": "saved",
        "dimension": DIM,
        "metric": "euclidean",
        "missing_embeddings": "placeholder",
        "batch_size": None,
    }
    again = VecbridgeDocumentStore.from_dict(data)
    assert again.to_dict() == data
    again.write_documents([Document(id="1", content="x", embedding=unit(0))])
    assert again.count_documents() == 1
    again.close()
    assert VecbridgeDocumentStore(edge_url, "saved").count_documents() == 1  # reopened from disk


def test_secrets_and_store_objects(local: VectorStore, monkeypatch: pytest.MonkeyPatch) -> None:
    given = VecbridgeDocumentStore(local, "x", dimension=DIM)
    with pytest.raises(SerializationError, match="store object"):
        given.to_dict()
    given.close()  # the caller's store stays open
    assert given.count_documents() == 0
    with pytest.raises(SerializationError, match="password"):
        VecbridgeDocumentStore("pgvector://user:hunter2@db:5432/app", "x").to_dict()
    monkeypatch.setenv("VB_TEST_STORE_URL", "memory://")
    ds = VecbridgeDocumentStore(Secret.from_env_var("VB_TEST_STORE_URL"), "x", dimension=DIM)
    data = ds.to_dict()
    assert data["init_parameters"]["store"] == {"type": "env_var", "env_vars": ["VB_TEST_STORE_URL"], "strict": True}
    restored = VecbridgeDocumentStore.from_dict(data)
    restored.write_documents([Document(content="x", embedding=unit(0))])
    assert restored.count_documents() == 1


@pytest.fixture
def filled(ds: VecbridgeDocumentStore) -> VecbridgeDocumentStore:
    ds.write_documents(
        [
            Document(id="a", content="a", meta={"lang": "en", "n": 1}, embedding=unit(0)),
            Document(id="b", content="b", meta={"lang": "de", "n": 2}, embedding=[0.8, 0.2] + [0.0] * (DIM - 2)),
            Document(id="c", content="c", meta={"lang": "en", "n": 3}, embedding=unit(1)),
        ]
    )
    return ds


def test_retriever_in_a_pipeline(filled: VecbridgeDocumentStore) -> None:
    retriever = VecbridgeEmbeddingRetriever(filled, top_k=2)
    pipe = Pipeline()
    pipe.add_component("retriever", retriever)
    out = pipe.run({"retriever": {"query_embedding": unit(0)}})
    assert [d.id for d in out["retriever"]["documents"]] == ["a", "b"]
    only_en = retriever.run(unit(0), filters={"field": "meta.lang", "operator": "==", "value": "en"}, top_k=5)
    assert [d.id for d in only_en["documents"]] == ["a", "c"]
    assert retriever.run(unit(0), top_k=0)["documents"] == []
    with pytest.raises(InvalidInput):
        retriever.run(unit(0), top_k=-1)


async def test_retriever_async_and_merged_filters(filled: VecbridgeDocumentStore) -> None:
    retriever = VecbridgeEmbeddingRetriever(
        filled,
        filters={"field": "meta.lang", "operator": "==", "value": "en"},
        filter_policy="merge",
    )
    out = await retriever.run_async(unit(1), filters={"field": "meta.n", "operator": "<=", "value": 2})
    assert [d.id for d in out["documents"]] == ["a"]  # lang == en AND n <= 2
    assert retriever.filter_policy is FilterPolicy.MERGE


def test_retriever_serialises_with_its_store(edge_url: str) -> None:
    ds = VecbridgeDocumentStore(edge_url, "ret", dimension=DIM)
    retriever = VecbridgeEmbeddingRetriever(ds, top_k=3, filters={"field": "meta.a", "operator": "==", "value": 1})
    data = retriever.to_dict()
    assert data["init_parameters"]["document_store"] == ds.to_dict()
    restored = VecbridgeEmbeddingRetriever.from_dict(data)
    assert isinstance(restored.document_store, VecbridgeDocumentStore)
    assert restored.to_dict() == data
    assert (restored.top_k, restored.filter_policy) == (3, FilterPolicy.REPLACE)
    pipe = Pipeline()
    pipe.add_component("r", retriever)
    loaded = Pipeline.loads(pipe.dumps(), allowed_modules=["vecbridge.integrations.haystack.*"])
    assert isinstance(loaded.get_component("r"), VecbridgeEmbeddingRetriever)
