"""The conformance suite: one contract, checked the same way on every store.

Ground truth comes from numpy (exact search) and from :func:`vecbridge.core.filters.matches`
(the reference filter semantics), never from constants written into the tests.
"""

from __future__ import annotations

import contextlib
import json
import math
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pytest

from vecbridge.core import (
    Collection,
    CollectionExists,
    CollectionNotFound,
    CollectionSpec,
    DimensionMismatch,
    EmbedderMismatch,
    InvalidInput,
    Metric,
    MetricMismatch,
    Record,
    SearchMode,
    UnsupportedFeature,
    UnsupportedFilter,
    iter_records,
    matches,
    parse_filter,
)
from vecbridge.core.filters import And, Comparison, FilterNode, Not, Or
from vecbridge.core.store import VectorStore

from .backend import Backend

__all__ = ["FILTER_CASES", "StoreConformanceTests", "filter_dataset"]

DIM = 24


def _name() -> str:
    return "t" + uuid.uuid4().hex[:12]


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.asarray(v / np.where(n == 0, 1, n))


def random_records(n: int, dim: int = DIM, seed: int = 0, prefix: str = "r") -> list[Record]:
    rng = np.random.default_rng(seed)
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    return [Record(f"{prefix}{i}", vecs[i].tolist(), f"text {i}", {"i": i, "even": i % 2 == 0}) for i in range(n)]


def filter_dataset(dim: int = DIM, seed: int = 7, nested: bool = True, keep_null: bool = True) -> list[Record]:
    """Records whose metadata exercises every filter edge: missing keys, nulls, lists, mixed
    types, booleans, ints and floats, unicode strings."""
    rng = np.random.default_rng(seed)
    langs = ["en", "de", "fr", "日本語", "en"]
    out: list[Record] = []
    for i in range(60):
        md: dict[str, Any] = {}
        if i % 7 != 0:
            md["year"] = 2015 + i % 11  # int, missing for every 7th record
        if i % 5 == 0:
            md["score"] = None if keep_null else md.get("score")  # null
        elif i % 3 != 0:
            md["score"] = round(float(i) / 7.0, 3)  # float
        if i % 6 != 5:
            md["lang"] = langs[i % len(langs)]
        md["published"] = i % 4 == 0  # bool on every record
        if i % 3 == 0:
            md["tags"] = ["news", "tech"] if i % 2 == 0 else ["sport"]
        elif i % 3 == 1:
            md["tags"] = []  # empty list counts as absent
        if i % 10 == 3:
            md["code"] = str(2015 + i % 11)  # a string that looks like a year: types are strict
        if i % 9 == 4:
            md["count"] = 1  # int 1 vs bool True
        if i % 9 == 5:
            md["count"] = True
        if i % 11 == 2:
            md["ratio"] = 2  # an int where others hold floats: 2 == 2.0
        if i % 11 == 3:
            md["ratio"] = 2.0
        md = {k: v for k, v in md.items() if not (v is None and not keep_null)}
        out.append(Record(f"f{i}", rng.normal(size=dim).astype(np.float32).tolist(), f"doc {i}", md))
    return out


#: Filters checked on every store against the reference semantics (as dicts, like users write them).
FILTER_CASES: list[dict[str, Any]] = [
    {"year": 2020},
    {"year": {"$eq": 2020.0}},
    {"lang": "en"},
    {"lang": "日本語"},
    {"published": True},
    {"published": {"$eq": False}},
    {"year": {"$ne": 2020}},
    {"lang": {"$ne": "en"}},
    {"year": {"$gt": 2020}},
    {"year": {"$gte": 2020}},
    {"year": {"$lt": 2018}},
    {"year": {"$lte": 2018}},
    {"year": {"$gte": 2017, "$lt": 2021}},
    {"score": {"$gt": 2.5}},
    {"score": {"$lte": 1}},
    {"year": {"$in": [2016, 2019, 2024]}},
    {"lang": {"$in": ["de", "fr"]}},
    {"year": {"$nin": [2016, 2019]}},
    {"lang": {"$nin": ["en"]}},
    {"score": {"$exists": True}},
    {"score": {"$exists": False}},
    {"year": {"$exists": False}},
    {"tags": "news"},
    {"tags": {"$in": ["sport", "none"]}},
    {"tags": {"$nin": ["news"]}},
    {"tags": {"$exists": True}},
    {"tags": {"$exists": False}},
    {"code": "2018"},
    {"year": 2018, "code": {"$exists": True}},
    {"count": 1},
    {"count": True},
    {"ratio": 2},
    {"ratio": {"$in": [2.0]}},
    {"$and": [{"year": {"$gte": 2018}}, {"lang": "en"}]},
    {"$or": [{"year": 2016}, {"lang": "fr"}]},
    {"$not": {"year": {"$gt": 2020}}},
    {"$not": {"lang": {"$in": ["en", "de"]}}},
    {"$or": [{"$and": [{"published": True}, {"year": {"$lt": 2022}}]}, {"$not": {"score": {"$exists": True}}}]},
    {"$and": [{"$or": [{"lang": "en"}, {"lang": "de"}]}, {"$not": {"$or": [{"year": 2016}, {"tags": "sport"}]}}]},
    {"$not": {"$and": [{"year": {"$gte": 2016}}, {"year": {"$lte": 2022}}]}},
]


