"""``MemoryDriver``: a complete driver that keeps everything in this process, and fails on demand.

Two uses, after httpx's ``MockTransport``:

* a store for tests and examples (``connect("memory://")``): exact search, the reference filter
  semantics, BM25 keyword search, tenants, split scans. Drivers opened on the same name
  (``memory://shared``) share their data, like two clients of one server.
* a driver that fails exactly as a test asks, so the store policy is tested once for every store:
  ``driver.faults.fail("write", TransientError("503"), times=2)`` fails the next two writes;
  ``driver.faults.reject({"id3"}, "too big")`` makes one record of a batch fail while the rest
  land; ``driver.calls`` lists every call the store made.

    >>> from vecbridge.core import CollectionSpec, Record, Store
    >>> driver = MemoryDriver()
    >>> store = Store(driver)
    >>> _ = store.create_collection(CollectionSpec("c", 2))
    >>> driver.faults.reject({"b"}, "refused by the test")
    >>> try:
    ...     store.upsert("c", [Record("a", [1.0, 0.0]), Record("b", [0.0, 1.0])])
    ... except Exception as exc:
    ...     print(type(exc).__name__, exc.written_ids, exc.failed_ids)
    UpsertFailed ['a'] ['b']
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vecbridge.core.driver import (
    Batch,
    Capabilities,
    DriverDefaults,
    Failure,
    ScanRange,
    SearchMode,
    SearchRequest,
    Target,
    WriteResult,
)
from vecbridge.core.errors import CollectionNotFound, InvalidInput, StoreError, TransientError, VecbridgeError
from vecbridge.core.filters import FilterNode, matches
from vecbridge.core.keywords import bm25_scores, has_terms
from vecbridge.core.models import CollectionSpec, Hit, Metric, Record, ScanPage
from vecbridge.core.urls import parse_store_url

__all__ = ["FaultPlan", "MemoryDriver", "MemoryFault"]


class MemoryFault(Exception):
    """What an injected fault raises when the test gives no exception of its own: an SDK-style
    error that ``MemoryDriver.translate`` maps to ``TransientError`` or ``StoreError``."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass
class _Planned:
    op: str
    error: BaseException
    times: int
    skip: int


@dataclass
class FaultPlan:
    """Failures a test schedules. Thread-safe."""

    _planned: list[_Planned] = field(default_factory=list)
    _rejected: dict[str, tuple[str, bool, int | None]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, op: str, error: BaseException | None = None, *, times: int = 1, after: int = 0) -> None:
        """The next ``times`` calls of ``op`` (after ``after`` successful ones) raise ``error``
        (default: a transient ``MemoryFault``). ``times=-1``: every call from then on."""
        with self._lock:
            self._planned.append(
                _Planned(op, error or MemoryFault(f"injected {op} failure", transient=True), times, after)
            )

    def reject(
        self, ids: Iterable[str], reason: str = "rejected", *, transient: bool = False, times: int | None = None
    ) -> None:
        """Writes of these ids fail (the others of their batch land). ``times``: how many writes of
        each id fail before it lands (None: always)."""
        with self._lock:
            for i in ids:
                self._rejected[i] = (reason, transient, times)

    def clear(self) -> None:
        with self._lock:
            self._planned.clear()
            self._rejected.clear()

    def check(self, op: str) -> None:
        with self._lock:
            for plan in self._planned:
                if plan.op != op or plan.times == 0:
                    continue
                if plan.skip:
                    plan.skip -= 1
                    return
                if plan.times > 0:
                    plan.times -= 1
                raise plan.error

    def rejection(self, record_id: str) -> Failure | None:
        with self._lock:
            found = self._rejected.get(record_id)
            if found is None:
                return None
            reason, transient, times = found
            if times is not None:
                if times <= 0:
                    return None
                self._rejected[record_id] = (reason, transient, times - 1)
            return Failure(reason, transient)


@dataclass
class _Row:
    vector: np.ndarray
    text: str | None
    metadata: dict[str, Any]


