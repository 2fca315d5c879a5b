"""The Milvus driver beyond the conformance suite: URLs and secrets, names, collections made outside
vecbridge, Milvus's size limits, requests split under the insert limit with exact accounting when
one fails, error translation, and Milvus Lite's private server. Runs on Milvus Lite."""

from __future__ import annotations

import asyncio
import stat
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest

pytest.importorskip("vecbridge.connectors.milvus", reason="pip install 'vecbridge[milvus]'")

from pymilvus import MilvusClient
from pymilvus.exceptions import MilvusException

from tests.backends.milvus import _skip_without_milvus, lite_url
from vecbridge.connectors.milvus import lite, operations
from vecbridge.connectors.milvus.errors import translate
from vecbridge.connectors.milvus.options import settings_from_url
from vecbridge.connectors.milvus.schema import milvus_name
from vecbridge.core import (
    CollectionExists,
    CollectionNotFound,
    CollectionSpec,
    EmbedderFingerprint,
    InvalidInput,
    Record,
    StoreError,
    TransientError,
    UpsertFailed,
    connect,
    connect_async,
)
from vecbridge.core.errors import StoreInUse
from vecbridge.core.retry import RetryPolicy

if (_reason := _skip_without_milvus()) is not None:
    pytest.skip(_reason, allow_module_level=True)

DIM = 8
FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.02)


def _records(n: int, **metadata: Any) -> list[Record]:
    vecs = np.random.default_rng(n).normal(size=(n, DIM)).astype(np.float32)
    return [Record(f"r{i:04d}", vecs[i].tolist(), f"text {i}", {"i": i, **metadata}) for i in range(n)]


@pytest.fixture(scope="module")
def url() -> str:
    return lite_url()


@pytest.fixture
def store(url: str) -> Iterator[Any]:
    s = connect(url, retry=FAST_RETRY)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def coll(store: Any) -> Iterator[str]:
    """A fresh collection, dropped afterwards."""
    name = "c" + uuid.uuid4().hex[:12]
    store.create_collection(CollectionSpec(name, DIM))
    yield name
    store.drop_collection(name)


# ----- URLs -------------------------------------------------------------------------------


