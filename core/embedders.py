"""The Embedder protocol and a base class that gives every embedder the same surface."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from .models import EmbedderFingerprint, TaskType

__all__ = ["BaseEmbedder", "Embedder"]


@runtime_checkable
class Embedder(Protocol):
    """Turns text into vectors. Documents and queries may be embedded differently (task types)."""

    @property
    def dimension(self) -> int: ...

    @property
    def model_id(self) -> str: ...

    @property
    def fingerprint(self) -> EmbedderFingerprint: ...

    def embed_documents(
        self, texts: Sequence[str], *, task: TaskType | str | None = None, titles: Sequence[str | None] | None = None
    ) -> list[list[float]]: ...

    def embed_query(self, text: str, *, task: TaskType | str | None = None) -> list[float]: ...

    async def aembed_documents(
        self, texts: Sequence[str], *, task: TaskType | str | None = None, titles: Sequence[str | None] | None = None
    ) -> list[list[float]]: ...

    async def aembed_query(self, text: str, *, task: TaskType | str | None = None) -> list[float]: ...


class BaseEmbedder:
    """Shared plumbing: task defaults, fingerprint, async forms via a worker thread.

    Subclasses set ``provider`` and implement ``_embed(texts, task, titles)``; embedders with a
    native async client override ``aembed_documents`` too.
    """

    provider: str = "base"
    document_task: TaskType = TaskType.RETRIEVAL_DOCUMENT
    query_task: TaskType = TaskType.RETRIEVAL_QUERY
    #: Whether this embedder changes its output with the task (recorded in the fingerprint).
    uses_task: bool = False

    @property
    def dimension(self) -> int:
        raise NotImplementedError

    @property
    def model_id(self) -> str:
        raise NotImplementedError

    def fingerprint_options(self) -> dict[str, object]:
        """Extra settings needed to rebuild this embedder (never secrets)."""
        return {}

    @property
    def fingerprint(self) -> EmbedderFingerprint:
        return EmbedderFingerprint(
            provider=self.provider,
            model=self.model_id,
            dimension=self.dimension,
            task=self.document_task.value if self.uses_task else None,
            options=self.fingerprint_options(),
        )

    def _embed(
        self, texts: Sequence[str], task: TaskType, titles: Sequence[str | None] | None
    ) -> list[list[float]]:
        raise NotImplementedError

    def embed_documents(
        self, texts: Sequence[str], *, task: TaskType | str | None = None, titles: Sequence[str | None] | None = None
    ) -> list[list[float]]:
        texts = list(texts)
        if not texts:
            return []
        return self._embed(texts, TaskType.parse(task) if task else self.document_task, titles)

    def embed_query(self, text: str, *, task: TaskType | str | None = None) -> list[float]:
        return self._embed([text], TaskType.parse(task) if task else self.query_task, None)[0]

    async def aembed_documents(
        self, texts: Sequence[str], *, task: TaskType | str | None = None, titles: Sequence[str | None] | None = None
    ) -> list[list[float]]:
        return await asyncio.to_thread(self.embed_documents, texts, task=task, titles=titles)

    async def aembed_query(self, text: str, *, task: TaskType | str | None = None) -> list[float]:
        return await asyncio.to_thread(self.embed_query, text, task=task)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model_id!r}, dimension={self.dimension})"