@dataclass
class _Collection:
    spec: CollectionSpec
    rows: dict[tuple[str | None, str], _Row] = field(default_factory=dict)


class _Space:
    """The data of one ``memory://name``: shared by every driver opened on that name."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.collections: dict[str, _Collection] = {}


_spaces: dict[str, _Space] = {}
_spaces_lock = threading.Lock()


def _score(metric: Metric, data: np.ndarray, q: np.ndarray) -> np.ndarray:
    data64, q64 = data.astype(np.float64), q.astype(np.float64)
    if metric is Metric.COSINE:
        norms = np.linalg.norm(data64, axis=1) * np.linalg.norm(q64)
        return np.asarray(data64 @ q64 / np.where(norms == 0, 1.0, norms))
    if metric is Metric.DOT:
        return np.asarray(data64 @ q64)
    return np.asarray(-np.linalg.norm(data64 - q64, axis=1))


class MemoryDriver(DriverDefaults):
    """An in-process store: see the module docstring."""

    thread_limit = 8

    def __init__(self, name: str | None = None, *, capabilities: Capabilities | None = None) -> None:
        self.capabilities = capabilities or Capabilities(
            exact_search=True,
            search_modes=frozenset({SearchMode.DENSE, SearchMode.KEYWORD}),
            tenants=True,
            split_scan=True,
            default_batch_size=100,
            multi_process=False,
        )
        if name:
            with _spaces_lock:
                self._space = _spaces.setdefault(name, _Space())
        else:
            self._space = _Space()
        self._name = name
        self.faults = FaultPlan()
        self.calls: list[str] = []
        self.closed = False

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MemoryDriver:
        """``memory://`` (private) or ``memory://name`` (shared by every driver on that name)."""
        if options:
            raise InvalidInput(f"memory:// takes no options, got {sorted(options)}")
        parsed = parse_store_url(url)
        return cls((parsed.host or "") + parsed.path.strip("/") or None)

    def __repr__(self) -> str:
        return f"MemoryDriver({self._name or 'private'})"

    def _enter(self, op: str) -> None:
        self.calls.append(op)
        if self.closed:
            raise StoreError(f"{self!r} is closed")
        self.faults.check(op)

    def _collection(self, name: str) -> _Collection:
        found = self._space.collections.get(name)
        if found is None:
            raise CollectionNotFound(f"collection {name!r} does not exist")
        return found

    def translate(self, exc: BaseException) -> VecbridgeError | None:
        if isinstance(exc, MemoryFault):
            return (TransientError if exc.transient else StoreError)(f"memory store: {exc}")
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return TransientError(f"memory store: {type(exc).__name__}: {exc}")
        return None

    # ----- collections --------------------------------------------------------------------

    def list_collections(self) -> list[str]:
        self._enter("list_collections")
        with self._space.lock:
            return list(self._space.collections)

    def describe(self, name: str) -> CollectionSpec | None:
        self._enter("describe")
        with self._space.lock:
            found = self._space.collections.get(name)
            return found.spec if found else None

    def create(self, spec: CollectionSpec) -> None:
        self._enter("create")
        with self._space.lock:
            self._space.collections.setdefault(spec.name, _Collection(spec))

    def drop(self, name: str) -> bool:
        self._enter("drop")
        with self._space.lock:
            return self._space.collections.pop(name, None) is not None

    # ----- data ---------------------------------------------------------------------------

    def write(self, target: Target, batch: Batch) -> WriteResult:
        self._enter("write")
        result = WriteResult()
        with self._space.lock:
            rows = self._collection(target.name).rows
            for i, rid in enumerate(batch.ids):
                failure = self.faults.rejection(rid)
                if failure is not None:
                    result.failed[rid] = failure
                    continue
                rows[(target.tenant, rid)] = _Row(batch.vectors[i].copy(), batch.texts[i], dict(batch.metadata[i]))
                result.written.append(rid)
        return result

    def _rows(self, target: Target, node: FilterNode | None) -> list[tuple[str, _Row]]:
        with self._space.lock:
            rows = self._collection(target.name).rows
            return [
                (rid, row)
                for (tenant, rid), row in sorted(rows.items(), key=lambda kv: kv[0][1])
                if tenant == target.tenant and (node is None or matches(node, row.metadata))
            ]

    def search(self, target: Target, request: SearchRequest) -> list[Hit]:
        self._enter("search")
        rows = self._rows(target, request.filter)
        if not rows:
            return []
        if request.mode is SearchMode.KEYWORD:
            assert request.text is not None
            scores = np.asarray(bm25_scores(request.text, [row.text for _, row in rows]))
            keep = [has_terms(row.text, request.text) for _, row in rows]
        elif request.mode is SearchMode.DENSE:
            assert request.vector is not None
            scores = _score(target.spec.metric, np.stack([row.vector for _, row in rows]), request.vector)
            keep = [True] * len(rows)
        else:
            raise InvalidInput("the memory driver fuses hybrid searches in core: it answers dense and keyword")
        order = sorted((i for i in range(len(rows)) if keep[i]), key=lambda i: (-scores[i], rows[i][0]))
        return [
            Hit(
                rows[i][0],
                float(scores[i]),
                rows[i][1].text,
                dict(rows[i][1].metadata),
                rows[i][1].vector.tolist() if request.include_vectors else None,
            )
            for i in order[: request.k]
        ]

    def get(self, target: Target, ids: list[str], include_vectors: bool) -> list[Record]:
        self._enter("get")
        with self._space.lock:
            rows = self._collection(target.name).rows
            found = [(i, rows.get((target.tenant, i))) for i in ids]
        return [
            Record(i, row.vector.tolist() if include_vectors else [], row.text, dict(row.metadata))
            for i, row in found
            if row is not None
        ]

    def delete_ids(self, target: Target, ids: list[str]) -> None:
        self._enter("delete_ids")
        with self._space.lock:
            rows = self._collection(target.name).rows
            for i in ids:
                rows.pop((target.tenant, i), None)

    def delete_filter(self, target: Target, node: FilterNode) -> None:
        self._enter("delete_filter")
        with self._space.lock:
            rows = self._collection(target.name).rows
            for rid, _ in self._rows(target, node):
                rows.pop((target.tenant, rid), None)

    def count(self, target: Target, node: FilterNode | None) -> int:
        self._enter("count")
        return len(self._rows(target, node))

    def scan_page(
        self, target: Target, cursor: str | None, limit: int, include_vectors: bool, stop: str | None = None
    ) -> ScanPage:
        self._enter("scan_page")
        rows = [
            (rid, row)
            for rid, row in self._rows(target, None)
            if (cursor is None or rid > cursor) and (stop is None or rid < stop)
        ]
        page = rows[:limit]
        records = [
            Record(rid, row.vector.tolist() if include_vectors else [], row.text, dict(row.metadata))
            for rid, row in page
        ]
        return ScanPage(records, page[-1][0] if len(rows) > limit else None)

    def begin_load(self, target: Target, expected: int | None) -> None:
        self._enter("begin_load")

    def end_load(self, target: Target, token: object) -> None:
        self._enter("end_load")

    def scan_ranges(self, target: Target, parts: int) -> list[ScanRange]:
        self._enter("scan_ranges")
        ids = [rid for rid, _ in self._rows(target, None)]
        if len(ids) < 2 * parts:
            return [ScanRange()]
        cuts = [len(ids) * p // parts for p in range(1, parts)]
        # A scan resumes *after* its cursor, so a range begins after the last id of the one before
        # and stops at (excluding) the first id of the next.
        cursors: list[str | None] = [None, *(ids[c - 1] for c in cuts)]
        stops: list[str | None] = [*(ids[c] for c in cuts), None]
        return [ScanRange(c, s) for c, s in zip(cursors, stops, strict=True)]

    def close(self) -> None:
        self.calls.append("close")
        self.closed = True
