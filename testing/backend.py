"""How the conformance suite meets a store: a factory plus what the store honestly cannot do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from vecbridge.core.async_store import AsyncStore
from vecbridge.core.store import VectorStore

__all__ = ["Backend"]


@dataclass
class Backend:
    """A store under test.

    ``factory`` returns an open store; the suite creates collections with fresh names in it and
    drops them afterwards. ``skip_reason`` returns why this backend cannot run here (None when it
    can). The flags declare documented limits of the store; the suite then checks the documented
    behaviour (e.g. ``UnsupportedFilter``) instead of skipping.
    """

    id: str
    factory: Callable[[], VectorStore]
    skip_reason: Callable[[], str | None] = lambda: None
    #: Filter operators (without '$') the store cannot express: they must raise UnsupportedFilter.
    unsupported_ops: frozenset[str] = frozenset()
    #: Whether metadata may hold nested objects and lists of non-strings.
    nested_metadata: bool = True
    #: Whether a metadata key whose value is None comes back (False: it is dropped on write,
    #: which the filter semantics treat the same: null == missing).
    keeps_null_metadata: bool = True
    #: Largest metadata (JSON bytes) the store accepts per record.
    max_metadata_bytes: int = 1_000_000
    #: Called after writes on eventually consistent stores, before reading.
    settle: Callable[[], None] = field(default=lambda: None)
    #: Absolute tolerance of returned vectors and scores (halfvec storage is coarser).
    tolerance: float = 1e-4
    #: A real server named by a VECBRIDGE_*_URL variable: marked ``integration`` so the default
    #: run leaves it out and ``pytest -m integration`` runs it (skipping, with the reason, when the
    #: variable is absent).
    integration: bool = False
    #: Opens the store's async form (``connect_async(url)``); None: the sync driver in threads.
    async_factory: Callable[[], AsyncStore] | None = None
    #: Run the suite through the async API (see ``as_async``).
    asynchronous: bool = False

    def as_async(self) -> Backend:
        """This backend through ``AsyncStore`` (the suite then runs the async path)."""
        return replace(self, id=f"{self.id}-async", asynchronous=True)

    def open(self) -> Any:
        """An open store for the suite: the store itself, or a blocking view of its async form."""
        if not self.asynchronous:
            return self.factory()
        from .blocking import BlockingStore

        if self.async_factory is not None:
            return BlockingStore(self.async_factory())
        return BlockingStore(AsyncStore(self.factory().driver))  # type: ignore[attr-defined]

    def param(self) -> object:
        """This backend as a ``pytest.param`` with its id and marks."""
        import pytest

        marks = [pytest.mark.integration] if self.integration else []
        return pytest.param(self, id=self.id, marks=marks)
