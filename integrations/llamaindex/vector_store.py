"""``VecbridgeVectorStore``: a LlamaIndex vector store over one collection of any vecbridge store.

Nodes map to records as described in :mod:`.nodes`; ``MetadataFilters`` are translated by
:mod:`.filters` (and refused with ``UnsupportedFilter`` where vecbridge cannot express their exact
meaning). Scores are vecbridge's: higher is more similar (cosine similarity, inner product, or
the negated L2 distance).

Queries (``VectorStoreQuery``):

- ``mode``: ``DEFAULT`` searches by ``query_embedding``; on a collection created with
  ``hybrid=True``, ``HYBRID`` fuses it with a keyword search of ``query_str`` (vecbridge's
  ``mode="hybrid"``; ``alpha`` weighs the dense side, 1 = dense only) and ``TEXT_SEARCH`` is the
  keyword search alone (``mode="keyword"``). Other modes (MMR, SPARSE, SVM ...) are refused.
- ``similarity_top_k`` is k (``hybrid_top_k`` instead in ``HYBRID`` mode when given);
  ``filters`` and ``doc_ids`` (nodes of these source documents) are ANDed.
- ``node_ids`` is refused: a vecbridge search cannot be limited to record ids (filter on metadata
  instead, or read nodes by id with ``get_nodes``); an empty list, which ``as_retriever()`` passes
  for every store that keeps the text, means no restriction, as in LlamaIndex's other stores.
  Refused too: ``output_fields``,
  ``embedding_field``, ``sparse_top_k`` and ``mmr_threshold``, and ``hybrid_top_k`` outside
  ``HYBRID`` mode, which this store would otherwise ignore.
- keyword arguments of ``query`` (through a retriever: ``vector_store_kwargs={...}``) are the
  store's per-call search options (``ef_search`` on pgvector ...), plus ``vecbridge_filter``: a
  vecbridge filter dict (``{"date": {"$gte": "2024-01-01"}}``), ANDed with the rest.

``get_nodes`` reads by id, or (without ids) streams the collection and keeps the records matching
the filters, evaluated with vecbridge's reference semantics (``matches``, which the conformance
suite holds every store's native filters to). ``delete_nodes`` with both ids and filters deletes
those of the ids that match; with neither it refuses (``clear()`` empties the collection).

The collection is created on the first ``add``, with the dimension of the first embedding, the
metric given (cosine by default), a keyword index when ``hybrid=True``, and, when ``embed_model``
is a vecbridge embedder, its fingerprint, so a later open with another model fails before
anything is written. An existing collection is checked for all of these instead.

Sync and async: every operation is one generator over vecbridge's store policy, run by the sync
store, or for the async methods by its async view (``Store.async_view()``: the SDK's native async
client where the store has one) or by the ``AsyncStore`` given — no thread hop of the adapter's
own. A store given as a URL is opened here and closed by ``close()`` / ``aclose()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)

from vecbridge.core.async_store import AsyncStore, arun_steps
from vecbridge.core.embedders import Embedder
from vecbridge.core.errors import CollectionNotFound, InvalidInput, UnsupportedFeature, UnsupportedFilter
from vecbridge.core.filters import matches, parse_filter
from vecbridge.core.models import Hit, Metric, Record, validate_collection_name
from vecbridge.core.policy import Steps, StorePolicy
from vecbridge.core.store import Store, run_steps

from ..stores import open_store
from .embedding import VecbridgeEmbedding
from .filters import Translated, all_of, leaf, translate_filters
from .nodes import REF_DOC_ID_KEY, to_node, to_record

__all__ = ["VecbridgeVectorStore"]

T = TypeVar("T")

_MODES = {
    VectorStoreQueryMode.DEFAULT: "dense",
    VectorStoreQueryMode.HYBRID: "hybrid",
    VectorStoreQueryMode.TEXT_SEARCH: "keyword",
}
# VectorStoreQuery fields this store has no use for: refused when set rather than ignored.
_UNUSED_QUERY_FIELDS = ("output_fields", "embedding_field", "sparse_top_k", "mmr_threshold")
_SCAN_PAGE = 256


def _no_extra(kwargs: dict[str, Any], what: str) -> None:
    if kwargs:
        raise TypeError(f"unexpected keyword argument(s) {sorted(kwargs)} for {what}")


def _as_embed_model(embed_model: VecbridgeEmbedding | Embedder | None) -> VecbridgeEmbedding | None:
    if embed_model is None or isinstance(embed_model, VecbridgeEmbedding):
        return embed_model
    if isinstance(embed_model, Embedder):
        return VecbridgeEmbedding(embed_model)
    if isinstance(embed_model, BaseEmbedding):
        raise InvalidInput(
            f"embed_model is a {type(embed_model).__name__}: only vecbridge embedders carry the fingerprint "
            "this store records. Leave embed_model out (the collection then checks the dimension only), or "
            "use VecbridgeEmbedding"
        )
    raise InvalidInput(f"embed_model must be a VecbridgeEmbedding or a vecbridge Embedder, got {type(embed_model)}")


def _empty_result() -> VectorStoreQueryResult:
    return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])


def _search_arguments(query: VectorStoreQuery, kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """``policy.search`` arguments for ``query``; None when its filters match nothing."""
    if not isinstance(query, VectorStoreQuery):
        raise InvalidInput(f"query must be a LlamaIndex VectorStoreQuery, got {type(query).__name__}")
    try:
        query_mode = VectorStoreQueryMode(query.mode)
    except ValueError:
        raise InvalidInput(f"unknown query mode {query.mode!r}") from None
    mode = _MODES.get(query_mode)
    if mode is None:
        modes = ", ".join(m.name for m in _MODES)
        raise UnsupportedFeature(f"query mode {query_mode.name} is not offered by vecbridge: use one of {modes}")
    if query.node_ids:  # [] is what as_retriever() passes for stores that keep the text: no restriction
        raise UnsupportedFilter(
            "VectorStoreQuery.node_ids: a vecbridge search cannot be limited to record ids; filter on metadata "
            "instead, or read those nodes with get_nodes(node_ids=...)"
        )
    unused = [f for f in _UNUSED_QUERY_FIELDS if getattr(query, f) is not None]
    if query.hybrid_top_k is not None and mode != "hybrid":
        unused.append("hybrid_top_k")
    if unused:
        raise UnsupportedFeature(
            f"VectorStoreQuery fields {unused} have no meaning for this store in {query_mode.name} mode: "
            "leave them None"
        )
    options = dict(kwargs)
    parts: list[Translated] = [translate_filters(query.filters)]
    if query.doc_ids is not None:
        doc_ids = list(query.doc_ids)
        # No source documents: nothing can match (vecbridge refuses an empty $in).
        parts.append(leaf(REF_DOC_ID_KEY, "$in", doc_ids) if doc_ids else False)
    native = parse_filter(options.pop("vecbridge_filter", None))
    if native is not None:
        parts.append(native)
    node = all_of(parts)
    if node is False:
        return None
    return {
        "vector": query.query_embedding,
        "text": query.query_str,
        "k": query.hybrid_top_k if mode == "hybrid" and query.hybrid_top_k is not None else query.similarity_top_k,
        "filter": None if node is True else node,
        "mode": mode,
        "include_vectors": False,
        "score_threshold": None,
        "alpha": query.alpha,
        "options": options,
    }


def _query_result(hits: Sequence[Hit]) -> VectorStoreQueryResult:
    return VectorStoreQueryResult(
        nodes=[to_node(h.id, h.text, h.metadata) for h in hits],
        similarities=[h.score for h in hits],
        ids=[h.id for h in hits],
    )


class VecbridgeVectorStore(BasePydanticVectorStore):
    """A LlamaIndex vector store over ``collection_name`` in ``store``.

    ``store`` is a store URL (``"qdrant+edge:///data"``, ``"pgvector://..."``), an open vecbridge
    ``Store`` (``connect(url)``), or an ``AsyncStore`` (``connect_async(url)``: async methods only).

    >>> from llama_index.core.schema import TextNode
    >>> from llama_index.core.vector_stores import MetadataFilters, MetadataFilter, VectorStoreQuery
    >>> vs = VecbridgeVectorStore("memory://", "notes")
    >>> vs.add([TextNode(id_="a", text="red apples", embedding=[1.0, 0.0], metadata={"kind": "fruit"}),
    ...         TextNode(id_="o", text="blue ocean", embedding=[0.0, 1.0], metadata={"kind": "sea"})])
    ['a', 'o']
    >>> fruit = MetadataFilters(filters=[MetadataFilter(key="kind", value="fruit")])
    >>> vs.query(VectorStoreQuery(query_embedding=[0.6, 0.8], similarity_top_k=2, filters=fruit)).ids
    ['a']
    >>> vs.close()

    :param embed_model: the vecbridge embedder (``VecbridgeEmbedding`` or ``Embedder``) the nodes
        are embedded with, to record and check its fingerprint. Give the index the same model
        (``VectorStoreIndex.from_vector_store(vs, embed_model=vs.embed_model)``).
    :param metric: ``"cosine"`` (default for new collections), ``"dot"`` or ``"euclidean"``; an
        existing collection keeps its own unless one is given, which is then checked.
    :param hybrid: create the collection with a keyword index (for ``HYBRID`` and
        ``TEXT_SEARCH`` queries); an existing one must then have it.
    :param batch_size: records per write request (the store's default when None).
    """

    stores_text: bool = True
    flat_metadata: bool = False
    collection_name: str
    metric: str | None = None
    hybrid: bool = False
    batch_size: int | None = None

    _store: Store | None = PrivateAttr(default=None)
    _store_url: str | None = PrivateAttr(default=None)
    _astore: AsyncStore | None = PrivateAttr(default=None)
    _own_view: bool = PrivateAttr(default=False)
    _embed_model: VecbridgeEmbedding | None = PrivateAttr(default=None)

    def __init__(
        self,
        store: str | Store | AsyncStore,
        collection_name: str,
        *,
        embed_model: VecbridgeEmbedding | Embedder | None = None,
        metric: Metric | str | None = None,
        hybrid: bool = False,
        batch_size: int | None = None,
    ) -> None:
        if not isinstance(hybrid, bool):
            raise InvalidInput(f"hybrid must be True or False, got {hybrid!r}")
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
        ):
            raise InvalidInput(f"batch_size must be a positive integer, got {batch_size!r}")
        # The fields are this class's own; mypy sees only the parent's synthesised __init__.
        super().__init__(  # type: ignore[call-arg]
            collection_name=validate_collection_name(collection_name),
            metric=Metric.parse(metric).value if metric is not None else None,
            hybrid=hybrid,
            batch_size=batch_size,
        )
        self._embed_model = _as_embed_model(embed_model)
        if isinstance(store, AsyncStore):
            self._astore = store
        else:
            self._store, self._store_url = open_store(store)

    @classmethod
    def class_name(cls) -> str:
        return "VecbridgeVectorStore"

    @property
    def client(self) -> Store | AsyncStore:
        """The vecbridge store underneath."""
        store = self._store if self._store is not None else self._astore
        assert store is not None
        return store

    @property
    def embed_model(self) -> VecbridgeEmbedding | None:
        """The ``embed_model`` given (as a ``VecbridgeEmbedding``), for the index."""
        return self._embed_model

    def _owned_store(self) -> Store | None:
        """The store this adapter opened from a URL and has not closed yet (handed over once)."""
        store = self._store if self._store_url is not None else None
        self._store_url = None  # closed once; later calls then fail on the closed store
        return store

    def close(self) -> None:
        """Close the store if this adapter opened it from a URL (a store passed in belongs to the
        caller). After async calls, use ``aclose()``, which closes the async client too."""
        store = self._owned_store()
        if store is not None:
            store.close()

    async def aclose(self) -> None:
        """Close the async view this adapter opened, then what ``close()`` closes."""
        if self._own_view and self._astore is not None:
            view, self._astore, self._own_view = self._astore, None, False
            await view.close()
        store = self._owned_store()
        if store is not None:
            await asyncio.to_thread(store.close)

    # ----- running the steps --------------------------------------------------------------

    def _run(self, make: Callable[..., Steps[T]], *args: Any) -> T:
        if self._store is None:
            raise UnsupportedFeature(
                f"{type(self).__name__} over an AsyncStore has only the async methods (aquery, async_add, "
                "adelete, aget_nodes ...): call those, or build it with a Store or a store URL"
            )
        policy = self._store.policy
        return run_steps(make(policy, *args), self._store.driver, policy)

    async def _arun(self, make: Callable[..., Steps[T]], *args: Any) -> T:
        if self._astore is None:
            assert self._store is not None
            self._astore, self._own_view = self._store.async_view(), True
        policy = self._astore.policy
        return await arun_steps(make(policy, *args), self._astore.driver, policy)

    # ----- steps (one generator per operation, for both runners) --------------------------

    def _add_steps(self, policy: StorePolicy, nodes: Sequence[BaseNode], kwargs: dict[str, Any]) -> Steps[list[str]]:
        batch_size = kwargs.pop("batch_size", self.batch_size)
        _no_extra(kwargs, f"{type(self).__name__}.add")
        records = [to_record(node) for node in nodes]  # all refused before anything is written
        if not records:
            return []
        fingerprint = self._embed_model.fingerprint if self._embed_model is not None else None
        metric = Metric.parse(self.metric) if self.metric is not None else None
        dimension = len(records[0].vector)
        yield from policy.ensure(self.collection_name, dimension, metric, fingerprint, hybrid=self.hybrid)
        yield from policy.upsert(self.collection_name, records, batch_size, None)
        return [r.id for r in records]

    def _delete_steps(self, policy: StorePolicy, ids: list[str] | None, node: Translated) -> Steps[None]:
        """Delete ``ids`` or what ``node`` matches (a missing collection has nothing to delete)."""
        if node is False or ids == []:
            return
        try:
            yield from policy.delete(self.collection_name, ids, None if node is True else node, None)
        except CollectionNotFound:
            return

    def _delete_ref_doc_steps(self, policy: StorePolicy, ref_doc_id: str, kwargs: dict[str, Any]) -> Steps[None]:
        _no_extra(kwargs, f"{type(self).__name__}.delete")
        if not isinstance(ref_doc_id, str) or not ref_doc_id:
            raise InvalidInput(f"ref_doc_id must be a non-empty string, got {ref_doc_id!r}")
        yield from self._delete_steps(policy, None, leaf(REF_DOC_ID_KEY, "$eq", ref_doc_id))

    def _delete_nodes_steps(
        self,
        policy: StorePolicy,
        node_ids: list[str] | None,
        filters: MetadataFilters | None,
        kwargs: dict[str, Any],
    ) -> Steps[None]:
        _no_extra(kwargs, f"{type(self).__name__}.delete_nodes")
        node = translate_filters(filters)
        if node_ids is None and node is True:
            raise InvalidInput("delete_nodes needs node_ids or filters: to delete every node, call clear()")
        if node_ids is not None and not isinstance(node, bool):
            # Both: those of the ids whose metadata matches (vecbridge deletes by ids or by filter).
            kept = yield from self._records_steps(policy, node_ids, node, False)
            node_ids, node = [r.id for r in kept], True
        yield from self._delete_steps(policy, node_ids, node)

    def _records_steps(
        self, policy: StorePolicy, node_ids: list[str] | None, node: Translated, include_vectors: bool
    ) -> Steps[list[Record]]:
        """Records by id (in the order asked) or, page by page, all of them: those ``node`` matches."""
        if node is False:
            return []
        try:
            if node_ids is not None:
                found = yield from policy.get(self.collection_name, node_ids, include_vectors, None)
                return [r for r in found if node is True or matches(node, r.metadata)]
            target = yield from policy.scan_target(self.collection_name, _SCAN_PAGE, None, None)
            kept: list[Record] = []
            cursor: str | None = None
            while True:
                page = yield from policy.scan_page(target, cursor, _SCAN_PAGE, include_vectors, None)
                kept += [r for r in page.records if node is True or matches(node, r.metadata)]
                if page.next_cursor is None:
                    return kept
                cursor = page.next_cursor
        except CollectionNotFound:
            return []

    def _get_nodes_steps(
        self, policy: StorePolicy, node_ids: list[str] | None, filters: MetadataFilters | None
    ) -> Steps[list[BaseNode]]:
        records = yield from self._records_steps(policy, node_ids, translate_filters(filters), True)
        return [to_node(r.id, r.text, r.metadata, r.vector) for r in records]

    def _clear_steps(self, policy: StorePolicy) -> Steps[None]:
        """Drop and re-create the collection: it keeps its dimension, metric, embedder and keyword index."""
        spec = yield from policy.spec_or_none(self.collection_name, fresh=True)
        if spec is not None:
            yield from policy.drop(self.collection_name)
            yield from policy.create(spec, False)

    def _query_steps(
        self, policy: StorePolicy, query: VectorStoreQuery, kwargs: dict[str, Any]
    ) -> Steps[VectorStoreQueryResult]:
        arguments = _search_arguments(query, kwargs)
        if arguments is None:
            return _empty_result()
        try:
            hits = yield from policy.search(self.collection_name, None, **arguments)
        except CollectionNotFound:  # nothing added yet (or dropped since): nothing to find
            return _empty_result()
        return _query_result(hits)

    # ----- LlamaIndex's vector store API --------------------------------------------------

    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        """Upsert nodes (with embeddings); returns their ids. ``batch_size=`` sets records per request."""
        return self._run(self._add_steps, nodes, kwargs)

    async def async_add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        return await self._arun(self._add_steps, nodes, kwargs)

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Delete every node whose source document is ``ref_doc_id``."""
        self._run(self._delete_ref_doc_steps, ref_doc_id, delete_kwargs)

    async def adelete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        await self._arun(self._delete_ref_doc_steps, ref_doc_id, delete_kwargs)

    def delete_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None, **delete_kwargs: Any
    ) -> None:
        """Delete nodes by id, by filters, or those of the ids that match the filters."""
        self._run(self._delete_nodes_steps, node_ids, filters, delete_kwargs)

    async def adelete_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None, **delete_kwargs: Any
    ) -> None:
        await self._arun(self._delete_nodes_steps, node_ids, filters, delete_kwargs)

    def get_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None) -> list[BaseNode]:
        """Nodes (with embeddings) by id in the order asked — unknown ids left out — or all of them,
        keeping those that match ``filters``."""
        return self._run(self._get_nodes_steps, node_ids, filters)

    async def aget_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None
    ) -> list[BaseNode]:
        return await self._arun(self._get_nodes_steps, node_ids, filters)

    def clear(self) -> None:
        """Delete every node; the collection keeps its dimension, metric, embedder and keyword index."""
        self._run(self._clear_steps)

    async def aclear(self) -> None:
        await self._arun(self._clear_steps)

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """The ``similarity_top_k`` best nodes, best first, with their scores."""
        return self._run(self._query_steps, query, kwargs)

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        return await self._arun(self._query_steps, query, kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.collection_name!r}, store={self.client!r})"
