"""``VecbridgeDocumentStore``: Haystack's ``DocumentStore`` protocol over any vecbridge store.

One Haystack document store is one vecbridge collection. Documents map to records as described in
:mod:`.documents`; Haystack filters are translated by :mod:`.filters` (and refused, with a
``FilterError``, where vecbridge cannot express their meaning).

How each operation reaches the store:

- ``count_documents``, ``count_documents_by_filter``, ``delete_documents``, ``delete_by_filter``
  and ``embedding_retrieval`` run in the store (native filters).
- ``filter_documents`` and ``update_by_filter`` stream the collection (``scan``) and keep the
  records that match, evaluated by vecbridge's reference semantics (``matches``, which the
  conformance suite holds every store's native filters to). They read the whole collection:
  the store protocol has no filtered scan, and a filtered similarity query is approximate and
  capped in size on some stores, so it cannot return "every match".
- ``write_documents`` with ``DuplicatePolicy.FAIL`` or ``SKIP`` (``NONE`` means ``FAIL``, as in
  Haystack's in-memory store) looks the ids up first; this check and the write are two steps, not
  one transaction.

The collection is created on the first write, with ``dimension`` (or the first embedding's length)
and ``metric`` (``dot`` by default, as Haystack's in-memory store; ``cosine`` and ``euclidean`` too).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from haystack import default_from_dict, default_to_dict
from haystack.core.errors import SerializationError
from haystack.dataclasses import Document
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.document_stores.types import DuplicatePolicy
from haystack.utils import Secret

from vecbridge.core.batching import batched
from vecbridge.core.errors import InvalidInput
from vecbridge.core.filters import And, Comparison, matches
from vecbridge.core.models import CollectionSpec, Metric, Record, validate_collection_name
from vecbridge.core.registry import connect
from vecbridge.core.store import VectorStore, check_compatible
from vecbridge.core.urls import parse_store_url

from .documents import PLACEHOLDER_KEY, to_document, to_record
from .filters import Translated, translate_filters

__all__ = ["VecbridgeDocumentStore"]

MissingEmbeddings = Literal["error", "placeholder"]

# Haystack's names for the metrics, beside vecbridge's own.
_HAYSTACK_METRICS = {"dot_product": "dot", "cosine": "cosine", "l2": "euclidean"}


def _document_list(documents: Any) -> list[Document]:
    if isinstance(documents, (str, bytes)) or not isinstance(documents, Sequence):
        raise ValueError(f"Please provide a list of Documents, got {type(documents).__name__}.")
    for i, doc in enumerate(documents):
        if not isinstance(doc, Document):
            raise ValueError(f"Please provide a list of Documents: item {i} is a {type(doc).__name__}.")
    return list(documents)


class VecbridgeDocumentStore:
    """A Haystack document store over ``collection`` in ``store``.

    >>> from haystack import Document
    >>> ds = VecbridgeDocumentStore("qdrant+local://:memory:", "docs")
    >>> ds.write_documents([Document(id="a", content="apples", meta={"year": 2021}, embedding=[1.0, 0.0])])
    1
    >>> recent = {"field": "meta.year", "operator": ">=", "value": 2020}
    >>> [(d.id, d.score) for d in ds.embedding_retrieval([1.0, 0.0], filters=recent)]
    [('a', 1.0)]
    >>> ds.close()

    :param store: a store URL (``"qdrant+edge:///data"``), a ``Secret`` holding one (for URLs with
        passwords, so pipelines can be saved without them), or an open vecbridge ``VectorStore``
        (not serialisable). A URL is connected on first use.
    :param collection: the collection name (letters, digits, ``_``, ``-``).
    :param dimension: vector dimension; needed up front only to store documents without
        embeddings before any with one.
    :param metric: ``"dot"`` (default), ``"cosine"`` or ``"euclidean"`` (Haystack's
        ``"dot_product"`` and ``"l2"`` also work). An existing collection keeps its own metric
        unless one is given, which is then checked.
    :param missing_embeddings: ``"error"`` (default) refuses documents without an embedding;
        ``"placeholder"`` stores them with a placeholder vector (see :mod:`.documents`), kept out of
        embedding retrieval.
    :param batch_size: records per write request (the store's default when None).
    """

    def __init__(
        self,
        store: str | Secret | VectorStore,
        collection: str,
        *,
        dimension: int | None = None,
        metric: str | None = None,
        missing_embeddings: MissingEmbeddings = "error",
        batch_size: int | None = None,
    ) -> None:
        if missing_embeddings not in ("error", "placeholder"):
            raise InvalidInput(f"missing_embeddings must be 'error' or 'placeholder', got {missing_embeddings!r}")
        self._store_arg = store
        self._store: VectorStore | None = None if isinstance(store, (str, Secret)) else store
        if self._store is not None and not isinstance(self._store, VectorStore):
            raise InvalidInput(
                "store must be a store URL, a Secret holding one, or a vecbridge VectorStore; "
                f"got {type(store).__name__}"
            )
        self._connect_lock = threading.Lock()
        self.collection = validate_collection_name(collection)
        self.dimension = dimension
        self.metric = Metric.parse(_HAYSTACK_METRICS.get(metric, metric)) if metric is not None else None
        self.missing_embeddings: MissingEmbeddings = missing_embeddings
        self.batch_size = batch_size

    # ----- store and collection -----------------------------------------------------------

    @property
    def store(self) -> VectorStore:
        """The vecbridge store (connected on first use when given as a URL)."""
        if self._store is None:
            with self._connect_lock:
                if self._store is None:
                    arg = self._store_arg
                    url = arg.resolve_value() if isinstance(arg, Secret) else arg
                    if not isinstance(url, str) or not url:
                        raise InvalidInput("the store Secret resolved to no URL: set the variable it names")
                    self._store = connect(url)
        return self._store

    def close(self) -> None:
        """Close the store if this document store opened it from a URL (a store object passed
        in belongs to the caller and stays open)."""
        if self._store is not None and isinstance(self._store_arg, (str, Secret)):
            self._store.close()
            self._store = None

    def _spec(self) -> CollectionSpec | None:
        if not self.store.has_collection(self.collection):
            return None
        return self.store.describe_collection(self.collection)

    def _ensure_collection(self, dimension: int | None) -> CollectionSpec:
        existing = self._spec()
        dim = dimension or self.dimension
        if existing is not None:
            check_compatible(
                existing,
                CollectionSpec(self.collection, dim or existing.dimension, self.metric or existing.metric),
            )
            return existing
        if dim is None:
            raise InvalidInput(
                f"cannot create collection {self.collection!r} without a dimension: pass dimension=... "
                "or write a document with an embedding first"
            )
        spec = CollectionSpec(self.collection, dim, self.metric or Metric.DOT)
        return self.store.create_collection(spec, exist_ok=True)

    def _iter_records(self) -> Iterator[Record]:
        for page in self.store.scan(self.collection, batch_size=self.batch_size or 256):
            yield from page.records

    def _matching_records(self, node: Translated) -> Iterator[Record]:
        if node is False or self._spec() is None:
            return
        for record in self._iter_records():
            if node is True or matches(node, record.metadata):
                yield record

    # ----- serialisation ------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        store = self._store_arg
        if not isinstance(store, (str, Secret)):
            raise SerializationError(
                "this VecbridgeDocumentStore was built from a store object, which cannot be saved: "
                "pass the store URL (or a Secret holding it) to make it serialisable"
            )
        if isinstance(store, str) and parse_store_url(store).password:
            raise SerializationError(
                "the store URL holds a password, which would be written into the saved pipeline: pass "
                "store=Secret.from_env_var('VECBRIDGE_STORE_URL'), or put the password in the store's "
                "environment variable (e.g. PGPASSWORD) instead"
            )
        return default_to_dict(
            self,
            store=store,
            collection=self.collection,
            dimension=self.dimension,
            metric=self.metric.value if self.metric else None,
            missing_embeddings=self.missing_embeddings,
            batch_size=self.batch_size,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VecbridgeDocumentStore:
        params = dict(data.get("init_parameters", {}))
        if isinstance(params.get("store"), dict):  # a serialised Secret (Haystack 2 leaves it as a dict)
            params["store"] = Secret.from_dict(params["store"])
        return default_from_dict(cls, {**data, "init_parameters": params})

    # ----- the DocumentStore protocol -----------------------------------------------------

    def count_documents(self) -> int:
        return self.store.count(self.collection) if self._spec() is not None else 0

    def filter_documents(self, filters: dict[str, Any] | None = None) -> list[Document]:
        """Every document matching ``filters`` (all of them without), with its embedding."""
        node = translate_filters(filters)  # a bad filter fails even on an empty store
        return [to_document(r.id, r.text, r.metadata, r.vector) for r in self._matching_records(node)]

    def write_documents(self, documents: list[Document], policy: DuplicatePolicy = DuplicatePolicy.NONE) -> int:
        """Write documents; returns how many were written. ``NONE`` behaves as ``FAIL``."""
        docs = _document_list(documents)
        if not docs:
            return 0
        if policy == DuplicatePolicy.NONE:
            policy = DuplicatePolicy.FAIL
        docs = self._dedupe(docs, policy)
        first_embedding = next((d.embedding for d in docs if d.embedding is not None), None)
        existing = self._spec()
        dimension = (
            len(first_embedding)
            if first_embedding is not None
            else (existing.dimension if existing is not None else self.dimension)
        )
        placeholders = self.missing_embeddings == "placeholder"
        records = [to_record(d, dimension, placeholders=placeholders) for d in docs]  # refuse before writing
        spec = self._ensure_collection(dimension)
        if policy in (DuplicatePolicy.FAIL, DuplicatePolicy.SKIP):
            present = {r.id for r in self.store.get(spec.name, [r.id for r in records], include_vectors=False)}
            if present and policy == DuplicatePolicy.FAIL:
                shown = ", ".join(repr(i) for i in sorted(present)[:5])
                raise DuplicateDocumentError(
                    f"{len(present)} document id(s) already exist ({shown}); nothing was written. "
                    "Use DuplicatePolicy.OVERWRITE or SKIP"
                )
            records = [r for r in records if r.id not in present]
        if records:
            self.store.upsert(spec.name, records, batch_size=self.batch_size)
        return len(documents) if policy == DuplicatePolicy.OVERWRITE else len(records)

    @staticmethod
    def _dedupe(docs: list[Document], policy: DuplicatePolicy) -> list[Document]:
        """One document per id: the first wins under SKIP, the last under OVERWRITE; FAIL refuses."""
        by_id: dict[str, Document] = {}
        repeated: list[str] = []
        for doc in docs:
            if doc.id in by_id:
                repeated.append(doc.id)
                if policy != DuplicatePolicy.OVERWRITE:
                    continue
            by_id[doc.id] = doc
        if repeated and policy == DuplicatePolicy.FAIL:
            raise DuplicateDocumentError(
                f"the same document id is given more than once ({', '.join(map(repr, repeated[:5]))}); "
                "nothing was written"
            )
        return list(by_id.values())

    def delete_documents(self, document_ids: list[str]) -> None:
        """Delete by id; ids that do not exist are ignored."""
        if document_ids and self._spec() is not None:
            self.store.delete(self.collection, list(document_ids))

    # ----- beyond the protocol (Haystack's extended tests) --------------------------------

    def count_documents_by_filter(self, filters: dict[str, Any]) -> int:
        node = translate_filters(filters)
        if node is False or self._spec() is None:
            return 0
        if node is True:
            return self.count_documents()
        return self.store.count(self.collection, filter=node)

    def delete_all_documents(self, recreate_index: bool = False) -> None:
        """Empty the collection. ``recreate_index=True`` drops and recreates it with the same
        dimension and metric (faster on large collections); otherwise records are deleted by id."""
        spec = self._spec()
        if spec is None:
            return
        if recreate_index:
            self.store.drop_collection(self.collection)
            self.store.create_collection(spec)
            return
        ids = [r.id for r in self._iter_records()]
        for chunk in batched(ids, 1000):
            self.store.delete(self.collection, chunk)

    def delete_by_filter(self, filters: dict[str, Any]) -> int:
        """Delete the documents matching ``filters``; returns how many matched."""
        node = translate_filters(filters)
        if node is False or self._spec() is None:
            return 0
        if node is True:
            n = self.count_documents()
            self.delete_all_documents()
            return n
        n = self.store.count(self.collection, filter=node)
        if n:
            self.store.delete(self.collection, filter=node)
        return n

    def update_by_filter(self, filters: dict[str, Any], meta: dict[str, Any]) -> int:
        """Merge ``meta`` into the metadata of every matching document; returns how many."""
        if not isinstance(meta, Mapping):
            raise InvalidInput(f"meta must be a dict, got {type(meta).__name__}")
        if PLACEHOLDER_KEY in meta:
            raise InvalidInput(f"the metadata key {PLACEHOLDER_KEY!r} is reserved by vecbridge")
        node = translate_filters(filters)
        updated = [Record(r.id, r.vector, r.text, {**r.metadata, **meta}) for r in self._matching_records(node)]
        if updated:
            self.store.upsert(self.collection, updated, batch_size=self.batch_size)
        return len(updated)

    def embedding_retrieval(
        self,
        query_embedding: list[float],
        filters: dict[str, Any] | None = None,
        top_k: int = 10,
        return_embedding: bool = False,
    ) -> list[Document]:
        """The ``top_k`` documents most similar to ``query_embedding``, best first, with scores
        (vecbridge's: higher is more similar). Documents stored without an embedding never match."""
        node = translate_filters(filters)
        if node is False or top_k == 0 or self._spec() is None:
            return []
        if self.missing_embeddings == "placeholder":
            real = Comparison(PLACEHOLDER_KEY, "ne", True)
            node = real if node is True else And((node, real))
        hits = self.store.query(
            self.collection,
            query_embedding,
            k=top_k,
            filter=None if node is True else node,
            include_vectors=return_embedding,
        )
        return [to_document(h.id, h.text, h.metadata, h.vector, h.score) for h in hits]

    # ----- async twins (the store is synchronous: each call runs in a worker thread) -------

    async def count_documents_async(self) -> int:
        return await asyncio.to_thread(self.count_documents)

    async def filter_documents_async(self, filters: dict[str, Any] | None = None) -> list[Document]:
        return await asyncio.to_thread(self.filter_documents, filters)

    async def write_documents_async(
        self, documents: list[Document], policy: DuplicatePolicy = DuplicatePolicy.NONE
    ) -> int:
        return await asyncio.to_thread(self.write_documents, documents, policy)

    async def delete_documents_async(self, document_ids: list[str]) -> None:
        await asyncio.to_thread(self.delete_documents, document_ids)

    async def count_documents_by_filter_async(self, filters: dict[str, Any]) -> int:
        return await asyncio.to_thread(self.count_documents_by_filter, filters)

    async def delete_all_documents_async(self, recreate_index: bool = False) -> None:
        await asyncio.to_thread(self.delete_all_documents, recreate_index)

    async def delete_by_filter_async(self, filters: dict[str, Any]) -> int:
        return await asyncio.to_thread(self.delete_by_filter, filters)

    async def update_by_filter_async(self, filters: dict[str, Any], meta: dict[str, Any]) -> int:
        return await asyncio.to_thread(self.update_by_filter, filters, meta)

    async def embedding_retrieval_async(
        self,
        query_embedding: list[float],
        filters: dict[str, Any] | None = None,
        top_k: int = 10,
        return_embedding: bool = False,
    ) -> list[Document]:
        return await asyncio.to_thread(self.embedding_retrieval, query_embedding, filters, top_k, return_embedding)

    def __repr__(self) -> str:
        where = self._store if self._store is not None else "<not connected>"
        return f"VecbridgeDocumentStore({self.collection!r}, store={where!r})"
