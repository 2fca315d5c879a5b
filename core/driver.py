"""The driver contract: what a connector implements for one store, and nothing more.

A driver does the store's own I/O and knows the store's own rules. It does **not** retry, cache,
validate user input or count failures: the :class:`~vecbridge.core.store.Store` in core does that,
once, for every driver (the split httpx makes between its ``Client`` and its transports).

Sync and async drivers share every model in this module; an async driver has the same methods as
coroutines. A store whose SDK has no async client gets :class:`ThreadedAsyncDriver` around its sync
driver instead (see ``async_store.py``).

Models crossing the contract:

* :class:`Target`: the collection spec plus the tenant a call is for.
* :class:`Batch`: validated records as one object — ids, texts, metadata and one float32 matrix.
* :class:`WriteResult`: which ids of a batch were written and which failed, with why.
* :class:`SearchRequest`: one similarity / keyword / hybrid search, its filter and per-call options.
* :class:`Capabilities`: what the store can do natively (declared, never guessed).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .errors import VecbridgeError
from .filters import FilterNode
from .models import CollectionSpec, Hit, Record, ScanPage

__all__ = [
    "ADOPT_PRESETS",
    "Adoption",
    "AsyncDriver",
    "AsyncDriverDefaults",
    "Batch",
    "Capabilities",
    "Driver",
    "DriverDefaults",
    "Failure",
    "LoadToken",
    "ScanRange",
    "SearchMode",
    "SearchRequest",
    "Target",
    "WriteResult",
]


class SearchMode(str, enum.Enum):
    """How a search ranks records: by vector (``dense``), by the words of the query text
    (``keyword``, BM25-style on every store), or both fused (``hybrid``)."""

    DENSE = "dense"
    KEYWORD = "keyword"
    HYBRID = "hybrid"

    @classmethod
    def parse(cls, value: str | SearchMode) -> SearchMode:
        from .errors import InvalidInput

        if isinstance(value, SearchMode):
            return value
        if isinstance(value, str):  # the plain lower-case names, without the general path's work
            known = _SEARCH_MODES.get(value)
            if known is not None:
                return known
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise InvalidInput(f"unknown search mode {value!r}: use 'dense', 'keyword' or 'hybrid'") from None


_SEARCH_MODES: dict[str, SearchMode] = {mode.value: mode for mode in SearchMode}


@dataclass(frozen=True)
class Target:
    """The collection a driver call is about, and the tenant inside it (None: no tenancy)."""

    spec: CollectionSpec
    tenant: str | None = None

    @property
    def name(self) -> str:
        return self.spec.name


@dataclass(frozen=True)
class Batch:
    """Validated records, column-wise. ``vectors`` is a C-contiguous float32 ``(n, dimension)``
    matrix: hand it (or its rows) to SDKs that take numpy; ``vector_lists()`` for those that don't."""

    ids: tuple[str, ...]
    vectors: np.ndarray
    texts: tuple[str | None, ...]
    metadata: tuple[dict[str, Any], ...]

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, ids: Sequence[str]) -> Batch:
        """The records of ``ids`` (in this batch's order)."""
        wanted = set(ids)
        rows = [i for i, rid in enumerate(self.ids) if rid in wanted]
        return Batch(
            tuple(self.ids[i] for i in rows),
            np.ascontiguousarray(self.vectors[rows]),
            tuple(self.texts[i] for i in rows),
            tuple(self.metadata[i] for i in rows),
        )

    def vector_lists(self) -> list[list[float]]:
        """The vectors as Python float lists, for SDKs that need JSON-ready lists."""
        out: list[list[float]] = self.vectors.tolist()
        return out

    def records(self) -> Iterator[Record]:
        """One :class:`Record` per row (vectors as float32 numpy rows)."""
        for i, rid in enumerate(self.ids):
            yield Record(rid, self.vectors[i], self.texts[i], self.metadata[i])

    @classmethod
    def empty(cls, dimension: int) -> Batch:
        return cls((), np.zeros((0, dimension), dtype=np.float32), (), ())


@dataclass(frozen=True)
class Failure:
    """Why one record of a batch was not written, and whether sending it again may succeed."""

    reason: str
    transient: bool = False


@dataclass
class WriteResult:
    """Outcome of one ``write``: every id of the batch is in exactly one of the two.

    A driver that cannot tell per record (one request that failed as a whole) raises instead;
    the store then counts the whole batch as failed.
    """

    written: list[str] = field(default_factory=list)
    failed: dict[str, Failure] = field(default_factory=dict)

    @classmethod
    def all_written(cls, batch: Batch) -> WriteResult:
        return cls(written=list(batch.ids))

    @property
    def transient_ids(self) -> list[str]:
        return [i for i, f in self.failed.items() if f.transient]


