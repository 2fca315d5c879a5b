"""The emulator follows Pinecone's published API and limits, seen through the real SDK (and raw
HTTP for the 2026-07 control-plane schema and the older shape Pinecone Local speaks)."""

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
    """An index made and reached with the SDK alone (its legacy ``dimension=`` form)."""
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
    with pytest.raises(ApiError, match="fetch more than 1000"):
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


def test_query_limits_are_top_k_and_4mb(emulator: PineconeEmulator) -> None:
    """Pinecone's documented query limits: top_k <= 10,000 and a response of at most 4 MB. Nothing
    ties top_k to whether metadata or values are asked for."""
    idx = _index(emulator, dim=8)
    rows = vectors(1500, 8)
    for start in (0, 1000):
        batch = [
            {"id": f"s{i}", "values": rows[i], "metadata": {"i": i}} for i in range(start, min(start + 1000, 1500))
        ]
        idx.upsert(vectors=batch)
    wide = idx.query(vector=rows[0], top_k=10_000, include_metadata=True, include_values=True)
    assert len(wide.matches) == 1500 and wide.matches[0].metadata == {"i": 0.0}
    with pytest.raises(ApiError, match="topK"):
        idx._http.post("/query", json={"vector": rows[0], "topK": 10_001})
    big = [{"id": f"b{i}", "values": v, "metadata": {"t": "x" * 35_000}} for i, v in enumerate(vectors(130, 8, seed=1))]
    for start in range(0, 130, 50):
        idx.upsert(vectors=big[start : start + 50], namespace="big")
    assert len(idx.query(vector=rows[0], top_k=130, namespace="big").matches) == 130  # ids and scores: small
    with pytest.raises(ApiError, match="4MB") as info:
        idx.query(vector=rows[0], top_k=130, namespace="big", include_metadata=True)  # 130 x 35 KB > 4 MB
    assert info.value.status_code == 400


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
    # Dense vectors-API indexes report both reserved fields, however they were created.
    assert modern["schema"]["fields"] == {
        "_values": {"type": "dense_vector", "dimension": 3, "metric": "dotproduct"},
        "_sparse_values": {"type": "sparse_vector"},
    }
    assert modern["deployment"]["deployment_type"] == "managed"
    assert modern["status"] == {"ready": True, "state": "Ready"}
    status, error = _raw(emulator, "POST", "/indexes", "2026-07", {**legacy, "name": "Bad_Name"})
    assert status == 400 and error["error"]["code"] == "INVALID_ARGUMENT" and error["status"] == 400
    status, error = _raw(emulator, "POST", "/indexes", "2025-01", legacy)
    assert status == 409 and error["error"]["code"] == "ALREADY_EXISTS"
    status, error = _raw(emulator, "GET", "/collections", "2026-07")
    assert status == 501


def _schema(**fields: Any) -> dict[str, Any]:
    return {"schema": {"fields": fields}}


DENSE = {"type": "dense_vector", "dimension": 4, "metric": "dotproduct"}
SPARSE = {"type": "sparse_vector"}


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({**_schema(_values=DENSE), "dimension": 4}, 422, "unknown field `dimension`"),  # 9.x's shape
        ({"name": "x"}, 422, "missing field `schema`"),
        (_schema(_values={"type": "dense_vector", "dimension": 4}), 422, "missing field `metric`"),
        (_schema(_values=DENSE, _sparse_values={**SPARSE, "metric": "dotproduct"}), 400, "metric"),
        (_schema(_values={**DENSE, "description": "mine"}), 400, "description"),
        (_schema(_values=DENSE, body={"type": "string", "full_text_search": {}}), 400, "reserved fields"),
        (_schema(_private=DENSE), 400, "reserved"),
        ({**_schema(_values=DENSE), "deployment": {"deployment_type": "managed", "cloud": "aws"}}, 404, "region"),
    ],
)
def test_create_follows_the_2026_07_request_schema(
    emulator: PineconeEmulator, body: dict[str, Any], status: int, words: str
) -> None:
    got, error = _raw(emulator, "POST", "/indexes", "2026-07", {"name": "x", **body})
    assert got == status and words in error["error"]["message"]
    assert emulator.indexes == {}


