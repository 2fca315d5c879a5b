"""Qdrant drivers beyond the conformance suite, on the real engines (Qdrant Edge, local mode):
split scans, per-call search options, tenant-private keyword statistics, local mode's folder lock,
URLs, and the translation of qdrant-client's errors."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import numpy as np
import pytest
from grpc.aio import AioRpcError, Metadata
from qdrant_client.http.exceptions import UnexpectedResponse

from vecbridge.connectors.qdrant import QdrantDriver
from vecbridge.connectors.qdrant.urls import client_config
from vecbridge.core import (
    CollectionNotFound,
    CollectionSpec,
    InvalidInput,
    Record,
    RetryPolicy,
    StoreError,
    TransientError,
    connect,
)
from vecbridge.core.errors import StoreInUse
from vecbridge.core.store import VectorStore


@pytest.fixture(params=["edge", "local"])
def store(request: pytest.FixtureRequest) -> Iterator[VectorStore]:
    url = "qdrant+edge://" + tempfile.mkdtemp() if request.param == "edge" else "qdrant+local://:memory:"
    with connect(url) as opened:
        yield opened


def _records(n: int, dim: int = 8, seed: int = 0, text: str = "text") -> list[Record]:
    rng = np.random.default_rng(seed)
    return [Record(f"r{i}", rng.normal(size=dim).tolist(), f"{text} {i}", {"i": i}) for i in range(n)]


def test_scan_ranges_split_a_collection_into_disjoint_parts(store: VectorStore) -> None:
    store.create_collection(CollectionSpec("c", 8))
    store.upsert("c", _records(400))
    ranges = store.scan_ranges("c", 4)
    assert len(ranges) == 4
    parts = [
        [r.id for page in store.scan("c", batch_size=30, cursor=rng.start, stop=rng.stop) for r in page.records]
        for rng in ranges
    ]
    assert sorted(i for part in parts for i in part) == sorted(r.id for r in _records(400))
    assert all(40 < len(part) < 160 for part in parts), [len(p) for p in parts]  # uuid5 ids spread evenly


def test_search_options_are_checked_and_applied(store: VectorStore) -> None:
    store.create_collection(CollectionSpec("c", 8))
    recs = _records(50)
    store.upsert("c", recs)
    exact = store.query("c", recs[3].vector, k=5, exact=True, hnsw_ef=16)
    assert exact[0].id == "r3"
    for bad in ({"hnsw_ef": 0}, {"hnsw_ef": True}, {"hnsw_ef": "64"}, {"exact": 1}, {"ef_search": 10}):
        with pytest.raises(InvalidInput):
            store.query("c", recs[3].vector, **bad)


def test_a_tenants_keyword_scores_use_only_its_own_records(store: VectorStore) -> None:
    """IDF over the tenant's records: another tenant full of the same word changes nothing."""
    store.create_collection(CollectionSpec("shared", 8, hybrid=True, multi_tenant=True))
    store.create_collection(CollectionSpec("alone", 8, hybrid=True))
    mine = [
        Record(f"m{i}", r.vector, "rare word here" if i == 0 else f"common text {i}")
        for i, r in enumerate(_records(10))
    ]
    theirs = [Record(f"t{i}", r.vector, f"rare rare word {i}") for i, r in enumerate(_records(100, seed=1))]
    store.upsert("shared", mine, tenant="acme")
    store.upsert("shared", theirs, tenant="globex")
    store.upsert("alone", mine)
    shared = store.query("shared", text="rare", mode="keyword", tenant="acme")
    alone = store.query("alone", text="rare", mode="keyword")
    assert [h.id for h in shared] == [h.id for h in alone] == ["m0"]
    assert shared[0].score == pytest.approx(alone[0].score, rel=1e-5)


def test_local_mode_folder_is_locked_to_one_store(tmp_path: Path) -> None:
    with connect(f"qdrant+local://{tmp_path}") as first, connect(f"qdrant+local://{tmp_path}") as second:
        first.create_collection(CollectionSpec("c", 4))
        with pytest.raises(StoreInUse, match="in use"):
            second.list_collections()


def test_client_urls() -> None:
    grpc_config = client_config("qdrant://127.0.0.1:16333?grpc=true&api_key=sekret", {})
    assert grpc_config.kwargs["prefer_grpc"] and grpc_config.kwargs["grpc_port"] == 16334
    assert grpc_config.kwargs["api_key"] == "sekret" and "sekret" not in repr(grpc_config)
    assert "sekret" not in repr(QdrantDriver(grpc_config))
    cloud = client_config("qdrants://xyz.example.com", {"api_key": "k2"})
    assert cloud.kwargs["https"] and cloud.kwargs["port"] == 6333 and cloud.kwargs["api_key"] == "k2"
    assert client_config("qdrant+local://Data/Q", {}).kwargs["path"].endswith("/Data/Q")
    with pytest.raises(InvalidInput):
        client_config("qdrant://h:1?timeout=soon", {})


def _rpc_error(code: grpc.StatusCode) -> AioRpcError:
    return AioRpcError(code, Metadata(), Metadata(), details="injected")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (UnexpectedResponse(404, "Not Found", b"{}", httpx.Headers()), CollectionNotFound),
        (UnexpectedResponse(503, "Unavailable", b"{}", httpx.Headers({"Retry-After": "7"})), TransientError),
        (UnexpectedResponse(401, "Unauthorized", b"{}", httpx.Headers()), StoreError),
        (UnexpectedResponse(400, "Bad Request", b'{"status":{"error":"bad"}}', httpx.Headers()), StoreError),
        (_rpc_error(grpc.StatusCode.UNAVAILABLE), TransientError),
        (_rpc_error(grpc.StatusCode.NOT_FOUND), CollectionNotFound),
        (_rpc_error(grpc.StatusCode.INVALID_ARGUMENT), StoreError),
        (ValueError("Collection c not found"), CollectionNotFound),
    ],
)
def test_qdrant_client_errors_are_translated(error: BaseException, expected: type) -> None:
    driver = QdrantDriver(client_config("qdrant://127.0.0.1:1?api_key=sekret", {}))
    found: Any = driver.translate(error)
    assert type(found) is expected
    assert "sekret" not in str(found)
    if isinstance(error, UnexpectedResponse) and error.status_code == 503:
        assert found.retry_after == 7.0


def test_an_unreachable_server_is_transient() -> None:
    with (
        connect("qdrant://127.0.0.1:1?timeout=2", retry=RetryPolicy(attempts=1)) as store,
        pytest.raises(TransientError, match="did not answer"),
    ):
        store.list_collections()


def test_integers_beyond_2_53_are_refused_and_nothing_is_written(store: VectorStore) -> None:
    """Qdrant would keep them, but other stores compare them as floats: core refuses them."""
    store.create_collection(CollectionSpec("c", 8))
    good = _records(3)
    bad = Record("big", good[0].vector, None, {"n": 2**53 + 1})
    with pytest.raises(InvalidInput, match="2\\*\\*53"):
        store.upsert("c", [*good, bad])
    assert store.count("c") == 0
    store.upsert("c", [Record("edge", good[0].vector, None, {"n": 2**53 - 1, "m": -(2**53 - 1)})])
    assert store.get("c", ["edge"])[0].metadata == {"n": 2**53 - 1, "m": -(2**53 - 1)}
    assert store.count("c", filter={"n": {"$gte": 2**53 - 1}}) == 1