@dataclass(frozen=True)
class SearchRequest:
    """One search. ``vector`` for dense and hybrid, ``text`` for keyword and hybrid.

    ``options`` holds the per-call knobs a driver declares in ``Capabilities.query_options``
    (``ef_search``, ``probes``, ``consistency`` ...); the driver validates their values.
    Scores follow vecbridge's convention: higher is more similar. ``score_threshold`` is applied by
    the store after the driver answers, so a driver may ignore it or push it down.
    """

    k: int
    vector: np.ndarray | None = None
    text: str | None = None
    mode: SearchMode = SearchMode.DENSE
    filter: FilterNode | None = None
    include_vectors: bool = False
    score_threshold: float | None = None
    #: Hybrid only: weight of the dense ranking in the fusion, 0..1 (keyword gets 1 - alpha);
    #: None fuses both with equal weight.
    alpha: float | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScanRange:
    """A slice of a collection's scan order, for parallel readers: from ``start`` (a cursor,
    None = the beginning) up to but excluding ``stop`` (None = the end)."""

    start: str | None = None
    stop: str | None = None


#: Whatever a driver wants back at the end of a bulk load (e.g. the index it deferred).
LoadToken = Any

#: Presets of ``Adoption``: layouts written by other tools.
ADOPT_PRESETS = ("langchain", "langchain-pgvectorstore", "llamaindex", "haystack")


@dataclass(frozen=True)
class Adoption:
    """How to read a collection vecbridge did not create (``Store.adopt``).

    ``native``: the store's own name of it (table, collection, class, index; default: the
    vecbridge name). ``preset``: a layout written by another tool (``ADOPT_PRESETS``), or None for
    a layout named field by field: ``id``, ``vector``, ``text``, ``metadata`` (a JSON/jsonb field or
    column) and ``metadata_fields`` (plain fields or columns gathered into the metadata).
    ``group``: for layouts that keep several collections in shared tables (LangChain's ``PGVector``),
    which one. ``vector``: for stores with named vectors (Qdrant), which one (all of them travel in
    a migration only if the destination can hold them — say so when it cannot). ``writable``:
    allow upserts and deletes (off by default: adopted collections are read-only).
    """

    native: str | None = None
    preset: str | None = None
    id: str | None = None
    vector: str | None = None
    text: str | None = None
    metadata: str | None = None
    metadata_fields: tuple[str, ...] = ()
    group: str | None = None
    writable: bool = False


@dataclass(frozen=True)
class Capabilities:
    """What a store does natively. The store policy and the conformance suite read these; they
    are declarations of documented behaviour, never feature detection at run time."""

    #: Queries are exact (brute force), so results equal numpy's ground truth.
    exact_search: bool = False
    #: Search modes the driver answers itself. Hybrid is fused in core from the dense and
    #: keyword lists when the driver only declares ``keyword``.
    search_modes: frozenset[SearchMode] = frozenset({SearchMode.DENSE})
    #: ``tenant=`` is mapped to the store's own isolation (namespaces, multi-tenancy, a key column).
    tenants: bool = False
    #: ``scan_ranges`` can split a collection for parallel readers.
    split_scan: bool = False
    #: Reads may lag writes (Pinecone): verification waits for the data to appear.
    eventually_consistent: bool = False
    #: Records per ``write`` when the caller does not say.
    default_batch_size: int = 256
    #: Names of per-call search options (``SearchRequest.options``) this driver accepts.
    query_options: frozenset[str] = frozenset()
    #: Metadata may hold nested objects and lists of non-strings.
    nested_metadata: bool = True
    #: The driver uses the SDK's own async client (False: sync calls in threads).
    native_async: bool = False
    #: Several processes may open the store at once (a server). False for in-process engines
    #: that lock their files (Qdrant Edge, local mode, Milvus Lite) or live in one process's
    #: memory: distributed jobs then read and write them from one process.
    multi_process: bool = True


@runtime_checkable
class Driver(Protocol):
    """The synchronous driver contract. Every method may raise the SDK's own exceptions: the store
    hands them to :meth:`translate`. Raise vecbridge errors directly only for what the driver
    itself decides (e.g. ``UnsupportedFilter``, ``CollectionNotFound`` it detected)."""

    capabilities: Capabilities

    def list_collections(self) -> list[str]: ...
    def describe(self, name: str) -> CollectionSpec | None: ...
    def create(self, spec: CollectionSpec) -> None: ...
    def drop(self, name: str) -> bool: ...
    def check_record(self, record: Record) -> list[str]: ...
    def write(self, target: Target, batch: Batch) -> WriteResult: ...
    def search(self, target: Target, request: SearchRequest) -> list[Hit]: ...
    def get(self, target: Target, ids: list[str], include_vectors: bool) -> list[Record]: ...
    def delete_ids(self, target: Target, ids: list[str]) -> None: ...
    def delete_filter(self, target: Target, node: FilterNode) -> None: ...
    def count(self, target: Target, node: FilterNode | None) -> int: ...
    def scan_page(
        self, target: Target, cursor: str | None, limit: int, include_vectors: bool, stop: str | None = None
    ) -> ScanPage: ...
    def scan_ranges(self, target: Target, parts: int) -> list[ScanRange]: ...
    def begin_load(self, target: Target, expected: int | None) -> LoadToken: ...
    def end_load(self, target: Target, token: LoadToken) -> None: ...
    def translate(self, exc: BaseException) -> VecbridgeError | None: ...
    def close(self) -> None: ...


