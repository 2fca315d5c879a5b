"""The pgvector driver beyond the conformance suite: URLs and secrets, column types and indexes,
search settings, iterative scans, all-or-nothing batches, error translation, the catalog, schemas,
scans and the embedded server's life cycle. Everything runs on a real PostgreSQL + pgvector."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("vecbridge.connectors.pgvector", reason="pip install 'vecbridge[pgvector]'")
psycopg = pytest.importorskip("psycopg")

from psycopg import sql  # noqa: E402

from tests.backends.pgvector import (  # noqa: E402
    _skip_without_pgserver,
    embedded_conninfo,
    embedded_store,
    embedded_url,
    private_parent,
)
from vecbridge.connectors.pgvector import PgVectorDriver, PgVectorOptions  # noqa: E402
from vecbridge.connectors.pgvector import embedded as embedded_server  # noqa: E402
from vecbridge.connectors.pgvector.errors import PoolClosed, PoolExhausted, translate  # noqa: E402
from vecbridge.connectors.pgvector.location import describe_conninfo  # noqa: E402
from vecbridge.core import (  # noqa: E402
    CollectionNotFound,
    CollectionSpec,
    EmbedderFingerprint,
    InvalidInput,
    Metric,
    Record,
    Store,
    StoreError,
    TransientError,
    UpsertFailed,
    connect,
)
from vecbridge.core.retry import RetryPolicy  # noqa: E402

if (_reason := _skip_without_pgserver()) is not None:
    pytest.skip(_reason, allow_module_level=True)

FAST_RETRY = RetryPolicy(attempts=4, initial_wait=0.01, max_wait=0.05)


def _name() -> str:
    return "t" + uuid.uuid4().hex[:12]


def _records(n: int, dim: int, seed: int = 0, **metadata: Any) -> list[Record]:
    vecs = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return [Record(f"r{i:05d}", vecs[i].tolist(), f"text {i}", {"i": i, **metadata}) for i in range(n)]


def _admin() -> Any:
    return psycopg.connect(embedded_conninfo(), autocommit=True)


def _socket_dir() -> str:
    return str(psycopg.conninfo.conninfo_to_dict(embedded_conninfo())["host"])


def _superuser_password() -> str:
    return str(psycopg.conninfo.conninfo_to_dict(embedded_conninfo())["password"])


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    s = embedded_store(retry=FAST_RETRY)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def name(store: Store) -> Iterator[str]:
    n = _name()
    yield n
    store.drop_collection(n)


# ----- URLs, options, secrets -----------------------------------------------------------------


def test_options_split_between_connector_and_libpq() -> None:
    opts, libpq = PgVectorOptions.split({"schema": "rag", "index": "ivfflat", "sslmode": "require"}, {"lists": 7})
    assert (opts.schema, opts.index, opts.lists) == ("rag", "ivfflat", 7)
    assert libpq == {"sslmode": "require"}


@pytest.mark.parametrize(
    "bad",
    [
        {"index": "annoy"},
        {"storage": "float8"},
        {"m": 1},
        {"m": 16, "ef_construction": 20},
        {"ef_search": 0},
        {"ef_search": "many"},
        {"iterative_scan": "sometimes"},
        {"pool_max_size": 0},
        {"maintenance_work_mem": "lots"},
        {"build_workers": -1},
        {"defer_index": "maybe"},
        {"pool_timeout": -1},
        {"create_extension": "perhaps"},
    ],
)
def test_bad_options_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match="pgvector option"):
        PgVectorOptions(**bad)


def test_url_errors() -> None:
    with pytest.raises(InvalidInput, match="unknown pgvector option"):
        PgVectorDriver.from_url(embedded_url(), colour="blue")
    with pytest.raises(InvalidInput, match="pgvector://"):
        PgVectorDriver.from_url("qdrant://localhost:6333")
    with pytest.raises(StoreError, match="data folder"):
        PgVectorDriver.from_url("pgvector+embedded://")
    with pytest.raises(InvalidInput, match="sslmode"):
        PgVectorDriver.from_url(embedded_url() + "?sslmode=require")
    with pytest.raises(InvalidInput, match="quote"):
        PgVectorDriver.from_url('pgvector+embedded:///tmp/a"b')


def test_missing_extra_is_named() -> None:
    """Without psycopg the connector says which extra to install; the core never needs it."""
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "import vecbridge.core\n"
        "try:\n"
        "    import vecbridge.connectors.pgvector\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.startswith("MissingExtra") and "pip install 'vecbridge[pgvector]'" in out.stdout


def test_connect_finds_the_connector(store: Store) -> None:
    other = connect(embedded_url())
    try:
        assert isinstance(other.driver, PgVectorDriver)
        assert other.list_collections() == store.list_collections()
    finally:
        other.close()


def test_password_never_shows() -> None:
    secret = "s3cret-" + uuid.uuid4().hex[:6]
    assert secret not in describe_conninfo(f"host=db.example user=alice password={secret} dbname=x")
    # Port 1 on localhost refuses at once: the error must name the server, not the password.
    with pytest.raises(StoreError) as info:
        PgVectorDriver.from_url(f"pgvector://alice:{secret}@127.0.0.1:1/db?connect_timeout=2")
    assert secret not in str(info.value) and "127.0.0.1" in str(info.value)
    # A working store with the (embedded server's) password in its URL.
    password = _superuser_password()
    s = connect(f"pgvector://postgres:{password}@/postgres?host={_socket_dir()}")
    try:
        assert password not in repr(s) and password not in repr(s.driver)
        with pytest.raises(CollectionNotFound) as missing:
            s.describe_collection("nowhere")
        assert password not in str(missing.value)
    finally:
        s.close()


@pytest.fixture(scope="module")
def password_role(store: Store) -> Iterator[tuple[str, str]]:
    """A role that must authenticate with a password (scram, as every role of the embedded server)."""
    role, password = "pwuser", "pw-" + uuid.uuid4().hex[:8]
    with _admin() as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
        conn.execute(sql.SQL("GRANT SELECT ON vecbridge_collections TO {}").format(sql.Identifier(role)))
    yield role, password


def test_password_from_url_or_pgpassword(password_role: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    role, password = password_role
    base = f"/postgres?host={_socket_dir()}"
    monkeypatch.delenv("PGPASSWORD", raising=False)
    with pytest.raises(StoreError) as refused:
        PgVectorDriver.from_url(f"pgvector://{role}:wrong-{password}@{base}")
    assert password not in str(refused.value)
    with pytest.raises(StoreError):
        PgVectorDriver.from_url(f"pgvector://{role}@{base}")  # no password at all
    PgVectorDriver.from_url(f"pgvector://{role}:{password}@{base}").close()
    monkeypatch.setenv("PGPASSWORD", password)
    s = connect(f"pgvector://{role}@{base}")
    try:
        assert password not in repr(s)
        assert isinstance(s.list_collections(), list)
    finally:
        s.close()


# ----- column types and indexes ---------------------------------------------------------------


def _column_type(table: str, schema: str = "public") -> str:
    with _admin() as conn:
        row = conn.execute(
            "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attname = 'embedding'",
            [schema, table],
        ).fetchone()
    return str(row[0])


def _index_methods(table: str) -> list[str]:
    with _admin() as conn:
        rows = conn.execute(
            "SELECT am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = c.relam WHERE i.indrelid = %s::regclass ORDER BY 1",
            [sql.Identifier(table).as_string(conn)],
        ).fetchall()
    return [r[0] for r in rows]


def test_default_layout(store: Store, name: str) -> None:
    store.create_collection(CollectionSpec(name, 16))
    assert _column_type(name) == "vector(16)"
    assert _index_methods(name) == ["btree", "gin"]  # the vector index waits for data
    store.upsert(name, _records(10, 16))
    assert _index_methods(name) == ["btree", "gin", "hnsw"]
    layout = store.driver.layout(name)
    assert (layout.storage, layout.index, layout.m, layout.ef_construction) == ("vector", "hnsw", 16, 64)


def test_wide_vectors_switch_to_halfvec(store: Store, name: str) -> None:
    dim = 2001  # one past what HNSW indexes on `vector`
    store.create_collection(CollectionSpec(name, dim, Metric.COSINE))
    assert _column_type(name) == f"halfvec({dim})"
    recs = _records(5, dim)
    store.upsert(name, recs)
    assert "hnsw" in _index_methods(name)
    hit = store.query(name, recs[3].vector, k=1, include_vectors=True)[0]
    assert hit.id == recs[3].id and abs(hit.score - 1.0) < 1e-3
    assert np.allclose(hit.vector, recs[3].vector, atol=5e-3)


def test_too_wide_for_an_index(store: Store, name: str) -> None:
    with pytest.raises(InvalidInput, match="index='none'"):
        store.create_collection(CollectionSpec(name, 4001))
    vector_only = embedded_store(storage="vector")
    try:
        with pytest.raises(InvalidInput, match="halfvec"):
            vector_only.create_collection(CollectionSpec(name, 2001))
    finally:
        vector_only.close()
    exact = embedded_store(index="none")
    try:
        exact.create_collection(CollectionSpec(name, 4001))
        assert _column_type(name) == "vector(4001)"
        assert _index_methods(name) == ["btree", "gin"]
        recs = _records(3, 4001)
        exact.upsert(name, recs)
        assert [h.id for h in exact.query(name, recs[1].vector, k=1)] == [recs[1].id]
    finally:
        exact.close()


def test_ivfflat_and_probes(name: str) -> None:
    s = embedded_store(index="ivfflat", lists=4)
    try:
        s.create_collection(CollectionSpec(name, 8, Metric.EUCLIDEAN))
        s.upsert(name, _records(3, 8, seed=2))
        assert "ivfflat" not in _index_methods(name)  # IVFFlat places its lists from rows: too few yet
        recs = _records(400, 8, seed=2)
        s.upsert(name, recs)
        assert "ivfflat" in _index_methods(name)
        data = np.asarray([r.vector for r in recs])
        q = np.random.default_rng(9).normal(size=8)
        truth = [recs[i].id for i in np.argsort(np.linalg.norm(data - q, axis=1))[:10]]
        # Probing every list is exact.
        assert [h.id for h in s.query(name, q.tolist(), k=10, probes=4)] == truth
        with pytest.raises(InvalidInput):
            s.query(name, q.tolist(), probes=0)
        with pytest.raises(InvalidInput, match="ef_search tunes hnsw"):
            s.query(name, q.tolist(), ef_search=100)
    finally:
        s.drop_collection(name)
        s.close()


def test_create_index_switches_and_records_the_layout(store: Store, name: str) -> None:
    exact = embedded_store(index="none")
    try:
        exact.create_collection(CollectionSpec(name, 8))
        exact.upsert(name, _records(50, 8))
        assert _index_methods(name) == ["btree", "gin"]
        layout = exact.driver.create_index(name, "hnsw", m=8, ef_construction=32)
        assert (layout.index, layout.m, layout.ef_construction) == ("hnsw", 8, 32)
        assert "hnsw" in _index_methods(name)
        # Another store reads the new layout from the catalog.
        assert store.driver.layout(name) == layout
        exact.driver.create_index(name, "none")
        assert _index_methods(name) == ["btree", "gin"]
        assert exact.count(name) == 50
    finally:
        exact.close()


# ----- search settings and iterative scans -------------------------------------------------------


@pytest.fixture(scope="module")
def hnsw_table() -> Iterator[tuple[str, list[Record]]]:
    """3,000 rows under an HNSW index (built after loading, as pgvector recommends)."""
    s = embedded_store(m=8, ef_construction=32)
    n = _name()
    recs = _records(3000, 16, seed=4)
    s.create_collection(CollectionSpec(n, 16, Metric.EUCLIDEAN))
    s.upsert(n, recs)
    assert "hnsw" in _index_methods(n)
    with _admin() as conn:
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(n)))
    try:
        yield n, recs
    finally:
        s.drop_collection(n)
        s.close()


def _recall(store: Store, name: str, recs: list[Record], k: int, **kw: Any) -> float:
    data = np.asarray([r.vector for r in recs])
    rng = np.random.default_rng(5)
    found = 0
    for _ in range(20):
        q = rng.normal(size=data.shape[1])
        truth = {recs[i].id for i in np.argsort(np.linalg.norm(data - q, axis=1))[:k]}
        found += len(truth & {h.id for h in store.query(name, q.tolist(), k=k, **kw)})
    return found / (20 * k)


def test_ef_search_per_query(hnsw_table: tuple[str, list[Record]]) -> None:
    name, recs = hnsw_table
    s = embedded_store(iterative_scan="off")
    try:
        low, high = _recall(s, name, recs, 10, ef_search=10), _recall(s, name, recs, 10, ef_search=400)
        assert high >= 0.97 and high > low
        # An HNSW scan yields at most ef_search rows: k above it must still be honoured.
        assert len(s.query(name, recs[0].vector, k=150)) == 150
        with pytest.raises(InvalidInput):
            s.query(name, recs[0].vector, ef_search=5000)
        with pytest.raises(InvalidInput, match="probes tunes ivfflat"):  # refused, not ignored
            s.query(name, recs[0].vector, probes=4)
    finally:
        s.close()


def test_selective_filter_still_fills_k(hnsw_table: tuple[str, list[Record]]) -> None:
    """A 1% filter the GIN index cannot serve (a range): the HNSW scan must go on until k match."""
    name, recs = hnsw_table
    flt = {"i": {"$lt": 30}}
    q = np.random.default_rng(6).normal(size=16).tolist()
    off = embedded_store(iterative_scan="off")
    relaxed = embedded_store()  # iterative_scan="relaxed_order" by default
    passing = [r for r in recs if r.metadata["i"] < 30]
    nearest = sorted(passing, key=lambda r: float(np.linalg.norm(np.asarray(r.vector) - q)))[:10]
    try:
        # Without iterative scans the index gives up after ef_search candidates, with fewer than
        # 10 of the 30 passing rows: vecbridge sees the short answer and searches them exactly.
        assert [h.id for h in off.query(name, q, k=10, filter=flt)] == [r.id for r in nearest]
        hits = relaxed.query(name, q, k=10, filter=flt)
        assert len(hits) == 10 and all(h.metadata["i"] < 30 for h in hits)
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)
    finally:
        off.close()
        relaxed.close()


# ----- writes ----------------------------------------------------------------------------------


def test_a_failing_batch_writes_nothing_and_is_reported(store: Store, name: str) -> None:
    store.create_collection(CollectionSpec(name, 4))
    with _admin() as conn:  # a server-side refusal in the middle of the second batch
        conn.execute(sql.SQL("ALTER TABLE {} ADD CHECK (text IS DISTINCT FROM 'boom')").format(sql.Identifier(name)))
    recs = _records(30, 4)
    recs[15] = Record(recs[15].id, recs[15].vector, "boom", {})
    with pytest.raises(UpsertFailed) as info:
        store.upsert(name, recs, batch_size=10)
    assert info.value.written_ids == [r.id for r in recs[:10]]
    assert info.value.failed_ids == [r.id for r in recs[10:20]]
    assert info.value.not_attempted_ids == [r.id for r in recs[20:]]
    assert store.count(name) == 10
    assert store.get(name, [r.id for r in recs[10:20]]) == []
    # The same through the merge path (ids that exist already): still all or nothing.
    changed = [Record(r.id, r.vector, "changed", {}) for r in recs[5:10]] + [recs[15]]
    with pytest.raises(StoreError, match="check constraint"):  # nothing landed: the cause itself
        store.upsert(name, changed)
    assert all(r.text != "changed" for r in store.get(name, [r.id for r in recs[5:10]]))


def test_new_and_existing_ids_in_one_batch(store: Store, name: str) -> None:
    store.create_collection(CollectionSpec(name, 4))
    recs = _records(20, 4)
    store.upsert(name, recs[:10])
    mixed = [Record(r.id, r.vector, "v2", {"v": 2}) for r in recs[5:20]]
    assert store.upsert(name, mixed) == 15
    got = {r.id: r for r in store.get(name, [r.id for r in recs])}
    assert len(got) == 20
    assert all(got[r.id].text == "v2" for r in recs[5:20]) and all(got[r.id].text == "text 0" for r in recs[:1])


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (Record("nul-text", [1.0, 0.0, 0.0, 0.0], "a\x00b"), "NUL"),
        (Record("nul\x00id", [1.0, 0.0, 0.0, 0.0]), "NUL"),
        (Record("nul-meta", [1.0, 0.0, 0.0, 0.0], None, {"k": "a\x00b"}), "NUL"),
    ],
)
def test_what_postgres_cannot_store_is_refused_clearly(store: Store, name: str, record: Record, message: str) -> None:
    store.create_collection(CollectionSpec(name, 4))
    good = Record("good", [0.0, 1.0, 0.0, 0.0], "fine", {"k": "a\\u0000b"})  # a backslash, not a NUL
    with pytest.raises(InvalidInput, match=message):
        store.upsert(name, [good, record])
    assert store.count(name) == 0
    store.upsert(name, [good])
    assert store.get(name, ["good"])[0].metadata == {"k": "a\\u0000b"}


def test_halfvec_range_is_checked(name: str) -> None:
    s = embedded_store(storage="halfvec")
    try:
        s.create_collection(CollectionSpec(name, 4, Metric.DOT))
        # Refused before the batch is sent (the driver's check_batch), so its good record is not
        # written either: bad input writes nothing.
        with pytest.raises(InvalidInput, match="65504"):
            s.upsert(name, [Record("ok", [1.0, 0.0, 0.0, 0.0]), Record("big", [1e6, 0.0, 0.0, 0.0])])
        s.create_collection(CollectionSpec(name + "c", 4, Metric.COSINE))
        with pytest.raises((InvalidInput, UpsertFailed), match="zeros"):
            s.upsert(name + "c", [Record("tiny", [1e-9, 0.0, 0.0, 0.0])])
        assert s.count(name) == 0 and s.count(name + "c") == 0
    finally:
        s.drop_collection(name)
        s.drop_collection(name + "c")
        s.close()


@pytest.mark.parametrize("storage", ["vector", "halfvec"])
@pytest.mark.parametrize("as_array", [False, True])
def test_packed_vectors_are_pgvectors_own_binary_format(storage: str, as_array: bool) -> None:
    """Our struct/numpy packing must give byte for byte what pgvector's Python package sends."""
    try:
        from pgvector import HalfVector, Vector  # pgvector-python >= 0.4
    except ImportError:
        from pgvector.utils import HalfVector, Vector  # 0.3

    from vecbridge.connectors.pgvector.convert import copy_rows, pack_matrix, pack_vector
    from vecbridge.core.validation import validate_batch

    vec = np.random.default_rng(3).normal(size=37).astype(np.float32)
    record = Record("a", vec if as_array else vec.tolist(), None, {"k": [1, "x"], "d": "2024-01-01"})
    batch = validate_batch([record], 37)
    packed, failures = pack_matrix(batch, storage, Metric.COSINE)
    ((_, vector, _, meta, dates),) = list(copy_rows(batch, packed, None, False))
    reference = (HalfVector if storage == "halfvec" else Vector)(vec.tolist()).to_binary()
    assert bytes(vector) == reference and not failures
    assert bytes(pack_vector(vec)) == Vector(vec.tolist()).to_binary()
    assert meta.obj == '{"k":[1,"x"],"d":"2024-01-01"}' and dates.obj == '{"d":1704067200.0}'


