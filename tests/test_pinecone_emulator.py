"""The emulator enforces what the connector relies on, seen through the real SDK (and raw HTTP
for the older API shape Pinecone Local speaks)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

pytest.importorskip("pinecone")

from pinecone import Pinecone
from pinecone.errors.exceptions import ApiError, NotFoundError

from tests.emulators.pinecone import NOT_COVERED, PineconeEmulator
from tests.emulators.pinecone.fixtures import SERVERLESS, TEST_KEY, emulator_fixture, vectors  # noqa: F401


def _index(emu: PineconeEmulator, name: str = "raw", dim: int = 4, metric: str = "cosine") -> Any:
    pc = Pinecone(api_key=TEST_KEY, host=emu.control_url)
    model = pc.indexes.create(name=name, dimension=dim, metric=metric, spec=SERVERLESS, timeout=-1)
    return pc.index(host=f"http://{model.host.split('://')[-1]}")


def test_upsert_limits(emulator: PineconeEmulator) -> None:
    idx = _index(emulator)
    with pytest.raises(ApiError, match=r"1001.*1000") as info:
        idx.upsert(vectors=[(f"v{i}", [1.0, 0, 0, 0]) for i in range(1001)])
    assert info.value.status_code == 400
    with pytest.raises(ApiError) as too_big:
        idx.upsert(
            vectors=[{"id": f"v{i}", "values": [1.0, 0, 0, 0], "metadata": {"t": "x" * 30_000}} for i in range(80)]
        )
    assert too_big.value.status_code == 413
    with pytest.raises(ApiError, match="Metadata size"):
        idx.upsert(vectors=[{"id": "big", "values": [1.0, 0, 0, 0], "metadata": {"t": "x" * 41_000}}])
    with pytest.raises(ApiError, match="non-zero"):
        idx.upsert(vectors=[("zero", [0.0, 0, 0, 0])])
    with pytest.raises(ApiError, match="dimension"):
        idx.upsert(vectors=[("short", [1.0, 0])])
    assert idx.describe_index_stats().total_vector_count == 0  # every refused request wrote nothing


def test_metadata_rules(emulator: PineconeEmulator) -> None:
    idx = _index(emulator)
    for bad in ({"n": {"a": 1}}, {"l": [1, 2]}):
        with pytest.raises(ApiError, match="string, number, boolean or list of strings"):
            idx._http.post("/vectors/upsert", json={"vectors": [{"id": "x", "values": [1, 0, 0, 0], "metadata": bad}]})
    idx.upsert(vectors=[{"id": "n", "values": [1.0, 0, 0, 0], "metadata": {"keep": 3, "drop": None}}])
    assert idx.fetch(ids=["n"]).vectors["n"].metadata == {"keep": 3.0}  # nulls stripped, numbers are floats


def test_read_limits(emulator: PineconeEmulator) -> None:
    idx = _index(emulator)
    idx.upsert(vectors=[(f"v{i}", vectors(1, 4, seed=i)[0]) for i in range(5)])
    with pytest.raises(ApiError, match="includeMetadata"):
        idx.query(vector=[1.0, 0, 0, 0], top_k=1001, include_metadata=True)
    assert len(idx.query(vector=[1.0, 0, 0, 0], top_k=10_000).matches) == 5
    with pytest.raises(ApiError, match="1000"):
        idx.fetch(ids=[f"v{i}" for i in range(1001)])
    with pytest.raises(ApiError, match="spaces"):
        idx._http.get("/vectors/fetch", params={"ids": ["a b"]})
    with pytest.raises(ApiError, match="1000"):
        idx.delete(ids=[f"v{i}" for i in range(1001)])
    with pytest.raises(NotFoundError):
        idx.delete(ids=["v1"], namespace="never-written")
    page = idx.list_paginated(limit=2)
    assert [v.id for v in page.vectors] == ["v0", "v1"] and page.pagination is not None
    rest = idx.list_paginated(limit=100, pagination_token=page.pagination.next)
    assert [v.id for v in rest.vectors] == ["v2", "v3", "v4"] and rest.pagination is None


def test_pinecone_filter_semantics(emulator: PineconeEmulator) -> None:
    idx = _index(emulator)
    idx.upsert(
        vectors=[
            {"id": "list", "values": [1.0, 0, 0, 0], "metadata": {"g": ["a", "b"]}},
            {"id": "str", "values": [0, 1.0, 0, 0], "metadata": {"g": "c"}},
            {"id": "none", "values": [0, 0, 1.0, 0], "metadata": {"other": 1}},
            {"id": "bool", "values": [0, 0, 0, 1.0], "metadata": {"g": True}},
        ]
    )

    def ids(flt: dict[str, Any]) -> set[str]:
        return {m.id for m in idx.query(vector=[1.0, 1, 1, 1], top_k=10, filter=flt).matches}

    assert ids({"g": "a"}) == {"list"}
    assert ids({"g": {"$ne": "a"}}) == {"str", "bool"}  # missing fields do not match $ne
    assert ids({"g": {"$nin": ["b", "c"]}}) == {"bool"}
    assert ids({"g": {"$exists": False}}) == {"none"}
    assert ids({"g": {"$eq": 1}}) == set()  # a boolean is not a number
    with pytest.raises(ApiError, match=r"unsupported operator \$not"):
        ids({"$not": {"g": "a"}})
    with pytest.raises(ApiError, match="strings and numbers"):
        ids({"g": {"$in": [True]}})


def _raw(emu: PineconeEmulator, method: str, path: str, version: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        emu.control_url + path,
        data=data,
        method=method,
        headers={"Api-Key": TEST_KEY, "X-Pinecone-Api-Version": version, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as reply:
            raw = reply.read()
            return reply.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_both_control_plane_shapes(emulator: PineconeEmulator) -> None:
    legacy = {
        "name": "old",
        "dimension": 3,
        "metric": "dotproduct",
        "spec": {"serverless": {"cloud": "aws", "region": "us-east-1"}},
    }
    status, model = _raw(emulator, "POST", "/indexes", "2025-01", legacy)
    assert status == 201 and model["dimension"] == 3 and model["spec"]["serverless"]["cloud"] == "aws"
    assert ":" in model["host"] and "://" not in model["host"]  # bare host:port, like Pinecone Local
    _, modern = _raw(emulator, "GET", "/indexes/old", "2026-07")
    assert modern["schema"]["fields"]["_values"] == {"type": "dense_vector", "dimension": 3, "metric": "dotproduct"}
    assert modern["deployment"]["deployment_type"] == "managed"
    status, error = _raw(emulator, "POST", "/indexes", "2026-07", {**legacy, "name": "Bad_Name"})
    assert status == 400 and error["error"]["code"] == "INVALID_ARGUMENT" and error["status"] == 400
    status, error = _raw(emulator, "POST", "/indexes", "2025-01", legacy)
    assert status == 409 and error["error"]["code"] == "ALREADY_EXISTS"
    status, error = _raw(emulator, "GET", "/collections", "2026-07")
    assert status == 501


def test_the_list_of_what_is_not_covered_is_kept() -> None:
    assert len(NOT_COVERED) >= 5 and all(isinstance(item, str) and item for item in NOT_COVERED)