# Optional on a driver: ``check_batch(spec, batch) -> list[str]`` — the store's rules that depend
# on the collection (e.g. pgvector's halfvec range, Pinecone's sparse-vector size in a hybrid
# collection), as problems; no I/O. Core calls it once per batch after ``check_record``, before
# anything of the batch is sent.
#
# Optional on a driver: ``adopt(name, adoption) -> CollectionSpec`` — inspect a collection made
# by another tool (``Adoption``), remember its layout under ``name`` for later calls on this
# driver, and return its spec (dimension and metric as found; no embedder fingerprint).
#
# Optional on a sync driver: ``async_twin() -> AsyncDriver | None`` — a native async driver on the
# same store and data (a new async client to the same server, pool or folder), for
# ``Store.async_view()``; None (the default) when a second client cannot share the data (an
# in-process engine, an in-memory database), and core then runs the sync driver in threads.


@runtime_checkable
class AsyncDriver(Protocol):
    """The same contract as :class:`Driver`, with coroutines for everything that does I/O.
    ``check_record`` and ``translate`` stay plain functions: they never do I/O."""

    capabilities: Capabilities

    async def list_collections(self) -> list[str]: ...
    async def describe(self, name: str) -> CollectionSpec | None: ...
    async def create(self, spec: CollectionSpec) -> None: ...
    async def drop(self, name: str) -> bool: ...
    def check_record(self, record: Record) -> list[str]: ...
    async def write(self, target: Target, batch: Batch) -> WriteResult: ...
    async def search(self, target: Target, request: SearchRequest) -> list[Hit]: ...
    async def get(self, target: Target, ids: list[str], include_vectors: bool) -> list[Record]: ...
    async def delete_ids(self, target: Target, ids: list[str]) -> None: ...
    async def delete_filter(self, target: Target, node: FilterNode) -> None: ...
    async def count(self, target: Target, node: FilterNode | None) -> int: ...
    async def scan_page(
        self, target: Target, cursor: str | None, limit: int, include_vectors: bool, stop: str | None = None
    ) -> ScanPage: ...
    async def scan_ranges(self, target: Target, parts: int) -> list[ScanRange]: ...
    async def begin_load(self, target: Target, expected: int | None) -> LoadToken: ...
    async def end_load(self, target: Target, token: LoadToken) -> None: ...
    def translate(self, exc: BaseException) -> VecbridgeError | None: ...
    async def close(self) -> None: ...


class DriverDefaults:
    """Mixin with the defaults most drivers share: no record rules beyond the core's, no
    translation of their own, no split scans, nothing to do around a bulk load."""

    def check_record(self, record: Record) -> list[str]:
        return []

    def translate(self, exc: BaseException) -> VecbridgeError | None:
        return None

    def scan_ranges(self, target: Target, parts: int) -> list[ScanRange]:
        return [ScanRange()]

    def begin_load(self, target: Target, expected: int | None) -> LoadToken:
        return None

    def end_load(self, target: Target, token: LoadToken) -> None:
        return None

    def async_twin(self) -> AsyncDriver | None:
        return None

    def adopt(self, name: str, adoption: Adoption) -> CollectionSpec:
        from .errors import UnsupportedFeature

        raise UnsupportedFeature(f"{self!r} cannot adopt collections made by other tools")


class AsyncDriverDefaults:
    """The async twin of :class:`DriverDefaults`."""

    def check_record(self, record: Record) -> list[str]:
        return []

    def translate(self, exc: BaseException) -> VecbridgeError | None:
        return None

    async def scan_ranges(self, target: Target, parts: int) -> list[ScanRange]:
        return [ScanRange()]

    async def begin_load(self, target: Target, expected: int | None) -> LoadToken:
        return None

    async def end_load(self, target: Target, token: LoadToken) -> None:
        return None

    async def adopt(self, name: str, adoption: Adoption) -> CollectionSpec:
        from .errors import UnsupportedFeature

        raise UnsupportedFeature(f"{self!r} cannot adopt collections made by other tools")