# ----- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (psycopg.errors.SerializationFailure("x"), TransientError),
        (psycopg.errors.DeadlockDetected("x"), TransientError),
        (psycopg.errors.AdminShutdown("x"), TransientError),
        (psycopg.errors.TooManyConnections("x"), TransientError),
        (psycopg.errors.LockNotAvailable("x"), TransientError),
        (psycopg.OperationalError("server closed the connection unexpectedly"), TransientError),
        (PoolExhausted("no connection"), TransientError),
        (PoolClosed("closed"), StoreError),
        (psycopg.errors.UndefinedTable("x"), CollectionNotFound),
        (psycopg.errors.InsufficientPrivilege("x"), StoreError),
        (psycopg.errors.UniqueViolation("x"), TransientError),  # only the direct COPY of new ids races
        (psycopg.errors.DataException("x"), StoreError),
    ],
)
def test_error_translation(exc: Exception, kind: type[Exception]) -> None:
    out = translate(exc)
    assert isinstance(out, kind) and not (kind is StoreError and isinstance(out, TransientError))


def test_lost_connections_are_retried(store: Store, name: str) -> None:
    store.create_collection(CollectionSpec(name, 4))
    store.upsert(name, _records(3, 4))
    with _admin() as conn:  # the server drops every other session (like a restart or a proxy)
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
        ).fetchone()[0]
    assert killed >= 1
    assert store.count(name) == 3  # the dead pooled connection failed, was discarded, and retried


