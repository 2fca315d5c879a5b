"""vecbridge's GeminiEmbedder versus langchain-google-genai, on the same Gemini emulator, same run.

    python benchmarks/bench_gemini.py            # 10,000 texts
    python benchmarks/bench_gemini.py --quick    # 1,000 texts

The emulator (tests/emulators/gemini) runs in its own process, as the real API runs elsewhere,
so its CPU does not compete with the clients'. It answers every embedding request after
``--latency`` seconds (default 100 ms) and every 10th request with a 429 carrying RetryInfo
``--retry-delay`` (default 1 s). Both clients reach it through google-genai over HTTP on localhost.

langchain-google-genai 4.x builds its own ``genai.Client`` and has no retry setting, so by itself
it stops at the first 429 (shown below). For a fair race it gets the SDK's own documented retry,
``HttpOptions(retry_options=HttpRetryOptions())``, on a client built exactly as langchain builds
it (same ``base_url``, same key); langchain's ``base_url`` field points it at the emulator.

Printed: wall time and requests sent for each, and their ratios. The script fails (exit 1) if either
side lost, duplicated or misplaced a vector: every vector is compared with the one the emulator
derived from that very text, and every text must appear in exactly one successful request.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository root, for tests.emulators

from tests.emulators.gemini import full_vector  # noqa: E402  (needs the root on sys.path)

MODEL = "gemini-embedding-001"
DIMENSION = 768
KEY = "bench-key"
WORDS = (
    "vector", "store", "migration", "embedding", "query", "cosine", "index", "shard", "payload", "filter",
    "upsert", "batch", "latency", "retry", "quota", "document", "chunk", "title", "semantic", "search",
    "ranking", "recall", "precision", "cluster", "region", "replica", "snapshot", "backup", "schema",
    "metadata", "tenant", "namespace", "partition", "stream", "cursor", "checkpoint", "verify", "export",
    "import",
)


def make_texts(n: int) -> list[str]:
    rng = random.Random(42)
    return [f"{i}: " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 30))) + "." for i in range(n)]


class EmulatorProcess:
    """``python -m tests.emulators.gemini`` in a child process, with its request log over HTTP."""

    def __init__(self, *, latency: float, every: int, retry_delay: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.emulators.gemini", "--key", KEY, "--latency", str(latency),
             "--rate-limit-every", str(every), "--retry-delay", retry_delay],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            raise RuntimeError("the emulator did not start")

    def clear_log(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.base_url}/_emulator/reset", method="POST")).read()

    def embed_calls(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.base_url}/_emulator/requests") as reply:
            calls = json.loads(reply.read())
        return [c for c in calls if c["action"] in ("batchEmbedContents", "embedContent")]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()  # the child exits when its stdin closes
        self.proc.wait(timeout=10)


def check(name: str, texts: list[str], vectors: list[Any], emu: EmulatorProcess, task: str | None) -> list[str]:
    """Every vector must be its own text's vector; every text in exactly one successful request."""
    problems = []
    if len(vectors) != len(texts):
        problems.append(f"{name}: {len(vectors)} vectors for {len(texts)} texts")
    sent = Counter(t for r in emu.embed_calls() if r["status"] == 200 for t in r["texts"])
    lost = [t for t in texts if sent[t] == 0]
    dup = [t for t, c in sent.items() if c > 1]
    if lost or dup:
        problems.append(f"{name}: {len(lost)} text(s) never embedded, {len(dup)} embedded more than once")
    wrong = 0
    for text, vec in zip(texts, vectors, strict=False):
        want = full_vector(text, model=MODEL, task=task)[:DIMENSION]
        got = np.asarray(vec, dtype=np.float64)
        if got.shape != want.shape or abs(float(got @ want) / (np.linalg.norm(got) * np.linalg.norm(want)) - 1) > 1e-6:
            wrong += 1
    if wrong:
        problems.append(f"{name}: {wrong} vector(s) do not belong to their text")
    return problems


