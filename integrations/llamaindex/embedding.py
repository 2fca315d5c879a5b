"""``VecbridgeEmbedding``: any vecbridge embedder as a LlamaIndex ``BaseEmbedding``.

LlamaIndex embeds nodes with ``get_text_embedding*`` and questions with ``get_query_embedding``;
they map onto the embedder's document and query tasks (for Gemini: RETRIEVAL_DOCUMENT /
RETRIEVAL_QUERY). The async methods use the embedder's own async path (native for Gemini, a
worker thread otherwise), so an event loop is never blocked.

Given to :class:`~vecbridge.integrations.llamaindex.VecbridgeVectorStore` as ``embed_model``, its
fingerprint (provider, model, dimension, task) is stored with the collection, so a later open
with another model fails before anything is written.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import PrivateAttr

from vecbridge.core.embedders import Embedder
from vecbridge.core.errors import InvalidInput
from vecbridge.core.models import EmbedderFingerprint
from vecbridge.core.registry import load_embedder

__all__ = ["VecbridgeEmbedding"]


def _embedder(embedder: Embedder | str, options: dict[str, Any]) -> Embedder:
    """The embedder itself, or the one registered under that name built with ``options``."""
    if not isinstance(embedder, str):
        if options:
            raise InvalidInput(
                f"options {sorted(options)} only apply to an embedder given by name: configure the object instead"
            )
        if isinstance(embedder, Embedder):
            return embedder
        raise InvalidInput(f"embedder must be a vecbridge Embedder or its name, got {type(embedder).__name__}")
    return load_embedder(embedder, **options)


class VecbridgeEmbedding(BaseEmbedding):
    """LlamaIndex embeddings backed by a vecbridge embedder.

    >>> emb = VecbridgeEmbedding("hashing", dimension=32)
    >>> len(emb.get_query_embedding("hello"))
    32
    >>> emb.model_name
    'hashing:hashing-v1-w1-c35'

    ``embedder`` is an embedder object, or the registry name of one (``"hashing"``, ``"gemini"``,
    ``"sentence-transformers"``) built with ``options``. ``embed_batch_size`` is how many texts
    LlamaIndex hands over per call (100 by default, one Gemini request; the embedder splits
    larger batches itself).
    """

    _embedder: Embedder = PrivateAttr()

    def __init__(self, embedder: Embedder | str = "hashing", *, embed_batch_size: int = 100, **options: Any) -> None:
        resolved = _embedder(embedder, options)
        fingerprint = resolved.fingerprint
        super().__init__(model_name=f"{fingerprint.provider}:{fingerprint.model}", embed_batch_size=embed_batch_size)
        self._embedder = resolved

    @classmethod
    def class_name(cls) -> str:
        return "VecbridgeEmbedding"

    @property
    def embedder(self) -> Embedder:
        return self._embedder

    @property
    def fingerprint(self) -> EmbedderFingerprint:
        return self._embedder.fingerprint

    def _get_query_embedding(self, query: str) -> Embedding:
        return self._embedder.embed_query(query)

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return await self._embedder.aembed_query(query)

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._embedder.embed_documents([text])[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await self._embedder.aembed_documents([text]))[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self._embedder.embed_documents(texts)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await self._embedder.aembed_documents(texts)

    def __repr__(self) -> str:
        return f"VecbridgeEmbedding({self._embedder!r})"
