"""Embedding as a Ray Data stage: a pool of actors, each with its own embedder loaded once.

The embedder is rebuilt in every actor from its fingerprint (``embedder_from_fingerprint``: the
collection's own record of provider, model, dimension and options; API keys come from the
workers' environment, never through Ray). Local models load once per actor and run with
``threads`` torch threads each, so N actors on N cores do not oversubscribe them.

Remote embedders (Gemini) share one :class:`~.rate_limit.RateLimiter` for the whole job: each
request waits for its slot, a 429's ``RetryInfo`` pauses every worker, and the stage — not the
embedder — retries (the embedder's own retries are turned off inside the stage, so retries never
nest and N workers never back off N times over).
"""

from __future__ import annotations

import os
import socket
import sys
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa
import ray
import ray.data

from vecbridge.core.embedders import Embedder
from vecbridge.core.errors import EmbeddingFailed, InvalidInput, TransientError
from vecbridge.core.models import EmbedderFingerprint
from vecbridge.core.registry import embedder_from_fingerprint

from .rate_limit import RateLimit, RateLimiter
from .session import cluster_cpus, typed_errors
from .tables import vector_array

__all__ = ["REMOTE_PROVIDERS", "EmbedStage", "embed", "fingerprint_of"]

#: Embedders that call a metered API: their workers share one rate limiter and take no CPU slot.
REMOTE_PROVIDERS = frozenset({"gemini"})


def fingerprint_of(embedder: Embedder | EmbedderFingerprint) -> EmbedderFingerprint:
    if isinstance(embedder, EmbedderFingerprint):
        return embedder
    if isinstance(embedder, Embedder):
        return embedder.fingerprint
    raise InvalidInput(
        f"embedder must be a vecbridge Embedder or its EmbedderFingerprint, got {type(embedder).__name__}"
    )


def _single_attempt(embedder: Embedder) -> None:
    """Leave retries to the stage: an embedder retry policy (a frozen dataclass with ``attempts``,
    as Gemini's) is set to one attempt."""
    policy = getattr(embedder, "retry", None)
    if policy is not None and hasattr(policy, "attempts") and hasattr(policy, "__dataclass_fields__"):
        embedder.retry = replace(policy, attempts=1)  # type: ignore[attr-defined]


class EmbedStage:
    """Ray Data callable class: the ``text`` column embedded into the ``vector`` column.

    ``mark_missing``: rows without text keep a zero vector and get a ``_problem`` (the migration
    refuses or skips them); otherwise a row without text raises ``InvalidInput``.
    """

    def __init__(
        self,
        fingerprint: EmbedderFingerprint,
        *,
        threads: int | None = None,
        limiter: Any = None,
        limit: RateLimit | None = None,
        mark_missing: bool = False,
    ) -> None:
        self._embedder = embedder_from_fingerprint(fingerprint)
        torch = sys.modules.get("torch")  # imported by local models only
        if threads is not None and torch is not None:
            torch.set_num_threads(threads)
        self._limiter = limiter
        self._limit = limit or RateLimit()
        if limiter is not None:
            _single_attempt(self._embedder)
        self._mark_missing = mark_missing
        self._worker = f"{socket.gethostname()}:{os.getpid()}"

    def __call__(self, table: pa.Table) -> pa.Table:
        n = table.num_rows
        texts = table.column("text").to_pylist() if "text" in table.column_names else [None] * n
        missing = {i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()}
        if missing and not self._mark_missing:
            ids = table.column("id").to_pylist() if "id" in table.column_names else sorted(missing)
            shown = [ids[i] for i in sorted(missing)][:10]
            raise InvalidInput(f"{len(missing)} record(s) have no text to embed, e.g. {shown}: give every row a text")
        todo = [i for i in range(n) if i not in missing]
        matrix = np.zeros((n, self._embedder.dimension), dtype=np.float32)
        if todo:
            matrix[todo] = self._embed([str(texts[i]) for i in todo])
        column = vector_array(matrix)
        if "vector" in table.column_names:
            table = table.set_column(table.column_names.index("vector"), "vector", column)
        else:
            table = table.append_column("vector", column)
        if self._mark_missing:
            problems = pa.array(["no text to re-embed" if i in missing else None for i in range(n)], pa.string())
            table = table.append_column("_problem", problems)
        return table

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self._limiter is None:
            return np.asarray(self._embedder.embed_documents(texts), dtype=np.float32)
        # One request per chunk, so each request gets its own slot from the shared limiter.
        size = getattr(self._embedder, "batch_size", None) or len(texts)
        chunks = [self._limited(texts[i : i + size]) for i in range(0, len(texts), size)]
        return np.concatenate(chunks)

    def _limited(self, texts: list[str]) -> np.ndarray:
        for attempt in range(1, self._limit.attempts + 1):
            wait = ray.get(self._limiter.acquire.remote(len(texts), self._worker))
            if wait > 0:
                time.sleep(wait)
            try:
                return np.asarray(self._embedder.embed_documents(texts), dtype=np.float32)
            except (TransientError, EmbeddingFailed) as exc:
                # A one-request call that failed is all-or-nothing: its cause says what happened.
                cause = exc.cause if isinstance(exc, EmbeddingFailed) else exc
                if not isinstance(cause, TransientError) or attempt == self._limit.attempts:
                    raise (cause if isinstance(cause, Exception) else exc) from None
                delay = cause.retry_after if cause.retry_after is not None else self._limit.backoff(attempt)
                ray.get(self._limiter.pause.remote(min(delay, self._limit.max_wait), self._worker))
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover


def default_workers() -> int:
    """Embedding actors (and parallel writers) when the caller does not say: one per CPU."""
    return cluster_cpus()


def embed(
    dataset: ray.data.Dataset,
    embedder: Embedder | EmbedderFingerprint,
    *,
    workers: int | None = None,
    batch_size: int = 256,
    threads: int | None = 1,
    rate_limit: RateLimit | None = None,
    limiter: Any = None,
    mark_missing: bool = False,
) -> ray.data.Dataset:
    """``dataset`` with its ``text`` column embedded into ``vector`` by ``workers`` actors (default:
    one per CPU of the cluster), each holding the embedder, loaded once. Local models use
    ``threads`` torch threads per actor and one CPU slot; remote embedders (``REMOTE_PROVIDERS``)
    take no CPU slot and share one rate limiter (``rate_limit``: the quota; by default only 429s
    pause the workers). ``limiter``: a :class:`~.rate_limit.RateLimiter` actor to use instead of a
    new one, e.g. one shared by several jobs spending the same quota."""
    fingerprint = fingerprint_of(embedder)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInput(f"batch_size must be a positive integer, got {batch_size!r}")
    remote = fingerprint.provider in REMOTE_PROVIDERS or rate_limit is not None or limiter is not None
    limit = rate_limit or RateLimit()
    if remote and limiter is None:
        limiter = RateLimiter.remote(limit)  # type: ignore[attr-defined]
    embedded = dataset.map_batches(
        EmbedStage,
        fn_constructor_kwargs={
            "fingerprint": fingerprint,
            "threads": threads,
            "limiter": limiter,
            "limit": limit,
            "mark_missing": mark_missing,
        },
        batch_size=batch_size,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=workers or default_workers()),
        num_cpus=0 if remote else 1,
    )
    return typed_errors(embedded)
