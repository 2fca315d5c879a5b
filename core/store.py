"""``Store``: the synchronous store — the policy of ``policy.py`` run over a :class:`Driver`.

Every public method builds the policy's generator for the operation and runs it here: driver
calls inside the retry policy (tenacity), errors translated once, waits with ``time.sleep``. The
async twin (``async_store.py``) runs the very same generators with awaits.

    >>> from vecbridge.core import CollectionSpec, Record, connect
    >>> store = connect("qdrant+local://:memory:")
    >>> store.create_collection(CollectionSpec("notes", dimension=2)).dimension
    2
    >>> store.upsert("notes", [Record("a", [1.0, 0.0], "first"), Record("b", [0.0, 1.0], "second")])
    2
    >>> [h.id for h in store.query("notes", [0.9, 0.1], k=1)]
    ['a']
    >>> store.close()
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from .driver import Adoption, Capabilities, Driver, ScanRange
from .embedders import Embedder
from .errors import TransientError, VecbridgeError
from .filters import FilterNode
from .models import CollectionSpec, Hit, Record, ScanPage, Vector
from .policy import Call, Embed, Sleep, Steps, StorePolicy, check_compatible
from .retry import DEFAULT_RETRY, Replay, RetryPolicy

if TYPE_CHECKING:
    from .async_store import AsyncStore

__all__ = ["Store", "VectorStore", "check_compatible", "iter_records", "run_steps"]

T = TypeVar("T")
Filter = Mapping[str, Any] | FilterNode | None


@runtime_checkable
class VectorStore(Protocol):
    """The public store API (what :func:`~vecbridge.core.connect` returns). See :class:`Store`."""

    @property
    def capabilities(self) -> Capabilities: ...
    def create_collection(self, spec: CollectionSpec, *, exist_ok: bool = False) -> CollectionSpec: ...
    def describe_collection(self, name: str) -> CollectionSpec: ...
    def list_collections(self) -> list[str]: ...
    def has_collection(self, name: str) -> bool: ...
    def drop_collection(self, name: str) -> bool: ...
    def upsert(
        self, name: str, records: Iterable[Record], *, batch_size: int | None = None, tenant: str | None = None
    ) -> int: ...
    def query(
        self,
        name: str,
        vector: Vector | None = None,
        *,
        k: int = 10,
        filter: Filter = None,
        include_vectors: bool = False,
        text: str | None = None,
        mode: str = "dense",
        score_threshold: float | None = None,
        alpha: float | None = None,
        tenant: str | None = None,
        **options: Any,
    ) -> list[Hit]: ...
    def get(
        self, name: str, ids: Sequence[str], *, include_vectors: bool = True, tenant: str | None = None
    ) -> list[Record]: ...
    def delete(
        self, name: str, ids: Sequence[str] | None = None, *, filter: Filter = None, tenant: str | None = None
    ) -> None: ...
    def count(self, name: str, *, filter: Filter = None, tenant: str | None = None) -> int: ...
    def scan(
        self,
        name: str,
        *,
        batch_size: int = 256,
        cursor: str | None = None,
        include_vectors: bool = True,
        tenant: str | None = None,
        stop: str | None = None,
    ) -> Iterator[ScanPage]: ...
    def scan_ranges(self, name: str, parts: int, *, tenant: str | None = None) -> list[ScanRange]: ...
    def close(self) -> None: ...


def run_steps(steps: Steps[T], driver: Any, policy: StorePolicy, embedder: Embedder | None = None) -> T:
    """Run a policy generator synchronously: the runner behind ``Store`` and ``Collection``."""
    try:
        step = next(steps)
        while True:
            try:
                result = _perform(step, driver, policy, embedder)
            except VecbridgeError as exc:
                step = steps.throw(exc)
            else:
                step = steps.send(result)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def _perform(step: Any, driver: Any, policy: StorePolicy, embedder: Embedder | None) -> Any:
    if isinstance(step, Sleep):
        time.sleep(step.seconds)
        return None
    if isinstance(step, Embed):
        assert embedder is not None, "an Embed step needs a runner with an embedder"
        if step.query:
            return embedder.embed_query(step.texts[0])
        return embedder.embed_documents(list(step.texts))
    assert isinstance(step, Call)
    method = getattr(driver, step.op)
    started = time.monotonic()
    try:
        return _call_once(method, step, driver, policy)
    except TransientError as error:
        if not step.retry or policy.retry.attempts == 1:
            raise
        replay = Replay(error)  # the loop is set up only after a failure: see Replay
    for attempt in policy.retry.retrying(time.monotonic() - started):
        with attempt:
            replay.first()
            return _call_once(method, step, driver, policy)
    raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover


def _call_once(method: Any, step: Call, driver: Any, policy: StorePolicy) -> Any:
    try:
        return method(*step.args)
    except Exception as exc:
        mapped = None if isinstance(exc, VecbridgeError) else driver.translate(exc)
        error = policy.translate(exc, step, mapped)
        if error is exc:
            raise
        raise error from exc


class Store:
    """A vector store: the policy over one driver. Thread-safe as far as its driver is.

    Obtain one with :func:`~vecbridge.core.connect` (``Store(driver)`` works too). ``retry``
    replaces the default retry policy (5 attempts within 120 s, exponential backoff with jitter).
    """

    def __init__(self, driver: Driver, *, retry: RetryPolicy | None = None, label: str | None = None) -> None:
        self.driver = driver
        self.policy = StorePolicy(
            driver.capabilities,
            driver.check_record,
            retry or DEFAULT_RETRY,
            label or repr(driver),
            getattr(driver, "check_batch", None),
        )

    def _run(self, steps: Steps[T]) -> T:
        return run_steps(steps, self.driver, self.policy)

    @property
    def capabilities(self) -> Capabilities:
        return self.driver.capabilities

    @property
    def retry_policy(self) -> RetryPolicy:
        return self.policy.retry

    @retry_policy.setter
    def retry_policy(self, policy: RetryPolicy) -> None:
        self.policy.retry = policy

    # ----- collections --------------------------------------------------------------------

    def list_collections(self) -> list[str]:
        """Names of the collections in this store, sorted."""
        return self._run(self.policy.list_collections())

    def has_collection(self, name: str) -> bool:
        """Whether ``name`` exists now (asks the store, never a cache)."""
        return self._run(self.policy.has(name))

    def describe_collection(self, name: str) -> CollectionSpec:
        """The collection's spec as stored now; raises ``CollectionNotFound``."""
        return self._run(self.policy.describe(name))

    def create_collection(self, spec: CollectionSpec, *, exist_ok: bool = False) -> CollectionSpec:
        """Create a collection. With ``exist_ok``, an existing one is checked for the same
        dimension, metric and embedder (raising ``DimensionMismatch`` etc.) and returned."""
        return self._run(self.policy.create(spec, exist_ok))

    def drop_collection(self, name: str) -> bool:
        """Delete a collection and its data. Returns False if it did not exist."""
        return self._run(self.policy.drop(name))

    def adopt(self, name: str, adoption: Adoption | None = None, **fields: Any) -> CollectionSpec:
        """Open a collection another tool made (LangChain, LlamaIndex, Haystack, your own schema)
        under ``name``, read-only unless ``writable=True``: query, count, get, scan and migrate then
        work on it with vecbridge's semantics. Give an ``Adoption`` or its fields as keywords::

            store.adopt("docs", preset="langchain", group="my_docs")        # LangChain PGVector
            store.adopt("items", native="items", id="item_id", vector="emb", text="body",
                        metadata_fields=("price", "brand"))                  # any table
        """
        return self._run(self.policy.adopt(name, adoption or Adoption(**fields)))

    # ----- data ---------------------------------------------------------------------------

    def upsert(
        self, name: str, records: Iterable[Record], *, batch_size: int | None = None, tenant: str | None = None
    ) -> int:
        """Insert or overwrite records by id, in batches; returns how many were written.

        A list is validated whole before anything is sent, so bad input writes nothing. A stream
        (generator) is validated batch by batch. A batch is retried for the records that failed
        transiently; if any record still does not land, ``UpsertFailed`` names every id as
        written, failed or not attempted.
        """
        return self._run(self.policy.upsert(name, records, batch_size, tenant))

    def query(
        self,
        name: str,
        vector: Vector | None = None,
        *,
        k: int = 10,
        filter: Filter = None,
        include_vectors: bool = False,
        text: str | None = None,
        mode: str = "dense",
        score_threshold: float | None = None,
        alpha: float | None = None,
        tenant: str | None = None,
        **options: Any,
    ) -> list[Hit]:
        """The ``k`` best records, best first, optionally filtered.

        ``mode``: ``"dense"`` (by ``vector``), ``"keyword"`` (by the words of ``text``) or
        ``"hybrid"`` (both, fused by reciprocal rank; ``alpha`` weighs the dense side) — keyword
        and hybrid need a collection created with ``hybrid=True``. ``score_threshold`` drops hits
        scoring below it. ``options`` are the store's per-call knobs (``capabilities.query_options``),
        e.g. ``ef_search`` on pgvector.
        """
        return self._run(
            self.policy.search(
                name,
                tenant,
                vector=vector,
                text=text,
                k=k,
                filter=filter,
                mode=mode,
                include_vectors=include_vectors,
                score_threshold=score_threshold,
                alpha=alpha,
                options=options,
            )
        )

    def get(
        self, name: str, ids: Sequence[str], *, include_vectors: bool = True, tenant: str | None = None
    ) -> list[Record]:
        """Records by id, in the order asked; ids that do not exist are left out."""
        return self._run(self.policy.get(name, ids, include_vectors, tenant))

    def delete(
        self, name: str, ids: Sequence[str] | None = None, *, filter: Filter = None, tenant: str | None = None
    ) -> None:
        """Delete by ids, or by filter (exactly one of the two). Missing ids are ignored."""
        self._run(self.policy.delete(name, ids, filter, tenant))

    def count(self, name: str, *, filter: Filter = None, tenant: str | None = None) -> int:
        """Number of records, optionally only those matching ``filter``."""
        return self._run(self.policy.count(name, filter, tenant))

    def scan(
        self,
        name: str,
        *,
        batch_size: int = 256,
        cursor: str | None = None,
        include_vectors: bool = True,
        tenant: str | None = None,
        stop: str | None = None,
    ) -> Iterator[ScanPage]:
        """Stream every record page by page (each page fetched and retried on its own). A page's
        ``next_cursor`` resumes a later scan right after it; ``stop`` ends the scan before that
        cursor (see ``scan_ranges``)."""
        target = self._run(self.policy.scan_target(name, batch_size, cursor, tenant))

        def pages() -> Iterator[ScanPage]:
            position = cursor
            while True:
                page = self._run(self.policy.scan_page(target, position, batch_size, include_vectors, stop))
                yield page
                if page.next_cursor is None:
                    return
                position = page.next_cursor

        return pages()

    def scan_ranges(self, name: str, parts: int, *, tenant: str | None = None) -> list[ScanRange]:
        """Split ``name`` into about ``parts`` scan ranges for parallel readers (one range on
        stores that cannot split: ``capabilities.split_scan``)."""
        return self._run(self.policy.scan_ranges(name, parts, tenant))

    @contextmanager
    def bulk_load(self, name: str, *, expected: int | None = None, tenant: str | None = None) -> Iterator[None]:
        """Group many upserts into one load, so the store indexes once at the end (pgvector builds
        its ANN index after the data, Qdrant Edge optimises). Upserts do this on their own; use it
        around several of them::

            with store.bulk_load("docs"):
                for chunk in chunks:
                    store.upsert("docs", chunk)
        """
        target = self._run(self.policy.target(name, tenant))
        token = self._run(self.policy.begin_load(target, expected))
        try:
            yield
        except BaseException:
            self._run(self.policy.end_load(target, token, quietly=True))
            raise
        self._run(self.policy.end_load(target, token))

    # ----- lifecycle ----------------------------------------------------------------------

    def async_view(self) -> AsyncStore:
        """The same store through the async API, sharing this store's policy (spec cache, retry
        policy). It uses the driver's native async twin when the store has one (a new async client
        to the same server), else this store's driver in worker threads. Close it when done; that
        leaves this store open."""
        from .async_store import AsyncStore, ThreadedAsyncDriver

        twin_factory = getattr(self.driver, "async_twin", None)
        # A twin knows nothing of collections this driver adopted (their layouts live in the
        # driver), so a store with adopted collections keeps its own driver, in threads.
        adopted = self.policy.has_adopted()
        twin = twin_factory() if twin_factory is not None and not adopted else None
        driver = twin if twin is not None else ThreadedAsyncDriver(self.driver, owns=False)
        return AsyncStore(driver, policy=self.policy)

    def close(self) -> None:
        """Release clients, pools and embedded servers."""
        self.driver.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.policy.label})"


def iter_records(
    store: VectorStore, name: str, *, batch_size: int = 256, include_vectors: bool = True
) -> Iterator[Record]:
    """Every record of a collection, page by page (bounded memory)."""
    for page in store.scan(name, batch_size=batch_size, include_vectors=include_vectors):
        yield from page.records
