"""Relevance check: hybrid (dense + keyword) vs dense search on keyword-style queries.

The labelled set is built from the CLI's sample corpus (cli/data/sample.jsonl): for every document,
the query is its two rarest words (names, product words, codes — the kind of query dense vectors
miss), and the one relevant answer is that document. To make the ranking non-trivial, each document
also gets distractors: same-topic documents made of the other documents' sentences, which share its
topic but not its rare words.

    python benchmarks/bench_hybrid.py                       # memory:// store, MiniLM if installed
    python benchmarks/bench_hybrid.py --store qdrant+edge:///tmp/bench-hybrid --embedder hashing

Prints recall@10 (and MRR) of dense and hybrid side by side on the same store, same embedder.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import re
import time
from importlib import resources

from vecbridge.core import Collection, connect, load_embedder
from vecbridge.core.keywords import tokenize


def corpus() -> list[dict]:
    sample = resources.files("vecbridge.cli") / "data" / "sample.jsonl"
    return [json.loads(line) for line in sample.read_text(encoding="utf-8").splitlines() if line.strip()]


def build(docs: list[dict], distractors: int, seed: int) -> tuple[list[dict], list[tuple[str, str]]]:
    rng = random.Random(seed)
    frequency = collections.Counter(w for d in docs for w in set(tokenize(d["text"])))
    queries = []
    for d in docs:
        words = sorted(set(tokenize(d["text"])), key=lambda w: (frequency[w], -len(w), w))
        queries.append((" ".join(words[:2]), d["id"]))
    sentences = collections.defaultdict(list)
    for d in docs:
        for sentence in re.split(r"(?<=\.)\s+", d["text"]):
            sentences[d["metadata"].get("topic", "")].append(sentence)
    extra = []
    for i in range(distractors):
        topic = rng.choice(sorted(sentences))
        text = " ".join(rng.sample(sentences[topic], k=min(2, len(sentences[topic]))))
        extra.append({"id": f"distractor-{i}", "text": text, "metadata": {"topic": topic}})
    return docs + extra, queries


def evaluate(coll: Collection, queries: list[tuple[str, str]], mode: str, k: int) -> tuple[float, float, float]:
    hits_at_k, reciprocal = 0, 0.0
    start = time.perf_counter()
    for text, relevant in queries:
        ranked = [h.id for h in coll.search(text, k=k, mode=mode)]
        if relevant in ranked:
            hits_at_k += 1
            reciprocal += 1.0 / (ranked.index(relevant) + 1)
    seconds = time.perf_counter() - start
    return hits_at_k / len(queries), reciprocal / len(queries), seconds / len(queries) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", default="memory://bench-hybrid")
    parser.add_argument("--embedder", default=None, help="default: sentence-transformers if installed, else hashing")
    parser.add_argument("--distractors", type=int, default=300)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    name = args.embedder
    if name is None:
        try:
            embedder = load_embedder("sentence-transformers")
            name = "sentence-transformers"
        except Exception:
            embedder, name = load_embedder("hashing", dimension=384), "hashing"
    else:
        embedder = load_embedder(name, **({"dimension": 384} if name == "hashing" else {}))
    docs, queries = build(corpus(), args.distractors, args.seed)
    store = connect(args.store)
    store.drop_collection("hybrid_bench")  # a fresh collection every run
    coll = Collection.open(store, "hybrid_bench", embedder=embedder, hybrid=True)
    coll.add_texts([d["text"] for d in docs], ids=[d["id"] for d in docs], metadatas=[d["metadata"] for d in docs])
    print(f"store {args.store}, embedder {name}, {len(docs)} documents, {len(queries)} keyword-style queries")
    print(f"{'mode':8} {'recall@' + str(args.k):>10} {'MRR':>7} {'ms/query':>9}")
    results = {}
    for mode in ("dense", "hybrid"):
        recall, mrr, ms = evaluate(coll, queries, mode, args.k)
        results[mode] = recall
        print(f"{mode:8} {recall:>10.3f} {mrr:>7.3f} {ms:>9.1f}")
    ratio = results["hybrid"] / results["dense"] if results["dense"] else float("inf")
    print(f"hybrid / dense recall@{args.k}: {ratio:.2f}x")
    coll.drop()
    store.close()


if __name__ == "__main__":
    main()
