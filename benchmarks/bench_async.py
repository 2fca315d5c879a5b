"""500 concurrent queries from one event loop: the async store vs the sync store in a thread pool.

    python benchmarks/bench_async.py                     # pgvector (embedded) and the Weaviate emulator
    python benchmarks/bench_async.py --stores weaviate --weaviate-url 'weaviate://127.0.0.1:18080?grpc_port=50052'
    python benchmarks/bench_async.py --stores pgvector --queries 500 --repeats 5

Both sides run the same queries against the same collection in the same process:

* async:  ``AsyncStore.query`` awaited by 500 tasks at once (``asyncio.gather``) — the SDK's async
          client (psycopg's AsyncConnectionPool, weaviate-client's WeaviateAsyncClient);
* threads: ``Store.query`` in ``loop.run_in_executor`` over a ThreadPoolExecutor with ``--threads``
          workers (default 32, what a FastAPI app gets for sync endpoints is 40) — what a service
          does when its store is synchronous.

Prints throughput (queries/s) and latency p50/p95 per side, the async/threads ratio, and the
spread over repeats.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.emulators for the Weaviate emulator

from vecbridge.core import AsyncStore, CollectionSpec, Record, Store, connect, connect_async

DIM = 384
RECORDS = 5_000
#: The emulator is Python in one process: over 5,000 records it cannot answer 500 queries in flight
#: within the client's deadline, so it gets fewer records (printed with the result).
EMULATOR_RECORDS = 500


_EMULATOR = """
import sys
from tests.emulators.weaviate import WeaviateEmulator
emulator = WeaviateEmulator().start()
print(emulator.url, emulator.pypi_url, flush=True)
sys.stdin.read()  # until the benchmark closes the pipe
emulator.stop()
"""


def _weaviate_emulator() -> tuple[Store, AsyncStore, Callable[[], None]]:
    """The emulator in a process of its own, as a server would be: in this process its Python
    threads would share the benchmark's GIL and slow both sides alike."""
    import weaviate.connect.v4 as weaviate_connection

    root = Path(__file__).resolve().parent.parent
    server = subprocess.Popen(
        [sys.executable, "-c", _EMULATOR], cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None and server.stdin is not None
    url, pypi_url = server.stdout.readline().split()
    # The client asks PyPI for its latest version on connect: point it at the emulator.
    weaviate_connection.PYPI_PACKAGE_URL = pypi_url  # type: ignore[attr-defined]

    def stop() -> None:
        assert server.stdin is not None and server.stdout is not None
        server.stdin.close()
        server.wait(timeout=30)
        server.stdout.close()

    return connect(url), connect_async(url), stop


def _stores(kind: str, weaviate_url: str | None) -> tuple[Store, AsyncStore, Callable[[], None]]:
    if kind == "pgvector":
        folder = tempfile.mkdtemp(prefix="vb-bench-async-")
        os.chmod(folder, 0o711)  # as root the embedded server runs as 'pgserver': it must pass through
        url = f"pgvector+embedded://{folder}/pg"
        sync = connect(url)
        return sync, connect_async(url), lambda: None
    if kind == "weaviate":
        if weaviate_url:  # a real server
            return connect(weaviate_url), connect_async(weaviate_url), lambda: None
        return _weaviate_emulator()
    raise SystemExit(f"unknown store {kind!r}: use pgvector or weaviate")


def _load(store: Store, name: str, records: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(records, DIM)).astype(np.float32)
    store.create_collection(CollectionSpec(name, DIM))
    store.upsert(name, [Record(f"r{i}", vectors[i], f"text {i}", {"i": i % 10}) for i in range(records)])
    return np.asarray(rng.normal(size=(1000, DIM)), dtype=np.float32)


async def _timed(call: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await call()
    return time.perf_counter() - start


async def _run_async(store: AsyncStore, name: str, queries: np.ndarray, n: int) -> tuple[float, list[float]]:
    start = time.perf_counter()
    latencies = await asyncio.gather(
        *(_timed(lambda q=queries[i % len(queries)]: store.query(name, q, k=10)) for i in range(n))
    )
    return n / (time.perf_counter() - start), list(latencies)


async def _run_threads(
    store: Store, name: str, queries: np.ndarray, n: int, pool: ThreadPoolExecutor
) -> tuple[float, list[float]]:
    loop = asyncio.get_running_loop()
    start = time.perf_counter()
    latencies = await asyncio.gather(
        *(
            _timed(lambda q=queries[i % len(queries)]: loop.run_in_executor(pool, lambda: store.query(name, q, k=10)))
            for i in range(n)
        )
    )
    return n / (time.perf_counter() - start), list(latencies)


def _pct(values: list[float], p: float) -> float:
    return float(np.percentile(values, p)) * 1000


async def bench(kind: str, n: int, repeats: int, threads: int, weaviate_url: str | None) -> None:
    sync, asynchronous, stop = _stores(kind, weaviate_url)
    name = "bench_async"
    sync.drop_collection(name)
    records = EMULATOR_RECORDS if kind == "weaviate" and not weaviate_url else RECORDS
    queries = _load(sync, name, records)
    pool = ThreadPoolExecutor(max_workers=threads)
    results: dict[str, list[tuple[float, float, float]]] = {"async": [], "threads": []}
    try:
        await _run_async(asynchronous, name, queries, 50)  # warm up both paths (pools, prepared plans)
        await _run_threads(sync, name, queries, 50, pool)
        for _ in range(repeats):
            for side in ("async", "threads"):
                if side == "async":
                    rate, lat = await _run_async(asynchronous, name, queries, n)
                else:
                    rate, lat = await _run_threads(sync, name, queries, n, pool)
                results[side].append((rate, _pct(lat, 50), _pct(lat, 95)))
    finally:
        pool.shutdown()
        sync.drop_collection(name)
        await asynchronous.close()
        sync.close()
        stop()
    where = " (emulator)" if kind == "weaviate" and not weaviate_url else ""
    print(f"\n{kind}{where}: {n} concurrent queries (k=10, {records} x {DIM}), {repeats} repeats, threads={threads}")
    print(f"{'':8} {'queries/s':>12} {'p50 ms':>9} {'p95 ms':>9}   (median of repeats; min-max)")
    for side, rows in results.items():
        rates = [r[0] for r in rows]
        print(
            f"{side:8} {statistics.median(rates):>12.0f} {statistics.median(r[1] for r in rows):>9.1f} "
            f"{statistics.median(r[2] for r in rows):>9.1f}   ({min(rates):.0f}-{max(rates):.0f} q/s)"
        )
    ratio = statistics.median(r[0] for r in results["async"]) / statistics.median(r[0] for r in results["threads"])
    print(f"async / threads throughput: {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", nargs="+", default=["pgvector", "weaviate"])
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--weaviate-url", help="a real Weaviate server instead of the emulator")
    args = parser.parse_args()
    for kind in args.stores:
        asyncio.run(bench(kind, args.queries, args.repeats, args.threads, args.weaviate_url))


if __name__ == "__main__":
    main()