def test_table_dropped_behind_our_back(store: Store, name: str) -> None:
    store.create_collection(CollectionSpec(name, 4))
    with _admin() as conn:
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
    with pytest.raises(CollectionNotFound, match="missing"):
        store.query(name, [1.0, 0.0, 0.0, 0.0])


def test_missing_extension(store: Store) -> None:
    db = "noext_" + uuid.uuid4().hex[:6]
    role, password = "plain_" + uuid.uuid4().hex[:6], uuid.uuid4().hex
    with _admin() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
    base = f"/{db}?host={_socket_dir()}"
    superuser = f"pgvector://postgres:{_superuser_password()}@{base}"
    try:
        with pytest.raises(StoreError, match="CREATE EXTENSION vector"):
            PgVectorDriver.from_url(superuser, create_extension=False)
        with pytest.raises(StoreError, match="may not create it"):
            PgVectorDriver.from_url(f"pgvector://{role}:{password}@{base}")
        # A role allowed to create it (here the superuser) gets it created.
        s = PgVectorDriver.from_url(superuser)
        try:
            assert s.server is not None and s.server.version >= (0, 8)
        finally:
            s.close()
    finally:
        with _admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(db)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


# ----- catalog, schemas, foreign tables ----------------------------------------------------------


def test_spec_and_fingerprint_live_in_the_database(store: Store, name: str) -> None:
    fp = EmbedderFingerprint("hashing", "hash-v1", 4, None, {"ngram": 3})
    spec = store.create_collection(CollectionSpec(name, 4, Metric.DOT, fp))
    other = embedded_store()  # a second client: nothing cached
    try:
        assert other.describe_collection(name) == spec
        assert other.describe_collection(name).embedder == fp
    finally:
        other.close()


