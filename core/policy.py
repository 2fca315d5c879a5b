"""The store policy, written once for the sync and the async store ("sans I/O").

Every public operation of a store is a generator here. It validates, decides and accounts, and
*yields* what it needs done: a :class:`Call` of a driver method, a :class:`Sleep` before a retry,
or (for collections) an :class:`Embed`. A runner performs each step — ``Store`` with plain calls,
``AsyncStore`` with awaits — and sends the result back in. So validation, retries, error
translation, the spec cache and failure accounting exist once, and only the I/O differs.

What a runner does with a :class:`Call`: look the method up on the driver, call it inside the
retry policy (unless ``retry`` is False), translate any exception through :meth:`StorePolicy.translate`,
and throw vecbridge errors back into the generator.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from .batching import batched
from .driver import (
    ADOPT_PRESETS,
    Adoption,
    Batch,
    Capabilities,
    Failure,
    ScanRange,
    SearchMode,
    SearchRequest,
    Target,
    WriteResult,
)
from .errors import (
    CollectionExists,
    CollectionNotFound,
    DimensionMismatch,
    EmbedderMismatch,
    InvalidInput,
    MetricMismatch,
    StoreError,
    TransientError,
    UnsupportedFeature,
    UpsertFailed,
    VecbridgeError,
)
from .filters import FilterNode, parse_filter
from .fusion import reciprocal_rank_fusion
from .limits import MAX_K
from .models import CollectionSpec, EmbedderFingerprint, Hit, Metric, Record, ScanPage, validate_collection_name
from .retry import RetryPolicy
from .validation import check_ids, check_tenant, validate_batch, validate_vector

__all__ = [
    "Call",
    "Embed",
    "Sleep",
    "Step",
    "Steps",
    "StorePolicy",
    "UpsertAccount",
    "check_compatible",
]

T = TypeVar("T")

#: Records per ``get`` / ``delete`` call: Pinecone's and Weaviate's per-request ceilings.
ID_CHUNK = 1000


@dataclass(frozen=True)
class Call:
    """Ask the runner to call ``driver.<op>(*args)``. ``what`` names it in error messages;
    ``collection`` lets a "not found" evict the spec cache; ``retry`` False when the policy
    retries itself (partial writes)."""

    op: str
    args: tuple[Any, ...]
    what: str
    collection: str | None = None
    retry: bool = True


@dataclass(frozen=True)
class Sleep:
    """Ask the runner to wait before the policy's next attempt."""

    seconds: float


@dataclass(frozen=True)
class Embed:
    """Ask the runner to embed ``texts`` as documents (``query`` False) or one query."""

    texts: tuple[str, ...]
    query: bool = False


Step = Call | Sleep | Embed
Steps = Generator[Step, Any, T]


def check_compatible(existing: CollectionSpec, requested: CollectionSpec) -> None:
    """Raise if ``requested`` cannot be written into ``existing`` (dimension, metric, embedder,
    keyword index, tenancy)."""
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
    if requested.hybrid and not existing.hybrid:
        raise UnsupportedFeature(
            f"collection {existing.name!r} exists without a keyword index (hybrid=False): migrate it into "
            "a new hybrid collection (vecbridge migrate ... --hybrid) or use another name"
        )
    if requested.multi_tenant != existing.multi_tenant:
        state = "multi-tenant" if existing.multi_tenant else "not multi-tenant"
        raise UnsupportedFeature(f"collection {existing.name!r} exists and is {state}: tenancy is fixed at creation")


@dataclass
class UpsertAccount:
    """Exact bookkeeping of one upsert: every id ends in written, failed or not attempted."""

    written: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    #: Ids known to the call (a sequence's ids), so the rest can be named "not attempted".
    known: list[str] | None = None
    unread_input: bool = False

    def error(self, message: str, cause: BaseException) -> UpsertFailed:
        done = set(self.written) | set(self.failed)
        rest = [i for i in self.known if i not in done] if self.known is not None else []
        return UpsertFailed(
            message,
            list(self.failed),
            self.written,
            cause,
            not_attempted_ids=rest,
            reasons=self.failed,
            unread_input=self.unread_input,
        )


