"""The VectorStore protocol and ``BaseVectorStore``, the template every connector fills in.

The base class does what must be identical on every store — validation, batching, retries,
reporting the ids of a failed batch, spec checks — and leaves the store-specific work to a few
``_hooks``. A connector therefore only translates; it cannot forget a check.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

from .batching import batched
from .errors import (
    CollectionExists,
    CollectionNotFound,
    DimensionMismatch,
    EmbedderMismatch,
    InvalidInput,
    MetricMismatch,
    TransientError,
    UpsertFailed,
)
from .filters import FilterNode, parse_filter
from .models import CollectionSpec, Hit, Record, ScanPage, Vector, validate_collection_name
from .retry import DEFAULT_RETRY, RetryPolicy, call_with_retry
from .validation import check_ids, validate_records, validate_vector

__all__ = ["BaseVectorStore", "VectorStore", "check_compatible", "iter_records"]


@runtime_checkable
class VectorStore(Protocol):
    """What every connector offers. See ``BaseVectorStore`` for the documented behaviour."""

    def create_collection(self, spec: CollectionSpec, *, exist_ok: bool = False) -> CollectionSpec: ...
    def describe_collection(self, name: str) -> CollectionSpec: ...
    def list_collections(self) -> list[str]: ...
    def has_collection(self, name: str) -> bool: ...
    def drop_collection(self, name: str) -> bool: ...
    def upsert(self, name: str, records: Iterable[Record], *, batch_size: int | None = None) -> int: ...
    def query(
        self,
        name: str,
        vector: Vector,
        *,
        k: int = 10,
        filter: Mapping[str, Any] | FilterNode | None = None,
        include_vectors: bool = False,
    ) -> list[Hit]: ...
    def get(self, name: str, ids: Sequence[str], *, include_vectors: bool = True) -> list[Record]: ...
    def delete(
        self, name: str, ids: Sequence[str] | None = None, *, filter: Mapping[str, Any] | FilterNode | None = None
    ) -> None: ...
    def count(self, name: str, *, filter: Mapping[str, Any] | FilterNode | None = None) -> int: ...
    def scan(self, name: str, *, batch_size: int = 256, cursor: str | None = None) -> Iterator[ScanPage]: ...
    def close(self) -> None: ...


def check_compatible(existing: CollectionSpec, requested: CollectionSpec) -> None:
    """Raise if ``requested`` cannot be written into ``existing`` (dimension, metric, embedder)."""
    if existing.dimension != requested.dimension:
        raise DimensionMismatch(
            f"collection {existing.name!r} exists with dimension {existing.dimension}, not "
            f"{requested.dimension}: use another collection name, drop it, or embed with dimension "
            f"{existing.dimension}"
        )
    if existing.metric != requested.metric:
        raise MetricMismatch(
            f"collection {existing.name!r} exists with metric {existing.metric.value!r}, not "
            f"{requested.metric.value!r}: use another collection name or the existing metric"
        )
    if existing.embedder and requested.embedder and not existing.embedder.compatible_with(requested.embedder):
        raise EmbedderMismatch(
            f"collection {existing.name!r} was built with {existing.embedder.describe()}, not "
            f"{requested.embedder.describe()}: vectors from different models are not comparable. "
            "Use the collection's embedder, or another collection"
        )


def iter_records(store: VectorStore, name: str, *, batch_size: int = 256) -> Iterator[Record]:
    """Every record of a collection, with vectors, page by page (bounded memory)."""
    for page in store.scan(name, batch_size=batch_size):
        yield from page.records


class BaseVectorStore:
    """Template for connectors. Subclasses implement the ``_`` hooks; see each docstring.

    Thread safety: the base keeps only a spec cache behind a lock; connectors use thread-safe
    clients or pools.
    """

    #: Records per upsert request when the caller does not say.
    default_batch_size: ClassVar[int] = 256
    #: Whether queries are exact (brute force) or approximate (an ANN index).
    exact_search: ClassVar[bool] = False
    retry_policy: RetryPolicy = DEFAULT_RETRY

    def __init__(self) -> None:
        self._specs: dict[str, CollectionSpec] = {}
        self._spec_lock = threading.Lock()

    # ----- hooks --------------------------------------------------------------------------

    def _list_collections(self) -> list[str]:
        raise NotImplementedError

    def _describe(self, name: str) -> CollectionSpec | None:
        """The stored spec of ``name``, or None if there is no such collection."""
        raise NotImplementedError

    def _create(self, spec: CollectionSpec) -> None:
        raise NotImplementedError

    def _drop(self, name: str) -> bool:
        raise NotImplementedError

    def _upsert_batch(self, spec: CollectionSpec, records: list[Record]) -> None:
        """Write one validated batch, all or nothing where the store allows it.

        Raise ``TransientError`` for failures worth retrying; anything else is final.
        """
        raise NotImplementedError

    def _query(
        self, spec: CollectionSpec, vector: list[float], k: int, node: FilterNode | None, include_vectors: bool
    ) -> list[Hit]:
        raise NotImplementedError

    def _get(self, spec: CollectionSpec, ids: list[str], include_vectors: bool) -> list[Record]:
        raise NotImplementedError

    def _delete_ids(self, spec: CollectionSpec, ids: list[str]) -> None:
        raise NotImplementedError

    def _delete_filter(self, spec: CollectionSpec, node: FilterNode) -> None:
        raise NotImplementedError

    def _count(self, spec: CollectionSpec, node: FilterNode | None) -> int:
        raise NotImplementedError

    def _scan(self, spec: CollectionSpec, batch_size: int, cursor: str | None) -> Iterator[ScanPage]:
        raise NotImplementedError

    def _close(self) -> None:
        """Release clients, pools, servers."""

    def check_record(self, record: Record) -> list[str]:
        """What would stop this store from keeping ``record`` intact (e.g. Pinecone's flat
        metadata rules), as messages; empty when it can. Migration asks this of every record
        before it writes anything, so problems are reported up front. Override per store."""
        return []

    # ----- public API ---------------------------------------------------------------------

    def list_collections(self) -> list[str]:
        """Names of the collections in this store, sorted."""
        return sorted(call_with_retry(self._list_collections, self.retry_policy))

    def has_collection(self, name: str) -> bool:
        validate_collection_name(name)
        return self._spec_or_none(name) is not None

    def describe_collection(self, name: str) -> CollectionSpec:
        """The collection's spec; raises ``CollectionNotFound``."""
        validate_collection_name(name)
        spec = self._spec_or_none(name)
        if spec is None:
            raise CollectionNotFound(
                f"collection {name!r} does not exist in {self!r}: create it first "
                "(store.create_collection or Collection.open(..., create=True))"
            )
        return spec

    def create_collection(self, spec: CollectionSpec, *, exist_ok: bool = False) -> CollectionSpec:
        """Create a collection. With ``exist_ok``, an existing one is checked for the same
        dimension, metric and embedder (raising ``DimensionMismatch`` etc.) and returned."""
        existing = self._spec_or_none(spec.name)
        if existing is not None:
            if not exist_ok:
                raise CollectionExists(
                    f"collection {spec.name!r} already exists: pass exist_ok=True to reuse it, or drop it first"
                )
            check_compatible(existing, spec)
            return existing
        call_with_retry(lambda: self._create(spec), self.retry_policy)
        with self._spec_lock:
            self._specs.pop(spec.name, None)
        return self.describe_collection(spec.name)

    def drop_collection(self, name: str) -> bool:
        """Delete a collection and its data. Returns False if it did not exist."""
        validate_collection_name(name)
        with self._spec_lock:
            self._specs.pop(name, None)
        return call_with_retry(lambda: self._drop(name), self.retry_policy)

    def upsert(self, name: str, records: Iterable[Record], *, batch_size: int | None = None) -> int:
        """Insert or overwrite records by id, in batches. Returns how many were written.

        A list is validated whole before anything is sent, so bad input writes nothing. A stream
        (generator) is validated batch by batch. A batch that still fails after retries raises
        ``UpsertFailed`` listing the ids that did not land and those that did.
        """
        spec = self.describe_collection(name)
        size = batch_size or self.default_batch_size
        if isinstance(records, Sequence):
            checked = self._apply_store_rules(validate_records(records, spec.dimension, spec.metric))
            batches: Iterable[list[Record]] = batched(checked, size)
        else:
            batches = (
                self._apply_store_rules(validate_records(b, spec.dimension, spec.metric))
                for b in batched(records, size)
            )
        written: list[str] = []
        iterator = iter(batches)
        while True:
            try:
                batch = next(iterator)
            except StopIteration:
                break
            except InvalidInput as exc:
                if written:
                    raise InvalidInput(f"{exc} ({len(written)} earlier records were already written)") from exc
                raise
            try:
                call_with_retry(lambda b=batch: self._upsert_batch(spec, b), self.retry_policy)  # type: ignore[misc]
            except Exception as exc:
                failed = [r.id for r in batch]
                if isinstance(exc, UpsertFailed):  # the connector knows exactly which ones landed
                    failed = list(exc.failed_ids)
                    written.extend(exc.written_ids)
                if isinstance(records, Sequence):
                    failed += [r.id for b in iterator for r in b]
                reason = "store kept failing" if isinstance(exc, TransientError) else "store rejected a batch"
                raise UpsertFailed(f"{reason} ({exc})", failed, written, cause=exc) from exc
            written.extend(r.id for r in batch)
        return len(written)

    def query(
        self,
        name: str,
        vector: Vector,
        *,
        k: int = 10,
        filter: Mapping[str, Any] | FilterNode | None = None,
        include_vectors: bool = False,
    ) -> list[Hit]:
        """The ``k`` most similar records, best first, optionally filtered."""
        spec = self.describe_collection(name)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise InvalidInput(f"k must be a positive integer, got {k!r}")
        vec = validate_vector(vector, spec.dimension, spec.metric)
        node = parse_filter(filter)
        return call_with_retry(lambda: self._query(spec, vec, k, node, include_vectors), self.retry_policy)

    def get(self, name: str, ids: Sequence[str], *, include_vectors: bool = True) -> list[Record]:
        """Records by id, in the order asked; ids that do not exist are left out."""
        spec = self.describe_collection(name)
        wanted = check_ids(ids)
        if not wanted:
            return []
        found: dict[str, Record] = {}
        for chunk in batched(dict.fromkeys(wanted), 1000):
            for rec in call_with_retry(lambda c=chunk: self._get(spec, c, include_vectors), self.retry_policy):  # type: ignore[misc]
                found[rec.id] = rec
        return [found[i] for i in dict.fromkeys(wanted) if i in found]

    def delete(
        self, name: str, ids: Sequence[str] | None = None, *, filter: Mapping[str, Any] | FilterNode | None = None
    ) -> None:
        """Delete by ids, or by filter (exactly one of the two). Missing ids are ignored."""
        spec = self.describe_collection(name)
        node = parse_filter(filter)
        if (ids is None) == (node is None):
            raise InvalidInput("delete takes ids or a non-empty filter (exactly one); to empty a collection, drop it")
        if ids is not None:
            for chunk in batched(dict.fromkeys(check_ids(ids)), 1000):
                call_with_retry(lambda c=chunk: self._delete_ids(spec, c), self.retry_policy)  # type: ignore[misc]
        else:
            assert node is not None
            call_with_retry(lambda: self._delete_filter(spec, node), self.retry_policy)

    def count(self, name: str, *, filter: Mapping[str, Any] | FilterNode | None = None) -> int:
        """Number of records, optionally only those matching ``filter``."""
        spec = self.describe_collection(name)
        node = parse_filter(filter)
        return call_with_retry(lambda: self._count(spec, node), self.retry_policy)

    def scan(self, name: str, *, batch_size: int = 256, cursor: str | None = None) -> Iterator[ScanPage]:
        """Stream every record with its vector, page by page. Each page carries a cursor from
        which a later ``scan`` resumes (used by migration checkpoints)."""
        spec = self.describe_collection(name)
        if batch_size < 1:
            raise InvalidInput(f"batch_size must be positive, got {batch_size}")
        return self._scan(spec, batch_size, cursor)

    def close(self) -> None:
        self._close()

    def __enter__(self) -> BaseVectorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- helpers ------------------------------------------------------------------------

    def _apply_store_rules(self, records: list[Record]) -> list[Record]:
        """Apply the store's own rules (``check_record``) before anything of the batch is sent."""
        problems = [p for r in records for p in self.check_record(r)]
        if problems:
            more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
            raise InvalidInput("; ".join(problems[:10]) + more)
        return records

    def _spec_or_none(self, name: str) -> CollectionSpec | None:
        with self._spec_lock:
            cached = self._specs.get(name)
        if cached is not None:
            return cached
        spec = call_with_retry(lambda: self._describe(name), self.retry_policy)
        if spec is not None:
            with self._spec_lock:
                self._specs[name] = spec
        return spec