def test_server_urls_and_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MILVUS_TOKEN", raising=False)
    s = settings_from_url("milvus://alice:s3cret@db.example:19531/tenants?tls=true&index=hnsw")
    assert (s.server_uri, s.db_name, s.index_type) == ("https://db.example:19531", "tenants", "HNSW")
    assert s.token == "alice:s3cret"
    assert "s3cret" not in repr(s) and "s3cret" not in s.label
    driver = connect("milvus://alice:s3cret@db.example").driver  # no I/O until the first call
    assert "s3cret" not in repr(driver)
    assert settings_from_url("milvus://localhost").server_uri == "http://localhost:19530"
    assert settings_from_url("milvus://localhost").index_type == "AUTOINDEX"
    monkeypatch.setenv("MILVUS_TOKEN", "key-from-env")
    assert settings_from_url("milvus://localhost").token == "key-from-env"
    assert settings_from_url("milvus://localhost", token="given").token == "given"


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("milvus://localhost?index=IVF_PQ", {}),
        ("milvus://localhost?nope=1", {}),
        ("milvus://localhost?tls=maybe", {}),
        ("milvus://localhost", {"timeout": 3}),
        ("milvus+lite://", {}),
        ("milvus+lite:///tmp/x.db", {"token": "t"}),
        ("milvus+other://localhost", {}),
    ],
)
def test_bad_urls_are_refused(url: str, options: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        settings_from_url(url, **options)


def test_lite_defaults_to_an_exact_flat_index(url: str) -> None:
    settings = settings_from_url(url)
    assert settings.index_type == "FLAT" and settings.data_dir is not None
    assert connect(url).capabilities.exact_search


# ----- names and collections ----------------------------------------------------------------


def test_names_with_dashes_stay_distinct(store: Any) -> None:
    assert milvus_name("docs_v2") == "docs_v2"
    assert milvus_name("docs-v2") != "docs_v2" and milvus_name("docs-v2").startswith("docs_v2_")
    store.create_collection(CollectionSpec("docs-v2", DIM))
    store.create_collection(CollectionSpec("docs_v2", DIM))
    try:
        store.upsert("docs-v2", _records(3))
        assert store.count("docs-v2") == 3 and store.count("docs_v2") == 0
        assert {"docs-v2", "docs_v2"} <= set(store.list_collections())
    finally:
        store.drop_collection("docs-v2")
        store.drop_collection("docs_v2")


def test_a_collection_made_outside_vecbridge_is_left_alone(store: Any) -> None:
    client = store.driver._connect()
    client.create_collection("foreign", dimension=DIM)
    try:
        assert "foreign" not in store.list_collections()
        assert not store.has_collection("foreign")
        assert store.drop_collection("foreign") is False
        assert client.has_collection("foreign")
        with pytest.raises(CollectionExists, match="outside vecbridge"):
            store.create_collection(CollectionSpec("foreign", DIM))
    finally:
        client.drop_collection("foreign")


def test_spec_and_fingerprint_survive_a_restart(url: str) -> None:
    fingerprint = EmbedderFingerprint("hashing", "h", DIM, "RETRIEVAL_DOCUMENT", {"ngram": 3})
    spec = CollectionSpec("kept", DIM, "dot", fingerprint, hybrid=True)
    first = connect(url)
    first.create_collection(spec)
    first.upsert("kept", _records(5))
    first.close()
    assert lite.running() == [], "closing the last store stops Milvus Lite"
    second = connect(url)
    try:
        assert second.describe_collection("kept") == spec
        assert second.count("kept") == 5
        assert [h.id for h in second.query("kept", text="text 3", mode="keyword", k=1)] == ["r0003"]
        second.upsert("kept", _records(7)[5:])
        second.delete("kept", ["r0000"])
        assert sorted(r.id for p in second.scan("kept") for r in p.records) == [f"r000{i}" for i in range(1, 7)]
    finally:
        second.drop_collection("kept")
        second.close()


def test_dropped_behind_our_back(store: Any) -> None:
    store.create_collection(CollectionSpec("gone", DIM))
    store.driver._connect().drop_collection("gone")
    with pytest.raises(CollectionNotFound):
        store.upsert("gone", _records(2))


# ----- Milvus's limits ------------------------------------------------------------------------


def test_what_milvus_cannot_keep_is_refused_before_writing(store: Any, coll: str) -> None:
    good = _records(2)
    too_long = Record("long", good[0].vector, "é" * 33_000)  # 66,000 bytes of UTF-8
    with pytest.raises(InvalidInput, match="VARCHAR"):
        store.upsert(coll, [*good, too_long])
    too_big = Record("big", good[0].vector, None, {"blob": "x" * 70_000})
    with pytest.raises(InvalidInput, match="JSON"):
        store.upsert(coll, [*good, too_big])
    # Small metadata, but a long key repeated in the filter index's term of every list element.
    many_terms = Record("terms", good[0].vector, None, {"k" * 2_000: list(range(100))})
    with pytest.raises(InvalidInput, match="index for filters"):
        store.upsert(coll, [*good, many_terms])
    assert store.count(coll) == 0
    fits = Record("fits", good[0].vector, "é" * 32_000, {"blob": "x" * 60_000})
    store.upsert(coll, [fits])
    assert store.get(coll, ["fits"])[0].metadata == fits.metadata


class _Spy:
    """Counts the rows of each upsert request and fails chosen ones, around the real client."""

    def __init__(self, client: MilvusClient, fail: dict[int, BaseException]) -> None:
        self.fail = fail
        self.requests: list[list[str]] = []
        self.upsert = client.upsert

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.requests.append([row["id"] for row in kwargs["data"]])
        error = self.fail.pop(len(self.requests), None)
        if error is not None:
            raise error
        return self.upsert(*args, **kwargs)


@pytest.fixture
def small_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests of about 10 records (each ~1 KB as the driver counts it)."""
    monkeypatch.setattr(operations, "MAX_REQUEST_BYTES", 10_000)


def _spy(store: Any, monkeypatch: pytest.MonkeyPatch, fail: dict[int, BaseException]) -> _Spy:
    client = store.driver._connect()
    spy = _Spy(client, fail)
    monkeypatch.setattr(client, "upsert", spy)
    return spy


def test_batches_are_split_under_the_request_limit(
    store: Any, coll: str, small_requests: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _spy(store, monkeypatch, {})
    recs = _records(100, pad="p" * 800)
    store.upsert(coll, recs, batch_size=100)
    assert len(spy.requests) > 5 and max(len(r) for r in spy.requests) < 20
    assert [i for r in spy.requests for i in r] == [r.id for r in recs]
    assert store.count(coll) == 100


@pytest.mark.parametrize("transient", [True, False], ids=["transient", "permanent"])
def test_a_failed_request_is_accounted_exactly(
    store: Any, coll: str, small_requests: None, monkeypatch: pytest.MonkeyPatch, transient: bool
) -> None:
    """The second request of a batch fails: a transient failure resends only its records (and the
    later ones), a permanent one reports exactly the first request's records as written."""
    error = MilvusException(8, "rate limit exceeded") if transient else MilvusException(1100, "invalid parameter")
    spy = _spy(store, monkeypatch, {2: error})
    recs = _records(40, pad="p" * 800)
    if transient:
        store.upsert(coll, recs, batch_size=40)
        first, failed, *rest = spy.requests
        assert failed[0] == recs[len(first)].id
        resent = [i for r in rest for i in r]
        assert first[0] not in resent, "records that landed are not sent again"
        assert sorted(resent) == sorted(r.id for r in recs if r.id not in first)
        assert store.count(coll) == 40
        return
    with pytest.raises(UpsertFailed) as caught:
        store.upsert(coll, recs, batch_size=40)
    landed = spy.requests[0]
    assert caught.value.written_ids == landed
    assert sorted(caught.value.failed_ids) == sorted(r.id for r in recs if r.id not in landed)
    assert sorted(r.id for r in store.get(coll, [r.id for r in recs])) == sorted(landed)


# ----- errors ---------------------------------------------------------------------------------


class _RpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return "connection refused"


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (MilvusException(100, "collection not found[collection=x]"), CollectionNotFound),
        (MilvusException(1, "collection 'x' already exists"), CollectionExists),
        (MilvusException(8, "rate limit exceeded"), TransientError),
        (MilvusException(2, "service unavailable"), TransientError),
        (MilvusException(9, "quota exceeded"), StoreError),
        (MilvusException(1, "unexpected error"), StoreError),
        (MilvusException(1, "service not ready"), TransientError),
        (MilvusException(1100, "invalid parameter", is_input_error=True), InvalidInput),
        (_RpcError(grpc.StatusCode.UNAVAILABLE), TransientError),
        (_RpcError(grpc.StatusCode.PERMISSION_DENIED), StoreError),
        (MilvusException(grpc.StatusCode.UNAVAILABLE, "[query] Retry run out of 0 retry times, x"), TransientError),
    ],
)
def test_error_translation(exc: Exception, kind: type[Exception]) -> None:
    error = translate(exc)
    assert type(error) is kind, error
    assert "Retry run out" not in str(error)


