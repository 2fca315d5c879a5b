"""A store wrapper that waits for eventually consistent stores after every write.

The peers' standard suites read right after they write and offer no hook in between; the
conformance ``Backend.settle`` is that hook, so the adapters under test get a store that calls it.
Every other call goes straight through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from vecbridge.core.filters import FilterNode
from vecbridge.core.models import CollectionSpec, Hit, Record, ScanPage, Vector
from vecbridge.core.store import VectorStore


class SettlingStore:
    """Forwards to ``inner`` and calls ``settle()`` after each write."""

    def __init__(self, inner: VectorStore, settle: Callable[[], None]) -> None:
        self.inner = inner
        self._settle = settle

    def create_collection(self, spec: CollectionSpec, *, exist_ok: bool = False) -> CollectionSpec:
        out = self.inner.create_collection(spec, exist_ok=exist_ok)
        self._settle()
        return out

    def describe_collection(self, name: str) -> CollectionSpec:
        return self.inner.describe_collection(name)

    def list_collections(self) -> list[str]:
        return self.inner.list_collections()

    def has_collection(self, name: str) -> bool:
        return self.inner.has_collection(name)

    def drop_collection(self, name: str) -> bool:
        out = self.inner.drop_collection(name)
        self._settle()
        return out

    def upsert(self, name: str, records: Iterable[Record], *, batch_size: int | None = None) -> int:
        out = self.inner.upsert(name, records, batch_size=batch_size)
        self._settle()
        return out

    def query(
        self,
        name: str,
        vector: Vector,
        *,
        k: int = 10,
        filter: Mapping[str, Any] | FilterNode | None = None,
        include_vectors: bool = False,
    ) -> list[Hit]:
        return self.inner.query(name, vector, k=k, filter=filter, include_vectors=include_vectors)

    def get(self, name: str, ids: Sequence[str], *, include_vectors: bool = True) -> list[Record]:
        return self.inner.get(name, ids, include_vectors=include_vectors)

    def delete(
        self, name: str, ids: Sequence[str] | None = None, *, filter: Mapping[str, Any] | FilterNode | None = None
    ) -> None:
        self.inner.delete(name, ids, filter=filter)
        self._settle()

    def count(self, name: str, *, filter: Mapping[str, Any] | FilterNode | None = None) -> int:
        return self.inner.count(name, filter=filter)

    def scan(self, name: str, *, batch_size: int = 256, cursor: str | None = None) -> Iterator[ScanPage]:
        return self.inner.scan(name, batch_size=batch_size, cursor=cursor)

    def close(self) -> None:
        self.inner.close()

    def __repr__(self) -> str:
        return f"SettlingStore({self.inner!r})"
