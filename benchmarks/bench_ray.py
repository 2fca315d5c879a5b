"""Re-embedding migration on Ray versus the single-process path, side by side in one run.

    python benchmarks/bench_ray.py                      # 20,000 texts, 3 rounds
    python benchmarks/bench_ray.py --texts 4000 --rounds 1

A collection of short texts (with stale 8-d vectors) in an embedded PostgreSQL + pgvector is
migrated into a new collection of the same store, re-embedded with the local MiniLM model
(``sentence-transformers``; the hashing embedder where torch is not installed), verified, by:

  (a) single  ``vecbridge.core.migration.migrate`` in this process, torch on every core
  (b) ray x1  ``vecbridge.integrations.ray.migrate`` with 1 worker: one embedding actor holding
              one CPU of the local Ray cluster, one torch thread
  (c) ray x2  the same with 2 workers (2 actors, 2 CPUs, one torch thread each)

Each run is the whole job: plan, read, embed (actors start and load the model inside the job),
write, checkpoint, verification. The Ray cluster (``ray.init(num_cpus=<cores>)``) is started
once before the runs; its start-up time is printed apart. Rounds interleave (a), (b), (c) so a
change of load on the machine touches all three. Printed: records/s per run, and the ratios
(c)/(b) — how the work scales per added worker, the stand-in for added machines — and (c)/(a) —
what Ray costs over the single-process path on the same cores — as the median over rounds with the
lowest and highest round. Run it on a quiet machine: ``uptime`` is printed before and after.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = (
    "vector", "store", "embedding", "query", "index", "cluster", "shard", "replica", "record", "metadata",
    "filter", "cosine", "distance", "model", "token", "batch", "stream", "checkpoint", "resume", "verify",
    "sample", "migrate", "schema", "tenant", "keyword", "hybrid", "rank", "fusion", "latency", "throughput",
    "memory", "disk", "network", "worker", "actor", "driver",
)  # fmt: skip


def make_texts(n: int) -> list[str]:
    rng = random.Random(20_000)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 24))) for _ in range(n)]


def load_model() -> Any:
    from vecbridge.core import load_embedder
    from vecbridge.core.errors import MissingExtra

    try:
        return load_embedder("sentence-transformers")
    except (MissingExtra, ImportError) as exc:
        print(f"no local model ({exc}): using the hashing embedder instead")
        return load_embedder("hashing", dimension=384)


def uptime() -> str:
    with open("/proc/loadavg") as fh:
        return "load average " + " ".join(fh.read().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"{args.texts} texts, {args.rounds} round(s), {cores} cores; before: {uptime()}")

    import ray

    from tests.backends.pgvector import embedded_url
    from vecbridge.core import CollectionSpec, Record, connect
    from vecbridge.core.migration import migrate as migrate_in_process
    from vecbridge.integrations.ray import migrate as migrate_on_ray
    from vecbridge.integrations.ray.session import job_context

    url = embedded_url()
    texts = make_texts(args.texts)
    with connect(url) as store:
        if store.has_collection("bench_src"):
            store.drop_collection("bench_src")
        store.create_collection(CollectionSpec("bench_src", 8))
        records = [
            Record(f"t{i:06d}", [1.0, 0.5, 0.25, 0.0, 0.0, 0.0, 0.0, float(i)], t, {"i": i})
            for i, t in enumerate(texts)
        ]
        store.upsert("bench_src", records, batch_size=2000)
    model = load_model()
    print(f"model: {model!r}")

    started = time.perf_counter()
    ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    print(f"Ray cluster start: {time.perf_counter() - started:.1f} s (once, not in the runs)")
    scratch = Path(tempfile.mkdtemp(prefix="vb-bench-ray-"))

    def single(name: str) -> Any:
        import torch

        torch.set_num_threads(cores)
        with connect(url) as src, connect(url) as dst:
            return migrate_in_process(
                src, dst, "bench_src", to_collection=name, re_embedder=model, batch_size=args.batch_size,
                checkpoint=scratch / f"{name}.ckpt",
            )  # fmt: skip

    def on_ray(workers: int) -> Callable[[str], Any]:
        def run(name: str) -> Any:
            with job_context():
                return migrate_on_ray(
                    url, url, "bench_src", to_collection=name, re_embedder=model, batch_size=args.batch_size,
                    checkpoint=scratch / f"{name}.ckpt", workers=workers, threads=1,
                )  # fmt: skip

        return run

    modes: dict[str, Callable[[str], Any]] = {"(a) single": single, "(b) ray x1": on_ray(1), "(c) ray x2": on_ray(2)}
    rates: dict[str, list[float]] = {m: [] for m in modes}
    for round_no in range(1, args.rounds + 1):
        for mode, run in modes.items():
            name = f"bench_dst_{round_no}_{mode[1]}"
            t0 = time.perf_counter()
            report = run(name)
            seconds = time.perf_counter() - t0
            if not (report.ok and report.written == args.texts):
                raise SystemExit(f"{mode}: the copy is not complete: {report.verification}")
            rates[mode].append(args.texts / seconds)
            print(f"round {round_no} {mode}: {seconds:7.1f} s  {args.texts / seconds:7.1f} records/s  ({uptime()})")
            with connect(url) as store:
                store.drop_collection(name)

    def ratio(top: str, bottom: str) -> str:
        per_round = [t / b for t, b in zip(rates[top], rates[bottom], strict=True)]
        return f"{statistics.median(per_round):.2f}x (rounds: {min(per_round):.2f}-{max(per_round):.2f})"

    print()
    for mode, values in rates.items():
        print(
            f"{mode}: median {statistics.median(values):7.1f} records/s (min {min(values):.1f}, max {max(values):.1f})"
        )
    print(f"(c)/(b) two Ray workers over one:       {ratio('(c) ray x2', '(b) ray x1')}   goal >= 1.8x")
    print(f"(c)/(a) Ray on {cores} cores over single process: {ratio('(c) ray x2', '(a) single')}   goal >= 0.9x")
    store_rates(url, args.texts, model.dimension)
    print(f"after: {uptime()}")
    ray.shutdown()


def _random_vectors(table: Any, dimension: int) -> Any:
    import numpy as np

    from vecbridge.integrations.ray.tables import vector_array

    rng = np.random.default_rng(table.num_rows)
    matrix = rng.standard_normal((table.num_rows, dimension)).astype(np.float32)
    return table.set_column(table.column_names.index("vector"), "vector", vector_array(matrix))


def store_rates(url: str, n: int, dimension: int) -> None:
    """What bounds a job besides embedding: how fast one scan of the source reads, and how fast
    one and two write tasks load the destination (records of the model's dimension)."""
    import functools

    from vecbridge.core import CollectionSpec, connect
    from vecbridge.integrations.ray import read_collection, write_collection
    from vecbridge.integrations.ray.session import job_context

    with job_context():
        t0 = time.perf_counter()
        data = read_collection(url, "bench_src", batch_size=500).materialize()
        read_seconds = time.perf_counter() - t0
        ranges = data.num_blocks()
        data = data.map_batches(functools.partial(_random_vectors, dimension=dimension), batch_format="pyarrow")
        data = data.materialize()
        print(f"source scan: {n / read_seconds:8.1f} records/s ({n} records in {read_seconds:.1f} s, {ranges} page(s))")
        for writers in (1, 2):
            name = f"bench_write_{writers}"
            t0 = time.perf_counter()
            write_collection(data, url, name, spec=CollectionSpec(name, dimension), batch_size=500, workers=writers)
            seconds = time.perf_counter() - t0
            print(f"destination writes, {writers} task(s): {n / seconds:8.1f} records/s ({dimension}-d)")
            with connect(url) as store:
                store.drop_collection(name)


if __name__ == "__main__":
    main()
