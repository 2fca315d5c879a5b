"""Hostile input through the Python API, on every local backend: each case ends in a typed
vecbridge error with nothing written, or in an exact round trip. Never a traceback of another
kind, never a silent change."""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pytest

from tests.conformance.backends import BACKENDS
from vecbridge.core import (
    Collection,
    CollectionSpec,
    InvalidFilter,
    InvalidInput,
    Record,
    Store,
    VecbridgeError,
)
from vecbridge.embedders.hashing import HashingEmbedder
from vecbridge.testing import Backend

DIM = 8
LOCAL = [b for b in BACKENDS if not b.integration and not b.asynchronous]


@pytest.fixture(scope="module", params=[b.param() for b in LOCAL])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def store(backend: Backend) -> Iterator[Store]:
    reason = backend.skip_reason()
    if reason:
        pytest.skip(reason)
    s = backend.factory()
    yield s  # type: ignore[misc]
    s.close()


@pytest.fixture
def name(store: Store, backend: Backend) -> Iterator[str]:
    n = "h" + uuid.uuid4().hex[:12]
    store.create_collection(CollectionSpec(n, DIM))
    store.upsert(n, [Record("seed", [1.0] * DIM, "seed text", {"k": 1})])
    backend.settle()
    yield n
    store.drop_collection(n)


def deep(levels: int, leaf: Any) -> Any:
    value = leaf
    for _ in range(levels):
        value = {"x": value}
    return value


def deep_not(levels: int) -> dict[str, Any]:
    flt: dict[str, Any] = {"k": 1}
    for _ in range(levels):
        flt = {"$not": flt}
    return flt


GOOD = [0.5] * DIM

BAD_RECORDS: dict[str, Any] = {
    "id-int": Record(7, GOOD),  # type: ignore[arg-type]
    "id-empty": Record("", GOOD),
    "id-too-long": Record("x" * 513, GOOD),
    "id-nul": Record("a\x00b", GOOD),
    "id-surrogate": Record("a\ud800b", GOOD),
    "vector-nan": Record("v", [math.nan] * DIM),
    "vector-inf": Record("v", [math.inf] + [0.0] * (DIM - 1)),
    "vector-huge-norm": Record("v", [3e38] + [0.0] * (DIM - 1)),
    "vector-beyond-float32": Record("v", [1e39] + [0.0] * (DIM - 1)),
    "vector-short": Record("v", [0.5] * (DIM - 1)),
    "vector-strings": Record("v", ["0.5"] * DIM),
    "vector-a-string": Record("v", "0.5" * DIM),  # type: ignore[arg-type]
    "vector-nested": Record("v", [[0.5]] * DIM),
    "vector-none": Record("v", None),  # type: ignore[arg-type]
    "vector-zero-cosine": Record("v", [0.0] * DIM),
    "text-empty": Record("t", GOOD, ""),
    "text-blank": Record("t", GOOD, " \n\t"),
    "text-not-str": Record("t", GOOD, 12),  # type: ignore[arg-type]
    "text-nul": Record("t", GOOD, "a\x00b"),
    "text-surrogate": Record("t", GOOD, "\udfff"),
    "meta-not-dict": Record("m", GOOD, None, ["a"]),  # type: ignore[arg-type]
    "meta-nan": Record("m", GOOD, None, {"x": math.nan}),
    "meta-inf": Record("m", GOOD, None, {"x": -math.inf}),
    "meta-int-2**53": Record("m", GOOD, None, {"x": 2**53}),
    "meta-int-2**70": Record("m", GOOD, None, {"x": 2**70}),
    "meta-int-negative-2**63": Record("m", GOOD, None, {"x": -(2**63)}),
    "meta-deep-3000": Record("m", GOOD, None, {"x": deep(3000, 1)}),
    "meta-deep-33": Record("m", GOOD, None, {"x": deep(33, 1)}),
    "meta-datetime": Record("m", GOOD, None, {"x": datetime.now(timezone.utc)}),
    "meta-bytes": Record("m", GOOD, None, {"x": b"raw"}),
    "meta-set": Record("m", GOOD, None, {"x": {1, 2}}),
    "meta-object": Record("m", GOOD, None, {"x": object()}),
    "meta-int-key": Record("m", GOOD, None, {1: "x"}),
    "meta-empty-key": Record("m", GOOD, None, {"": "x"}),
    "meta-nul-key": Record("m", GOOD, None, {"a\x00": "x"}),
    "meta-nul-value": Record("m", GOOD, None, {"a": "x\x00"}),
    "meta-surrogate-value": Record("m", GOOD, None, {"a": ["ok", "\ud834"]}),
    "not-a-record": {"id": "x", "vector": GOOD},
}