class StorePolicy:
    """Everything a store does that is not I/O. One per store; thread-safe.

    ``check_record`` is the driver's record rules (pure). ``label`` names the store in messages.
    """

    def __init__(
        self,
        capabilities: Capabilities,
        check_record: Any,
        retry: RetryPolicy,
        label: str,
        check_batch: Any = None,
    ) -> None:
        self.capabilities = capabilities
        self.check_record = check_record
        #: The driver's rules that depend on the collection (its ``check_batch(spec, batch)``), if any.
        self.check_batch = check_batch
        self.retry = retry
        self.label = label
        self._specs: dict[str, CollectionSpec] = {}
        self._lock = threading.Lock()
        #: Collections inside a ``bulk_load``: upserts there skip their own load hooks.
        self._loading: dict[str, int] = {}
        #: Adopted collections (made by other tools), and whether each may be written.
        self._adopted: dict[str, bool] = {}

    # ----- spec cache ---------------------------------------------------------------------

    def cached(self, name: str) -> CollectionSpec | None:
        with self._lock:
            return self._specs.get(name)

    def remember(self, spec: CollectionSpec) -> None:
        with self._lock:
            self._specs[spec.name] = spec

    def evict(self, name: str) -> None:
        with self._lock:
            self._specs.pop(name, None)

    # ----- errors -------------------------------------------------------------------------

    def translate(self, exc: BaseException, call: Call, mapped: VecbridgeError | None) -> VecbridgeError:
        """The vecbridge error a runner raises for ``exc`` (``mapped``: the driver's translation).

        A "not found" during a call about a collection evicts its cached spec (another client may
        have dropped it), and so does any permanent error there (it may have been re-created with
        another spec): the next call describes it afresh.
        """
        error = exc if isinstance(exc, VecbridgeError) else mapped
        if error is None:
            error = StoreError(f"{self.label}: unexpected {type(exc).__name__} while {call.what}: {exc}")
        if call.collection is not None and not isinstance(error, (TransientError, InvalidInput)):
            self.evict(call.collection)
            if isinstance(error, CollectionNotFound) and not str(error).startswith("collection "):
                error = CollectionNotFound(
                    f"collection {call.collection!r} does not exist in {self.label} (dropped by another client?): "
                    f"create it again ({error})"
                )
        return error

    # ----- collections --------------------------------------------------------------------

    def list_collections(self) -> Steps[list[str]]:
        names = yield Call("list_collections", (), "listing collections")
        return sorted(names)

    def spec_or_none(self, name: str, *, fresh: bool) -> Steps[CollectionSpec | None]:
        """The spec of ``name`` (None if absent). ``fresh`` asks the store; otherwise the cache
        answers when it can (data calls), and a "not found" later evicts it."""
        validate_collection_name(name)
        if not fresh:
            cached = self.cached(name)
            if cached is not None:
                return cached
        spec: CollectionSpec | None = yield Call("describe", (name,), f"describing {name!r}")
        if spec is None:
            self.evict(name)
        else:
            self.remember(spec)
        return spec

    def describe(self, name: str, *, fresh: bool = True) -> Steps[CollectionSpec]:
        with self._lock:
            adopted = name in self._adopted
        spec = yield from self.spec_or_none(name, fresh=fresh and not adopted)
        if spec is None:
            raise CollectionNotFound(
                f"collection {name!r} does not exist in {self.label}: create it first "
                "(store.create_collection or Collection.open(..., create=True))"
            )
        return spec

    def has(self, name: str) -> Steps[bool]:
        spec = yield from self.spec_or_none(name, fresh=True)
        return spec is not None

    def create(self, spec: CollectionSpec, exist_ok: bool) -> Steps[CollectionSpec]:
        if not isinstance(spec, CollectionSpec):
            raise InvalidInput(f"create_collection takes a CollectionSpec, got {type(spec).__name__}")
        if spec.multi_tenant and not self.capabilities.tenants:
            raise UnsupportedFeature(f"{self.label} has no tenancy: create the collection with multi_tenant=False")
        if spec.hybrid and SearchMode.KEYWORD not in self.capabilities.search_modes:
            raise UnsupportedFeature(f"{self.label} cannot keep a keyword index: create it with hybrid=False")
        existing = yield from self.spec_or_none(spec.name, fresh=True)
        if existing is not None:
            if not exist_ok:
                raise CollectionExists(
                    f"collection {spec.name!r} already exists: pass exist_ok=True to reuse it, or drop it first"
                )
            check_compatible(existing, spec)
            return existing
        yield Call("create", (spec,), f"creating {spec.name!r}", spec.name)
        self.evict(spec.name)
        created: CollectionSpec = yield from self.describe(spec.name)
        return created

    def ensure(
        self,
        name: str,
        dimension: int,
        metric: Metric | None,
        embedder: EmbedderFingerprint | None,
        *,
        default_metric: Metric = Metric.COSINE,
        hybrid: bool = False,
    ) -> Steps[CollectionSpec]:
        """The collection ``name``, created on first use (for adapters that create on first
        write): an existing one is checked for the dimension, the metric when one is asked for,
        the embedder, and a keyword index when ``hybrid`` asks for one."""
        existing = yield from self.spec_or_none(name, fresh=False)
        if existing is not None:
            wanted = CollectionSpec(name, dimension, metric or existing.metric, embedder, hybrid=hybrid)
            check_compatible(existing, wanted)
            return existing
        spec = CollectionSpec(name, dimension, metric or default_metric, embedder, hybrid=hybrid)
        created: CollectionSpec = yield from self.create(spec, True)
        return created

    def adopt(self, name: str, adoption: Adoption) -> Steps[CollectionSpec]:
        """Read a collection made by another tool under ``name`` (see ``Adoption``)."""
        validate_collection_name(name)
        if not isinstance(adoption, Adoption):
            raise InvalidInput(f"adopt takes an Adoption, got {type(adoption).__name__}")
        if adoption.preset is not None and adoption.preset not in ADOPT_PRESETS:
            raise InvalidInput(f"unknown preset {adoption.preset!r}: use one of {', '.join(ADOPT_PRESETS)} or None")
        spec: CollectionSpec = yield Call("adopt", (name, adoption), f"adopting {name!r}", name)
        self.remember(spec)
        with self._lock:
            self._adopted[name] = adoption.writable
        return spec

    def has_adopted(self) -> bool:
        """Whether any collection was adopted through this policy (see ``Store.async_view``)."""
        with self._lock:
            return bool(self._adopted)

    def check_writable(self, name: str) -> None:
        with self._lock:
            writable = self._adopted.get(name, True)
        if not writable:
            raise UnsupportedFeature(
                f"collection {name!r} was adopted read-only: pass writable=True to adopt() to write into it"
            )

    def drop(self, name: str) -> Steps[bool]:
        validate_collection_name(name)
        with self._lock:
            adopted = name in self._adopted
        if adopted:
            raise UnsupportedFeature(f"collection {name!r} was made by another tool: vecbridge does not drop it")
        self.evict(name)
        dropped = yield Call("drop", (name,), f"dropping {name!r}", name)
        self.evict(name)
        return bool(dropped)

    def target(self, name: str, tenant: str | None) -> Steps[Target]:
        """The spec (cached) and tenant of a data call, checked against each other."""
        spec = yield from self.describe(name, fresh=False)
        if tenant is not None:
            check_tenant(tenant)
            if not spec.multi_tenant:
                raise InvalidInput(
                    f"collection {name!r} is not multi-tenant: drop tenant=, or create a collection with "
                    "multi_tenant=True"
                )
        elif spec.multi_tenant:
            raise InvalidInput(f"collection {name!r} is multi-tenant: every call needs tenant='...'")
        return Target(spec, tenant)

    # ----- writes -------------------------------------------------------------------------

    def batch_size(self, batch_size: int | None) -> int:
        size = self.capabilities.default_batch_size if batch_size is None else batch_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise InvalidInput(f"batch_size must be a positive integer, got {batch_size!r}")
        return size

    def prepare(self, spec: CollectionSpec, records: Iterable[Record]) -> Batch:
        """Validate one unit and apply the store's rules, once per record."""
        batch = validate_batch(records, spec.dimension, spec.metric)
        problems = [p for r in batch.records() for p in self.check_record(r)]
        if not problems and self.check_batch is not None:
            problems = list(self.check_batch(spec, batch))
        if problems:
            more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
            raise InvalidInput("; ".join(problems[:10]) + more)
        if spec.hybrid and any(t is None for t in batch.texts):
            missing = [i for i, t in zip(batch.ids, batch.texts, strict=True) if t is None][:5]
            raise InvalidInput(
                f"collection {spec.name!r} is hybrid: every record needs a text for its keyword index "
                f"(records without one: {missing})"
            )
        return batch

    def batches(
        self, spec: CollectionSpec, records: Iterable[Record], size: int, account: UpsertAccount
    ) -> Iterator[Batch]:
        """Validated batches. A sequence is validated whole before the first batch is yielded
        (bad input writes nothing); a stream is validated one batch at a time."""
        if isinstance(records, Sequence):
            ready = [self.prepare(spec, chunk) for chunk in batched(records, size)]
            self._no_duplicates(ready)
            account.known = [i for b in ready for i in b.ids]
            # Each batch is let go once written: a load holds its vectors twice only until then.
            ready.reverse()
            while ready:
                yield ready.pop()
            return
        for chunk in batched(records, size):
            account.unread_input = True
            try:
                batch = self.prepare(spec, chunk)
            except InvalidInput as exc:
                account.failed.update(
                    {r.id: str(exc) for r in chunk if isinstance(r, Record) and isinstance(r.id, str)}
                )
                raise
            account.unread_input = False
            yield batch

    @staticmethod
    def _no_duplicates(batches: list[Batch]) -> None:
        seen: set[str] = set()
        for b in batches:
            for i in b.ids:
                if i in seen:
                    raise InvalidInput(
                        f"duplicate id {i!r} in one call: which record should win is ambiguous, so deduplicate first"
                    )
                seen.add(i)

    def upsert(self, name: str, records: Iterable[Record], batch_size: int | None, tenant: str | None) -> Steps[int]:
        self.check_writable(name)
        target = yield from self.target(name, tenant)
        size = self.batch_size(batch_size)
        if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Iterable):
            raise InvalidInput(f"records must be a list or an iterable of Record, got {type(records).__name__}")
        account = UpsertAccount()
        expected = len(records) if isinstance(records, Sequence) else None
        batches = self.batches(target.spec, records, size, account)
        yield from self.write_all(target, batches, account, expected)
        return len(account.written)

    def write_all(
        self, target: Target, batches: Iterable[Batch], account: UpsertAccount, expected: int | None
    ) -> Steps[None]:
        """Write ``batches`` in order inside one bulk load; stop at the first batch that does not
        land whole, raising ``UpsertFailed`` with exact accounting (or the cause itself when nothing
        was written: ``InvalidInput``, ``CollectionNotFound`` ...)."""
        token = yield from self.begin_load(target, expected)
        iterator = iter(batches)
        try:
            while True:
                try:
                    batch = next(iterator)
                except StopIteration:
                    break
                except InvalidInput as exc:
                    if account.written:
                        raise account.error(
                            "a later batch of the input is invalid, nothing of it was sent", exc
                        ) from exc
                    raise
                except Exception as exc:  # the caller's own iterable failed: say what landed before it
                    if account.written:
                        account.unread_input = True
                        raise account.error(f"reading the input failed ({type(exc).__name__}: {exc})", exc) from exc
                    raise
                yield from self.write_batch(target, batch, account)
        except VecbridgeError:
            yield from self.end_load(target, token, quietly=True)
            raise
        yield from self.end_load(target, token)

    def write_batch(self, target: Target, batch: Batch, account: UpsertAccount) -> Steps[None]:
        """One batch, retrying only the records that failed transiently, each attempt once.

        The store retries here itself (not in the runner) so a partial failure resends just the
        failed records, and retries never nest.
        """
        pending = batch
        what = f"upserting into {target.name!r}"
        for attempt in itertools.count(1):
            last: VecbridgeError | None = None
            try:
                result = yield Call("write", (target, pending), what, target.name, retry=False)
                result = self._checked(pending, result)
            except TransientError as exc:
                last = exc
                result = WriteResult(failed={i: Failure(str(exc), transient=True) for i in pending.ids})
            except VecbridgeError as exc:
                account.failed.update({i: str(exc) for i in pending.ids})
                if not account.written:
                    raise
                raise account.error(f"store rejected a batch ({exc})", exc) from exc
            account.written.extend(result.written)
            final = {i: f.reason for i, f in result.failed.items() if not f.transient}
            retry_ids = result.transient_ids
            if final or (retry_ids and attempt >= self.retry.attempts):
                account.failed.update(final)
                account.failed.update({i: result.failed[i].reason for i in retry_ids})
                cause = last or StoreError(next(iter(final.values()), "transient failures"))
                reason = "store rejected records" if final else "store kept failing"
                raise account.error(f"{reason} ({cause})", cause) from cause
            if not retry_ids:
                return
            yield Sleep(self.retry.wait_seconds(attempt, last))
            pending = pending.subset(retry_ids)

    @staticmethod
    def _checked(batch: Batch, result: Any) -> WriteResult:
        """A driver's WriteResult must account for exactly the ids it was given."""
        if not isinstance(result, WriteResult):
            raise StoreError(f"driver bug: write returned {type(result).__name__}, not a WriteResult")
        given = set(batch.ids)
        told = set(result.written) | set(result.failed)
        if told != given or len(result.written) + len(result.failed) != len(given):
            raise StoreError(
                "driver bug: its WriteResult does not name each id of the batch exactly once "
                f"({len(given)} sent, {len(result.written)} written + {len(result.failed)} failed reported)"
            )
        return result

    # ----- bulk loads ---------------------------------------------------------------------

    def begin_load(self, target: Target, expected: int | None) -> Steps[Any]:
        with self._lock:
            nested = self._loading.get(target.name, 0)
            self._loading[target.name] = nested + 1
        if nested:
            return _NESTED
        try:
            token = yield Call("begin_load", (target, expected), f"preparing a load into {target.name!r}", target.name)
        except BaseException:
            self._leave_load(target.name)
            raise
        return token

    def end_load(self, target: Target, token: Any, *, quietly: bool = False) -> Steps[None]:
        """Finish a load (build the deferred index, optimise ...). ``quietly``: a failure here is
        not reported over the error that ended the load."""
        self._leave_load(target.name)
        if token is _NESTED:
            return
        try:
            # After a failure, one attempt: the error that ended the load is what the caller needs.
            yield Call(
                "end_load", (target, token), f"finishing the load into {target.name!r}", target.name, retry=not quietly
            )
        except VecbridgeError:
            if not quietly:
                raise

    def _leave_load(self, name: str) -> None:
        with self._lock:
            left = self._loading.get(name, 1) - 1
            if left <= 0:
                self._loading.pop(name, None)
            else:
                self._loading[name] = left

    # ----- reads --------------------------------------------------------------------------

    def search_request(
        self,
        spec: CollectionSpec,
        *,
        vector: Any,
        text: str | None,
        k: int,
        filter: Mapping[str, Any] | FilterNode | None,
        mode: str | SearchMode,
        include_vectors: bool,
        score_threshold: float | None,
        alpha: float | None,
        options: Mapping[str, Any],
    ) -> SearchRequest:
        """Check every argument of a search before anything is sent."""
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise InvalidInput(f"k must be an integer from 1 to {MAX_K:,} (vecbridge's limit), got {k!r}")
        search_mode = SearchMode.parse(mode)
        if search_mode is not SearchMode.DENSE:
            if not spec.hybrid:
                raise UnsupportedFeature(
                    f"collection {spec.name!r} has no keyword index: {search_mode.value} search needs a collection "
                    "created with hybrid=True (vecbridge migrate can copy it into one)"
                )
            if not isinstance(text, str) or not text.strip():
                raise InvalidInput(f"{search_mode.value} search needs the query text (text=...)")
        vec = None
        if search_mode is not SearchMode.KEYWORD:
            if vector is None:
                raise InvalidInput("a dense or hybrid search needs a query vector")
            vec = validate_vector(vector, spec.dimension, spec.metric)
        if score_threshold is not None and (
            isinstance(score_threshold, bool)
            or not isinstance(score_threshold, (int, float))
            or not np.isfinite(score_threshold)
        ):
            raise InvalidInput(f"score_threshold must be a finite number, got {score_threshold!r}")
        if alpha is not None:
            if search_mode is not SearchMode.HYBRID:
                raise InvalidInput("alpha weighs the two rankings of a hybrid search: pass mode='hybrid' or drop it")
            if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
                raise InvalidInput(f"alpha must be a number from 0 (keyword only) to 1 (dense only), got {alpha!r}")
        unknown = sorted(set(options) - self.capabilities.query_options)
        if unknown:
            known = ", ".join(sorted(self.capabilities.query_options)) or "none"
            raise InvalidInput(f"unknown search option(s) {unknown} for {self.label}: it takes {known}")
        if not isinstance(include_vectors, bool):
            raise InvalidInput(f"include_vectors must be True or False, got {include_vectors!r}")
        return SearchRequest(
            k=k,
            vector=vec,
            text=text if search_mode is not SearchMode.DENSE else None,
            mode=search_mode,
            filter=parse_filter(filter),
            include_vectors=include_vectors,
            score_threshold=None if score_threshold is None else float(score_threshold),
            alpha=None if alpha is None else float(alpha),
            options=dict(options),
        )

    def search(self, name: str, tenant: str | None, **arguments: Any) -> Steps[list[Hit]]:
        target = yield from self.target(name, tenant)
        request = self.search_request(target.spec, **arguments)
        what = f"searching {name!r}"
        modes = self.capabilities.search_modes
        if request.mode is SearchMode.HYBRID and SearchMode.HYBRID not in modes:
            # Fused here from the store's own dense and keyword rankings (one documented fusion).
            depth = min(MAX_K, max(request.k * 4, 50))
            dense = yield Call("search", (target, _mode(request, SearchMode.DENSE, depth)), what, name)
            keyword = yield Call("search", (target, _mode(request, SearchMode.KEYWORD, depth)), what, name)
            hits = reciprocal_rank_fusion([dense, keyword], request.k, weights=_weights(request))
        else:
            hits = yield Call("search", (target, request), what, name)
        if request.score_threshold is not None:
            hits = [h for h in hits if h.score >= request.score_threshold]
        return list(hits)

    def get(self, name: str, ids: Sequence[str], include_vectors: bool, tenant: str | None) -> Steps[list[Record]]:
        target = yield from self.target(name, tenant)
        wanted = list(dict.fromkeys(check_ids(ids)))
        found: dict[str, Record] = {}
        for chunk in batched(wanted, ID_CHUNK):
            records = yield Call("get", (target, chunk, include_vectors), f"reading from {name!r}", name)
            found.update((r.id, r) for r in records)
        return [found[i] for i in wanted if i in found]

    def delete(
        self,
        name: str,
        ids: Sequence[str] | None,
        filter: Mapping[str, Any] | FilterNode | None,
        tenant: str | None,
    ) -> Steps[None]:
        self.check_writable(name)
        target = yield from self.target(name, tenant)
        node = parse_filter(filter)
        if (ids is None) == (node is None):
            raise InvalidInput("delete takes ids or a non-empty filter (exactly one); to empty a collection, drop it")
        what = f"deleting from {name!r}"
        if ids is not None:
            for chunk in batched(dict.fromkeys(check_ids(ids)), ID_CHUNK):
                yield Call("delete_ids", (target, chunk), what, name)
        else:
            yield Call("delete_filter", (target, node), what, name)

    def count(self, name: str, filter: Mapping[str, Any] | FilterNode | None, tenant: str | None) -> Steps[int]:
        target = yield from self.target(name, tenant)
        node = parse_filter(filter)
        n = yield Call("count", (target, node), f"counting {name!r}", name)
        return int(n)

    def scan_target(self, name: str, batch_size: int, cursor: str | None, tenant: str | None) -> Steps[Target]:
        target = yield from self.target(name, tenant)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInput(f"batch_size must be a positive integer, got {batch_size!r}")
        if cursor is not None and not isinstance(cursor, str):
            raise InvalidInput(f"a scan cursor is the string a previous page returned, got {type(cursor).__name__}")
        return target

    def scan_page(
        self, target: Target, cursor: str | None, limit: int, include_vectors: bool, stop: str | None
    ) -> Steps[ScanPage]:
        page = yield Call(
            "scan_page", (target, cursor, limit, include_vectors, stop), f"scanning {target.name!r}", target.name
        )
        return page  # type: ignore[no-any-return]

    def scan_ranges(self, name: str, parts: int, tenant: str | None) -> Steps[list[ScanRange]]:
        target = yield from self.target(name, tenant)
        if isinstance(parts, bool) or not isinstance(parts, int) or parts < 1:
            raise InvalidInput(f"parts must be a positive integer, got {parts!r}")
        if parts == 1 or not self.capabilities.split_scan:
            return [ScanRange()]
        ranges = yield Call("scan_ranges", (target, parts), f"splitting {name!r}", name)
        return list(ranges) or [ScanRange()]


class _Nested:
    def __repr__(self) -> str:
        return "<inside an outer bulk load>"


_NESTED: Any = _Nested()


def _mode(request: SearchRequest, mode: SearchMode, k: int) -> SearchRequest:
    return SearchRequest(
        k=k,
        vector=request.vector if mode is not SearchMode.KEYWORD else None,
        text=request.text if mode is not SearchMode.DENSE else None,
        mode=mode,
        filter=request.filter,
        include_vectors=request.include_vectors,
        options=request.options,
    )


def _weights(request: SearchRequest) -> tuple[float, float]:
    if request.alpha is None:
        return (1.0, 1.0)
    return (request.alpha, 1.0 - request.alpha)
