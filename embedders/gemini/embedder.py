"""``GeminiEmbedder``: Gemini embeddings through the google-genai SDK, the way a paying team wants it.

- Documents and queries get the right task pair by default (``RETRIEVAL_DOCUMENT`` /
  ``RETRIEVAL_QUERY``); all eight task types are accepted; titles go with documents.
- Requests stay within the API's per-request limit (100 texts; 250 on Vertex AI), run with
  bounded concurrency, and come back in input order with exactly one vector per input.
- 429/5xx are retried with backoff and jitter, honouring the server's RetryInfo; 400/403 fail
  fast with the API's message. A call that fails half-way raises ``EmbeddingFailed`` carrying
  the vectors it did get and the indexes it did not.
- Vectors are unit length at every ``output_dimensionality`` (128-3072).
- Over-long inputs follow an explicit policy (``long_input="error"`` or ``"truncate"``).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from google import genai
from google.genai import types

from vecbridge.core.embedders import BaseEmbedder
from vecbridge.core.errors import EmbeddingFailed, InvalidInput, VecbridgeError
from vecbridge.core.models import EmbedderFingerprint, TaskType

from .connection import build_client
from .errors import translate
from .input_limits import LONG_INPUT_POLICIES, LongInputPolicy, TokenCounter, apply_input_limit, estimate_tokens
from .model_specs import (
    DEFAULT_MODEL,
    GEMINI_API_MAX_BATCH,
    MAX_DIMENSION,
    MIN_DIMENSION,
    VERTEX_MAX_BATCH,
    VERTEX_MAX_REQUEST_TOKENS,
    spec_for,
)
from .replies import unit_vectors
from .retrying import GeminiRetryPolicy
from .task_prefixes import apply_task_prefix

__all__ = ["GeminiEmbedder", "default_query_task"]

# Asymmetric tasks embed the stored side as RETRIEVAL_DOCUMENT; symmetric ones use one task both ways.
_SYMMETRIC = {TaskType.SEMANTIC_SIMILARITY, TaskType.CLASSIFICATION, TaskType.CLUSTERING}


def default_query_task(document_task: TaskType) -> TaskType:
    """The query-side task that pairs with ``document_task``."""
    return document_task if document_task in _SYMMETRIC else TaskType.RETRIEVAL_QUERY


@dataclass(frozen=True)
class _Batch:
    """One request: input indexes (all sharing one title, as the SDK sends one title per call)."""

    indexes: list[int]
    title: str | None


@dataclass
class _Prepared:
    texts: list[str]  # what is sent (task prefixes applied, long inputs handled)
    batches: list[_Batch]
    task: TaskType


class GeminiEmbedder(BaseEmbedder):
    """Embed text with Gemini (``gemini-embedding-001`` by default).

    >>> emb = GeminiEmbedder(dimension=768)  # key from GEMINI_API_KEY  # doctest: +SKIP
    >>> vectors = emb.embed_documents(["first text", "second text"], titles=["Doc A", "Doc B"])  # doctest: +SKIP

    ``model``: ``gemini-embedding-001`` or ``gemini-embedding-2`` (which ignores task types: the
    task is written into the text with Google's documented prefixes). ``dimension``: the
    ``output_dimensionality``, 128-3072 (768, 1536 and 3072 are recommended).

    Connection: ``api_key`` (default ``GEMINI_API_KEY`` then ``GOOGLE_API_KEY``), or
    ``vertexai=True`` with ``project``/``location``; ``base_url`` points the SDK elsewhere (a
    proxy, or the test emulator); ``timeout`` in seconds per request; ``client`` takes a ready
    ``genai.Client`` instead.

    Throughput: ``batch_size`` (default and maximum: the API's per-request limit, 100 on the
    Gemini API, 250 on Vertex AI) and ``max_concurrency`` requests in flight (default 8).
    ``retry``: a :class:`GeminiRetryPolicy`.

    Long inputs: ``long_input="error"`` (default) or ``"truncate"``; ``max_input_tokens``
    overrides the model's limit; ``token_counter`` replaces the conservative estimate.
    """

    provider = "gemini"
    uses_task = True

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        dimension: int = MAX_DIMENSION,
        *,
        api_key: str | None = None,
        vertexai: bool | None = None,
        project: str | None = None,
        location: str | None = None,
        base_url: str | None = None,
        timeout: float | None = 60.0,
        client: genai.Client | None = None,
        document_task: TaskType | str = TaskType.RETRIEVAL_DOCUMENT,
        query_task: TaskType | str | None = None,
        batch_size: int | None = None,
        max_concurrency: int = 8,
        long_input: LongInputPolicy = "error",
        max_input_tokens: int | None = None,
        token_counter: TokenCounter | None = None,
        retry: GeminiRetryPolicy | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(model, str) or not model.strip():
            raise InvalidInput(f"model must be a Gemini embedding model name such as {DEFAULT_MODEL!r}, got {model!r}")
        self.model = model.strip().removeprefix("models/")
        self.spec = spec_for(self.model)
        valid_int = isinstance(dimension, int) and not isinstance(dimension, bool)
        if not valid_int or not MIN_DIMENSION <= dimension <= MAX_DIMENSION:
            raise InvalidInput(
                f"dimension (output_dimensionality) must be an integer from {MIN_DIMENSION} to {MAX_DIMENSION}, "
                f"got {dimension!r}; 768, 1536 and 3072 are the recommended sizes"
            )
        self._dimension = dimension
        self.document_task = TaskType.parse(document_task)
        self.query_task = TaskType.parse(query_task) if query_task else default_query_task(self.document_task)
        if long_input not in LONG_INPUT_POLICIES:
            raise InvalidInput(f"long_input must be 'error' or 'truncate', got {long_input!r}")
        self.long_input: LongInputPolicy = long_input
        self.max_input_tokens = max_input_tokens or self.spec.max_input_tokens
        self._count_tokens: TokenCounter = token_counter or estimate_tokens
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise InvalidInput(f"max_concurrency must be a positive integer, got {max_concurrency!r}")
        self.max_concurrency = max_concurrency
        self.retry = retry or GeminiRetryPolicy()

        if client is not None:
            # Only to scrub it from messages: a ready client carries its key inside.
            secret = api_key or getattr(getattr(client, "_api_client", None), "api_key", None)
            self._client, self._secret = client, secret
        else:
            self._client, self._secret = build_client(
                api_key=api_key, vertexai=vertexai, project=project, location=location,
                base_url=base_url, timeout=timeout,
            )
        self.vertexai = bool(self._client.vertexai)
        limit = VERTEX_MAX_BATCH if self.vertexai else GEMINI_API_MAX_BATCH
        if batch_size is None:
            batch_size = limit
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= limit:
            where = "Vertex AI" if self.vertexai else "the Gemini API"
            raise InvalidInput(f"batch_size must be 1-{limit} ({where} takes at most {limit} texts per request), "
                               f"got {batch_size!r}")
        self.batch_size = batch_size

    # -- identity --------------------------------------------------------------------------------
    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def model_id(self) -> str:
        return self.model

    def fingerprint_options(self) -> dict[str, object]:
        return {"query_task": self.query_task.value}

    @classmethod
    def from_fingerprint(cls, fingerprint: EmbedderFingerprint, **overrides: Any) -> GeminiEmbedder:
        """Rebuild the embedder a collection was made with; the key comes from the environment."""
        document_task = TaskType.parse(fingerprint.task) if fingerprint.task else TaskType.RETRIEVAL_DOCUMENT
        query_task = fingerprint.options.get("query_task") or default_query_task(document_task)
        kwargs: dict[str, Any] = {
            "model": fingerprint.model,
            "dimension": fingerprint.dimension,
            "document_task": document_task,
            "query_task": query_task,
            **overrides,
        }
        return cls(**kwargs)

    def __repr__(self) -> str:
        backend = "vertex-ai" if self.vertexai else "gemini-api"
        return f"GeminiEmbedder(model={self.model!r}, dimension={self._dimension}, backend={backend!r})"

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        self._client.close()

    async def aclose(self) -> None:
        await self._client.aio.aclose()

    def __enter__(self) -> GeminiEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- preparing a call ------------------------------------------------------------------------
    def _prepare(self, texts: Sequence[str], task: TaskType, titles: Sequence[str | None] | None) -> _Prepared:
        bad = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
        if bad:
            raise InvalidInput(f"text(s) at index {bad[:10]} are empty or not strings: every input needs text to embed")
        clean_titles: list[str | None] | None = None
        if titles is not None:
            titles = list(titles)
            if len(titles) != len(texts):
                raise InvalidInput(
                    f"got {len(titles)} titles for {len(texts)} texts: pass one title (or None) per text"
                )
            clean_titles = [t if t else None for t in titles]
            if any(t is not None and not isinstance(t, str) for t in clean_titles):
                raise InvalidInput("titles must be strings or None")
            if task is not TaskType.RETRIEVAL_DOCUMENT and any(clean_titles):
                raise InvalidInput(f"titles only apply to RETRIEVAL_DOCUMENT embeddings, not {task.value}: drop them "
                                   "or embed with task=RETRIEVAL_DOCUMENT")
        if self.spec.task_in_text:
            # gemini-embedding-2 ignores taskType and title: both travel inside the text.
            sent = [apply_task_prefix(t, task, clean_titles[i] if clean_titles else None) for i, t in enumerate(texts)]
            clean_titles = None
        else:
            sent = list(texts)
        sent, _ = apply_input_limit(sent, max_tokens=self.max_input_tokens, policy=self.long_input,
                                    count=self._count_tokens, model=self.model)
        return _Prepared(sent, self._plan(sent, clean_titles), task)

    def _plan(self, texts: list[str], titles: list[str | None] | None) -> list[_Batch]:
        """Group inputs by title (one title per SDK call), then cut groups into API-sized batches:
        at most ``batch_size`` texts, and on Vertex AI at most 20,000 (estimated) tokens."""
        groups: dict[str | None, list[int]] = {}
        for i in range(len(texts)):
            groups.setdefault(titles[i] if titles else None, []).append(i)
        token_budget = VERTEX_MAX_REQUEST_TOKENS if self.vertexai else None
        batches: list[_Batch] = []
        for title, indexes in groups.items():
            current: list[int] = []
            used = 0
            for i in indexes:
                cost = self._count_tokens(texts[i]) if token_budget else 0
                if current and (len(current) >= self.batch_size or (token_budget and used + cost > token_budget)):
                    batches.append(_Batch(current, title))
                    current, used = [], 0
                current.append(i)
                used += cost
            if current:
                batches.append(_Batch(current, title))
        return sorted(batches, key=lambda b: b.indexes[0])

    def _config(self, task: TaskType, title: str | None) -> types.EmbedContentConfig:
        return types.EmbedContentConfig(
            task_type=None if self.spec.task_in_text else task.value,
            title=title,
            output_dimensionality=self._dimension,
            # Vertex truncates silently by default; make it refuse unless the user chose truncation.
            auto_truncate=(self.long_input == "truncate") if self.vertexai else None,
        )

    def _contents(self, prepared: _Prepared, batch: _Batch) -> types.ContentListUnion:
        if self.spec.merges_string_lists:
            # gemini-embedding-2 merges a list of strings into ONE vector (python-genai #2523):
            # each text goes as its own Content.
            return [types.Content(parts=[types.Part(text=prepared.texts[i])]) for i in batch.indexes]
        # Text-only models keep strings apart, and plain strings cost the SDK ~25% less CPU.
        texts: list[types.ContentUnion] = [prepared.texts[i] for i in batch.indexes]
        return texts

    # -- one request, with retries ---------------------------------------------------------------
    def _call(self, prepared: _Prepared, batch: _Batch) -> list[list[float]]:
        for attempt in self.retry.retrying():
            with attempt:
                try:
                    reply = self._client.models.embed_content(
                        model=self.model, contents=self._contents(prepared, batch),
                        config=self._config(prepared.task, batch.title),
                    )
                    values = [e.values for e in reply.embeddings] if reply.embeddings is not None else None
                    return unit_vectors(values, expected=len(batch.indexes), dimension=self._dimension)
                except Exception as exc:
                    raise translate(exc, secret=self._secret) from None
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    async def _acall(self, prepared: _Prepared, batch: _Batch) -> list[list[float]]:
        async for attempt in self.retry.async_retrying():
            with attempt:
                try:
                    reply = await self._client.aio.models.embed_content(
                        model=self.model, contents=self._contents(prepared, batch),
                        config=self._config(prepared.task, batch.title),
                    )
                    values = [e.values for e in reply.embeddings] if reply.embeddings is not None else None
                    return unit_vectors(values, expected=len(batch.indexes), dimension=self._dimension)
                except Exception as exc:
                    raise translate(exc, secret=self._secret) from None
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    # -- many requests ---------------------------------------------------------------------------
    @staticmethod
    def _collect(
        n: int, outcomes: list[tuple[_Batch, list[list[float]] | None, VecbridgeError | None]]
    ) -> list[list[float]]:
        vectors: list[list[float] | None] = [None] * n
        errors: list[VecbridgeError] = []
        skipped = 0
        for batch, vecs, err in outcomes:
            if vecs is not None:
                for i, v in zip(batch.indexes, vecs, strict=True):
                    vectors[i] = v
            elif err is not None:
                errors.append(err)
            else:
                skipped += 1
        if errors:
            note = f" ({len(errors)} request(s) failed"
            note += f", {skipped} not sent after the first failure)" if skipped else ")"
            raise EmbeddingFailed(f"{errors[0]}{note}", vectors, cause=errors[0])
        return vectors  # type: ignore[return-value]  # every slot is filled when nothing failed

    def _run(self, prepared: _Prepared) -> list[list[float]]:
        stop = threading.Event()

        def work(batch: _Batch) -> tuple[_Batch, list[list[float]] | None, VecbridgeError | None]:
            if stop.is_set():  # after a failure, do not spend quota on requests not yet started
                return batch, None, None
            try:
                return batch, self._call(prepared, batch), None
            except VecbridgeError as exc:
                stop.set()
                return batch, None, exc

        batches = prepared.batches
        if len(batches) == 1:
            outcomes = [work(batches[0])]
        else:
            workers = min(self.max_concurrency, len(batches))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vecbridge-gemini") as pool:
                outcomes = list(pool.map(work, batches))
        return self._collect(len(prepared.texts), outcomes)

    async def _arun(self, prepared: _Prepared) -> list[list[float]]:
        limit = asyncio.Semaphore(self.max_concurrency)
        failed = False

        async def work(batch: _Batch) -> tuple[_Batch, list[list[float]] | None, VecbridgeError | None]:
            nonlocal failed
            async with limit:
                if failed:
                    return batch, None, None
                try:
                    return batch, await self._acall(prepared, batch), None
                except VecbridgeError as exc:
                    failed = True
                    return batch, None, exc

        outcomes = await asyncio.gather(*(work(b) for b in prepared.batches))
        return self._collect(len(prepared.texts), list(outcomes))

    # -- the Embedder API ------------------------------------------------------------------------
    def _embed(self, texts: Sequence[str], task: TaskType, titles: Sequence[str | None] | None) -> list[list[float]]:
        return self._run(self._prepare(texts, task, titles))

    def embed_query(self, text: str, *, task: TaskType | str | None = None) -> list[float]:
        try:
            return super().embed_query(text, task=task)
        except EmbeddingFailed as exc:
            # One text: "partial results" mean nothing, the API's error says it all.
            raise (exc.cause if isinstance(exc.cause, Exception) else exc) from None

    async def aembed_documents(
        self, texts: Sequence[str], *, task: TaskType | str | None = None, titles: Sequence[str | None] | None = None
    ) -> list[list[float]]:
        texts = list(texts)
        if not texts:
            return []
        chosen = TaskType.parse(task) if task else self.document_task
        return await self._arun(self._prepare(texts, chosen, titles))

    async def aembed_query(self, text: str, *, task: TaskType | str | None = None) -> list[float]:
        chosen = TaskType.parse(task) if task else self.query_task
        try:
            return (await self._arun(self._prepare([text], chosen, None)))[0]
        except EmbeddingFailed as exc:
            raise (exc.cause if isinstance(exc.cause, Exception) else exc) from None

    # -- the Batch API ---------------------------------------------------------------------------
    def embed_documents_batch_api(
        self,
        texts: Sequence[str],
        *,
        state_path: str | os.PathLike[str],
        task: TaskType | str | None = None,
        titles: Sequence[str | None] | None = None,
        poll_interval: float = 30.0,
        progress: Callable[[Any], None] | None = None,
        timeout: float | None = None,
        display_name: str | None = None,
    ) -> list[list[float]]:
        """Embed ``texts`` with the Batch API (half the price, results within hours, not seconds).

        Submits one or more batch jobs (each within the 20 MB inline-request limit), records
        their names in ``state_path`` keyed by a hash of the inputs, polls every
        ``poll_interval`` seconds calling ``progress(BatchProgress)``, and returns vectors in
        input order. Re-running with the same inputs after a crash resumes the jobs in flight
        instead of paying again. ``timeout`` (seconds) stops waiting with ``BatchJobPending``
        (the jobs keep running; call again to resume). Gemini API only (not Vertex AI).
        """
        from .batch_api import run_batch_embedding

        if self.vertexai:
            raise InvalidInput("the Batch API for embeddings exists on the Gemini API only, not on Vertex AI: "
                               "use embed_documents, or a GeminiEmbedder built with an API key")
        texts = list(texts)
        if not texts:
            return []
        chosen = TaskType.parse(task) if task else self.document_task
        prepared = self._prepare(texts, chosen, titles)
        distinct = {b.title for b in prepared.batches}
        if len(distinct) > 1:
            raise InvalidInput(
                "the Batch API sends one title for a whole job through the SDK, and these texts have different "
                "titles: use embed_documents for per-document titles, or drop the titles"
            )
        return run_batch_embedding(
            self._client,
            model=self.model,
            dimension=self._dimension,
            task=None if self.spec.task_in_text else prepared.task.value,
            title=next(iter(distinct)),
            texts=prepared.texts,
            state_path=state_path,
            poll_interval=poll_interval,
            progress=progress,
            timeout=timeout,
            display_name=display_name,
            retry=self.retry,
            secret=self._secret,
        )