@pytest.mark.parametrize("case", list(BAD_RECORDS), ids=list(BAD_RECORDS))
def test_bad_record_writes_nothing(store: Store, name: str, backend: Backend, case: str) -> None:
    with pytest.raises(InvalidInput):
        store.upsert(name, [Record("fine", GOOD, "fine"), BAD_RECORDS[case]])
    backend.settle()
    assert store.count(name) == 1


BAD_FILTERS: dict[str, Any] = {
    "not-a-dict": ["k", 1],
    "null-value": {"k": None},
    "nested-not-850": deep_not(850),
    "nested-not-33": deep_not(33),
    "in-50000": {"k": {"$in": list(range(50_000))}},
    "in-empty": {"k": {"$in": []}},
    "surrogate": {"k": "\ud800"},
    "nul": {"k": "a\x00"},
    "int-2**64": {"k": 2**64},
    "range-string": {"k": {"$gt": "abc"}},
    "range-nan": {"k": {"$lt": math.nan}},
    "range-inf": {"k": {"$lt": math.inf}},
    "unknown-op": {"k": {"$regex": ".*"}},
    "dotted-field": {"a.b": 1},
    "exists-string": {"k": {"$exists": "yes"}},
    "and-not-list": {"$and": {"k": 1}},
    "too-many-conditions": {"$or": [{f"f{i}": i} for i in range(300)]},
}


@pytest.mark.parametrize("case", list(BAD_FILTERS), ids=list(BAD_FILTERS))
def test_bad_filter_is_refused_everywhere(store: Store, name: str, case: str) -> None:
    flt = BAD_FILTERS[case]
    calls: list[Callable[[], Any]] = [
        lambda: store.query(name, GOOD, filter=flt),
        lambda: store.count(name, filter=flt),
        lambda: store.delete(name, filter=flt),
    ]
    for call in calls:
        with pytest.raises(InvalidFilter):
            call()
    assert store.count(name) == 1


BAD_K: list[Any] = [0, -1, 2**64, 10_001, 1.5, True, "10", None]


@pytest.mark.parametrize("k", BAD_K, ids=[repr(k) for k in BAD_K])
def test_bad_k(store: Store, name: str, k: Any) -> None:
    with pytest.raises(InvalidInput):
        store.query(name, GOOD, k=k)


BAD_QUERY_VECTORS: list[Any] = [[math.nan] * DIM, [3e38] * DIM, [0.5] * (DIM + 1), "abc", None, {"a": 1}, [[1.0]]]


@pytest.mark.parametrize("vector", BAD_QUERY_VECTORS, ids=[f"v{i}" for i in range(len(BAD_QUERY_VECTORS))])
def test_bad_query_vector(store: Store, name: str, vector: Any) -> None:
    with pytest.raises(InvalidInput):
        store.query(name, vector)


BAD_SPECS: list[tuple[Any, ...]] = [
    ("ok", 0),
    ("ok", -3),
    ("ok", 10**6),
    ("ok", True),
    ("ok", 1.5),
    ("ok", "8"),
    ("1bad", 8),
    ("a" * 64, 8),
    ("x;DROP TABLE y", 8),
    ("naïve", 8),
    ("ok", 8, "manhattan"),
]


@pytest.mark.parametrize("args", BAD_SPECS, ids=[repr(a)[:30] for a in BAD_SPECS])
def test_bad_collection_specs(store: Store, args: tuple[Any, ...]) -> None:
    before = store.list_collections()
    with pytest.raises(InvalidInput):
        store.create_collection(CollectionSpec(*args))
    assert store.list_collections() == before


@pytest.mark.parametrize("ids", [["a\x00"], "single-string", [None], [""], [1], ["x" * 600]])
def test_bad_ids_for_get_and_delete(store: Store, name: str, ids: Any) -> None:
    with pytest.raises(InvalidInput):
        store.get(name, ids)
    with pytest.raises(InvalidInput):
        store.delete(name, ids)
    assert store.count(name) == 1


@pytest.mark.parametrize("batch_size", [0, -1, True, 1.5, "10"])
def test_bad_batch_size(store: Store, name: str, batch_size: Any) -> None:
    with pytest.raises(InvalidInput):
        store.upsert(name, [Record("x", GOOD)], batch_size=batch_size)
    assert store.count(name) == 1


