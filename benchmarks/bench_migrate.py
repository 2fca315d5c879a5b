"""Migration pgvector -> Qdrant Edge: vecbridge versus the loop a user writes over the two SDKs.

    python benchmarks/bench_migrate.py                     # 25k, 50k and 100k records of 768 dims
    python benchmarks/bench_migrate.py --sizes 5000 10000  # quicker

The source is an embedded PostgreSQL + pgvector (started once), loaded by vecbridge with random
768-d vectors, text and metadata (no vector index: migration only reads). Each measurement runs
in a fresh process, so its peak memory (ru_maxrss above the process's size after imports) is its
own:

  vecbridge  ``vecbridge.core.migration.migrate`` with the CLI's defaults: the source read once,
             every record checked against the destination's rules, a checkpoint after every
             batch, one bulk load (Qdrant Edge optimised at the end), and verification (counts,
             every id, 100 records compared in full).
  hand       psycopg server-side cursor ``fetchmany(500)`` -> ``qdrant_edge`` points with uuid5
             ids -> ``EdgeShard.update``, then ``EdgeShard.optimize()`` (Edge builds no index by
             itself): the streaming glue code one writes by hand, with no check, checkpoint or
             verification.

Printed: records/s of each, their ratio, and peak memory at each size. The migration's own memory
is bounded (a few batches in flight), so what vecbridge uses above the hand loop should stay flat
as the collection grows; both grow alike by what the destination itself keeps in RAM (Qdrant Edge
holds ~3 KB of vector per 768-d record). The script checks that both destinations hold every record.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIM = 768
BATCH = 500


def _rss_mb() -> float:
    """Current resident memory (ru_maxrss would keep the import-time peak)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


class PeakSampler(threading.Thread):
    """Samples resident memory every 5 ms and keeps the highest value."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = _rss_mb()
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, _rss_mb())
            time.sleep(0.005)


def worker(mode: str, pg_url: str, conninfo: str, table: str, dest: str) -> None:
    import numpy as np  # noqa: F401  (imported before the baseline: both modes use it)
    import psycopg
    import qdrant_edge as qe
    from pgvector.psycopg import register_vector

    from vecbridge.connectors.pgvector import PgVectorDriver  # noqa: F401  (import cost before the baseline,
    from vecbridge.connectors.qdrant import EdgeDriver  # noqa: F401  as for the hand loop's SDKs)
    from vecbridge.core import connect
    from vecbridge.core.migration import migrate

    base = _rss_mb()
    sampler = PeakSampler()
    sampler.start()
    t0 = time.perf_counter()
    if mode == "vecbridge":
        src, dst = connect(pg_url), connect(f"qdrant+edge://{dest}")
        report = migrate(src, dst, table, batch_size=BATCH, checkpoint=Path(dest) / "ck")
        if not report.ok:
            raise SystemExit(f"verification failed: {report.verification}")
        n = report.written
        count = dst.count(table)
        src.close()
        dst.close()
    else:
        ns = uuid.UUID("f9af39c6-c1b4-5351-a016-0fe5fdfe2f45")
        shard = qe.EdgeShard.create(
            str(Path(dest) / "shard"), qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=DIM, distance=qe.Distance.Cosine))
        )
        n = 0
        with psycopg.connect(conninfo) as conn:
            register_vector(conn)
            with conn.cursor(name="export") as cur:
                cur.execute(f'SELECT id, embedding, text, metadata FROM "{table}"')
                while rows := cur.fetchmany(BATCH):
                    points = [
                        qe.Point(
                            str(uuid.uuid5(ns, rid)),
                            emb.to_list() if hasattr(emb, "to_list") else emb.tolist(),  # pgvector-python 0.4+ / 0.3
                            {"page_content": text, "metadata": meta, "vecbridge_id": rid},
                        )
                        for rid, emb, text, meta in rows
                    ]
                    shard.update(qe.UpdateOperation.upsert_points(points))
                    n += len(points)
        shard.optimize()
        count = shard.count(qe.CountRequest(exact=True))
        shard.flush()
        shard.close()
    seconds = time.perf_counter() - t0
    sampler.running = False
    sampler.join()
    print(json.dumps({"n": n, "count": count, "seconds": seconds, "peak_mb": sampler.peak - base}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[25_000, 50_000, 100_000])
    ap.add_argument(
        "--worker", nargs=5, metavar=("MODE", "PG_URL", "CONNINFO", "TABLE", "DEST"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return

    import numpy as np

    from vecbridge.connectors.pgvector import embedded
    from vecbridge.core import CollectionSpec, Record, connect

    scratch = Path(tempfile.mkdtemp(prefix="vb-bench-migrate-"))
    scratch.chmod(0o711)  # as root the embedded server runs as 'pgserver': it must pass through
    data_dir = scratch / "pg"
    pg_url = f"pgvector+embedded://{data_dir}?index=none"
    src = connect(pg_url)  # keeps the embedded server up for the whole run
    conninfo = embedded.acquire(data_dir.resolve())
    rng = np.random.default_rng(0)
    print(f"loading {max(args.sizes):,} source records ({DIM}-d) into embedded pgvector ...", flush=True)
    for size in args.sizes:
        name = f"src{size}"
        src.create_collection(CollectionSpec(name, DIM))

        def gen(size: int = size):  # type: ignore[no-untyped-def]
            for start in range(0, size, 5000):
                vecs = rng.normal(size=(min(5000, size - start), DIM)).astype(np.float32)
                for j, v in enumerate(vecs):
                    i = start + j
                    yield Record(
                        f"doc-{i}", v, f"text of document {i}", {"i": i, "cat": f"c{i % 20}", "ok": i % 2 == 0}
                    )

        src.upsert(name, gen(), batch_size=5000)
    print(
        f"{'records':>8} | {'vecbridge rec/s':>15} | {'hand loop rec/s':>15} | {'ratio':>6} | "
        f"{'vecbridge peak MB':>17} | {'hand peak MB':>12}"
    )
    for size in args.sizes:
        results = {}
        for mode in ("hand", "vecbridge"):
            dest = scratch / f"{mode}-{size}"
            dest.mkdir()
            out = subprocess.run(
                [sys.executable, __file__, "--worker", mode, pg_url, conninfo, f"src{size}", str(dest)],
                capture_output=True,
                text=True,
            )
            if out.returncode != 0:
                raise SystemExit(f"{mode} worker failed:\n{out.stderr}")
            res = json.loads(out.stdout.strip().splitlines()[-1])
            if res["count"] != size or res["n"] != size:
                raise SystemExit(f"{mode} copied {res['count']} of {size} records")
            results[mode] = res
        v, h = results["vecbridge"], results["hand"]
        vr, hr = size / v["seconds"], size / h["seconds"]
        print(
            f"{size:>8,} | {vr:>15,.0f} | {hr:>15,.0f} | {vr / hr:>5.2f}x | {v['peak_mb']:>17.0f} | "
            f"{h['peak_mb']:>12.0f}",
            flush=True,
        )
    src.close()
    embedded.release(data_dir.resolve())


if __name__ == "__main__":
    main()
