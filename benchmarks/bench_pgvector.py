"""vecbridge's pgvector connector against hand-written psycopg, same server, same run.

    python benchmarks/bench_pgvector.py                          # 30,000 and 100,000 x 768, 3 repeats
    python benchmarks/bench_pgvector.py --sizes 10000 --repeats 1  # quicker
    python benchmarks/bench_pgvector.py --url pgvector://user@host/db   # a server of yours

**Time to an indexed, queryable collection** (the clock stops when the HNSW index exists):

  raw          psycopg: CREATE TABLE (text key, vector(768), text, jsonb metadata with a GIN index),
               binary ``COPY`` in batches of ``--batch`` rows (one transaction each), then
               ``CREATE INDEX ... USING hnsw`` with the same ``maintenance_work_mem`` and
               ``max_parallel_maintenance_workers`` vecbridge chooses: pgvector's own advice.
  upsert       ``store.create_collection`` + ``store.upsert(records)``: core validation, the
               deferred index, the build at the end of the load.
  cli import   ``vecbridge import FILE --store URL`` in a subprocess (CLI start-up included), from
               a Parquet export of the same records; ``vecbridge ingest`` and ``migrate`` take the
               same path through ``store.upsert`` / ``bulk_load``.

Contenders run interleaved, ``--repeats`` times each; printed: the median, the spread (min-max)
and raw's median divided by each one's (1.00x = as fast as raw, higher is faster).

**Query latency** on vecbridge's table after its load, through ``store.query`` and through raw
SQL (``hnsw.iterative_scan = relaxed_order``, as vecbridge sets it), each contender's
``--queries`` random queries in one block, at k=10, without and with a metadata filter (5% of rows): p50/p95
and their ratio. The filter is compared twice: with the SQL a user would write first
(``fields @> '{"cat": "c3"}'``, which misses records whose ``cat`` is a list holding "c3"), and
with SQL returning the same rows as vecbridge's ``$eq`` (``... OR fields @> '{"cat": ["c3"]}'``).
The script checks that every loader stored every row and that both query paths agree.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.types.json import Jsonb

from vecbridge.connectors.pgvector.catalog import Catalog
from vecbridge.connectors.pgvector.loads import LoadPlans
from vecbridge.connectors.pgvector.options import choose_layout
from vecbridge.core import CollectionSpec, Record, Store, connect
from vecbridge.core.parquet import export_parquet

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
        self.records = [Record(self.ids[i], self.vectors[i], self.texts[i], self.metadata[i]) for i in range(n)]


def timed(fn: Callable[[], Any]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def checkpoint(conninfo: str) -> None:
    """Start every load from the same WAL state (a superuser may; elsewhere skip quietly)."""
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    except psycopg.Error:
        pass


def build_settings(store: Store, n: int) -> tuple[str, int | None]:
    """The maintenance_work_mem and workers vecbridge picks for an n-row HNSW build."""
    driver: Any = store.driver
    plans = LoadPlans(Catalog("public"), driver.options, embedded=driver.loads.embedded)
    layout = choose_layout(DIM, driver.options)
    with psycopg.connect(driver._conninfo) as conn:
        row = conn.execute("SELECT pg_size_bytes(current_setting('maintenance_work_mem'))").fetchone()
    assert row is not None
    return plans._memory(layout, DIM, n, int(row[0])), plans._workers()


def load_raw(conninfo: str, data: Data, batch: int, memory: str, workers: int | None) -> None:
    """What a careful engineer writes by hand: batched binary COPY, then the index with enough memory."""
    t = sql.Identifier("bench_raw")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        register_vector(conn)
        conn.execute(
            sql.SQL(
                'CREATE TABLE {} (id text COLLATE "C" PRIMARY KEY, embedding vector({}) NOT NULL, text text, '
                "metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb)"
            ).format(t, sql.Literal(DIM))
        )
        conn.execute(sql.SQL("CREATE INDEX ON {} USING gin (metadata jsonb_path_ops)").format(t))
        vectors = data.vectors.astype(">f4")  # pgvector's binary format is big-endian float32
        copy_sql = sql.SQL("COPY {} (id, embedding, text, metadata) FROM STDIN (FORMAT BINARY)").format(t)
        for start in range(0, len(data.ids), batch):
            with conn.transaction(), conn.cursor().copy(copy_sql) as copy:
                copy.set_types(["text", "vector", "text", "jsonb"])
                for i in range(start, min(start + batch, len(data.ids))):
                    copy.write_row((data.ids[i], vectors[i], data.texts[i], Jsonb(data.metadata[i])))
        conn.execute("SELECT set_config('maintenance_work_mem', %s, false)", [memory])
        if workers is not None:
            conn.execute("SELECT set_config('max_parallel_maintenance_workers', %s, false)", [str(workers)])
        conn.execute(sql.SQL("CREATE INDEX ON {} USING hnsw (embedding vector_cosine_ops)").format(t))


def load_upsert(store: Store, data: Data, batch: int) -> None:
    store.create_collection(CollectionSpec("bench_vb", DIM))
    store.upsert("bench_vb", data.records, batch_size=batch)


def load_cli(url: str, export: Path, home: Path) -> None:
    env = {**os.environ, "VECBRIDGE_HOME": str(home)}
    cli = Path(sys.executable).parent / "vecbridge"  # the console script of this environment
    command = [str(cli), "import", str(export), "--store", url, "--collection", "bench_cli"]
    subprocess.run(command, check=True, capture_output=True, env=env, timeout=3600)


def drop_table(conninfo: str, table: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))


def count(conninfo: str, table: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
        return int(row[0]) if row else 0


def has_hnsw(conninfo: str, table: str) -> bool:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
            " WHERE i.indrelid = %s::regclass AND am.amname = 'hnsw' AND i.indisvalid",
            [table],
        ).fetchone()
        return bool(row and row[0])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[30_000, 100_000], help="records per run")
    ap.add_argument("--batch", type=int, default=1000, help="rows per batch/transaction (default 1,000)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved runs of each contender")
    ap.add_argument("--queries", type=int, default=200, help="queries per latency measurement")
    ap.add_argument("--url", default=None, help="pgvector:// URL of a server (default: embedded, in a temp dir)")
    ap.add_argument("--no-cli", action="store_true", help="leave the 'vecbridge import' subprocess out")
    args = ap.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="vb-bench-"))
    scratch.chmod(0o711)  # as root the embedded server runs as 'pgserver': it must pass through
    url = args.url or f"pgvector+embedded://{scratch}/data"
    try:
        store = connect(url)
        try:
            return sum(run(args, url, store, n, scratch) for n in args.sizes)
        finally:
            store.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run(args: argparse.Namespace, url: str, store: Store, n: int, scratch: Path) -> int:
    conninfo = store.driver._conninfo  # type: ignore[attr-defined]  # the same server for every contender
    print(f"\n=== {n:,} records x {DIM} dimensions ===", flush=True)
    data = Data(n, DIM)
    memory, workers = build_settings(store, n)
    print(f"build settings (vecbridge's choice, given to raw too): maintenance_work_mem={memory}, workers={workers}")
    export = scratch / "bench.parquet"
    if not args.no_cli:
        with connect("memory://") as memory_store:
            memory_store.create_collection(CollectionSpec("bench_cli", DIM))
            memory_store.upsert("bench_cli", data.records, batch_size=5000)
            export_parquet(memory_store, "bench_cli", export)
    times: dict[str, list[float]] = {"raw COPY + CREATE INDEX": [], "store.upsert": [], "vecbridge import (CLI)": []}
    failures: list[str] = []
    # label -> (what the timer measures, the table it fills: dropped first, untimed)
    loaders: dict[str, tuple[Callable[[], Any], str]] = {
        "raw COPY + CREATE INDEX": (lambda: load_raw(conninfo, data, args.batch, memory, workers), "bench_raw"),
        "store.upsert": (lambda: load_upsert(store, data, args.batch), "bench_vb"),
    }
    if not args.no_cli:
        loaders["vecbridge import (CLI)"] = (lambda: load_cli(url, export, scratch / "home"), "bench_cli")
    order = list(loaders)
    for rnd in range(args.repeats):
        for label in order[rnd % len(order) :] + order[: rnd % len(order)]:  # each goes first in turn
            load, table = loaders[label]
            drop_table(conninfo, table)
            store.drop_collection(table)  # also its catalog row (a no-op for bench_raw)
            checkpoint(conninfo)
            times[label].append(timed(load))
        print("  round", rnd + 1, "  ".join(f"{k}: {v[-1]:.1f} s" for k, v in times.items() if v), flush=True)
    for table in ("bench_raw", "bench_vb", *(() if args.no_cli else ("bench_cli",))):
        if (got := count(conninfo, table)) != n:
            failures.append(f"{table} holds {got} rows, not {n}")
        if not has_hnsw(conninfo, table):
            failures.append(f"{table} has no valid HNSW index")

    raw_median = statistics.median(times["raw COPY + CREATE INDEX"])
    print(f"\nTIME TO AN INDEXED COLLECTION  {n:,} x {DIM}, batches of {args.batch:,}, {args.repeats} repeats")
    print(f"  {'':<26}{'median':>9}  {'spread':>15}  {'raw / this':>10}")
    for label, values in times.items():
        if values:
            median = statistics.median(values)
            spread = f"{min(values):.1f}-{max(values):.1f} s"
            print(f"  {label:<26}{median:>8.1f}s  {spread:>15}  {raw_median / median:>9.2f}x")

    failures += query_latency(args, conninfo, store, n)
    for table in ("bench_raw", "bench_cli"):
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
    store.drop_collection("bench_cli")
    store.drop_collection("bench_vb")
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0


def query_latency(args: argparse.Namespace, conninfo: str, store: Store, n: int) -> list[str]:
    rng = np.random.default_rng(7)
    queries = rng.normal(size=(args.queries, DIM)).astype(np.float32)
    results: dict[str, list[float]] = {}
    answers: dict[str, list[list[str]]] = {}

    def vb_query(flt: dict[str, Any] | None) -> Callable[[np.ndarray], list[str]]:
        return lambda q: [h.id for h in store.query("bench_vb", q, k=10, filter=flt)]

    def raw_query(conn: psycopg.Connection[Any], where: str) -> Callable[[np.ndarray], list[str]]:
        query = sql.SQL(
            "SELECT id, text, metadata, embedding <=> %(q)s AS distance FROM bench_vb{} ORDER BY distance LIMIT 10"
        ).format(sql.SQL(where))
        params = {"f": Jsonb(FILTER), "fl": Jsonb({k: [v] for k, v in FILTER.items()})}
        return lambda q: [r[0] for r in conn.execute(query, {"q": q, **params}, binary=True).fetchall()]

    with psycopg.connect(conninfo, autocommit=True) as conn:
        register_vector(conn)
        conn.execute("SET hnsw.iterative_scan = relaxed_order")
        contenders = {
            "raw": raw_query(conn, ""),
            "vecbridge": vb_query(None),
            "raw filtered": raw_query(conn, " WHERE fields @> %(f)s"),
            "vecbridge filtered": vb_query(FILTER),
            # vecbridge's $eq also matches a list holding the value: the same rows, in SQL
            "raw filtered+lists": raw_query(conn, " WHERE (fields @> %(f)s OR fields @> %(fl)s)"),
        }
        for _ in range(2):  # warm the caches once, measure the second pass
            for label, run in contenders.items():
                # A contender's queries in one block: taking turns query by query let the
                # sequential scan of `raw filtered` evict the index pages the next contender reads.
                results[label], answers[label] = [], []
                for q in queries:
                    start = time.perf_counter()
                    ids = run(q)
                    results[label].append(time.perf_counter() - start)
                    answers[label].append(ids)

    failures = []
    print(f"\nQUERY  {n:,} rows, k=10, {args.queries} queries, HNSW (ef_search 40)")
    pairs = [("raw", "vecbridge"), ("raw filtered", "vecbridge filtered"), ("raw filtered+lists", "vecbridge filtered")]
    for plain, ours in pairs:
        r50, r95 = pct(results[plain], 50), pct(results[plain], 95)
        v50, v95 = pct(results[ours], 50), pct(results[ours], 95)
        print(f"  {plain:<19} p50 {r50:6.2f} ms  p95 {r95:6.2f} ms")
        print(f"  {ours:<19} p50 {v50:6.2f} ms  p95 {v95:6.2f} ms   ({v50 / r50:.2f}x / {v95 / r95:.2f}x of raw)")
        same = sum(set(a) == set(b) for a, b in zip(answers[plain], answers[ours], strict=True))
        short = sum(len(a) < 10 for a in answers[ours])
        print(f"  {'':<19} same top-10 as raw SQL for {same}/{args.queries} queries; {short} returned fewer than 10")
        if short:
            failures.append(f"{ours}: {short} queries returned fewer than k hits")
    return failures


if __name__ == "__main__":
    sys.exit(main())
