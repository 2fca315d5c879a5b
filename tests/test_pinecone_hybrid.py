"""Hybrid collections on Pinecone: sparse keyword vectors beside dense ones on a dotproduct index,
cosine kept exact through unit vectors, keyword-only rankings, Pinecone's sparse limits."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pinecone")

from tests.emulators.pinecone import PineconeEmulator
from tests.emulators.pinecone.fixtures import emulator_fixture, store_fixture, vectors  # noqa: F401
from vecbridge.core import CollectionSpec, InvalidInput, Metric, Record
from vecbridge.core.keywords import document_vector, query_vector
from vecbridge.core.store import Store

DIM = 8
TEXTS = [
    "pump gasket replacement guide",
    "gasket gasket gasket seal kit",
    "winter storage of garden pumps",
    "nothing in common here",
]


def _recs() -> list[Record]:
    return [
        Record(f"d{i}", v, t, {"i": i})
        for i, (v, t) in enumerate(zip(vectors(len(TEXTS), DIM, seed=3), TEXTS, strict=True))
    ]


def test_records_carry_their_words_as_sparse_values(emulator: PineconeEmulator, store: Store) -> None:
    store.create_collection(CollectionSpec("kw", DIM, Metric.DOT, hybrid=True))
    store.upsert("kw", _recs())
    (sent,) = emulator.received("/vectors/upsert")
    for vector, text in zip(sent.vectors, TEXTS, strict=True):
        expected = document_vector(text)
        assert vector["sparseValues"]["indices"] == list(expected.indices)
        assert vector["sparseValues"]["values"] == pytest.approx(list(expected.values))


def test_keyword_search_ranks_shared_words_only(emulator: PineconeEmulator, store: Store) -> None:
    store.create_collection(CollectionSpec("kw", DIM, Metric.DOT, hybrid=True))
    store.upsert("kw", _recs())
    hits = store.query("kw", text="Gasket pumps", mode="keyword", k=10)
    query = query_vector("Gasket pumps").as_dict()
    expected = {
        f"d{i}": sum(w for t, w in document_vector(text).as_dict().items() if t in query)
        for i, text in enumerate(TEXTS)
    }
    assert [h.id for h in hits] == sorted((i for i, s in expected.items() if s > 0), key=lambda i: -expected[i])
    assert [h.score for h in hits] == pytest.approx([expected[h.id] for h in hits], rel=1e-6)
    assert hits[0].text == TEXTS[1] and hits[0].metadata == {"i": 1}
    emulator.clear()
    assert store.query("kw", text="?!", mode="keyword", k=5) == []  # no words, no match
    assert emulator.received("/query") == []


def test_cosine_hybrid_keeps_cosine_scores(emulator: PineconeEmulator, store: Store) -> None:
    spec = store.create_collection(CollectionSpec("cos", DIM, Metric.COSINE, hybrid=True))
    assert spec.metric is Metric.COSINE and emulator.indexes["cos"].metric == "dotproduct"
    recs = [Record(r.id, (np.asarray(r.vector) * (i + 2)).tolist(), r.text, r.metadata) for i, r in enumerate(_recs())]
    store.upsert("cos", recs)
    probe = np.asarray(vectors(1, DIM, seed=9)[0]) * 5
    hits = store.query("cos", probe.tolist(), k=4)
    data = np.asarray([r.vector for r in recs])
    cosine = data @ probe / (np.linalg.norm(data, axis=1) * np.linalg.norm(probe))
    by_id = {r.id: c for r, c in zip(recs, cosine, strict=True)}
    assert [h.score for h in hits] == pytest.approx([by_id[h.id] for h in hits], abs=1e-5)
    (back,) = store.get("cos", ["d1"])
    assert np.linalg.norm(back.vector) == pytest.approx(1.0, abs=1e-6)  # the direction is kept
    assert np.asarray(back.vector) == pytest.approx(data[1] / np.linalg.norm(data[1]), abs=1e-6)


def test_texts_beyond_pinecones_sparse_limit_are_refused(emulator: PineconeEmulator, store: Store) -> None:
    store.create_collection(CollectionSpec("long", DIM, Metric.DOT, hybrid=True))
    many_words = " ".join(f"w{i}" for i in range(2100))
    batch = [*_recs(), Record("essay", vectors(1, DIM, seed=5)[0], many_words)]
    with pytest.raises(InvalidInput, match=r"2048 distinct words.*'essay' \(2100 distinct words\)"):
        store.upsert("long", batch)
    assert emulator.received("/vectors/upsert") == []
    store.create_collection(CollectionSpec("plain", DIM, Metric.DOT))  # not hybrid: no keyword vector, no limit
    assert store.upsert("plain", batch) == len(batch)