def test_sparse_values_need_a_declared_sparse_field(emulator: PineconeEmulator) -> None:
    """2026-07 accepts sparse writes only on indexes whose schema declared ``_sparse_values``
    (before it, any dotproduct index took them); sparse queries need dotproduct too."""
    pc = Pinecone(api_key=TEST_KEY, host=emulator.control_url)
    dense_only = pc.indexes.create(name="dense", schema={"fields": {"_values": DENSE}}, timeout=-1)
    hybrid = pc.indexes.create(
        name="hybrid", schema={"fields": {"_values": DENSE, "_sparse_values": SPARSE}}, timeout=-1
    )
    doc = {"id": "d", "values": [1.0, 0, 0, 0], "sparse_values": {"indices": [7, 9], "values": [0.5, 2.0]}}
    with pytest.raises(ApiError, match="sparse_vector field"):
        pc.index(host=f"http://{dense_only.host.split('://')[-1]}").upsert(vectors=[doc])
    idx = pc.index(host=f"http://{hybrid.host.split('://')[-1]}")
    other = {"id": "e", "values": [0.0, 1, 0, 0], "sparse_values": {"indices": [3], "values": [1.0]}}
    idx.upsert(vectors=[doc, other, {"id": "plain", "values": [2.0, 0, 0, 0]}])
    keyword = idx.query(sparse_vector={"indices": [9, 11], "values": [1.0, 1.0]}, top_k=10)
    assert [(m.id, m.score) for m in keyword.matches] == [("d", 2.0)]  # only records sharing an index
    both = idx.query(vector=[1.0, 0, 0, 0], sparse_vector={"indices": [3], "values": [4.0]}, top_k=10)
    assert [(m.id, m.score) for m in both.matches] == [("e", 4.0), ("plain", 2.0), ("d", 1.0)]
    fetched = idx.fetch(ids=["d"]).vectors["d"].sparse_values
    assert fetched is not None and (fetched.indices, fetched.values) == ([7, 9], [0.5, 2.0])
    too_long = {"indices": list(range(2049)), "values": [1.0] * 2049}
    with pytest.raises(ApiError, match="2048"):
        idx.upsert(vectors=[{"id": "long", "values": [1.0, 0, 0, 0], "sparse_values": too_long}])
    cosine = _index(emulator, "angles")
    with pytest.raises(ApiError, match="dotproduct"):
        cosine.query(sparse_vector={"indices": [1], "values": [1.0]}, top_k=1)


def test_writes_show_up_after_the_lag_with_lsns() -> None:
    """Eventual consistency as Pinecone documents it: writes are accepted at once, get an LSN
    (x-pinecone-request-lsn) and show up later; a query says which LSN it reflects."""
    with PineconeEmulator(api_key=TEST_KEY, lag=0.3) as emu:
        idx = _index(emu)
        first = idx.upsert(vectors=[("a", [1.0, 0, 0, 0])])
        assert first.response_info is not None and first.response_info.lsn_committed == 1
        early = idx.query(vector=[1.0, 0, 0, 0], top_k=5)
        assert early.matches == [] and idx.describe_index_stats().total_vector_count == 0
        assert early.response_info is not None and early.response_info.lsn_reconciled == 0
        idx.delete(ids=["a"])  # the delete waits in line behind the upsert
        emu.settle()
        late = idx.query(vector=[1.0, 0, 0, 0], top_k=5)
        assert late.matches == [] and late.response_info is not None and late.response_info.lsn_reconciled == 2
        idx.upsert(vectors=[("b", [0.0, 1, 0, 0])])
        emu.settle()
        assert [m.id for m in idx.query(vector=[0.0, 1, 0, 0], top_k=5).matches] == ["b"]


def test_namespaces_can_be_listed_and_deleted(emulator: PineconeEmulator) -> None:
    idx = _index(emulator)
    for ns in ("crm/@acme", "crm/@globex", "other"):
        idx.upsert(vectors=[("x", [1.0, 0, 0, 0])], namespace=ns)
    page = idx.list_namespaces_paginated(prefix="crm/@", limit=1)
    assert [n.name for n in page.namespaces] == ["crm/@acme"] and page.total_count == 2
    assert page.pagination is not None and page.pagination.next
    rest = idx.list_namespaces_paginated(prefix="crm/@", pagination_token=page.pagination.next)
    assert [n.name for n in rest.namespaces] == ["crm/@globex"] and rest.namespaces[0].record_count == 1
    idx.delete_namespace(name="crm/@acme")
    assert "crm/@acme" not in emulator.indexes["raw"].data.namespaces
    with pytest.raises(NotFoundError):
        idx.delete_namespace(name="crm/@acme")


def test_a_disabled_index_is_described_and_serves_nothing(emulator: PineconeEmulator) -> None:
    idx = _index(emulator)
    emulator.set_state("raw", "Disabled")
    pc = Pinecone(api_key=TEST_KEY, host=emulator.control_url)
    assert pc.indexes.describe("raw").status.state == "Disabled"
    with pytest.raises(ApiError) as info:
        idx.query(vector=[1.0, 0, 0, 0], top_k=1)
    assert info.value.status_code == 412


def test_the_list_of_what_is_not_covered_is_kept() -> None:
    assert len(NOT_COVERED) >= 5 and all(isinstance(item, str) and item for item in NOT_COVERED)
    assert not any("eventual consistency" in item for item in NOT_COVERED)  # emulated now (lag=)