def _ops(node: FilterNode) -> set[str]:
    if isinstance(node, (And, Or)):
        own = {"and" if isinstance(node, And) else "or"}
        return own.union(*(_ops(c) for c in node.children))
    if isinstance(node, Not):
        return {"not"} | _ops(node.child)
    assert isinstance(node, Comparison)
    return {node.op}


def _vec_close(a: Any, b: Any, metric: Metric, tol: float) -> bool:
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if metric is Metric.COSINE:  # cosine stores may keep only the direction
        x, y = _unit(x), _unit(y)
    return x.shape == y.shape and bool(np.allclose(x, y, atol=max(tol, 1e-5) * 10))


def _exact(metric: Metric, data: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Scores in the core convention: cosine similarity, inner product, negated L2."""
    if metric is Metric.COSINE:
        return np.asarray(_unit(data) @ _unit(q))
    if metric is Metric.DOT:
        return np.asarray(data @ q)
    return np.asarray(-np.linalg.norm(data - q, axis=1))


class StoreConformanceTests:
    """Subclass and provide a ``backend`` (class attribute or fixture) to run the contract."""

    backend: Backend

    # ----- fixtures -----------------------------------------------------------------------

    @pytest.fixture(scope="class")
    @classmethod
    def store(cls, backend: Backend) -> Iterator[VectorStore]:
        reason = backend.skip_reason()
        if reason:
            pytest.skip(reason)
        store = backend.open()
        try:
            yield store
        finally:
            store.close()

    @pytest.fixture(scope="class")  # type: ignore[no-redef]
    @classmethod
    def backend(cls) -> Backend:  # overridden by a parametrised fixture in vecbridge's own tests
        return cls.backend

    @pytest.fixture
    def name(self, store: VectorStore) -> Iterator[str]:
        n = _name()
        yield n
        with contextlib.suppress(Exception):  # cleanup must not mask the test's own failure
            store.drop_collection(n)

    @staticmethod
    def _collection(store: Any, name: str, **kwargs: Any) -> Any:
        """``Collection.open``, or its async form when the suite runs through the async API."""
        from .blocking import BlockingCollection, BlockingStore

        if isinstance(store, BlockingStore):
            return BlockingCollection.open(store, name, **kwargs)
        return Collection.open(store, name, **kwargs)

    def _make(self, store: VectorStore, name: str, metric: Metric = Metric.COSINE, dim: int = DIM) -> CollectionSpec:
        return store.create_collection(CollectionSpec(name, dim, metric))

    # ----- collections --------------------------------------------------------------------

    def test_create_describe_list_drop(self, store: VectorStore, name: str, backend: Backend) -> None:
        assert not store.has_collection(name)
        spec = store.create_collection(CollectionSpec(name, DIM, Metric.DOT))
        assert (spec.name, spec.dimension, spec.metric) == (name, DIM, Metric.DOT)
        assert store.describe_collection(name) == spec
        assert name in store.list_collections()
        assert store.has_collection(name)
        assert store.count(name) == 0
        assert store.drop_collection(name) is True
        assert not store.has_collection(name)
        assert name not in store.list_collections()
        assert store.drop_collection(name) is False
        with pytest.raises(CollectionNotFound):
            store.describe_collection(name)
        with pytest.raises(CollectionNotFound):
            store.count(name)

    def test_create_twice(self, store: VectorStore, name: str) -> None:
        self._make(store, name)
        with pytest.raises(CollectionExists):
            self._make(store, name)
        again = store.create_collection(CollectionSpec(name, DIM, Metric.COSINE), exist_ok=True)
        assert again.dimension == DIM

    @pytest.mark.parametrize("metric", list(Metric))
    def test_metric_round_trip(self, store: VectorStore, name: str, metric: Metric) -> None:
        self._make(store, name, metric)
        assert store.describe_collection(name).metric is metric

    def test_existing_collection_is_checked(self, store: VectorStore, name: str) -> None:
        self._make(store, name, Metric.COSINE, DIM)
        with pytest.raises(DimensionMismatch):
            store.create_collection(CollectionSpec(name, DIM + 1, Metric.COSINE), exist_ok=True)
        with pytest.raises(MetricMismatch):
            store.create_collection(CollectionSpec(name, DIM, Metric.EUCLIDEAN), exist_ok=True)

    def test_unknown_metric_and_bad_dimension(self) -> None:
        with pytest.raises(InvalidInput, match="metric"):
            CollectionSpec("ok", DIM, "manhattan")  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            CollectionSpec("ok", 0)

    @pytest.mark.parametrize(
        "bad", ["", "1abc", "a b", "x;DROP TABLE t", "../etc", 'a"b', "a" * 64, "naïve", "a.b", "a/b"]
    )
    def test_unsafe_collection_names(self, store: VectorStore, bad: str) -> None:
        with pytest.raises(InvalidInput):
            store.create_collection(CollectionSpec(bad, DIM))
        with pytest.raises(InvalidInput):
            store.describe_collection(bad)

    def test_fingerprint_is_kept_and_enforced(self, store: VectorStore, name: str) -> None:
        from vecbridge.embedders.hashing import HashingEmbedder

        emb = HashingEmbedder(dimension=DIM)
        coll = self._collection(store, name, embedder=emb)
        spec = store.describe_collection(name)
        assert spec.embedder is not None and spec.embedder.compatible_with(emb.fingerprint)
        assert spec.embedder.options == emb.fingerprint.options
        assert coll.spec == spec
        with pytest.raises(EmbedderMismatch):
            self._collection(store, name, embedder=HashingEmbedder(dimension=DIM, ngram_min=2))
        with pytest.raises(DimensionMismatch):
            self._collection(store, name, embedder=HashingEmbedder(dimension=DIM * 2))
        assert store.count(name) == 0

    # ----- writes -------------------------------------------------------------------------

    def test_upsert_count_and_idempotence(self, store: VectorStore, name: str, backend: Backend) -> None:
        self._make(store, name)
        recs = random_records(150)
        assert store.upsert(name, recs, batch_size=40) == 150
        backend.settle()
        assert store.count(name) == 150
        # Same ids again, new content: overwrites, never duplicates.
        changed = [Record(r.id, list(reversed(r.vector)), "changed", {"v": 2}) for r in recs[:50]]
        store.upsert(name, changed)
        backend.settle()
        assert store.count(name) == 150
        got = {r.id: r for r in store.get(name, [r.id for r in recs[:50]])}
        assert all(got[r.id].text == "changed" and got[r.id].metadata == {"v": 2} for r in recs[:50])
        assert _vec_close(got[recs[0].id].vector, changed[0].vector, Metric.COSINE, backend.tolerance)

    def test_upsert_from_generator(self, store: VectorStore, name: str, backend: Backend) -> None:
        self._make(store, name)
        assert store.upsert(name, (r for r in random_records(70)), batch_size=16) == 70
        backend.settle()
        assert store.count(name) == 70

    def test_get(self, store: VectorStore, name: str, backend: Backend) -> None:
        self._make(store, name, Metric.DOT)
        recs = random_records(30)
        store.upsert(name, recs)
        backend.settle()
        ask = ["r5", "missing", "r0", "r29"]
        got = store.get(name, ask)
        assert [r.id for r in got] == ["r5", "r0", "r29"]
        by_id = {r.id: r for r in recs}
        for r in got:
            assert r.text == by_id[r.id].text
            assert r.metadata == by_id[r.id].metadata
            assert _vec_close(r.vector, by_id[r.id].vector, Metric.DOT, backend.tolerance)
        assert store.get(name, []) == []

    def test_delete_by_ids_and_filter(self, store: VectorStore, name: str, backend: Backend) -> None:
        self._make(store, name)
        recs = random_records(40)
        store.upsert(name, recs)
        backend.settle()
        store.delete(name, ["r0", "r1", "nope"])
        backend.settle()
        assert store.count(name) == 38
        assert store.get(name, ["r0", "r1"]) == []
        store.delete(name, filter={"even": True})
        backend.settle()
        remaining = sorted(r.id for r in iter_records(store, name))
        assert remaining == sorted(r.id for r in recs if r.id not in ("r0", "r1") and not r.metadata["even"])
        with pytest.raises(InvalidInput):
            store.delete(name)
        with pytest.raises(InvalidInput):
            store.delete(name, ["r3"], filter={"even": False})

    # ----- queries ------------------------------------------------------------------------

    @pytest.mark.parametrize("metric", list(Metric))
    def test_query_matches_exact_search(self, store: VectorStore, name: str, backend: Backend, metric: Metric) -> None:
        self._make(store, name, metric)
        recs = random_records(300, seed=3)
        store.upsert(name, recs)
        backend.settle()
        data = np.asarray([r.vector for r in recs], dtype=np.float64)
        rng = np.random.default_rng(11)
        k = 10
        exact = store.capabilities.exact_search
        hits_total = 0
        for _ in range(8):
            q = rng.normal(size=DIM)
            truth = _exact(metric, data, q)
            order = np.argsort(-truth, kind="stable")[:k]
            hits = store.query(name, q.tolist(), k=k)
            assert len(hits) == k
            scores = [h.score for h in hits]
            assert scores == sorted(scores, reverse=True), "hits must come best first"
            for h in hits:  # every score is the true similarity of that record
                idx = int(h.id[1:])
                assert math.isclose(h.score, truth[idx], rel_tol=1e-3, abs_tol=backend.tolerance * 100)
            got_ids = [h.id for h in hits]
            want_ids = [recs[i].id for i in order]
            hits_total += len(set(got_ids) & set(want_ids))
            if exact:
                assert np.allclose(scores, truth[order], atol=backend.tolerance * 100)
        recall = hits_total / (8 * k)
        assert recall >= (1.0 if exact else 0.95), f"recall@10 = {recall:.3f}"

    def test_query_returns_payload_and_optional_vectors(self, store: VectorStore, name: str, backend: Backend) -> None:
        self._make(store, name)
        recs = random_records(20)
        store.upsert(name, recs)
        backend.settle()
        hit = store.query(name, recs[4].vector, k=1, include_vectors=True)[0]
        assert hit.id == "r4" and hit.text == "text 4" and hit.metadata == recs[4].metadata
        assert math.isclose(hit.score, 1.0, abs_tol=1e-3)
        assert hit.vector is not None and _vec_close(hit.vector, recs[4].vector, Metric.COSINE, backend.tolerance)
        assert store.query(name, recs[4].vector, k=1)[0].vector is None
        assert len(store.query(name, recs[0].vector, k=100)) == 20

    def test_query_bad_input(self, store: VectorStore, name: str) -> None:
        self._make(store, name)
        store.upsert(name, random_records(5))
        with pytest.raises(DimensionMismatch):
            store.query(name, [0.1] * (DIM - 1))
        with pytest.raises(InvalidInput):
            store.query(name, [float("nan")] * DIM)
        with pytest.raises(InvalidInput):
            store.query(name, [0.1] * DIM, k=0)
        with pytest.raises(InvalidInput):
            store.query(name, [0.1] * DIM, filter={"i": {"$regex": "x"}})

    # ----- filters ------------------------------------------------------------------------

    @pytest.fixture(scope="class")
    @classmethod
    def filtered(cls, store: VectorStore, backend: Backend) -> Iterator[tuple[str, list[Record]]]:
        n = _name()
        store.create_collection(CollectionSpec(n, DIM, Metric.COSINE))
        recs = filter_dataset(nested=backend.nested_metadata, keep_null=backend.keeps_null_metadata)
        store.upsert(n, recs)
        backend.settle()
        yield n, recs
        store.drop_collection(n)

    @pytest.mark.parametrize("flt", FILTER_CASES, ids=[json.dumps(f, ensure_ascii=True) for f in FILTER_CASES])
    def test_filter_semantics(
        self, store: VectorStore, filtered: tuple[str, list[Record]], backend: Backend, flt: dict[str, Any]
    ) -> None:
        name, recs = filtered
        node = parse_filter(flt)
        assert node is not None
        expected = {r.id for r in recs if matches(node, r.metadata)}
        blocked = _ops(node) & backend.unsupported_ops
        if blocked:
            with pytest.raises(UnsupportedFilter):
                store.query(name, recs[0].vector, k=len(recs), filter=flt)
            return
        hits = store.query(name, recs[0].vector, k=len(recs), filter=flt)
        assert {h.id for h in hits} == expected, f"filter {flt}"
        assert store.count(name, filter=flt) == len(expected)

    def test_filter_with_small_k_fills_k(self, store: VectorStore, filtered: tuple[str, list[Record]]) -> None:
        name, recs = filtered
        flt = {"lang": "fr"}
        expected = [r for r in recs if matches(flt, r.metadata)]
        hits = store.query(name, recs[1].vector, k=3, filter=flt)
        assert len(hits) == min(3, len(expected))
        assert all(matches(flt, h.metadata) for h in hits)

    # ----- scan ---------------------------------------------------------------------------

    def test_scan_returns_everything_and_resumes(self, store: VectorStore, name: str, backend: Backend) -> None:
        self._make(store, name, Metric.EUCLIDEAN)
        recs = random_records(130, seed=5)
        store.upsert(name, recs)
        backend.settle()
        pages = list(store.scan(name, batch_size=50))
        seen = [r for p in pages for r in p.records]
        assert sorted(r.id for r in seen) == sorted(r.id for r in recs)
        assert all(len(p.records) <= 50 for p in pages)
        by_id = {r.id: r for r in recs}
        for r in seen:
            assert r.metadata == by_id[r.id].metadata and r.text == by_id[r.id].text
            assert _vec_close(r.vector, by_id[r.id].vector, Metric.EUCLIDEAN, backend.tolerance)
        # Resume from the first page's cursor: the rest, nothing twice.
        first = pages[0]
        assert first.next_cursor is not None
        rest = [r.id for p in store.scan(name, batch_size=50, cursor=first.next_cursor) for r in p.records]
        assert sorted([r.id for r in first.records] + rest) == sorted(by_id)
        assert pages[-1].next_cursor is None

    def test_scan_ranges_cover_every_record_once(self, store: VectorStore, name: str, backend: Backend) -> None:
        """Parallel readers (the Ray engine) scan ``scan_ranges``: together every record, once.
        A store that declares ``split_scan`` really splits."""
        self._make(store, name)
        recs = random_records(120, seed=11)
        store.upsert(name, recs)
        backend.settle()
        ranges = store.scan_ranges(name, 4)
        if store.capabilities.split_scan:
            assert len(ranges) > 1
        else:
            assert len(ranges) == 1
        seen = [
            r.id
            for part in ranges
            for page in store.scan(name, batch_size=25, cursor=part.start, stop=part.stop, include_vectors=False)
            for r in page.records
        ]
        assert sorted(seen) == sorted(r.id for r in recs)

    # ----- payload fidelity ---------------------------------------------------------------

    def test_unicode_and_large_metadata(self, store: VectorStore, name: str, backend: Backend) -> None:
        self._make(store, name)
        big = "x" * min(20_000, backend.max_metadata_bytes // 2)
        md: dict[str, Any] = {
            "título": "naïve café ☕",
            "emoji": "🚀✨",
            "cjk": "向量数据库",
            "big": big,
            "tags": ["α", "β"],
            "n": -3,
            "f": 1.5,
            "b": False,
        }
        if backend.nested_metadata:
            md["nested"] = {"a": [1, 2, {"b": None}], "c": "d"}
        if backend.keeps_null_metadata:
            md["nothing"] = None
        rec = Record("ユニコード-id/ü 1", random_records(1)[0].vector, "Grüße, 世界! 🌍", md)
        store.upsert(name, [rec])
        backend.settle()
        got = store.get(name, [rec.id])
        assert len(got) == 1
        assert got[0].id == rec.id and got[0].text == rec.text and got[0].metadata == md
        hit = store.query(name, rec.vector, k=1, filter={"título": "naïve café ☕"})
        assert [h.id for h in hit] == [rec.id]

    def test_record_without_text_or_metadata(self, store: VectorStore, name: str, backend: Backend) -> None:
        self._make(store, name)
        store.upsert(name, [Record("bare", random_records(1)[0].vector)])
        backend.settle()
        (got,) = store.get(name, ["bare"])
        assert got.text is None and got.metadata == {}

    # ----- bad input writes nothing ---------------------------------------------------------

    @pytest.mark.parametrize(
        "bad",
        [
            Record("bad", [0.5] * (DIM + 2)),
            Record("bad", [float("nan")] + [0.5] * (DIM - 1)),
            Record("bad", [float("inf")] + [0.5] * (DIM - 1)),
            Record("bad", [0.0] * DIM),
            Record("bad", [0.5] * DIM, text=""),
            Record("", [0.5] * DIM),
            Record("bad", [0.5] * DIM, metadata={"x": float("nan")}),
            Record("bad", [0.5] * DIM, metadata={"x": object()}),
            Record("r1", [0.5] * DIM),  # duplicate of a good record in the same batch
        ],
        ids=["dimension", "nan", "inf", "zero-cosine", "empty-text", "empty-id", "nan-meta", "object-meta", "dup-id"],
    )
    def test_bad_input_writes_nothing(self, store: VectorStore, name: str, backend: Backend, bad: Record) -> None:
        self._make(store, name)
        good = random_records(3)
        with pytest.raises(InvalidInput):
            store.upsert(name, [*good, bad])
        backend.settle()
        assert store.count(name) == 0

    # ----- high level ---------------------------------------------------------------------

    def test_collection_add_texts_and_search(self, store: VectorStore, name: str, backend: Backend) -> None:
        from vecbridge.embedders.hashing import HashingEmbedder

        docs = self._collection(store, name, embedder=HashingEmbedder(dimension=64))
        texts = ["the red apple fell", "ocean waves at night", "apple pie recipe", "mountain hiking trail"]
        ids = docs.add_texts(texts, metadatas=[{"n": i} for i in range(4)])
        assert len(set(ids)) == 4
        assert docs.add_texts(texts[:1]) == ids[:1]  # same text, same default id
        backend.settle()
        assert docs.count() == 4
        hits = docs.search("apple", k=2)
        assert {h.text for h in hits} == {"the red apple fell", "apple pie recipe"}
        best = docs.search("apple", k=4, filter={"n": {"$gt": 0}})[0]
        assert best.text == "apple pie recipe"
        with pytest.raises(InvalidInput):
            docs.add_texts(["fine", "  "])
        backend.settle()
        assert docs.count() == 4

    # ----- exact values -------------------------------------------------------------------

    def test_numbers_round_trip_exactly(self, store: VectorStore, name: str, backend: Backend) -> None:
        """Every JSON number comes back with its value, its type (int vs float) and the sign of
        zero, and an equality filter on a stored float finds it."""
        self._make(store, name)
        values = EXACT_NUMBERS
        base = random_records(len(values))
        records = [
            Record(f"n{i}", base[i].vector, None, {"x": v, "pair": [v, 1]} if backend.nested_metadata else {"x": v})
            for i, v in enumerate(values)
        ]
        store.upsert(name, records)
        backend.settle()
        got = {r.id: r.metadata for r in store.get(name, [r.id for r in records], include_vectors=False)}
        for rec, v in zip(records, values, strict=True):
            back = got[rec.id]["x"]
            assert type(back) is type(v) and back == v, f"{v!r} came back as {back!r}"
            if isinstance(v, float):
                assert math.copysign(1.0, back) == math.copysign(1.0, v), f"sign of {v!r} lost"
            if backend.nested_metadata:
                assert got[rec.id]["pair"] == [v, 1] and type(got[rec.id]["pair"][0]) is type(v)
        for v in (1 / 7, 10 / 7, 0.1, 123456789.123456789, 2**53 - 1, 1e16):
            want = {r.id for r in records if matches({"x": v}, r.metadata)}
            hits = store.query(name, records[0].vector, k=len(records), filter={"x": v})
            assert {h.id for h in hits} == want, f"$eq {v!r}"

    def test_ids_never_alias(self, store: VectorStore, name: str, backend: Backend) -> None:
        """An id that equals the UUID another id is stored under does not overwrite it."""
        from vecbridge.core.ids import point_uuid

        self._make(store, name)
        vecs = random_records(2)
        victim = Record("victim", vecs[0].vector, "victim text", {"who": "victim"})
        alias = Record(point_uuid("victim"), vecs[1].vector, "alias text", {"who": "alias"})
        store.upsert(name, [victim])
        store.upsert(name, [alias])
        backend.settle()
        assert store.count(name) == 2
        got = {r.id: r.metadata["who"] for r in store.get(name, ["victim", alias.id])}
        assert got == {"victim": "victim", alias.id: "alias"}

    def test_vectors_beyond_float32_arithmetic_are_refused(self, store: VectorStore, name: str) -> None:
        self._make(store, name, Metric.DOT)
        huge = [3e38] + [0.0] * (DIM - 1)
        with pytest.raises(InvalidInput):
            store.upsert(name, [Record("huge", huge)])
        with pytest.raises(InvalidInput):
            store.query(name, huge)
        assert store.count(name) == 0

    # ----- search options -----------------------------------------------------------------

    def test_score_threshold(self, store: VectorStore, name: str, backend: Backend) -> None:
        self._make(store, name)
        recs = random_records(40, seed=9)
        store.upsert(name, recs)
        backend.settle()
        everything = store.query(name, recs[0].vector, k=40)
        cut = everything[9].score
        kept = store.query(name, recs[0].vector, k=40, score_threshold=cut)
        assert [h.id for h in kept] == [h.id for h in everything if h.score >= cut]
        assert all(h.score >= cut for h in kept)

    # ----- dates --------------------------------------------------------------------------

    def test_date_ranges_compare_instants(self, store: VectorStore, name: str, backend: Backend) -> None:
        self._make(store, name)
        stamps = DATE_VALUES
        base = random_records(len(stamps))
        recs = [Record(f"d{i}", base[i].vector, None, {"when": s, "n": i}) for i, s in enumerate(stamps)]
        store.upsert(name, recs)
        backend.settle()
        got = {r.id: r.metadata for r in store.get(name, [r.id for r in recs], include_vectors=False)}
        assert all(got[r.id] == r.metadata for r in recs), "date strings round-trip exactly"
        for flt in DATE_FILTERS:
            want = {r.id for r in recs if matches(flt, r.metadata)}
            hits = store.query(name, recs[0].vector, k=len(recs), filter=flt)
            assert {h.id for h in hits} == want, f"filter {flt}"
            assert store.count(name, filter=flt) == len(want), f"count {flt}"

    # ----- tenants ------------------------------------------------------------------------

    def test_tenants_are_isolated(self, store: VectorStore, name: str, backend: Backend) -> None:
        spec = CollectionSpec(name, DIM, multi_tenant=True)
        if not store.capabilities.tenants:
            with pytest.raises(UnsupportedFeature):
                store.create_collection(spec)
            return
        store.create_collection(spec)
        a = random_records(12, seed=1)
        b = [Record(r.id, r.vector, f"b {r.text}", {**r.metadata, "owner": "b"}) for r in random_records(8, seed=2)]
        store.upsert(name, a, tenant="acme")
        store.upsert(name, b, tenant="globex")
        backend.settle()
        assert store.count(name, tenant="acme") == 12
        assert store.count(name, tenant="globex") == 8
        hits = store.query(name, b[0].vector, k=50, tenant="acme")
        assert {h.id for h in hits} == {r.id for r in a} and all("owner" not in h.metadata for h in hits)
        # Filters cannot reach across: not on the tenant's name, not on internal-looking keys.
        for flt in ({"owner": "b"}, {"tenant": "globex"}, {"$or": [{"owner": "b"}, {"i": {"$gte": 0}}]}):
            found = store.query(name, b[0].vector, k=50, filter=flt, tenant="acme")
            assert {h.id for h in found} <= {r.id for r in a}
        assert [r.text for r in store.get(name, ["r0"], tenant="globex")] == ["b text 0"]
        store.delete(name, ["r0", "r1"], tenant="globex")
        store.delete(name, filter={"even": True}, tenant="acme")
        backend.settle()
        assert store.count(name, tenant="globex") == 6
        assert store.count(name, tenant="acme") == 6
        scanned = [r.id for p in store.scan(name, tenant="acme", batch_size=5) for r in p.records]
        assert sorted(scanned) == sorted(r.id for r in a if not r.metadata["even"])
        with pytest.raises(InvalidInput):
            store.count(name)  # a multi-tenant collection needs a tenant
        with pytest.raises(InvalidInput):
            store.count(name, tenant="no spaces allowed")

    def test_tenant_on_a_plain_collection_is_refused(self, store: VectorStore, name: str) -> None:
        self._make(store, name)
        with pytest.raises(InvalidInput):
            store.upsert(name, random_records(1), tenant="acme")
        assert store.count(name) == 0

    # ----- hybrid -------------------------------------------------------------------------

    def test_hybrid_finds_exact_keywords(self, store: VectorStore, name: str, backend: Backend) -> None:
        spec = CollectionSpec(name, DIM, hybrid=True)
        if SearchMode.KEYWORD not in store.capabilities.search_modes:
            with pytest.raises(UnsupportedFeature):
                store.create_collection(spec)
            return
        store.create_collection(spec)
        rng = np.random.default_rng(21)
        query_vec = rng.normal(size=DIM)
        recs = []
        for i in range(40):  # close to the query vector, but without the keyword
            vec = query_vec + rng.normal(scale=0.3, size=DIM)
            recs.append(Record(f"near{i}", vec.tolist(), f"general notes about pumps number {i}", {"i": i}))
        far = -query_vec + rng.normal(scale=0.1, size=DIM)  # as far from the query as it gets
        recs.append(Record("part", far.tolist(), "replace gasket XK-7741 before winter", {"i": 99}))
        store.upsert(name, recs)
        backend.settle()
        dense = store.query(name, query_vec.tolist(), k=10)
        assert "part" not in [h.id for h in dense]
        keyword = store.query(name, text="XK-7741 gasket", mode="keyword", k=5)
        assert keyword and keyword[0].id == "part"
        hybrid = store.query(name, query_vec.tolist(), text="XK-7741", mode="hybrid", k=10)
        assert hybrid[0].id == "part"
        scores = [h.score for h in hybrid]
        assert scores == sorted(scores, reverse=True)
        assert hybrid[0].text == "replace gasket XK-7741 before winter" and hybrid[0].metadata == {"i": 99}
        filtered = store.query(name, query_vec.tolist(), text="XK-7741", mode="hybrid", k=10, filter={"i": {"$lt": 50}})
        assert "part" not in [h.id for h in filtered] and len(filtered) == 10
        assert all(h.metadata["i"] < 50 for h in filtered)

    def test_keyword_search_needs_a_hybrid_collection(self, store: VectorStore, name: str) -> None:
        self._make(store, name)
        store.upsert(name, random_records(3))
        with pytest.raises(UnsupportedFeature):
            store.query(name, text="text", mode="keyword")


#: Numbers that must survive a store exactly (value, int/float type, sign of zero).
EXACT_NUMBERS: list[int | float] = [
    *(i / 7 for i in range(1, 25)),
    0.1,
    -0.0,
    0.0,
    3.0,
    -2.5,
    1e308,
    -1e308,
    5e-324,
    2.2250738585072014e-308,
    1e16,
    1e22,
    1e-7,
    123456789.123456789,
    0,
    -1,
    7,
    2**31,
    2**53 - 1,
    -(2**53 - 1),
]

#: Date strings in metadata: offsets, UTC markers, naive (read as UTC), date only, fractions.
DATE_VALUES: list[Any] = [
    "2024-01-01T00:30:00+01:00",
    "2023-12-31T23:30:00Z",
    "2023-12-31T22:59:59Z",
    "2024-06-15",
    "2024-06-15T12:00:00.250000+00:00",
    "1969-07-21T20:17:40",
    "2030-01-01T00:00:00-05:00",
    ["2020-01-01", "2025-01-01"],
    "not a date",
    2024,
]

DATE_FILTERS: list[dict[str, Any]] = [
    {"when": {"$gte": "2024-01-01T00:00:00+01:00"}},
    {"when": {"$lt": "2024-01-01"}},
    {"when": {"$gt": "1970-01-01", "$lte": "2024-06-15T12:00:00Z"}},
    {"when": {"$gte": "2024-06-15T12:00:00.25Z"}},
    {"$not": {"when": {"$lt": "2025-01-01"}}},
    {"when": {"$lt": datetime(2024, 6, 15, tzinfo=timezone.utc)}},
    {"when": {"$gte": 2000}},  # a number range: only the number matches
]
