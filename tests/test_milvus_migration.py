"""Migration to and from Milvus (Milvus Lite) with ``vecbridge.core.migration.migrate``: the
destination holds exactly the source's records (ids, vectors within float32, text, metadata), its
spec (fingerprint, hybrid) and answers the same searches, for Milvus <-> memory, Qdrant Edge and
pgvector (embedded PostgreSQL)."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("vecbridge.connectors.milvus", reason="pip install 'vecbridge[milvus]'")

from tests.backends.milvus import _skip_without_milvus, lite_url
from vecbridge.core import CollectionSpec, EmbedderFingerprint, Metric, Record, connect, iter_records, matches
from vecbridge.core.migration import migrate

if (_reason := _skip_without_milvus()) is not None:
    pytest.skip(_reason, allow_module_level=True)

DIM = 16
N = 700  # more than one page and one batch of the copy


def _milvus() -> Any:
    return connect(lite_url())


def _memory() -> Any:
    return connect("memory://")


def _qdrant_edge() -> Any:
    return connect("qdrant+edge://" + tempfile.mkdtemp(prefix="vb-edge-"))


def _pgvector() -> Any:
    from tests.backends.pgvector import _skip_without_pgserver, embedded_url

    reason = _skip_without_pgserver()
    if reason is not None:
        pytest.skip(reason)
    return connect(embedded_url())


OTHERS: dict[str, Callable[[], Any]] = {"memory": _memory, "qdrant-edge": _qdrant_edge, "pgvector": _pgvector}


def _records() -> list[Record]:
    rng = np.random.default_rng(5)
    vecs = rng.normal(size=(N, DIM)).astype(np.float32)
    out = []
    for i in range(N):
        metadata: dict[str, Any] = {
            "i": i,
            "ratio": i / 7,
            "even": i % 2 == 0,
            "tags": ["a", "b"] if i % 3 == 0 else [],
            "lang": ["en", "de", "日本語"][i % 3],
            "when": f"2024-01-{1 + i % 28:02d}T12:00:00Z",
            "nested": {"k": [1, 2.5, None]},
            "nothing": None,
        }
        out.append(Record(f"doc/{i:04d} \"q\" 'x'", vecs[i].tolist(), f"text number {i} about topic {i % 5}", metadata))
    return out


SPEC = CollectionSpec(
    "moved",
    DIM,
    Metric.DOT,  # stores keep DOT vectors as given (cosine ones may be normalised)
    EmbedderFingerprint("hashing", "hash-16", DIM, "RETRIEVAL_DOCUMENT", {"ngram": 3}),
    hybrid=True,
)


def _open(factory: Callable[[], Any]) -> Any:
    try:
        return factory()
    except ImportError as exc:  # a connector being ported, or an extra not installed
        pytest.skip(f"store not available: {exc}")


@pytest.fixture(params=[(s, d) for o in OTHERS for s, d in (("milvus", o), (o, "milvus"))], ids=lambda p: "->".join(p))
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    source_name, destination_name = request.param
    factories = {"milvus": _milvus, **OTHERS}
    source = _open(factories[source_name])
    destination = _open(factories[destination_name])
    try:
        yield source, destination
    finally:
        for store in (source, destination):
            if store.has_collection(SPEC.name):
                store.drop_collection(SPEC.name)
            store.close()


def test_migration_copies_everything_exactly(stores: tuple[Any, Any], tmp_path: Path) -> None:
    source, destination = stores
    recs = _records()
    source.create_collection(SPEC)
    source.upsert(SPEC.name, recs)

    report = migrate(source, destination, SPEC.name, batch_size=128, checkpoint=tmp_path / "ckpt")

    assert report.ok, report
    assert destination.describe_collection(SPEC.name) == SPEC
    copied = {r.id: r for r in iter_records(destination, SPEC.name)}
    assert sorted(copied) == sorted(r.id for r in recs)
    for want in recs:
        got = copied[want.id]
        assert got.text == want.text
        assert got.metadata == want.metadata
        assert type(got.metadata["ratio"]) is float and math.copysign(1, got.metadata["ratio"]) == 1
        assert np.array_equal(np.asarray(got.vector, dtype=np.float32), np.asarray(want.vector, dtype=np.float32))
    # The copy answers like the source: dense, keyword and filtered searches.
    query = recs[42].vector
    flt = {"$and": [{"lang": "de"}, {"when": {"$gte": "2024-01-10"}}, {"tags": {"$exists": False}}]}
    want = {r.id for r in recs if matches(flt, r.metadata)}
    assert 0 < len(want) < N
    for store in (source, destination):
        assert store.query(SPEC.name, query, k=1)[0].id == recs[42].id
        assert {h.id for h in store.query(SPEC.name, query, k=N, filter=flt)} == want
    keyword = [h.id for h in destination.query(SPEC.name, text="number 123", mode="keyword", k=3)]
    assert keyword[0] == recs[123].id