def test_pymilvus_retry_wrapper_is_unwrapped() -> None:
    """With retry_times=0 pymilvus re-raises the server's error inside a new MilvusException that
    drops its flags; the translation reads the original."""
    try:
        try:
            raise MilvusException(4, "request limit exceeded", retriable=True)
        except MilvusException as inner:
            wrapped = "[upsert] Retry run out of 0 retry times, message=request limit exceeded"
            raise MilvusException(4, wrapped) from inner
    except MilvusException as outer:
        error = translate(outer)
    assert isinstance(error, TransientError) and str(error).endswith("request limit exceeded")


# ----- Milvus Lite's server -------------------------------------------------------------------


def test_lite_serves_on_a_private_socket(store: Any, url: str) -> None:
    store.list_collections()
    (data_dir,) = lite.running()
    handle = lite._servers[data_dir]
    assert handle.uri.startswith("unix:")
    assert stat.S_IMODE(handle.socket_dir.stat().st_mode) == 0o700


def test_stores_on_one_directory_share_its_server(url: str) -> None:
    a, b = connect(url), connect(url)
    try:
        a.create_collection(CollectionSpec("shared", DIM))
        a.upsert("shared", _records(4))
        assert b.count("shared") == 4
        a.close()
        assert b.count("shared") == 4, "one store closing leaves the server to the other"
        b.drop_collection("shared")
    finally:
        a.close()
        b.close()
    assert lite.running() == []


def test_a_directory_locked_elsewhere_is_in_use(tmp_path: Path) -> None:
    from milvus_lite import MilvusLite

    holder = MilvusLite(str(tmp_path / "held.db"))  # as another process would hold it
    try:
        with pytest.raises(StoreInUse):
            connect(f"milvus+lite://{tmp_path / 'held.db'}").list_collections()
    finally:
        holder.close()
    assert lite.running() == []


def test_a_store_left_open_is_stopped_at_exit(tmp_path: Path) -> None:
    url = f"milvus+lite://{tmp_path / 'left.db'}"
    code = textwrap.dedent(
        f"""
        from vecbridge.connectors.milvus import lite
        from vecbridge.core import CollectionSpec, Record, connect
        store = connect({url!r})
        store.create_collection(CollectionSpec("left", 2))
        store.upsert("left", [Record("a", [1.0, 0.0])])
        print(lite._servers[lite.running()[0]].socket_dir)
        """
    )
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    assert not Path(child.stdout.strip()).exists(), "the socket folder is removed at exit"
    reopened = connect(url)
    try:
        assert reopened.count("left") == 1
    finally:
        reopened.close()


def test_async_store_starts_lite_off_the_event_loop(url: str) -> None:
    async def main() -> int:
        store = connect_async(url)
        assert lite.running() == [], "no I/O before the first call"
        try:
            await store.create_collection(CollectionSpec("async_made", DIM))
            await store.upsert("async_made", _records(3))
            return await store.count("async_made")
        finally:
            await store.drop_collection("async_made")
            await store.close()

    assert asyncio.run(main()) == 3
    assert lite.running() == []