def run_vecbridge(emu: EmulatorProcess, texts: list[str], concurrency: int) -> tuple[float, list[list[float]]]:
    from vecbridge.embedders.gemini import GeminiEmbedder

    emb = GeminiEmbedder(MODEL, DIMENSION, api_key=KEY, base_url=emu.base_url, max_concurrency=concurrency)
    start = time.perf_counter()
    vectors = emb.embed_documents(texts)
    return time.perf_counter() - start, vectors


def langchain_embeddings(emu: EmulatorProcess, *, retries: bool) -> Any:
    from google import genai
    from google.genai import types
    from langchain_google_genai import GoogleGenerativeAIEmbeddings

    lc = GoogleGenerativeAIEmbeddings(model=MODEL, google_api_key=KEY, base_url=emu.base_url,
                                      output_dimensionality=DIMENSION)
    if retries:
        # langchain exposes no retry option; give its client the SDK's documented default retry.
        lc.client = genai.Client(api_key=KEY, http_options=types.HttpOptions(
            base_url=emu.base_url, retry_options=types.HttpRetryOptions()))
    return lc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 texts instead of 10,000")
    parser.add_argument("--texts", type=int, default=None, help="number of texts (overrides --quick)")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the emulator takes per request")
    parser.add_argument("--every", type=int, default=10, help="every Nth request gets a 429")
    parser.add_argument("--retry-delay", default="1s", help="RetryInfo.retryDelay sent with each 429")
    parser.add_argument("--concurrency", type=int, default=8, help="vecbridge's max_concurrency")
    args = parser.parse_args()
    n = args.texts or (1_000 if args.quick else 10_000)
    texts = make_texts(n)

    emu = EmulatorProcess(latency=args.latency, every=args.every, retry_delay=args.retry_delay)
    try:
        print(f"{n} texts, {DIMENSION}-d, emulator latency {args.latency * 1000:.0f} ms, a 429 "
              f"(retryDelay {args.retry_delay}) on every {args.every}th request\n")

        emu.clear_log()
        vb_time, vb_vectors = run_vecbridge(emu, texts, args.concurrency)
        vb_calls = emu.embed_calls()
        vb_requests, vb_429 = len(vb_calls), sum(c["status"] == 429 for c in vb_calls)
        problems = check("vecbridge", texts, vb_vectors, emu, "RETRIEVAL_DOCUMENT")
        vb_unit = bool(np.allclose(np.linalg.norm(np.asarray(vb_vectors[:100]), axis=1), 1.0))

        emu.clear_log()
        try:
            langchain_embeddings(emu, retries=False).embed_documents(texts)
            plain = "finished"
        except Exception as exc:  # what a langchain user sees at the first 429
            plain = f"failed after {len(emu.embed_calls())} requests: {type(exc).__name__}"

        emu.clear_log()
        lc = langchain_embeddings(emu, retries=True)
        start = time.perf_counter()
        lc_vectors = lc.embed_documents(texts)
        lc_time = time.perf_counter() - start
        lc_calls = emu.embed_calls()
        lc_requests, lc_429 = len(lc_calls), sum(c["status"] == 429 for c in lc_calls)
        problems += check("langchain", texts, lc_vectors, emu, "RETRIEVAL_DOCUMENT")
        lc_unit = bool(np.allclose(np.linalg.norm(np.asarray(lc_vectors[:100]), axis=1), 1.0))
    finally:
        emu.close()

    print(f"{'':34}{'wall time':>12}{'requests':>10}{'429s':>6}  unit vectors")
    print(f"{'vecbridge GeminiEmbedder':34}{vb_time:>11.2f}s{vb_requests:>10}{vb_429:>6}  {vb_unit}")
    print(f"{'langchain + SDK retry options':34}{lc_time:>11.2f}s{lc_requests:>10}{lc_429:>6}  {lc_unit}")
    print(f"{'langchain as shipped (no retry)':34}  {plain}\n")
    print(f"speed-up (langchain time / vecbridge time):        {lc_time / vb_time:6.1f}x")
    print(f"requests ratio (langchain requests / vecbridge):   {lc_requests / vb_requests:6.2f}x")
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems))
        return 1
    print(f"\nvectors checked: {n} + {n}, none lost, duplicated or misplaced")
    return 0


if __name__ == "__main__":
    sys.exit(main())
