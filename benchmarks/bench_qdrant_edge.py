"""vecbridge's Qdrant Edge driver versus a hand-written EdgeShard loop, same machine, same run.

    python benchmarks/bench_qdrant_edge.py                          # 50,000 and 200,000 x 768
    python benchmarks/bench_qdrant_edge.py --sizes 5000 --dim 128   # a quick run
    python benchmarks/bench_qdrant_edge.py --sizes 50000 --repeats 3 --queries 300

Both load the same records — ids, float32 vectors (clustered around n/200 random centres), texts,
metadata ``{"i": int, "cat": "c0".."c19", "score": (i % 1000) / 7}`` (``--scores rounded``: rounded
to 2 decimals) — into a new Edge shard each, with Edge's default configuration (cosine). About 60%
of the computed scores are floats Qdrant may read back a few ulps off, for which vecbridge stores
an exact key beside the metadata (connectors/qdrant/numbers.py); rounded ones need none:

  hand       ``EdgeShard.create``; per batch of ``--batch`` records ``update(upsert_points([...]))`` with
             uuid5 point ids, the batch's vectors as lists and payload ``{"page_content", "metadata",
             "id"}``; then ``optimize()``.
  hand+idx   the same, plus Qdrant's advice for filtered search: a payload index on the field
             the filter reads, with Qdrant's default parameters (a keyword index on ``cat``, with
             per-value HNSW links), created before ``optimize()``.
  vecbridge  ``connect("qdrant+edge://...")``; ``upsert(records)`` inside ``bulk_load`` (validation,
             payload with exact keys where needed, one ``update`` per batch of the same
             size); the end of ``bulk_load`` creates payload indexes, without per-value links, on
             every field written (connectors/qdrant/field_indexes.py: ``cat``, ``i``, ``score``
             and the exact keys) and runs ``optimize()``; a filtered search is exact or ACORN
             depending on how many points the indexes say pass.

Timed per build: ingest (the writes), optimize (with the payload indexes, where built), and both
together. Builds rotate which one goes first; ``--repeats`` builds of each.

After each set of builds, queries (k=10, ``--queries`` vectors near the centres) run on every
optimized shard, without and with a filter on ``cat`` (5% of the records; hand:
``FieldCondition('metadata."cat"', MatchValue)``), the contenders taking turns query by query,
``--rounds`` rounds. All read what they get back (hand: each point's id, score and payload;
vecbridge: its hits). Printed: p50 and p95 latency, pooled over the rounds of every set, and each
one's recall@10 against an exact search of its own shard: without payload indexes Edge's filtered
graph walk strands (field_indexes.py), so the plain hand loop's filtered latency is that of a
search returning the wrong points.

Ratios are printed as "vecbridge vs hand" with their spread over the repeats (min..max): for ingest
as throughput (hand time / vecbridge time: above 1 is faster), for queries as latency (vecbridge time
/ hand time: below 1 is faster). Queries also race vecbridge's Edge driver called directly
(``store.driver.search``, as core calls it), which separates the driver's cost from core's policy.
The machine is printed with its load average: on a shared machine
the spread says how far to trust a ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import qdrant_edge as qe

from vecbridge.core import CollectionSpec, Record, connect, parse_filter
from vecbridge.core.driver import SearchRequest, Target
from vecbridge.core.ids import point_uuid
from vecbridge.core.store import Store

FILTER = {"cat": "c3"}


class Data:
    def __init__(self, n: int, dim: int, queries: int, seed: int = 0, rounded_scores: bool = False) -> None:
        rng = np.random.default_rng(seed)
        self.ids = [f"doc-{i:07d}" for i in range(n)]
        # Clustered, like embeddings of documents on a few hundred topics (uniform noise in 768
        # dimensions has no neighbours worth the name: HNSW recall on it is near random).
        centers = rng.normal(size=(max(1, n // 200), dim)).astype(np.float32)
        self.vectors = centers[rng.integers(0, len(centers), n)] + 0.5 * rng.normal(size=(n, dim)).astype(np.float32)
        self.texts = [f"document {i} about topic {i % 97}" for i in range(n)]
        scores = [(i % 1000) / 7 for i in range(n)]
        if rounded_scores:
            scores = [round(x, 2) for x in scores]
        self.metadata = [{"i": i, "cat": f"c{i % 20}", "score": scores[i]} for i in range(n)]
        # What a vecbridge user hands over: records holding the embedder's output (numpy rows).
        self.records = [Record(self.ids[i], self.vectors[i], self.texts[i], self.metadata[i]) for i in range(n)]
        self.queries = centers[rng.integers(0, len(centers), queries)] + 0.5 * rng.normal(size=(queries, dim)).astype(
            np.float32
        )


@dataclass
class Build:
    ingest: float
    optimize: float

    @property
    def total(self) -> float:
        return self.ingest + self.optimize


@dataclass
class Latencies:
    p50: list[float] = field(default_factory=list)
    p95: list[float] = field(default_factory=list)


#: What hand+idx indexes: the field its filter reads, with Qdrant's default parameters.
HAND_INDEXES = {'metadata."cat"': qe.KeywordIndexParams()}


def hand_build(data: Data, folder: Path, batch: int, indexes: bool = False) -> tuple[Build, qe.EdgeShard]:
    dim = data.vectors.shape[1]
    start = time.perf_counter()
    shard = qe.EdgeShard.create(
        str(folder), qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine))
    )
    for s in range(0, len(data.ids), batch):
        rows = data.vectors[s : s + batch].tolist()
        points = [
            qe.Point(
                point_uuid(data.ids[i]),
                rows[i - s],
                {"page_content": data.texts[i], "metadata": data.metadata[i], "id": data.ids[i]},
            )
            for i in range(s, min(s + batch, len(data.ids)))
        ]
        shard.update(qe.UpdateOperation.upsert_points(points))
    ingest = time.perf_counter() - start
    start = time.perf_counter()
    for path, params in HAND_INDEXES.items() if indexes else ():
        shard.update(qe.UpdateOperation.create_field_index(path, params))
    shard.optimize()
    return Build(ingest, time.perf_counter() - start), shard


def vecbridge_build(data: Data, folder: Path, batch: int) -> tuple[Build, Store]:
    dim = data.vectors.shape[1]
    start = time.perf_counter()
    store = connect(f"qdrant+edge://{folder}")
    store.create_collection(CollectionSpec("bench", dim))
    loading = store.bulk_load("bench", expected=len(data.records))
    loading.__enter__()
    store.upsert("bench", data.records, batch_size=batch)
    ingest = time.perf_counter() - start
    start = time.perf_counter()
    loading.__exit__(None, None, None)  # the end of the load: optimize()
    return Build(ingest, time.perf_counter() - start), store


def hand_query(shard: qe.EdgeShard, dim: int) -> tuple[Callable[[np.ndarray], Any], Callable[[np.ndarray], Any]]:
    condition = qe.Filter(must=[qe.FieldCondition('metadata."cat"', match=qe.MatchValue(FILTER["cat"]))])

    def read(points: Any) -> list[tuple[Any, float, Any]]:  # what a caller uses: id, score, payload
        return [(p.id, p.score, p.payload) for p in points]

    def plain(q: np.ndarray) -> Any:
        return read(shard.query(qe.QueryRequest(limit=10, query=qe.Query.Nearest(q.tolist()), with_payload=True)))

    def filtered(q: np.ndarray) -> Any:
        request = qe.QueryRequest(limit=10, query=qe.Query.Nearest(q.tolist()), filter=condition, with_payload=True)
        return read(shard.query(request))

    return plain, filtered


def vecbridge_query(store: Store) -> tuple[Callable[[np.ndarray], Any], Callable[[np.ndarray], Any]]:
    return (lambda q: store.query("bench", q, k=10)), (lambda q: store.query("bench", q, k=10, filter=FILTER))


def driver_query(store: Store) -> tuple[Callable[[np.ndarray], Any], Callable[[np.ndarray], Any]]:
    """The driver's own search, as core calls it (no validation, retries or accounting around it)."""
    target = Target(store.describe_collection("bench"))
    node = parse_filter(FILTER)
    return (
        lambda q: store.driver.search(target, SearchRequest(k=10, vector=q)),
        lambda q: store.driver.search(target, SearchRequest(k=10, vector=q, filter=node)),
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def race(queries: np.ndarray, contenders: list[Callable[[np.ndarray], Any]], rounds: int) -> list[Latencies]:
    """Run every contender on each query in turn (who goes first rotates), ``rounds`` times."""
    out = [Latencies() for _ in contenders]
    for r in range(rounds):
        times: list[list[float]] = [[] for _ in contenders]
        for j, q in enumerate(queries):
            shift = (r + j) % len(contenders)
            for who in [*range(shift, len(contenders)), *range(shift)]:
                start = time.perf_counter()
                contenders[who](q)
                times[who].append(time.perf_counter() - start)
        for who, series in enumerate(times):
            out[who].p50.append(percentile(series, 0.50))
            out[who].p95.append(percentile(series, 0.95))
    return out


def spread(ratios: list[float]) -> str:
    return f"{statistics.median(ratios):5.2f}x  ({min(ratios):.2f}..{max(ratios):.2f})"


def recall(found: list[str], exact: list[str]) -> float:
    return len(set(found) & set(exact)) / max(1, len(exact))


def check_recall(data: Data, shards: dict[str, qe.EdgeShard], store: Store) -> str:
    """Recall@10 of each against its own exact search (their HNSW graphs differ), plain and filtered."""
    by_uuid = {point_uuid(i): i for i in data.ids}
    condition = qe.Filter(must=[qe.FieldCondition('metadata."cat"', match=qe.MatchValue(FILTER["cat"]))])

    def hand_ids(shard: qe.EdgeShard, q: np.ndarray, exact: bool, filtered: bool) -> list[str]:
        request = qe.QueryRequest(
            limit=10,
            query=qe.Query.Nearest(q.tolist()),
            filter=condition if filtered else None,
            params=qe.SearchParams(exact=exact),
            with_payload=False,
        )
        return [by_uuid[str(p.id)] for p in shard.query(request)]

    def vb_ids(q: np.ndarray, exact: bool, filtered: bool) -> list[str]:
        # exact=False is not passed: vecbridge chooses, as in the timed queries.
        options = {"exact": True} if exact else {}
        return [h.id for h in store.query("bench", q, k=10, filter=FILTER if filtered else None, **options)]

    queries = data.queries[:20]
    found: list[str] = []
    for filtered in (False, True):
        parts = []
        for who, shard in shards.items():
            got = statistics.mean(
                recall(hand_ids(shard, q, False, filtered), hand_ids(shard, q, True, filtered)) for q in queries
            )
            parts.append(f"{who} {got:.2f}")
        vb = statistics.mean(recall(vb_ids(q, False, filtered), vb_ids(q, True, filtered)) for q in queries)
        found.append(f"{'filtered' if filtered else 'plain'}: {', '.join(parts)}, vecbridge {vb:.2f}")
    return "recall@10 against exact search: " + "; ".join(found)


HANDS = ("hand", "hand+idx")
WHO = (*HANDS, "vecbridge")


def run(n: int, args: argparse.Namespace) -> None:
    data = Data(n, args.dim, args.queries, rounded_scores=args.scores == "rounded")
    print(f"\n== {n:,} records x {args.dim} (batch {args.batch}, scores {args.scores}) ==", flush=True)
    builds: dict[str, list[Build]] = {who: [] for who in WHO}
    latencies: dict[tuple[str, str], Latencies] = {}
    contenders_of = (*HANDS, "vecbridge", "driver")
    work = Path(tempfile.mkdtemp(prefix="bench-edge-", dir=args.tmp))
    try:
        for r in range(args.repeats):
            shards: dict[str, Any] = {}
            store: Any = None
            try:
                order = WHO[r % len(WHO) :] + WHO[: r % len(WHO)]
                for who in order:
                    if who == "vecbridge":
                        build, store = vecbridge_build(data, work / f"vb{r}", args.batch)
                    else:
                        build, shards[who] = hand_build(data, work / f"{who}{r}", args.batch, indexes=who == "hand+idx")
                    builds[who].append(build)
                    print(
                        f"  build {r + 1} {who:9s} ingest {build.ingest:7.2f} s  optimize {build.optimize:7.2f} s  "
                        f"total {build.total:7.2f} s  ({n / build.ingest:,.0f} records/s ingest)",
                        flush=True,
                    )
                print(f"  build {r + 1} {check_recall(data, shards, store)}", flush=True)
                # Each build set's HNSW graphs differ: queries run on every set, rounds pooled.
                plain_fns, filtered_fns = [], []
                for who in HANDS:
                    plain, filtered = hand_query(shards[who], args.dim)
                    plain_fns.append(plain)
                    filtered_fns.append(filtered)
                for fns in (vecbridge_query(store), driver_query(store)):
                    plain_fns.append(fns[0])
                    filtered_fns.append(fns[1])
                for label, contenders in (("plain", plain_fns), ("filtered", filtered_fns)):
                    found = race(data.queries, contenders, args.rounds)
                    for who, lat in zip(contenders_of, found, strict=True):
                        pooled = latencies.setdefault((label, who), Latencies())
                        pooled.p50 += lat.p50
                        pooled.p95 += lat.p95
            finally:
                for shard in shards.values():
                    shard.close()
                if store is not None:
                    store.close()
                for who in WHO:
                    shutil.rmtree(work / f"{'vb' if who == 'vecbridge' else who}{r}", ignore_errors=True)
        vb = builds["vecbridge"]
        for hand_name in HANDS:
            hand = builds[hand_name]
            print(f"  ingest+optimize, vecbridge vs {hand_name} (throughput; >1 is faster):")
            for label, get in (
                ("ingest", lambda b: b.ingest),
                ("optimize", lambda b: b.optimize),
                ("total", lambda b: b.total),
            ):
                ratios = [get(h) / get(v) for h, v in zip(hand, vb, strict=True)]
                print(
                    f"    {label:9s} {hand_name} {statistics.median(get(b) for b in hand):8.2f} s   "
                    f"vecbridge {statistics.median(get(b) for b in vb):8.2f} s   ratio {spread(ratios)}"
                )
        print("  queries, vs each hand shard (latency; <1 is faster); 'driver' is vecbridge's Edge driver alone:")
        for label in ("plain", "filtered"):
            for stat in ("p50", "p95"):
                vs = getattr(latencies[(label, "vecbridge")], stat)
                ds = getattr(latencies[(label, "driver")], stat)
                parts = [
                    f"vecbridge {statistics.median(vs) * 1e3:7.3f} ms",
                    f"driver {statistics.median(ds) * 1e3:7.3f} ms",
                ]
                for hand_name in HANDS:
                    hs = getattr(latencies[(label, hand_name)], stat)
                    vb_ratio = spread([v / h for h, v in zip(hs, vs, strict=True)])
                    driver_ratio = spread([d / h for h, d in zip(hs, ds, strict=True)])
                    hand_ms = statistics.median(hs) * 1e3
                    parts.append(f"{hand_name} {hand_ms:7.3f} ms: vecbridge {vb_ratio}, driver {driver_ratio}")
                print(f"    {label:9s} {stat}  " + "  |  ".join(parts))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--batch", type=int, default=1024, help="records per update (vecbridge's Edge default)")
    parser.add_argument("--repeats", type=int, default=2, help="builds of each loader per size")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of all queries")
    parser.add_argument("--tmp", default=None, help="folder for the shards (default: the system's temp folder)")
    parser.add_argument(
        "--scores",
        choices=("computed", "rounded"),
        default="computed",
        help="metadata score: (i %% 1000) / 7, or the same rounded to 2 decimals (floats Qdrant keeps exactly)",
    )
    args = parser.parse_args()
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"qdrant-edge-py {_version('qdrant-edge-py')}, {os.cpu_count()} CPUs, load average {load}")
    for n in args.sizes:
        run(n, args)


def _version(dist: str) -> str:
    from importlib.metadata import version

    return version(dist)


if __name__ == "__main__":
    main()
