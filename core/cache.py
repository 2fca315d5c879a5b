"""A persistent embedding cache for any embedder: re-ingesting unchanged text costs nothing.

``CachedEmbedder(embedder, path)`` wraps an :class:`~vecbridge.core.embedders.Embedder` and keeps
every vector it computes in a SQLite file (stdlib ``sqlite3``, WAL mode, safe across threads and
processes). A vector is found again only for the same vector space *and* the same input:

    (provider, model, variant, task, dimension, sha256 of the text)

``variant`` is a digest of the embedder's fingerprint options (so e.g. another query task or
n-gram setting never shares entries) and the hashed input includes the document title when one
is given (titles change Gemini's document vectors). The wrapper keeps the wrapped embedder's
fingerprint, so a collection built through the cache is compatible with the bare embedder.

Vectors are stored as float32 (what the stores keep anyway): a cached vector equals the fresh
one to ~1e-7. When the wrapped embedder fails half-way (``EmbeddingFailed``), the vectors it did
return are cached before the error is re-raised with indexes of *your* input.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .embedders import Embedder
from .errors import EmbeddingFailed, InvalidInput
from .models import EmbedderFingerprint, TaskType
from .paths import private_file

__all__ = ["CachedEmbedder", "DocumentEmbedFn", "EmbeddingCache", "text_key"]

# SQLite's historic limit on bound parameters is 999; stay well under it.
_CHUNK = 500


def text_key(text: str, title: str | None = None) -> str:
    """sha256 of the input; the title, when given, is part of it (length-prefixed, unambiguous)."""
    data = f"title:{len(title)}:{title}|text:{text}" if title else text
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _variant(fp: EmbedderFingerprint) -> str:
    if not fp.options:
        return ""
    blob = json.dumps(dict(fp.options), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class EmbeddingCache:
    """The SQLite store behind :class:`CachedEmbedder`; one file can serve many embedders."""

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            target = Path(self.path)
            if target.is_dir():
                raise InvalidInput(f"cache path {self.path!r} is a directory: pass a file path such as "
                                   f"{str(target / 'embeddings.sqlite')!r}")
            # Created 0600 (folders 0700) before SQLite opens it: SQLite gives its -wal and -shm
            # files the database file's mode, so the vectors never sit in a world-readable file.
            private_file(target)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=timeout, check_same_thread=False, isolation_level=None)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")  # readers never block the writer (other processes)
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                """CREATE TABLE IF NOT EXISTS embeddings (
                    provider TEXT NOT NULL, model TEXT NOT NULL, variant TEXT NOT NULL, task TEXT NOT NULL,
                    dimension INTEGER NOT NULL, text_sha256 TEXT NOT NULL, vector BLOB NOT NULL,
                    created REAL NOT NULL,
                    PRIMARY KEY (provider, model, variant, task, dimension, text_sha256)
                ) WITHOUT ROWID"""
            )

    def get_many(self, fp: EmbedderFingerprint, task: str, keys: Iterable[str]) -> dict[str, list[float]]:
        """Cached vectors for ``keys`` (missing keys are simply absent)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, list[float]] = {}
        base = (fp.provider, fp.model, _variant(fp), task, fp.dimension)
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            with self._lock:
                rows = self._db.execute(
                    "SELECT text_sha256, vector FROM embeddings WHERE provider=? AND model=? AND variant=? "
                    f"AND task=? AND dimension=? AND text_sha256 IN ({marks})",
                    (*base, *chunk),
                ).fetchall()
            for key, blob in rows:
                if len(blob) == 4 * fp.dimension:  # a damaged row is a miss, never a wrong vector
                    found[key] = np.frombuffer(blob, dtype="<f4").astype(np.float64).tolist()
        return found

    def put_many(self, fp: EmbedderFingerprint, task: str, items: Iterable[tuple[str, Sequence[float]]]) -> int:
        base = (fp.provider, fp.model, _variant(fp), task, fp.dimension)
        now = time.time()
        rows = []
        for key, vec in items:
            arr = np.asarray(vec, dtype="<f4")
            if arr.shape != (fp.dimension,):
                raise InvalidInput(f"cannot cache a {arr.size}-d vector for a {fp.dimension}-d embedder")
            rows.append((*base, key, arr.tobytes(), now))
        if rows:
            with self._lock:
                self._db.execute("BEGIN")
                try:
                    self._db.executemany(
                        "INSERT OR REPLACE INTO embeddings (provider, model, variant, task, dimension, text_sha256, "
                        "vector, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        rows,
                    )
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        return len(rows)

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])

    def clear(self, fp: EmbedderFingerprint | None = None) -> int:
        """Delete every entry, or only those of one embedder's model; returns how many went."""
        with self._lock:
            if fp is None:
                cur = self._db.execute("DELETE FROM embeddings")
            else:
                cur = self._db.execute("DELETE FROM embeddings WHERE provider=? AND model=?", (fp.provider, fp.model))
            return int(cur.rowcount)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        return f"EmbeddingCache({self.path!r})"


