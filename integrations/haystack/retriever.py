"""``VecbridgeEmbeddingRetriever``: the Haystack component that queries a ``VecbridgeDocumentStore``
by embedding, as ``InMemoryEmbeddingRetriever`` does for the in-memory store.

Haystack 3 loads saved pipelines only from allowlisted modules: load one that uses this component
with ``Pipeline.loads(text, allowed_modules=["vecbridge.integrations.haystack.*"])`` (or set
``HAYSTACK_DESERIALIZATION_ALLOWLIST``).
"""

from __future__ import annotations

from typing import Any

from haystack import component, default_from_dict, default_to_dict
from haystack.dataclasses import Document
from haystack.document_stores.types import FilterPolicy, apply_filter_policy

from vecbridge.core.errors import InvalidInput

from .document_store import VecbridgeDocumentStore

__all__ = ["VecbridgeEmbeddingRetriever"]


@component
class VecbridgeEmbeddingRetriever:
    """Retrieve the ``top_k`` documents most similar to a query embedding.

    ``filters`` given here apply to every run; ``filter_policy`` says whether run-time filters
    replace them (``REPLACE``, the default) or are combined with them (``MERGE``).
    """

    def __init__(
        self,
        document_store: VecbridgeDocumentStore,
        filters: dict[str, Any] | None = None,
        top_k: int = 10,
        filter_policy: FilterPolicy | str = FilterPolicy.REPLACE,
        return_embedding: bool = False,
    ) -> None:
        if not isinstance(document_store, VecbridgeDocumentStore):
            raise InvalidInput(f"document_store must be a VecbridgeDocumentStore, got {type(document_store).__name__}")
        if top_k < 0:
            raise InvalidInput(f"top_k must be >= 0, got {top_k}")
        self.document_store = document_store
        self.filters = filters
        self.top_k = top_k
        self.filter_policy = (
            filter_policy if isinstance(filter_policy, FilterPolicy) else FilterPolicy.from_str(filter_policy)
        )
        self.return_embedding = return_embedding

    def to_dict(self) -> dict[str, Any]:
        return default_to_dict(
            self,
            document_store=self.document_store.to_dict(),
            filters=self.filters,
            top_k=self.top_k,
            filter_policy=self.filter_policy.value,
            return_embedding=self.return_embedding,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VecbridgeEmbeddingRetriever:
        # The store's class is known here: rebuild it directly rather than importing the class
        # named in the data (which Haystack's allowlist would refuse for a module outside it).
        params = dict(data.get("init_parameters", {}))
        if isinstance(params.get("document_store"), dict):
            params["document_store"] = VecbridgeDocumentStore.from_dict(params["document_store"])
        return default_from_dict(cls, {**data, "init_parameters": params})

    def _settings(self, filters: dict[str, Any] | None, top_k: int | None) -> tuple[dict[str, Any] | None, int]:
        k = self.top_k if top_k is None else top_k
        if k < 0:
            raise InvalidInput(f"top_k must be >= 0, got {k}")
        return apply_filter_policy(self.filter_policy, self.filters, filters), k

    @component.output_types(documents=list[Document])
    def run(
        self, query_embedding: list[float], filters: dict[str, Any] | None = None, top_k: int | None = None
    ) -> dict[str, list[Document]]:
        flt, k = self._settings(filters, top_k)
        docs = self.document_store.embedding_retrieval(
            query_embedding, filters=flt, top_k=k, return_embedding=self.return_embedding
        )
        return {"documents": docs}

    @component.output_types(documents=list[Document])
    async def run_async(
        self, query_embedding: list[float], filters: dict[str, Any] | None = None, top_k: int | None = None
    ) -> dict[str, list[Document]]:
        flt, k = self._settings(filters, top_k)
        docs = await self.document_store.embedding_retrieval_async(
            query_embedding, filters=flt, top_k=k, return_embedding=self.return_embedding
        )
        return {"documents": docs}
