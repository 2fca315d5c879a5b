"""vecbridge's pgvector connector versus hand-written psycopg and langchain-postgres, same server, same run.

    python benchmarks/bench_pgvector.py               # 100,000 random 768-d vectors with metadata
    python benchmarks/bench_pgvector.py --n 10000     # quicker
    python benchmarks/bench_pgvector.py --url pgvector://user@host/db   # a server of yours

Ingest: the same ids, vectors, texts and metadata are loaded three ways into tables of the same shape
(text primary key, vector(768), text, jsonb metadata with a GIN index, no vector index yet):

  raw        psycopg ``COPY ... FROM STDIN (FORMAT BINARY)`` written by hand, one COPY and one commit
             per batch of ``--batch`` rows (vecbridge's batch size and transaction granularity).
  vecbridge  ``PgVectorStore.upsert(records)``: core validation, binary COPY into a staging table,
             ``INSERT ... ON CONFLICT (id) DO UPDATE``, one transaction per batch.
  langchain  ``langchain_postgres.PGVector.add_embeddings`` in batches of ``--batch``.

raw and vecbridge run ``--rounds`` times each, interleaved, and the best round counts (the machine is
shared; the best round is the least disturbed one). The vecbridge time is also split into the
connector's own write path (time inside ``PgVectorStore._upsert_batch``) and the rest, which is
``BaseVectorStore.upsert``'s validation (``validate_records``, the same for every store).

Queries: an HNSW index (m=16, ef_construction=64) is built on the vecbridge table, then ``--queries``
random queries at k=10 run through vecbridge and through raw SQL on that same table, without and
with a metadata filter (``{"cat": "c3"}``, 5% of rows; raw SQL: ``metadata @> '{"cat": "c3"}'`` and
``hnsw.iterative_scan = relaxed_order``). Printed: p50/p95 latency and the ratios.

The script checks that every loader stored every row, and that vecbridge's and raw SQL's answers agree.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.types.json import Jsonb

from vecbridge.connectors.pgvector import PgVectorStore
from vecbridge.connectors.pgvector.store import _describe_conninfo
from vecbridge.core import CollectionSpec, Metric, Record

DIM = 768
FILTER = {"cat": "c3"}


class Data:
    def __init__(self, n: int, dim: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.ids = [f"doc-{i:07d}" for i in range(n)]
        self.vectors = rng.normal(size=(n, dim)).astype(np.float32)
        self.texts = [f"document {i} about topic {i % 97}" for i in range(n)]
        self.metadata = [
            {"i": i, "cat": f"c{i % 20}", "year": 2000 + i % 25, "tags": ["a", "b"] if i % 3 == 0 else ["c"]}
            for i in range(n)
        ]
        # What a vecbridge user hands over: records holding the embedder's output (numpy rows here).
        self.records = [
            Record(self.ids[i], self.vectors[i], self.texts[i], self.metadata[i]) for i in range(n)
        ]


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>9,.0f} rows/s"


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def table_ddl(conn: psycopg.Connection[Any], name: str, dim: int) -> None:
    """The same shape vecbridge creates for index='none'."""
    t = sql.Identifier(name)
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(t))
    conn.execute(
        sql.SQL(
            'CREATE TABLE {} (id text COLLATE "C" PRIMARY KEY, embedding vector({}) NOT NULL, text text, '
            "metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb)"
        ).format(t, sql.Literal(dim))
    )
    conn.execute(sql.SQL("CREATE INDEX ON {} USING gin (metadata jsonb_path_ops)").format(t))


def load_raw(conninfo: str, data: Data, batch: int, name: str) -> None:
    """Hand-written binary COPY: what a careful engineer writes without a library."""
    with psycopg.connect(conninfo) as conn:
        register_vector(conn)
        vectors = data.vectors.astype(">f4")  # pgvector's binary format is big-endian float32
        copy_sql = sql.SQL("COPY {} (id, embedding, text, metadata) FROM STDIN (FORMAT BINARY)").format(
            sql.Identifier(name)
        )
        for start in range(0, len(data.ids), batch):
            with conn.transaction(), conn.cursor().copy(copy_sql) as copy:
                copy.set_types(["text", "vector", "text", "jsonb"])
                for i in range(start, min(start + batch, len(data.ids))):
                    copy.write_row((data.ids[i], vectors[i], data.texts[i], Jsonb(data.metadata[i])))


def load_langchain(sa_url: str, data: Data, vector_lists: list[list[float]], batch: int, name: str) -> None:
    from langchain_core.embeddings import Embeddings
    from langchain_postgres import PGVector

    class Unused(Embeddings):  # add_embeddings takes ready vectors; nothing is embedded
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            raise AssertionError("not called")

        def embed_query(self, text: str) -> list[float]:
            raise AssertionError("not called")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = PGVector(Unused(), connection=sa_url, collection_name=name, embedding_length=DIM, use_jsonb=True)
        for start in range(0, len(data.ids), batch):
            end = min(start + batch, len(data.ids))
            store.add_embeddings(
                texts=data.texts[start:end],
                embeddings=vector_lists[start:end],
                metadatas=data.metadata[start:end],
                ids=data.ids[start:end],
            )
        store._engine.dispose()  # type: ignore[attr-defined]


def count_rows(conninfo: str, table: str, where: str = "") -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}" + where).format(sql.Identifier(table))).fetchone()
        return int(row[0]) if row else 0


def checkpoint(conninfo: str) -> None:
    """Start every load from the same WAL state (a superuser may; elsewhere skip quietly)."""
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    except psycopg.Error:
        pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="vectors to ingest (default 100,000)")
    ap.add_argument("--batch", type=int, default=1000, help="rows per batch/transaction (default 1,000)")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds of raw and vecbridge (best counts)")
    ap.add_argument("--queries", type=int, default=200, help="queries per latency measurement")
    ap.add_argument("--url", default=None, help="pgvector:// URL of a server (default: embedded, in a temp dir)")
    ap.add_argument("--skip-langchain", action="store_true", help="leave langchain-postgres out")
    args = ap.parse_args()

    scratch = None if args.url else tempfile.mkdtemp(prefix="vb-bench-")
    url = args.url or f"pgvector+embedded://{scratch}/data"
    try:
        return run(args, url)
    finally:
        if scratch:  # the embedded server has stopped with the store: its data can go
            shutil.rmtree(scratch, ignore_errors=True)


def run(args: argparse.Namespace, url: str) -> int:
    print(f"preparing {args.n:,} records of {DIM} dimensions ...", flush=True)
    data = Data(args.n, DIM)
    store = PgVectorStore.from_url(url, index="none")
    try:
        return measure(args, data, store)
    finally:
        store.close()


def measure(args: argparse.Namespace, data: Data, store: PgVectorStore) -> int:
    conninfo = store._pool.conninfo  # the same server for every contender
    print(f"server: {_describe_conninfo(conninfo)} (pgvector {'.'.join(map(str, store.extension_version))})")
    failures: list[str] = []

    # ----- ingest ---------------------------------------------------------------------------
    raw_times: list[float] = []
    vb_times: list[float] = []
    # Time spent in the connector's batch writes (_upsert_batch), apart from the base class's validation.
    connector_times: list[float] = []
    in_batches: list[float] = []
    write_batch = store._upsert_batch

    def timed_batch(spec: CollectionSpec, records: list[Record]) -> None:
        in_batches.append(timed(lambda: write_batch(spec, records)))

    store._upsert_batch = timed_batch  # type: ignore[method-assign]
    for rnd in range(args.rounds):
        with psycopg.connect(conninfo, autocommit=True) as conn:
            table_ddl(conn, "bench_raw", DIM)
        checkpoint(conninfo)
        gc.collect()
        raw_times.append(timed(lambda: load_raw(conninfo, data, args.batch, "bench_raw")))
        print(f"  round {rnd + 1}: raw COPY       {rate(args.n, raw_times[-1])}  ({raw_times[-1]:.1f} s)", flush=True)

        store.drop_collection("bench_vb")
        store.create_collection(CollectionSpec("bench_vb", DIM, Metric.COSINE))
        checkpoint(conninfo)
        gc.collect()
        in_batches.clear()
        vb_times.append(timed(lambda: store.upsert("bench_vb", data.records, batch_size=args.batch)))
        connector_times.append(sum(in_batches))
        print(f"  round {rnd + 1}: vecbridge      {rate(args.n, vb_times[-1])}  ({vb_times[-1]:.1f} s)", flush=True)

    lc_time = None
    if not args.skip_langchain:
        try:
            import langchain_postgres  # noqa: F401
        except ImportError:
            print("  langchain-postgres is not installed: pip install langchain-postgres (or --skip-langchain)")
        else:
            sa_url = "postgresql+psycopg://" + conninfo_to_sqlalchemy(conninfo)
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute("DROP TABLE IF EXISTS langchain_pg_embedding, langchain_pg_collection CASCADE")
            checkpoint(conninfo)
            vector_lists = data.vectors.tolist()  # what add_embeddings takes: lists of floats
            gc.collect()
            lc_time = timed(lambda: load_langchain(sa_url, data, vector_lists, args.batch, "bench_lc"))
            del vector_lists
            print(f"  langchain add_embeddings {rate(args.n, lc_time)}  ({lc_time:.1f} s)", flush=True)
            if count_rows(conninfo, "langchain_pg_embedding") != args.n:
                failures.append("langchain stored a different number of rows")

    for table in ("bench_raw", "bench_vb"):
        if (got := count_rows(conninfo, table)) != args.n:
            failures.append(f"{table} holds {got} rows, not {args.n}")
    sample = [data.ids[i] for i in np.random.default_rng(1).choice(args.n, 20, replace=False)]
    stored = {r.id: r for r in store.get("bench_vb", sample)}
    for i in sample:
        k = data.ids.index(i)
        rec = stored.get(i)
        if rec is None or rec.metadata != data.metadata[k] or not np.allclose(rec.vector, data.vectors[k]):
            failures.append(f"vecbridge row {i} differs from its input")

    raw_best, vb_best = min(raw_times), min(vb_times)
    connector = connector_times[vb_times.index(vb_best)]
    print()
    print(f"INGEST  {args.n:,} x {DIM}-d, batches of {args.batch:,}, best of {args.rounds} rounds")
    print(f"  raw psycopg COPY BINARY   {rate(args.n, raw_best)}   1.00x")
    print(f"  vecbridge upsert          {rate(args.n, vb_best)}   {raw_best / vb_best:.2f}x of raw")
    print(
        f"    connector write path    {rate(args.n, connector)}   {raw_best / connector:.2f}x of raw "
        f"({connector:.1f} s in PgVectorStore._upsert_batch)"
    )
    print(f"    core validation etc.    {vb_best - connector:.1f} s (BaseVectorStore.upsert before the writes)")
    if lc_time is not None:
        print(f"  langchain add_embeddings  {rate(args.n, lc_time)}   vecbridge is {lc_time / vb_best:.1f}x faster")

    # ----- queries --------------------------------------------------------------------------
    print("\nbuilding the HNSW index on the vecbridge table ...", flush=True)
    build = timed(lambda: store.create_index("bench_vb", "hnsw", maintenance_work_mem="1GB"))
    print(f"  built in {build:.1f} s")
    rng = np.random.default_rng(7)
    queries = rng.normal(size=(args.queries, DIM)).astype(np.float32)
    results: dict[str, list[float]] = {}
    answers: dict[str, list[list[str]]] = {}

    def run_vb(label: str, flt: dict[str, Any] | None) -> None:
        times, ids = [], []
        for q in queries:
            start = time.perf_counter()
            hits = store.query("bench_vb", q, k=10, filter=flt)
            times.append(time.perf_counter() - start)
            ids.append([h.id for h in hits])
        results[label], answers[label] = times, ids

    def run_raw(label: str, filtered: bool) -> None:
        times, ids = [], []
        where = sql.SQL(" WHERE metadata @> %(f)s") if filtered else sql.SQL("")
        query = sql.SQL(
            "SELECT id, text, metadata, embedding <=> %(q)s AS distance FROM bench_vb{} ORDER BY distance LIMIT 10"
        ).format(where)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            register_vector(conn)
            conn.execute("SET hnsw.iterative_scan = relaxed_order")
            for q in queries:
                start = time.perf_counter()
                rows = conn.execute(query, {"q": q, "f": Jsonb(FILTER)}, binary=True).fetchall()
                times.append(time.perf_counter() - start)
                ids.append([r[0] for r in rows])
        results[label], answers[label] = times, ids

    for _ in range(2):  # warm the caches once, measure the second pass
        run_raw("raw", False)
        run_vb("vecbridge", None)
        run_raw("raw filtered", True)
        run_vb("vecbridge filtered", FILTER)

    print(f"\nQUERY  k=10, {args.queries} queries, HNSW (ef_search 40)")
    for plain, ours in (("raw", "vecbridge"), ("raw filtered", "vecbridge filtered")):
        r50, r95 = pct(results[plain], 50), pct(results[plain], 95)
        v50, v95 = pct(results[ours], 50), pct(results[ours], 95)
        print(f"  {plain:<14} p50 {r50:6.2f} ms  p95 {r95:6.2f} ms")
        print(f"  {ours:<14} p50 {v50:6.2f} ms  p95 {v95:6.2f} ms   ({v50 / r50:.2f}x / {v95 / r95:.2f}x of raw)")
        same = sum(set(a) == set(b) for a, b in zip(answers[plain], answers[ours], strict=True))
        short = sum(len(a) < 10 for a in answers[ours])
        print(f"  {'':<14} same top-10 as raw SQL for {same}/{args.queries} queries; {short} returned fewer than 10")
        if short:
            failures.append(f"{ours}: {short} queries returned fewer than k hits")

    store.drop_collection("bench_vb")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw, langchain_pg_embedding, langchain_pg_collection CASCADE")
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0


def conninfo_to_sqlalchemy(conninfo: str) -> str:
    """user:password@host:port/db from a libpq conninfo (Unix sockets via ?host=)."""
    from urllib.parse import quote

    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    user = quote(str(params.get("user", "")))
    password = f":{quote(str(params['password']))}" if params.get("password") else ""
    host = str(params.get("host", ""))
    port = str(params.get("port", ""))
    db = str(params.get("dbname", ""))
    if host.startswith("/"):
        return f"{user}{password}@/{db}?host={quote(host)}" + (f"&port={port}" if port else "")
    return f"{user}{password}@{host}{':' + port if port else ''}/{db}"


if __name__ == "__main__":
    sys.exit(main())
