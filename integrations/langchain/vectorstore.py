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
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance

from vecbridge.core.embedders import Embedder
from vecbridge.core.errors import InvalidInput
from vecbridge.core.filters import FilterNode
from vecbridge.core.models import CollectionSpec, EmbedderFingerprint, Hit, Metric, Record, validate_collection_name
from vecbridge.core.store import VectorStore as VecbridgeStore
from vecbridge.core.store import check_compatible

from ..stores import open_store
from .embeddings import VecbridgeEmbeddings

__all__ = ["VecbridgeVectorStore"]

Filter = Mapping[str, Any] | FilterNode | None


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


class VecbridgeVectorStore(VectorStore):
    """A LangChain vector store over ``collection_name`` in ``store``.

    ``store`` is a store URL (``"qdrant+edge:///data"``, ``"pgvector://..."``) or an open vecbridge
    ``VectorStore``; ``embedding`` a LangChain ``Embeddings`` or a vecbridge embedder.

    >>> from vecbridge.core import connect, load_embedder
    >>> vs = VecbridgeVectorStore(connect("qdrant+local://:memory:"), "notes", load_embedder("hashing", dimension=64))
    >>> ids = vs.add_texts(["red apples", "blue ocean"], [{"kind": "fruit"}, {"kind": "sea"}], ids=["a", "o"])
    >>> [d.id for d in vs.similarity_search("apples", k=1, filter={"kind": "fruit"})]
    ['a']
    """

    def __init__(
        self,
        store: str | VecbridgeStore,
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

    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

    def close(self) -> None:
        """Close the store if this adapter opened it from a URL (a store object passed in belongs
        to the caller and stays open)."""
        if self.store_url is not None:
            self.store.close()

    # ----- collection ---------------------------------------------------------------------

    def _spec(self) -> CollectionSpec | None:
        """The collection's spec, or None before the first write created it."""
        if not self.store.has_collection(self.collection_name):
            return None
        return self.store.describe_collection(self.collection_name)

    def _ensure_collection(self, dimension: int) -> CollectionSpec:
        existing = self._spec()
        if existing is not None:
            wanted = CollectionSpec(self.collection_name, dimension, self._metric or existing.metric, self._fingerprint)
            check_compatible(existing, wanted)
            return existing
        spec = CollectionSpec(self.collection_name, dimension, self._metric or Metric.COSINE, self._fingerprint)
        # exist_ok: another writer may create it between the check and here; it is then checked.
        return self.store.create_collection(spec, exist_ok=True)

    # ----- writes -------------------------------------------------------------------------

    def _prepare(
        self,
        texts: Iterable[str],
        metadatas: Sequence[Mapping[str, Any]] | None,
        ids: Sequence[str | None] | None,
        kwargs: Mapping[str, Any],
    ) -> tuple[list[str], list[Mapping[str, Any]], list[str], int | None]:
        batch_size = kwargs.get("batch_size", self._batch_size)
        unknown = set(kwargs) - {"batch_size"}
        if unknown:
            raise TypeError(f"unexpected keyword argument(s) {sorted(unknown)} for {type(self).__name__}.add_texts")
        items = list(texts)
        if metadatas is not None and len(metadatas) != len(items):
            raise InvalidInput(f"got {len(metadatas)} metadata dicts for {len(items)} texts")
        if ids is not None and len(ids) != len(items):
            raise InvalidInput(f"got {len(ids)} ids for {len(items)} texts")
        metas: list[Mapping[str, Any]] = list(metadatas) if metadatas is not None else [{} for _ in items]
        # LangChain's convention: documents without an id get a fresh uuid4.
        all_ids = [str(i) if i is not None else str(uuid.uuid4()) for i in (ids or [None] * len(items))]
        return items, metas, all_ids, batch_size

    def _write(
        self,
        texts: list[str],
        metadatas: list[Mapping[str, Any]],
        ids: list[str],
        vectors: list[list[float]],
        batch_size: int | None,
    ) -> list[str]:
        if not texts:
            return []
        if len(vectors) != len(texts):
            raise InvalidInput(f"the embeddings returned {len(vectors)} vectors for {len(texts)} texts")
        self._ensure_collection(len(vectors[0]))
        records = [
            Record(i, v, _stored_text(t), dict(m)) for i, t, m, v in zip(ids, texts, metadatas, vectors, strict=True)
        ]
        self.store.upsert(self.collection_name, records, batch_size=batch_size)
        return ids

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embed and upsert ``texts``; returns their ids. ``batch_size=`` sets records per request."""
        items, metas, all_ids, batch_size = self._prepare(texts, metadatas, ids, kwargs)
        vectors = self._embedding.embed_documents(items) if items else []
        return self._write(items, metas, all_ids, vectors, batch_size)

    async def aadd_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        items, metas, all_ids, batch_size = self._prepare(texts, metadatas, ids, kwargs)
        vectors = await self._embedding.aembed_documents(items) if items else []
        return await asyncio.to_thread(self._write, items, metas, all_ids, vectors, batch_size)

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        """Delete by ``ids``, or by ``filter=`` (a vecbridge filter); with neither, delete every
        document (the collection is emptied and keeps its dimension, metric and embedder)."""
        flt: Filter = kwargs.pop("filter", None)
        if kwargs:
            raise TypeError(f"unexpected keyword argument(s) {sorted(kwargs)} for {type(self).__name__}.delete")
        spec = self._spec()
        if spec is None:
            return True
        if ids is not None and flt is not None:
            raise InvalidInput("delete takes ids or filter=..., not both")
        if ids is None and flt is None:
            self.store.drop_collection(self.collection_name)
            self.store.create_collection(spec)
        elif ids is not None:
            if ids:
                self.store.delete(self.collection_name, list(ids))
        else:
            self.store.delete(self.collection_name, filter=flt)
        return True

    async def adelete(self, ids: list[str] | None = None, **kwargs: Any) -> bool:
        return await asyncio.to_thread(self.delete, ids, **kwargs)

    # ----- reads --------------------------------------------------------------------------

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """Documents with these ids, in the order asked; unknown ids are left out."""
        if not ids or self._spec() is None:
            return []
        records = self.store.get(self.collection_name, list(ids), include_vectors=False)
        return [_document(r.id, r.text, r.metadata) for r in records]

    async def aget_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        return await asyncio.to_thread(self.get_by_ids, ids)

    def similarity_search_with_score_by_vector(
        self, embedding: list[float], k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """The ``k`` most similar documents with their scores (higher is more similar)."""
        if kwargs:
            raise TypeError(f"unexpected keyword argument(s) {sorted(kwargs)} for a similarity search")
        if self._spec() is None:
            return []
        hits = self.store.query(self.collection_name, embedding, k=k, filter=filter)
        return [(_hit_document(h), h.score) for h in hits]

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score_by_vector(embedding, k, filter, **kwargs)]

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        if self._spec() is None:  # nothing stored yet: do not pay for an embedding
            return []
        return self.similarity_search_with_score_by_vector(self._embedding.embed_query(query), k, filter, **kwargs)

    def similarity_search(self, query: str, k: int = 4, filter: Filter = None, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    async def asimilarity_search_with_score(
        self, query: str, k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        if await asyncio.to_thread(self._spec) is None:
            return []
        vector = await self._embedding.aembed_query(query)
        return await asyncio.to_thread(self.similarity_search_with_score_by_vector, vector, k, filter, **kwargs)

    async def asimilarity_search(self, query: str, k: int = 4, filter: Filter = None, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in await self.asimilarity_search_with_score(query, k, filter, **kwargs)]

    async def asimilarity_search_by_vector(
        self, embedding: list[float], k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[Document]:
        return await asyncio.to_thread(self.similarity_search_by_vector, embedding, k, filter, **kwargs)

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Filter = None,
        **kwargs: Any,
    ) -> list[Document]:
        """Fetch ``fetch_k`` candidates with their vectors, then pick ``k`` that are relevant and
        diverse (LangChain's MMR)."""
        if kwargs:
            raise TypeError(f"unexpected keyword argument(s) {sorted(kwargs)} for an MMR search")
        if self._spec() is None:
            return []
        hits = self.store.query(self.collection_name, embedding, k=max(k, fetch_k), filter=filter, include_vectors=True)
        if not hits:
            return []
        chosen = maximal_marginal_relevance(
            np.asarray(embedding, dtype=np.float32),
            [h.vector for h in hits],  # type: ignore[misc]
            lambda_mult=lambda_mult,
            k=k,
        )
        return [_hit_document(hits[i]) for i in chosen]

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Filter = None,
        **kwargs: Any,
    ) -> list[Document]:
        if self._spec() is None:
            return []
        vector = self._embedding.embed_query(query)
        return self.max_marginal_relevance_search_by_vector(vector, k, fetch_k, lambda_mult, filter, **kwargs)

    async def amax_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Filter = None,
        **kwargs: Any,
    ) -> list[Document]:
        if await asyncio.to_thread(self._spec) is None:
            return []
        vector = await self._embedding.aembed_query(query)
        return await asyncio.to_thread(
            self.max_marginal_relevance_search_by_vector, vector, k, fetch_k, lambda_mult, filter, **kwargs
        )

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        """Map vecbridge scores onto LangChain's 0-1 relevance scale with LangChain's own formulas
        for the equivalent distances: cosine and dot (for unit vectors) stay as they are; the
        negated L2 distance ``s`` becomes ``1 + s / sqrt(2)`` (``1 - distance / sqrt(2)``). Results
        are clipped to [0, 1]: opposite vectors are simply irrelevant, and rounding may pass 1."""
        spec = self._spec()
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
        """Build the store and add ``texts``. Needs ``store=`` (URL or VectorStore) and
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
