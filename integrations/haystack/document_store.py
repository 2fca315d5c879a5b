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

Sync and async: every operation is one generator of vecbridge's store policy (``_*_steps``), run by
the sync store or, for the ``*_async`` methods, by its async view (``Store.async_view()``: the
SDK's native async client where the store has one) — no thread hop.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

from haystack import default_from_dict, default_to_dict
from haystack.core.errors import SerializationError
from haystack.dataclasses import Document
from haystack.document_stores.errors import DuplicateDocumentError
from haystack.document_stores.types import DuplicatePolicy
from haystack.utils import Secret

from vecbridge.core.async_store import AsyncStore, arun_steps
from vecbridge.core.batching import batched
from vecbridge.core.errors import CollectionNotFound, InvalidInput
from vecbridge.core.filters import And, Comparison, FilterNode, matches
from vecbridge.core.models import CollectionSpec, Metric, Record, validate_collection_name
from vecbridge.core.policy import Steps
from vecbridge.core.registry import connect
from vecbridge.core.store import Store, run_steps
from vecbridge.core.urls import parse_store_url

from .documents import PLACEHOLDER_KEY, to_document, to_record
from .filters import Translated, translate_filters

__all__ = ["VecbridgeDocumentStore"]

MissingEmbeddings = Literal["error", "placeholder"]
T = TypeVar("T")

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
    >>> ds = VecbridgeDocumentStore("memory://", "docs")
    >>> ds.write_documents([Document(id="a", content="apples", meta={"year": 2021}, embedding=[1.0, 0.0])])
    1
    >>> recent = {"field": "meta.year", "operator": ">=", "value": 2020}
    >>> [(d.id, d.score) for d in ds.embedding_retrieval([1.0, 0.0], filters=recent)]
    [('a', 1.0)]
    >>> ds.close()

    :param store: a store URL (``"qdrant+edge:///data"``), a ``Secret`` holding one (for URLs with
        passwords, so pipelines can be saved without them), or an open vecbridge ``Store``
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
        store: str | Secret | Store,
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
        self._store: Store | None = None if isinstance(store, (str, Secret)) else store
        if self._store is not None and not isinstance(self._store, Store):
            raise InvalidInput(
                "store must be a store URL, a Secret holding one, or a vecbridge Store (from connect()); "
                f"got {type(store).__name__}"
            )
        self._connect_lock = threading.Lock()
        self._astore: AsyncStore | None = None
        self.collection = validate_collection_name(collection)
        self.dimension = dimension
        self.metric = Metric.parse(_HAYSTACK_METRICS.get(metric, metric)) if metric is not None else None
        self.missing_embeddings: MissingEmbeddings = missing_embeddings
        self.batch_size = batch_size

    # ----- store and collection -----------------------------------------------------------

    @property
    def store(self) -> Store:
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
        in belongs to the caller and stays open). Call ``close_async`` after the async methods."""
        if self._store is not None and isinstance(self._store_arg, (str, Secret)):
            self._store.close()
            self._store = None

    async def close_async(self) -> None:
        """Close the async view the ``*_async`` methods opened, then the store as ``close`` does."""
        if self._astore is not None:
            astore, self._astore = self._astore, None
            await astore.close()
        self.close()

    def _sync(self, steps: Steps[T]) -> T:
        store = self.store
        return run_steps(steps, store.driver, store.policy)

    async def _async(self, steps: Steps[T]) -> T:
        if self._astore is None:
            self._astore = self.store.async_view()
        return await arun_steps(steps, self._astore.driver, self._astore.policy)

    def _spec_steps(self) -> Steps[CollectionSpec | None]:
        spec = yield from self.store.policy.spec_or_none(self.collection, fresh=False)
        return spec

    def _ensure_steps(self, dimension: int | None) -> Steps[CollectionSpec]:
        existing = yield from self._spec_steps()
        dim = dimension or self.dimension or (existing.dimension if existing is not None else None)
        if dim is None:
            raise InvalidInput(
                f"cannot create collection {self.collection!r} without a dimension: pass dimension=... "
                "or write a document with an embedding first"
            )
        spec: CollectionSpec = yield from self.store.policy.ensure(
            self.collection, dim, self.metric, None, default_metric=Metric.DOT
        )
        return spec

    def _records_steps(self, node: Translated) -> Steps[list[Record]]:
        """Every record matching ``node`` (a scan evaluated with the reference semantics)."""
        found: list[Record] = []
        if node is False:
            return found
        spec = yield from self._spec_steps()
        if spec is None:
            return found
        policy = self.store.policy
        target = yield from policy.scan_target(self.collection, self.batch_size or 256, None, None)
        cursor: str | None = None
        while True:
            page = yield from policy.scan_page(target, cursor, self.batch_size or 256, True, None)
            found.extend(r for r in page.records if node is True or matches(node, r.metadata))
            if page.next_cursor is None:
                return found
            cursor = page.next_cursor

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

    # ----- the operations, as policy generators -------------------------------------------

    def _count_steps(self, node: Translated) -> Steps[int]:
        if node is False:
            return 0
        spec = yield from self._spec_steps()
        if spec is None:
            return 0
        try:
            n: int = yield from self.store.policy.count(self.collection, None if node is True else node, None)
        except CollectionNotFound:
            return 0
        return n

    def _filter_steps(self, filters: dict[str, Any] | None) -> Steps[list[Document]]:
        node = translate_filters(filters)  # a bad filter fails even on an empty store
        records = yield from self._records_steps(node)
        return [to_document(r.id, r.text, r.metadata, r.vector) for r in records]

    def _write_steps(self, documents: list[Document], policy: DuplicatePolicy) -> Steps[int]:
        docs = _document_list(documents)
        if not docs:
            return 0
        if policy == DuplicatePolicy.NONE:
            policy = DuplicatePolicy.FAIL
        docs = self._dedupe(docs, policy)
        first_embedding = next((d.embedding for d in docs if d.embedding is not None), None)
        existing = yield from self._spec_steps()
        dimension = (
            len(first_embedding)
            if first_embedding is not None
            else (existing.dimension if existing is not None else self.dimension)
        )
        placeholders = self.missing_embeddings == "placeholder"
        records = [to_record(d, dimension, placeholders=placeholders) for d in docs]  # refuse before writing
        spec = yield from self._ensure_steps(dimension)
        store = self.store.policy
        if policy in (DuplicatePolicy.FAIL, DuplicatePolicy.SKIP):
            found = yield from store.get(spec.name, [r.id for r in records], False, None)
            present = {r.id for r in found}
            if present and policy == DuplicatePolicy.FAIL:
                shown = ", ".join(repr(i) for i in sorted(present)[:5])
                raise DuplicateDocumentError(
                    f"{len(present)} document id(s) already exist ({shown}); nothing was written. "
                    "Use DuplicatePolicy.OVERWRITE or SKIP"
                )
            records = [r for r in records if r.id not in present]
        if records:
            yield from store.upsert(spec.name, records, self.batch_size, None)
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

    def _delete_ids_steps(self, document_ids: list[str]) -> Steps[None]:
        if not document_ids:
            return
        spec = yield from self._spec_steps()
        if spec is not None:
            yield from self.store.policy.delete(self.collection, list(document_ids), None, None)

    def _delete_all_steps(self, recreate_index: bool) -> Steps[None]:
        spec = yield from self._spec_steps()
        if spec is None:
            return
        policy = self.store.policy
        if recreate_index:
            yield from policy.drop(self.collection)
            yield from policy.create(spec, False)
            return
        records = yield from self._records_steps(True)
        for chunk in batched([r.id for r in records], 1000):
            yield from policy.delete(self.collection, chunk, None, None)

    def _delete_by_filter_steps(self, filters: dict[str, Any]) -> Steps[int]:
        node = translate_filters(filters)
        n = yield from self._count_steps(node)
        if not n:
            return 0
        if node is True:
            yield from self._delete_all_steps(False)
        else:
            assert not isinstance(node, bool)
            yield from self.store.policy.delete(self.collection, None, node, None)
        return n

    def _update_steps(self, filters: dict[str, Any], meta: dict[str, Any]) -> Steps[int]:
        if not isinstance(meta, Mapping):
            raise InvalidInput(f"meta must be a dict, got {type(meta).__name__}")
        if PLACEHOLDER_KEY in meta:
            raise InvalidInput(f"the metadata key {PLACEHOLDER_KEY!r} is reserved by vecbridge")
        node = translate_filters(filters)
        records = yield from self._records_steps(node)
        updated = [Record(r.id, r.vector, r.text, {**r.metadata, **meta}) for r in records]
        if updated:
            yield from self.store.policy.upsert(self.collection, updated, self.batch_size, None)
        return len(updated)

    def _retrieval_steps(
        self, query_embedding: list[float], filters: dict[str, Any] | None, top_k: int, return_embedding: bool
    ) -> Steps[list[Document]]:
        node = translate_filters(filters)
        if node is False or top_k == 0:
            return []
        spec = yield from self._spec_steps()
        if spec is None:
            return []
        if self.missing_embeddings == "placeholder":
            real = Comparison(PLACEHOLDER_KEY, "ne", True)
            node = real if node is True else And((node, real))
        flt: FilterNode | None = None if node is True else node
        hits = yield from self.store.policy.search(
            self.collection,
            None,
            vector=query_embedding,
            text=None,
            k=top_k,
            filter=flt,
            mode="dense",
            include_vectors=return_embedding,
            score_threshold=None,
            alpha=None,
            options={},
        )
        return [to_document(h.id, h.text, h.metadata, h.vector, h.score) for h in hits]

    # ----- the DocumentStore protocol -----------------------------------------------------

    def count_documents(self) -> int:
        return self._sync(self._count_steps(True))

    def filter_documents(self, filters: dict[str, Any] | None = None) -> list[Document]:
        """Every document matching ``filters`` (all of them without), with its embedding."""
        return self._sync(self._filter_steps(filters))

    def write_documents(self, documents: list[Document], policy: DuplicatePolicy = DuplicatePolicy.NONE) -> int:
        """Write documents; returns how many were written. ``NONE`` behaves as ``FAIL``."""
        return self._sync(self._write_steps(documents, policy))

    def delete_documents(self, document_ids: list[str]) -> None:
        """Delete by id; ids that do not exist are ignored."""
        self._sync(self._delete_ids_steps(document_ids))

    # ----- beyond the protocol (Haystack's extended tests) --------------------------------

    def count_documents_by_filter(self, filters: dict[str, Any]) -> int:
        return self._sync(self._count_steps(translate_filters(filters)))

    def delete_all_documents(self, recreate_index: bool = False) -> None:
        """Empty the collection. ``recreate_index=True`` drops and recreates it with the same
        dimension and metric (faster on large collections); otherwise records are deleted by id."""
        self._sync(self._delete_all_steps(recreate_index))

    def delete_by_filter(self, filters: dict[str, Any]) -> int:
        """Delete the documents matching ``filters``; returns how many matched."""
        return self._sync(self._delete_by_filter_steps(filters))

    def update_by_filter(self, filters: dict[str, Any], meta: dict[str, Any]) -> int:
        """Merge ``meta`` into the metadata of every matching document; returns how many."""
        return self._sync(self._update_steps(filters, meta))

    def embedding_retrieval(
        self,
        query_embedding: list[float],
        filters: dict[str, Any] | None = None,
        top_k: int = 10,
        return_embedding: bool = False,
    ) -> list[Document]:
        """The ``top_k`` documents most similar to ``query_embedding``, best first, with scores
        (vecbridge's: higher is more similar). Documents stored without an embedding never match."""
        return self._sync(self._retrieval_steps(query_embedding, filters, top_k, return_embedding))

    # ----- async twins: the same generators, awaited on the store's async view --------------

    async def count_documents_async(self) -> int:
        return await self._async(self._count_steps(True))

    async def filter_documents_async(self, filters: dict[str, Any] | None = None) -> list[Document]:
        return await self._async(self._filter_steps(filters))

    async def write_documents_async(
        self, documents: list[Document], policy: DuplicatePolicy = DuplicatePolicy.NONE
    ) -> int:
        return await self._async(self._write_steps(documents, policy))

    async def delete_documents_async(self, document_ids: list[str]) -> None:
        await self._async(self._delete_ids_steps(document_ids))

    async def count_documents_by_filter_async(self, filters: dict[str, Any]) -> int:
        return await self._async(self._count_steps(translate_filters(filters)))

    async def delete_all_documents_async(self, recreate_index: bool = False) -> None:
        await self._async(self._delete_all_steps(recreate_index))

    async def delete_by_filter_async(self, filters: dict[str, Any]) -> int:
        return await self._async(self._delete_by_filter_steps(filters))

    async def update_by_filter_async(self, filters: dict[str, Any], meta: dict[str, Any]) -> int:
        return await self._async(self._update_steps(filters, meta))

    async def embedding_retrieval_async(
        self,
        query_embedding: list[float],
        filters: dict[str, Any] | None = None,
        top_k: int = 10,
        return_embedding: bool = False,
    ) -> list[Document]:
        return await self._async(self._retrieval_steps(query_embedding, filters, top_k, return_embedding))

    def __repr__(self) -> str:
        where = self._store if self._store is not None else "<not connected>"
        return f"VecbridgeDocumentStore({self.collection!r}, store={where!r})"
