"""``VecbridgeEmbeddings``: any vecbridge embedder as a LangChain ``Embeddings``.

Documents are embedded with the embedder's document task and queries with its query task (for
Gemini: RETRIEVAL_DOCUMENT / RETRIEVAL_QUERY), which LangChain's two-method interface maps onto
directly. The async methods use the embedder's own async path (native for Gemini, a worker thread
otherwise), so an event loop is never blocked.
"""

from __future__ import annotations

from typing import Any

from langchain_core.embeddings import Embeddings

from vecbridge.core.embedders import Embedder
from vecbridge.core.errors import InvalidInput
from vecbridge.core.registry import load_embedder

__all__ = ["VecbridgeEmbeddings"]


class VecbridgeEmbeddings(Embeddings):
    """LangChain embeddings backed by a vecbridge embedder.

    >>> emb = VecbridgeEmbeddings("hashing", dimension=32)
    >>> len(emb.embed_query("hello"))
    32

    ``embedder`` is an embedder object, or the registry name of one (``"hashing"``, ``"gemini"``,
    ``"sentence-transformers"``) built with ``options``.
    """

    def __init__(self, embedder: Embedder | str = "hashing", **options: Any) -> None:
        if isinstance(embedder, str):
            embedder = load_embedder(embedder, **options)
        elif options:
            raise InvalidInput(
                f"options {sorted(options)} are only used when the embedder is given by name; "
                "configure the embedder object itself instead"
            )
        if not isinstance(embedder, Embedder):
            raise InvalidInput(f"embedder must be a vecbridge Embedder or its name, got {type(embedder).__name__}")
        self.embedder = embedder

    @property
    def dimension(self) -> int:
        return self.embedder.dimension

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return await self.embedder.aembed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return await self.embedder.aembed_query(text)

    def __repr__(self) -> str:
        return f"VecbridgeEmbeddings({self.embedder!r})"