@pytest.mark.parametrize("records", ["not records", b"bytes", {"id": "x"}, 42, None])
def test_not_an_iterable_of_records(store: Store, name: str, records: Any) -> None:
    with pytest.raises(InvalidInput):
        store.upsert(name, records)
    assert store.count(name) == 1


def test_collection_add_texts_bad_inputs(store: Store, backend: Backend) -> None:
    n = "c" + uuid.uuid4().hex[:12]
    docs = Collection.open(store, n, embedder=HashingEmbedder(dimension=DIM))
    try:
        for texts, kwargs in [
            (["fine", ""], {}),
            (["fine", 3], {}),
            (["a", "b"], {"ids": ["1"]}),
            (["a", "b"], {"ids": ["1", 2]}),
            (["a", "b"], {"metadatas": [{}]}),
            (["a", "b"], {"ids": ["same", "same"]}),
            (["a", "b"], {"metadatas": [{}, {"x": math.nan}]}),
        ]:
            with pytest.raises(InvalidInput):
                docs.add_texts(texts, **kwargs)
        backend.settle()
        assert docs.count() == 0
    finally:
        docs.drop()


# ----- exact round trips of unusual but valid values -----------------------------------------

ODD_TEXTS = [
    "emoji 🚀🧪 and ZWJ 👩‍🔬",
    "right-to-left: مرحبا بالعالم",
    "combining: e\u0301 vs \u00e9",
    "control chars: \x01\x07\x1b[31m",
    "quotes ' \" ` and backslashes \\ \\\\",
    "sql: '; DROP TABLE x; --",
    'json: {"a": [1, 2]}',
    "x" * 100_000,
]


@pytest.mark.parametrize("text", ODD_TEXTS, ids=[f"t{i}" for i in range(len(ODD_TEXTS))])
def test_unusual_text_round_trips(store: Store, name: str, backend: Backend, text: str) -> None:
    meta = {"same": text[:1000], "keys with spaces and ü": True}
    if backend.max_metadata_bytes < 200_000 and len(text) > 10_000:
        text = text[:10_000]  # Pinecone keeps text within 40 KB of metadata
    store.upsert(name, [Record("odd", GOOD, text, meta)])
    backend.settle()
    (got,) = store.get(name, ["odd"])
    assert got.text == text and got.metadata == meta


def test_float32_extremes_round_trip(store: Store, backend: Backend) -> None:
    """Extreme but valid float32 values come back exactly — or, on a store that keeps less (halfvec:
    float16), are refused before anything is written."""
    n = "f" + uuid.uuid4().hex[:12]
    store.create_collection(CollectionSpec(n, 4, "dot"))
    try:
        tiny = float(np.finfo(np.float32).tiny)
        vectors = [[1e17, -1e17, tiny, 0.0], [1e-30, 1.0, -1.0, 1e-45]]
        records = [Record(f"e{i}", v) for i, v in enumerate(vectors)]
        if backend.tolerance > 1e-4:  # half precision storage
            with pytest.raises(InvalidInput, match="halfvec"):
                store.upsert(n, records)
            backend.settle()
            assert store.count(n) == 0
            return
        store.upsert(n, records)
        backend.settle()
        got = {r.id: r.vector for r in store.get(n, ["e0", "e1"])}
        for i, v in enumerate(vectors):
            assert np.array_equal(np.asarray(got[f"e{i}"], dtype=np.float32), np.asarray(v, dtype=np.float32))
        hits = store.query(n, [1.0, 0.0, 0.0, 0.0], k=2)
        assert all(math.isfinite(h.score) for h in hits)
    finally:
        store.drop_collection(n)


def test_errors_are_vecbridge_errors_not_tracebacks(store: Store, name: str) -> None:
    """A sweep of calls with wrong types: every failure is a VecbridgeError."""
    attempts: list[Callable[[], Any]] = [
        lambda: store.count(123),  # type: ignore[arg-type]
        lambda: store.describe_collection(None),  # type: ignore[arg-type]
        lambda: store.query(name, GOOD, include_vectors="yes"),  # type: ignore[arg-type]
        lambda: store.query(name, GOOD, mode="fuzzy"),
        lambda: store.query(name, GOOD, score_threshold=math.nan),
        lambda: store.scan(name, batch_size=0),
        lambda: store.scan(name, cursor=42),  # type: ignore[arg-type]
        lambda: store.create_collection("docs"),  # type: ignore[arg-type]
        lambda: store.upsert(name, [Record("x", GOOD)], tenant="acme"),
        lambda: store.query(name, GOOD, nonsense_option=1),
    ]
    for attempt in attempts:
        with pytest.raises(VecbridgeError):
            attempt()
    assert store.count(name) == 1