def test_schemas_isolate_collections(name: str) -> None:
    a, b = embedded_store(schema="tenant_a"), embedded_store(schema="tenant_b")
    try:
        a.create_collection(CollectionSpec(name, 4))
        b.create_collection(CollectionSpec(name, 6))
        a.upsert(name, _records(3, 4))
        assert (a.count(name), b.count(name)) == (3, 0)
        assert b.describe_collection(name).dimension == 6
        assert _column_type(name, "tenant_a") == "vector(4)"
    finally:
        a.drop_collection(name)
        b.drop_collection(name)
        a.close()
        b.close()


def test_a_foreign_table_is_never_touched(store: Store) -> None:
    table = "users_" + uuid.uuid4().hex[:6]
    with _admin() as conn:
        conn.execute(sql.SQL("CREATE TABLE {} (id int)").format(sql.Identifier(table)))
        conn.execute(sql.SQL("INSERT INTO {} VALUES (1)").format(sql.Identifier(table)))
    try:
        with pytest.raises(StoreError, match=r"not a\s+vecbridge collection"):
            store.create_collection(CollectionSpec(table, 4))
        assert store.drop_collection(table) is False
        assert not store.has_collection(table)
        with _admin() as conn:
            assert conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0] == 1
    finally:
        with _admin() as conn:
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))