class DocumentEmbedFn(Protocol):
    """Anything that embeds documents like ``Embedder.embed_documents`` (e.g. a Batch API method)."""

    def __call__(
        self, texts: list[str], *, task: TaskType | str | None = None, titles: list[str | None] | None = None
    ) -> list[list[float]]: ...


class CachedEmbedder:
    """Wrap ``embedder`` with a persistent cache at ``path`` (a SQLite file, or an EmbeddingCache).

    >>> from vecbridge.embedders.hashing import HashingEmbedder
    >>> emb = CachedEmbedder(HashingEmbedder(dimension=8), ":memory:")
    >>> first = emb.embed_documents(["a", "b"]); again = emb.embed_documents(["a", "b"])
    >>> (emb.misses, emb.hits)
    (2, 2)

    ``cache_queries``: also cache ``embed_query`` results (default True). ``hits`` and ``misses``
    count texts served from the cache and texts sent to the embedder.
    """

    def __init__(
        self,
        embedder: Embedder,
        path: str | os.PathLike[str] | EmbeddingCache,
        *,
        cache_queries: bool = True,
    ) -> None:
        if isinstance(embedder, CachedEmbedder):
            raise InvalidInput("this embedder is already cached: wrap the inner embedder instead")
        self.inner = embedder
        self.cache = path if isinstance(path, EmbeddingCache) else EmbeddingCache(path)
        self.cache_queries = cache_queries
        self.hits = 0
        self.misses = 0
        self._count_lock = threading.Lock()

    # -- identity: exactly the wrapped embedder's ----------------------------------------------
    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def fingerprint(self) -> EmbedderFingerprint:
        return self.inner.fingerprint

    def __repr__(self) -> str:
        return f"CachedEmbedder({self.inner!r}, cache={self.cache.path!r})"

    def close(self) -> None:
        self.cache.close()

    def __enter__(self) -> CachedEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- keys ------------------------------------------------------------------------------------
    def _task_key(self, task: TaskType | str | None, *, query: bool) -> str:
        if task is not None:
            name = TaskType.parse(task).value
        else:
            default = getattr(self.inner, "query_task" if query else "document_task", None)
            name = default.value if isinstance(default, TaskType) else "default"
        # Documents and queries are kept apart: some embedders treat them differently beyond the task.
        return ("q:" if query else "d:") + name

    def _count(self, hits: int, misses: int) -> None:
        with self._count_lock:
            self.hits += hits
            self.misses += misses

    def _plan(
        self, texts: Sequence[str], task: TaskType | str | None, titles: Sequence[str | None] | None
    ) -> tuple[EmbedderFingerprint, str, list[str], dict[str, list[float]], list[int]]:
        if titles is not None and len(titles) != len(texts):
            raise InvalidInput(f"got {len(titles)} titles for {len(texts)} texts: pass one title (or None) per text")
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise InvalidInput(f"text {i} is a {type(t).__name__}, not a string")
        fp = self.inner.fingerprint
        task_key = self._task_key(task, query=False)
        keys = [text_key(t, titles[i] if titles else None) for i, t in enumerate(texts)]
        found = self.cache.get_many(fp, task_key, keys)
        first_miss: dict[str, int] = {}
        for i, k in enumerate(keys):
            if k not in found:
                first_miss.setdefault(k, i)  # the same text twice is embedded once
        return fp, task_key, keys, found, list(first_miss.values())

    def _finish(
        self,
        fp: EmbedderFingerprint,
        task_key: str,
        keys: list[str],
        found: dict[str, list[float]],
        todo: list[int],
        fresh: Sequence[list[float] | None],
        error: EmbeddingFailed | None,
    ) -> list[list[float]]:
        if error is None and len(fresh) != len(todo):
            raise EmbeddingFailed(
                f"{self.inner!r} returned {len(fresh)} vectors for {len(todo)} texts", [None] * len(keys)
            )
        new = {keys[i]: v for i, v in zip(todo, fresh, strict=False) if v is not None}
        self.cache.put_many(fp, task_key, new.items())
        found.update(new)
        self._count(len(keys) - len(todo), len(todo))
        vectors = [found.get(k) for k in keys]
        if error is not None:
            cause = error.cause if error.cause is not None else error
            raise EmbeddingFailed(f"{cause} (vectors that did arrive are cached)", vectors, cause=cause)
        return vectors  # type: ignore[return-value]  # every key was found or freshly embedded

    # -- the Embedder API ------------------------------------------------------------------------
    def embed_documents_with(
        self,
        embed: DocumentEmbedFn | Callable[..., list[list[float]]],
        texts: Sequence[str],
        *,
        task: TaskType | str | None = None,
        titles: Sequence[str | None] | None = None,
    ) -> list[list[float]]:
        """Like ``embed_documents``, but misses go to ``embed(texts, task=, titles=)`` — e.g.
        ``lambda t, **kw: gemini.embed_documents_batch_api(t, state_path=p, **kw)``."""
        texts = list(texts)
        fp, task_key, keys, found, todo = self._plan(texts, task, titles)
        fresh: Sequence[list[float] | None] = []
        error: EmbeddingFailed | None = None
        if todo:
            try:
                fresh = embed([texts[i] for i in todo], task=task,
                              titles=[titles[i] for i in todo] if titles is not None else None)
            except EmbeddingFailed as exc:
                fresh, error = exc.vectors, exc
        return self._finish(fp, task_key, keys, found, todo, fresh, error)

    def embed_documents(
        self, texts: Sequence[str], *, task: TaskType | str | None = None, titles: Sequence[str | None] | None = None
    ) -> list[list[float]]:
        return self.embed_documents_with(self.inner.embed_documents, texts, task=task, titles=titles)

    async def aembed_documents_with(
        self,
        embed: Callable[..., Awaitable[list[list[float]]]],
        texts: Sequence[str],
        *,
        task: TaskType | str | None = None,
        titles: Sequence[str | None] | None = None,
    ) -> list[list[float]]:
        texts = list(texts)
        fp, task_key, keys, found, todo = await asyncio.to_thread(self._plan, texts, task, titles)
        fresh: Sequence[list[float] | None] = []
        error: EmbeddingFailed | None = None
        if todo:
            try:
                fresh = await embed([texts[i] for i in todo], task=task,
                                    titles=[titles[i] for i in todo] if titles is not None else None)
            except EmbeddingFailed as exc:
                fresh, error = exc.vectors, exc
        return await asyncio.to_thread(self._finish, fp, task_key, keys, found, todo, fresh, error)

    async def aembed_documents(
        self, texts: Sequence[str], *, task: TaskType | str | None = None, titles: Sequence[str | None] | None = None
    ) -> list[list[float]]:
        return await self.aembed_documents_with(self.inner.aembed_documents, texts, task=task, titles=titles)

    def _query_lookup(self, text: str, task: TaskType | str | None) -> tuple[EmbedderFingerprint, str, str,
                                                                          list[float] | None]:
        fp = self.inner.fingerprint
        task_key = self._task_key(task, query=True)
        key = text_key(text)
        return fp, task_key, key, self.cache.get_many(fp, task_key, [key]).get(key)

    def embed_query(self, text: str, *, task: TaskType | str | None = None) -> list[float]:
        if not self.cache_queries:
            return self.inner.embed_query(text, task=task)
        fp, task_key, key, hit = self._query_lookup(text, task)
        if hit is not None:
            self._count(1, 0)
            return hit
        vec = self.inner.embed_query(text, task=task)
        self.cache.put_many(fp, task_key, [(key, vec)])
        self._count(0, 1)
        return vec

    async def aembed_query(self, text: str, *, task: TaskType | str | None = None) -> list[float]:
        if not self.cache_queries:
            return await self.inner.aembed_query(text, task=task)
        fp, task_key, key, hit = await asyncio.to_thread(self._query_lookup, text, task)
        if hit is not None:
            self._count(1, 0)
            return hit
        vec = await self.inner.aembed_query(text, task=task)
        await asyncio.to_thread(self.cache.put_many, fp, task_key, [(key, vec)])
        self._count(0, 1)
        return vec

    def stats(self) -> dict[str, Any]:
        return {"hits": self.hits, "misses": self.misses, "entries": len(self.cache), "path": self.cache.path}
