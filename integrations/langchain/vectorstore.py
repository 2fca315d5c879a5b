"""``VecbridgeVectorStore``: a LangChain ``VectorStore`` over one collection of any vecbridge store.

Mapping (LangChain -> vecbridge):

- ``Document.id`` (or the ``ids`` argument) -> ``Record.id``; a document without one gets a
  uuid4 string, as LangChain's own stores do. Re-adding an id overwrites the record.
- ``page_content`` -> ``Record.text`` (an empty or blank text is stored as no text and comes back
  as ``""``); ``metadata`` -> ``Record.metadata`` unchanged.
- ``filter=`` takes vecbridge's portable filter dicts (``{"year": {"$gte": 2020}}``) and means the
  same on every store; a filter a store cannot express raises ``UnsupportedFilter``.
- Scores are vecbridge's: higher is more similar (cosine similarity, inner product, or negated L2).

The collection is created on the first write, with the dimension of the first vector, the metric
given (cosine by default) and, when the embedder is a vecbridge one, its fingerprint, so a later
open with another model fails before anything is written. Opening an existing collection checks
its dimension, metric (if one is given) and embedder instead.

Sync and async: every operation is one generator of vecbridge's store policy (``_*_steps``) run
either by the sync store or, for LangChain's ``a*`` methods, by its async view
(``Store.async_view()``: the SDK's native async client where the store has one) — no thread hop.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance

from vecbridge.core.async_store import AsyncStore, arun_steps
from vecbridge.core.embedders import Embedder
from vecbridge.core.errors import CollectionNotFound, InvalidInput
from vecbridge.core.filters import FilterNode
from vecbridge.core.models import CollectionSpec, EmbedderFingerprint, Hit, Metric, Record, validate_collection_name
from vecbridge.core.policy import Embed, Steps
from vecbridge.core.store import Store, run_steps

from ..stores import open_store
from .embeddings import VecbridgeEmbeddings

__all__ = ["VecbridgeVectorStore"]

Filter = Mapping[str, Any] | FilterNode | None
T = TypeVar("T")


def _as_langchain(embedding: Embeddings | Embedder) -> tuple[Embeddings, EmbedderFingerprint | None]:
    """LangChain embeddings to call, and the fingerprint to record when vecbridge knows the model."""
    if isinstance(embedding, VecbridgeEmbeddings):
        return embedding, embedding.embedder.fingerprint
    if isinstance(embedding, Embeddings):
        # A foreign model: vecbridge cannot name it reliably, so only the dimension is checked.
        return embedding, None
    if isinstance(embedding, Embedder):
        return VecbridgeEmbeddings(embedding), embedding.fingerprint
    raise InvalidInput(
        f"embedding must be a LangChain Embeddings or a vecbridge Embedder, got {type(embedding).__name__}"
    )


def _stored_text(text: str) -> str | None:
    # vecbridge records hold a non-blank text or none at all.
    return text if isinstance(text, str) and text.strip() else None


def _document(record_id: str, text: str | None, metadata: Mapping[str, Any]) -> Document:
    return Document(id=record_id, page_content=text or "", metadata=dict(metadata))


def _hit_document(hit: Hit) -> Document:
    return _document(hit.id, hit.text, hit.metadata)


def _no_extra(kwargs: Mapping[str, Any], what: str) -> None:
    if kwargs:
        raise TypeError(f"unexpected keyword argument(s) {sorted(kwargs)} for {what}")


class VecbridgeVectorStore(VectorStore):
    """A LangChain vector store over ``collection_name`` in ``store``.

    ``store`` is a store URL (``"qdrant+edge:///data"``, ``"pgvector://..."``) or an open vecbridge
    ``Store``; ``embedding`` a LangChain ``Embeddings`` or a vecbridge embedder.

    >>> from vecbridge.core import connect, load_embedder
    >>> vs = VecbridgeVectorStore(connect("memory://"), "notes", load_embedder("hashing", dimension=64))
    >>> ids = vs.add_texts(["red apples", "blue ocean"], [{"kind": "fruit"}, {"kind": "sea"}], ids=["a", "o"])
    >>> [d.id for d in vs.similarity_search("apples", k=1, filter={"kind": "fruit"})]
    ['a']
    """

    def __init__(
        self,
        store: str | Store,
        collection_name: str,
        embedding: Embeddings | Embedder,
        *,
        metric: Metric | str | None = None,
        batch_size: int | None = None,
    ) -> None:
        self.store, self.store_url = open_store(store)
        self.collection_name = validate_collection_name(collection_name)
        self._embedding, self._fingerprint = _as_langchain(embedding)
        #: None: keep an existing collection's metric; create new ones with cosine.
        self._metric = Metric.parse(metric) if metric is not None else None
        self._batch_size = batch_size
        self._astore: AsyncStore | None = None

    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

    def close(self) -> None:
        """Close the store if this adapter opened it from a URL (a store object passed in belongs
        to the caller and stays open). Call ``aclose`` instead after using the async methods."""
        if self.store_url is not None:
            self.store.close()

    async def aclose(self) -> None:
        """Close the async view the ``a*`` methods opened (its own async client, where the store
        has one), then the store as ``close`` does."""
        if self._astore is not None:
            astore, self._astore = self._astore, None
            await astore.close()
        self.close()

    # ----- running the steps --------------------------------------------------------------

    def _sync(self, steps: Steps[T]) -> T:
        return run_steps(steps, self.store.driver, self.store.policy, self._embedding)  # type: ignore[arg-type]

    async def _async(self, steps: Steps[T]) -> T:
        if self._astore is None:
            self._astore = self.store.async_view()
        return await arun_steps(steps, self._astore.driver, self._astore.policy, self._embedding)  # type: ignore[arg-type]

    def _spec_steps(self) -> Steps[CollectionSpec | None]:
        """The collection's spec, or None before the first write created it."""
        spec = yield from self.store.policy.spec_or_none(self.collection_name, fresh=False)
        return spec

    # ----- writes -------------------------------------------------------------------------

    def _add_steps(
        self,
        texts: Iterable[str],
        metadatas: Sequence[Mapping[str, Any]] | None,
        ids: Sequence[str | None] | None,
        kwargs: Mapping[str, Any],
    ) -> Steps[list[str]]:
        batch_size = kwargs.get("batch_size", self._batch_size)
        _no_extra({k: v for k, v in kwargs.items() if k != "batch_size"}, f"{type(self).__name__}.add_texts")
        items = list(texts)
        if metadatas is not None and len(metadatas) != len(items):
            raise InvalidInput(f"got {len(metadatas)} metadata dicts for {len(items)} texts")
        if ids is not None and len(ids) != len(items):
            raise InvalidInput(f"got {len(ids)} ids for {len(items)} texts")
        if not items:
            return []
        metas: list[Mapping[str, Any]] = list(metadatas) if metadatas is not None else [{} for _ in items]
        # LangChain's convention: documents without an id get a fresh uuid4.
        all_ids = [str(i) if i is not None else str(uuid.uuid4()) for i in (ids or [None] * len(items))]
        vectors = yield Embed(tuple(items))
        if len(vectors) != len(items):
            raise InvalidInput(f"the embeddings returned {len(vectors)} vectors for {len(items)} texts")
        policy = self.store.policy
        yield from policy.ensure(self.collection_name, len(vectors[0]), self._metric, self._fingerprint)
        records = [
            Record(i, v, _stored_text(t), dict(m)) for i, t, m, v in zip(all_ids, items, metas, vectors, strict=True)
        ]
        yield from policy.upsert(self.collection_name, records, batch_size, None)
        return all_ids

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embed and upsert ``texts``; returns their ids. ``batch_size=`` sets records per request."""
        return self._sync(self._add_steps(texts, metadatas, ids, kwargs))

    async def aadd_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        return await self._async(self._add_steps(texts, metadatas, ids, kwargs))

    def _delete_steps(self, ids: list[str] | None, kwargs: dict[str, Any]) -> Steps[bool]:
        flt: Filter = kwargs.pop("filter", None)
        _no_extra(kwargs, f"{type(self).__name__}.delete")
        if ids is not None and flt is not None:
            raise InvalidInput("delete takes ids or filter=..., not both")
        spec = yield from self._spec_steps()
        if spec is None:
            return True
        policy = self.store.policy
        if ids is None and flt is None:
            yield from policy.drop(self.collection_name)
            yield from policy.create(spec, False)
        elif ids is not None:
            if ids:
                yield from policy.delete(self.collection_name, list(ids), None, None)
        else:
            yield from policy.delete(self.collection_name, None, flt, None)
        return True

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        """Delete by ``ids``, or by ``filter=`` (a vecbridge filter); with neither, delete every
        document (the collection is emptied and keeps its dimension, metric and embedder)."""
        return self._sync(self._delete_steps(ids, kwargs))

    async def adelete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        return await self._async(self._delete_steps(ids, kwargs))

    # ----- reads --------------------------------------------------------------------------

    def _get_steps(self, ids: Sequence[str]) -> Steps[list[Document]]:
        if not ids:
            return []
        spec = yield from self._spec_steps()
        if spec is None:
            return []
        records = yield from self.store.policy.get(self.collection_name, list(ids), False, None)
        return [_document(r.id, r.text, r.metadata) for r in records]

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """Documents with these ids, in the order asked; unknown ids are left out."""
        return self._sync(self._get_steps(ids))

    async def aget_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        return await self._async(self._get_steps(ids))

    def _search_steps(
        self, query: str | list[float], k: int, filter: Filter, include_vectors: bool, kwargs: Mapping[str, Any]
    ) -> Steps[list[Hit]]:
        _no_extra(kwargs, "a similarity search")
        spec = yield from self._spec_steps()
        if spec is None:  # nothing stored yet: do not pay for an embedding
            return []
        vector = (yield Embed((query,), query=True)) if isinstance(query, str) else query
        try:
            hits: list[Hit] = yield from self.store.policy.search(
                self.collection_name,
                None,
                vector=vector,
                text=None,
                k=k,
                filter=filter,
                mode="dense",
                include_vectors=include_vectors,
                score_threshold=None,
                alpha=None,
                options={},
            )
        except CollectionNotFound:  # dropped by someone else since: nothing to find
            return []
        return hits

    def similarity_search_with_score_by_vector(
        self, embedding: list[float], k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """The ``k`` most similar documents with their scores (higher is more similar)."""
        return [
            (_hit_document(h), h.score) for h in self._sync(self._search_steps(embedding, k, filter, False, kwargs))
        ]

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[Document]:
        return [_hit_document(h) for h in self._sync(self._search_steps(embedding, k, filter, False, kwargs))]

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        return [(_hit_document(h), h.score) for h in self._sync(self._search_steps(query, k, filter, False, kwargs))]

    def similarity_search(self, query: str, k: int = 4, filter: Filter = None, **kwargs: Any) -> list[Document]:
        return [_hit_document(h) for h in self._sync(self._search_steps(query, k, filter, False, kwargs))]

    async def asimilarity_search_with_score(
        self, query: str, k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        hits = await self._async(self._search_steps(query, k, filter, False, kwargs))
        return [(_hit_document(h), h.score) for h in hits]

    async def asimilarity_search(self, query: str, k: int = 4, filter: Filter = None, **kwargs: Any) -> list[Document]:
        return [_hit_document(h) for h in await self._async(self._search_steps(query, k, filter, False, kwargs))]

    async def asimilarity_search_by_vector(
        self, embedding: list[float], k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[Document]:
        return [_hit_document(h) for h in await self._async(self._search_steps(embedding, k, filter, False, kwargs))]

    def _mmr_steps(
        self,
        query: str | list[float],
        k: int,
        fetch_k: int,
        lambda_mult: float,
        filter: Filter,
        kwargs: Mapping[str, Any],
    ) -> Steps[list[Document]]:
        """Fetch ``fetch_k`` candidates with their vectors, then pick ``k`` that are relevant and
        diverse (LangChain's MMR)."""
        spec = yield from self._spec_steps()
        if spec is None:
            return []
        vector = (yield Embed((query,), query=True)) if isinstance(query, str) else query
        hits = yield from self._search_steps(vector, max(k, fetch_k), filter, True, kwargs)
        if not hits:
            return []
        chosen = maximal_marginal_relevance(
            np.asarray(vector, dtype=np.float32),
            [h.vector for h in hits],  # type: ignore[misc]
            lambda_mult=lambda_mult,
            k=k,
        )
        return [_hit_document(hits[i]) for i in chosen]

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Filter = None,
        **kwargs: Any,
    ) -> list[Document]:
        return self._sync(self._mmr_steps(embedding, k, fetch_k, lambda_mult, filter, kwargs))

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Filter = None,
        **kwargs: Any,
    ) -> list[Document]:
        return self._sync(self._mmr_steps(query, k, fetch_k, lambda_mult, filter, kwargs))

    async def amax_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Filter = None,
        **kwargs: Any,
    ) -> list[Document]:
        return await self._async(self._mmr_steps(query, k, fetch_k, lambda_mult, filter, kwargs))

    async def amax_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Filter = None,
        **kwargs: Any,
    ) -> list[Document]:
        return await self._async(self._mmr_steps(embedding, k, fetch_k, lambda_mult, filter, kwargs))

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        """Map vecbridge scores onto LangChain's 0-1 relevance scale with LangChain's own formulas
        for the equivalent distances: cosine and dot (for unit vectors) stay as they are; the
        negated L2 distance ``s`` becomes ``1 + s / sqrt(2)`` (``1 - distance / sqrt(2)``). Results
        are clipped to [0, 1]: opposite vectors are simply irrelevant, and rounding may pass 1."""
        spec = self._sync(self._spec_steps())
        metric = spec.metric if spec is not None else (self._metric or Metric.COSINE)
        if metric is Metric.EUCLIDEAN:
            return lambda score: min(1.0, max(0.0, 1.0 + score / math.sqrt(2)))
        return lambda score: min(1.0, max(0.0, score))

    # ----- construction -------------------------------------------------------------------

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | Embedder,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> VecbridgeVectorStore:
        """Build the store and add ``texts``. Needs ``store=`` (URL or Store) and
        ``collection_name=``; ``metric=`` and ``batch_size=`` are optional."""
        try:
            store = kwargs.pop("store")
            collection_name = kwargs.pop("collection_name")
        except KeyError as missing:
            raise InvalidInput(
                f"{cls.__name__}.from_texts needs {missing.args[0]}=...: "
                "e.g. store='qdrant+edge:///data', collection_name='docs'"
            ) from None
        vs = cls(store, collection_name, embedding, **kwargs)
        vs.add_texts(texts, metadatas, ids=ids)
        return vs

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.collection_name!r}, store={self.store!r}, embeddings={self._embedding!r})"