# ----- scan ------------------------------------------------------------------------------------


def test_scan_pages_and_cursors(store: Store, name: str) -> None:
    store.create_collection(CollectionSpec(name, 4))
    assert [(p.records, p.next_cursor) for p in store.scan(name)] == [([], None)]
    recs = _records(25, 4)
    store.upsert(name, recs)
    pages = list(store.scan(name, batch_size=10))
    assert [len(p.records) for p in pages] == [10, 10, 5]
    assert [p.next_cursor for p in pages] == [recs[9].id, recs[19].id, None]
    assert [r.id for p in pages for r in p.records] == sorted(r.id for r in recs)
    exact = list(store.scan(name, batch_size=25))
    assert len(exact) == 1 and exact[0].next_cursor is None  # a full last page still ends the scan
    rest = [r.id for p in store.scan(name, batch_size=10, cursor=pages[1].next_cursor) for r in p.records]
    assert rest == [r.id for r in recs[20:]]
    with pytest.raises(InvalidInput):
        list(store.scan(name, cursor=42))  # type: ignore[arg-type]


# ----- the embedded server -----------------------------------------------------------------------


def test_embedded_server_lives_while_a_store_uses_it() -> None:
    data_dir = private_parent("vb-pg-life-") / "data"
    try:
        _check_life_cycle(data_dir)
    finally:
        shutil.rmtree(data_dir.parent, ignore_errors=True)


def _check_life_cycle(data_dir: Path) -> None:
    url = f"pgvector+embedded://{data_dir}"
    first, second = connect(url), connect(url)
    first.create_collection(CollectionSpec("kept", 4))
    first.upsert("kept", _records(7, 4))
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    first.close()
    assert second.count("kept") == 7  # still served: another store holds it
    second.close()
    assert not embedded_server.running(data_dir)
    assert not _alive(pid), "the server must stop with its last store"
    third = connect(url)
    try:
        assert third.count("kept") == 7  # the data stayed
    finally:
        third.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): check it is a running postgres.
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
