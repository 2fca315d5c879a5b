"""``PineconeStore``: vecbridge collections on Pinecone (cloud or Pinecone Local).

URLs::

    pinecone://                                  Pinecone cloud; key from PINECONE_API_KEY
    pinecone://?cloud=gcp&region=europe-west4    where new serverless indexes go (default aws, us-east-1)
    pinecone://?index=shared                     collections are namespaces of index 'shared'
    pinecone://?index=shared&namespace=acme      ... named 'acme/<collection>' (one tenant's view)
    pinecone+local://localhost:5080              Pinecone Local (plain HTTP, any key)

Options (query parameters, or keyword arguments of ``from_url`` / ``connect``, which win):
``api_key`` (keyword only: keys do not belong in URLs), ``cloud``, ``region``, ``index``,
``namespace``, ``ready_timeout`` (seconds to wait for a new index, default 300),
``max_concurrency`` (parallel requests of one upsert or fetch, default 4), ``timeout`` (seconds
per HTTP request, default 30), ``retry_policy`` (a ``RetryPolicy``).

Writes: records go out in requests of at most 1,000 vectors and about 2 MB (Pinecone's limits),
up to ``max_concurrency`` at a time. Metadata is checked against Pinecone's rules for every record
before anything is sent (see ``convert``). Reads: ``get`` fetches in chunks of at most 1,000 ids;
``query`` asks for at most 10,000 matches (above 1,000, Pinecone returns no metadata with them, so
they are fetched separately); ``count`` uses describe_index_stats, or with a filter a
filtered query (past 10,000 matches, a scan evaluated with the core semantics); ``scan`` pages
through the list endpoint and fetches each page; its cursor is Pinecone's pagination token.

Retries: the SDK retries 408/429/5xx three times itself (honouring Retry-After); what still fails
becomes ``TransientError`` and ``BaseVectorStore`` retries the whole call (``retry_policy``).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import quote

from vecbridge.core.batching import batched, batched_by_size
from vecbridge.core.errors import InvalidInput, StoreError, TransientError
from vecbridge.core.filters import FilterNode, matches
from vecbridge.core.models import CollectionSpec, Hit, Record, ScanPage
from vecbridge.core.retry import RetryPolicy, call_with_retry
from vecbridge.core.store import BaseVectorStore
from vecbridge.core.urls import parse_store_url

from .control import ControlPlane
from .convert import encode_metadata, hit_from_match, pinecone_id, record_from_vector, to_vector, wire_size
from .filters import PineconeFilterCompiler
from .layouts import IndexPerCollection, Layout, NamespacePerCollection
from .names import check_index_name, check_tenant
from .sdk import SDK_MAJOR, is_not_found, pinecone_errors

__all__ = ["PineconeStore"]

T = TypeVar("T")

#: Pinecone's per-request limits.
MAX_UPSERT_VECTORS = 1000
MAX_UPSERT_BYTES = 2 * 1024 * 1024
MAX_TOP_K = 10_000
MAX_TOP_K_WITH_PAYLOAD = 1000
MAX_IDS_PER_REQUEST = 1000
MAX_LIST_PAGE = 100
#: Room left in an upsert body for its envelope ({"vectors":[...],"namespace":...}) and for the
#: difference between our JSON and the SDK's encoder.
_UPSERT_HEADROOM = 16 * 1024
#: Query-string budget of one fetch (ids travel in the URL of a GET).
_FETCH_URL_BUDGET = 6000

CLOUDS = ("aws", "gcp", "azure")
#: Added to a refused index creation on pinecone+local with SDK 10: the likely cause.
_LOCAL_HINT = (
    "If this server is Pinecone Local: it speaks API 2025-01, which pinecone SDK 10 (API 2026-07) "
    "cannot use; install pinecone>=9,<10 to work with it"
)
_OPTIONS = (
    "api_key",
    "cloud",
    "region",
    "index",
    "namespace",
    "ready_timeout",
    "max_concurrency",
    "timeout",
    "retry_policy",
)


def _positive_float(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise InvalidInput(f"{name} must be a positive number of seconds, got {value!r}")
    return number


def _concurrency(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if isinstance(value, bool) or not 1 <= number <= 64:
        raise InvalidInput(f"max_concurrency must be an integer from 1 to 64, got {value!r}")
    return number


class PineconeStore(BaseVectorStore):
    """Collections as Pinecone indexes (default) or as namespaces of one index (``?index=``)."""

    #: Pinecone takes up to 1,000 vectors per request; byte limits split further.
    default_batch_size = MAX_UPSERT_VECTORS
    exact_search = False
    #: The SDK already retries each request 3 times; this outer layer covers longer outages.
    retry_policy = RetryPolicy(attempts=3, initial_wait=1.0, max_wait=20.0)

    def __init__(
        self,
        *,
        api_key: str,
        host: str | None = None,
        plain_http: bool = False,
        cloud: str = "aws",
        region: str = "us-east-1",
        index: str | None = None,
        namespace: str | None = None,
        ready_timeout: float = 300.0,
        max_concurrency: int = 4,
        timeout: float = 30.0,
        retry_policy: RetryPolicy | None = None,
        display_url: str = "pinecone://",
    ) -> None:
        super().__init__()
        from pinecone import Pinecone

        if not isinstance(api_key, str) or not api_key.strip():
            raise InvalidInput("the Pinecone API key is empty: set PINECONE_API_KEY or pass api_key=...")
        if cloud not in CLOUDS:
            raise InvalidInput(f"cloud must be one of {', '.join(CLOUDS)}, got {cloud!r}")
        if not isinstance(region, str) or not region:
            raise InvalidInput("region must be a non-empty string such as 'us-east-1'")
        if namespace is not None and index is None:
            raise InvalidInput("namespace= is a prefix inside a shared index: give the index too (?index=...)")
        self._display = display_url
        self._max_concurrency = _concurrency(max_concurrency)
        if retry_policy is not None:
            if not isinstance(retry_policy, RetryPolicy):
                raise InvalidInput(f"retry_policy must be a vecbridge RetryPolicy, got {retry_policy!r}")
            self.retry_policy = retry_policy
        with pinecone_errors("set up the client"):
            # The key lives only inside the SDK client, whose own repr masks it.
            client = Pinecone(api_key=api_key, host=host, timeout=_positive_float("timeout", timeout))
        self._control = ControlPlane(
            client,
            plain_http=plain_http,
            ready_timeout=_positive_float("ready_timeout", ready_timeout),
            refusal_hint=_LOCAL_HINT if plain_http and SDK_MAJOR >= 10 else "",
        )
        self._layout: Layout
        if index is not None:
            self._layout = NamespacePerCollection(
                self._control,
                index=check_index_name(index, what="shared index"),
                tenant=check_tenant(namespace) if namespace is not None else None,
                cloud=cloud,
                region=region,
                ready_timeout=_positive_float("ready_timeout", ready_timeout),
            )
        else:
            self._layout = IndexPerCollection(self._control, cloud=cloud, region=region)
        self._filters = PineconeFilterCompiler()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> PineconeStore:
        parsed = parse_store_url(url)
        if parsed.base_scheme != "pinecone" or parsed.variant not in (None, "local"):
            raise InvalidInput(
                f"{parsed.scheme!r} is not a Pinecone URL: use 'pinecone://' or 'pinecone+local://host:5080'"
            )
        if parsed.username or parsed.password or any("key" in k.lower() for k in parsed.query):
            raise InvalidInput(
                "do not put the Pinecone API key in the URL (it would end up in logs and shell history): "
                "set PINECONE_API_KEY or pass api_key=..."
            )
        settings: dict[str, Any] = {**parsed.query, **options}
        unknown = sorted(set(settings) - set(_OPTIONS))
        if unknown:
            raise InvalidInput(f"unknown Pinecone option(s) {unknown}: use {', '.join(_OPTIONS)}")
        local = parsed.variant == "local"
        api_key = settings.pop("api_key", None) or os.environ.get("PINECONE_API_KEY") or ("pclocal" if local else None)
        if not api_key:
            raise InvalidInput(
                "pinecone:// needs an API key: set the PINECONE_API_KEY environment variable or pass api_key=..."
            )
        if local:
            host: str | None = f"http://{parsed.host or 'localhost'}:{parsed.port or 5080}"
        elif parsed.host:
            host = f"https://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")
        else:
            host = None  # the SDK's default (https://api.pinecone.io) or PINECONE_CONTROLLER_HOST
        return cls(api_key=api_key, host=host, plain_http=local, display_url=parsed.redacted(), **settings)

    def __repr__(self) -> str:
        return f"PineconeStore({self._display}, {self._layout.summary()})"

    # ----- helpers ------------------------------------------------------------------------

    def _run(self, tasks: Sequence[Callable[[], T]]) -> list[T]:
        """Run tasks at most ``max_concurrency`` at a time; the first failure is raised after
        all have finished (a final error wins over a transient one)."""
        if len(tasks) <= 1 or self._max_concurrency == 1:
            return [task() for task in tasks]
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._max_concurrency, thread_name_prefix="vecbridge-pinecone")
            pool = self._pool
        futures = [pool.submit(task) for task in tasks]
        errors = [f.exception() for f in futures]
        failures = [e for e in errors if e is not None]
        if failures:
            final = [e for e in failures if not isinstance(e, TransientError)]
            raise (final or failures)[0]
        return [f.result() for f in futures]

    def _retrying(self, fn: Callable[[], T]) -> T:
        return call_with_retry(fn, self.retry_policy)

    def _fetch(self, handle: Any, namespace: str, ids: list[str]) -> dict[str, Any]:
        """Stored vectors by Pinecone id, in requests of <= 1,000 ids and a bounded URL."""
        chunks: list[list[str]] = []
        chunk: list[str] = []
        used = 0
        for pid in ids:
            cost = len(quote(pid, safe="")) + 5  # "&ids=" + the encoded id
            if chunk and (len(chunk) >= MAX_IDS_PER_REQUEST or used + cost > _FETCH_URL_BUDGET):
                chunks.append(chunk)
                chunk, used = [], 0
            chunk.append(pid)
            used += cost
        if chunk:
            chunks.append(chunk)

        def fetch(part: list[str]) -> dict[str, Any]:
            with pinecone_errors(f"fetch {len(part)} records"):
                return dict(handle.fetch(ids=part, namespace=namespace).vectors)

        found: dict[str, Any] = {}
        for result in self._run([lambda p=part: fetch(p) for part in chunks]):  # type: ignore[misc]
            found.update(result)
        return found

    def _list_page(self, handle: Any, namespace: str, limit: int, token: str | None) -> tuple[list[str], str | None]:
        def call() -> tuple[list[str], str | None]:
            with pinecone_errors("list record ids"):
                page = handle.list_paginated(namespace=namespace, limit=limit, pagination_token=token)
            ids = [item.id for item in page.vectors if item.id]
            return ids, (page.pagination.next if page.pagination else None) or None

        return self._retrying(call)

    def _probe(self, spec: CollectionSpec) -> list[float]:
        return [1.0] * spec.dimension

    # ----- public API additions -------------------------------------------------------------

    def upsert(self, name: str, records: Iterable[Record], *, batch_size: int | None = None) -> int:
        """As ``BaseVectorStore.upsert``, plus Pinecone's metadata rules, checked before anything
        is sent (a list as a whole; a stream record by record, as the core checks streams)."""
        self.describe_collection(name)
        if isinstance(records, Sequence):
            for record in records:
                self._check_rules(record)
            return super().upsert(name, records, batch_size=batch_size)
        return super().upsert(name, self._checked(records), batch_size=batch_size)

    @staticmethod
    def _check_rules(record: Any) -> None:
        # Records the core will refuse anyway (not a Record, bad id) are left to it.
        if isinstance(record, Record) and isinstance(record.id, str) and record.id:
            text = record.text if isinstance(record.text, str) else None
            encode_metadata(record.id, text, record.metadata if isinstance(record.metadata, Mapping) else None)

    def _checked(self, records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            self._check_rules(record)
            yield record

    # ----- hooks --------------------------------------------------------------------------

    def _list_collections(self) -> list[str]:
        return self._layout.list_names()

    def _describe(self, name: str) -> CollectionSpec | None:
        return self._layout.describe(name)

    def _create(self, spec: CollectionSpec) -> None:
        self._layout.create(spec)

    def _drop(self, name: str) -> bool:
        return self._layout.drop(name)

    def check_record(self, record: Record) -> list[str]:
        """Pinecone's metadata rules (flat values, size), checked before anything is sent."""
        try:
            encode_metadata(record.id, record.text, record.metadata)
        except InvalidInput as exc:
            return [str(exc)]
        return []

    def _upsert_batch(self, spec: CollectionSpec, records: list[Record]) -> None:
        handle, namespace = self._layout.target(spec)
        vectors = [to_vector(r) for r in records]
        limit = MAX_UPSERT_BYTES - _UPSERT_HEADROOM - len(namespace.encode())
        requests = list(
            batched_by_size(
                vectors,
                max_count=MAX_UPSERT_VECTORS,
                max_bytes=limit,
                size_of=wire_size,
                describe=lambda v: f"record {v['metadata'].get('_vb_id', v['id'])!r}",
            )
        )

        def send(chunk: list[dict[str, Any]]) -> None:
            with pinecone_errors(f"upsert {len(chunk)} records into collection {spec.name!r}"):
                handle.upsert(vectors=chunk, namespace=namespace)

        self._run([lambda c=chunk: send(c) for chunk in requests])  # type: ignore[misc]

    def _query(
        self, spec: CollectionSpec, vector: list[float], k: int, node: FilterNode | None, include_vectors: bool
    ) -> list[Hit]:
        if k > MAX_TOP_K:
            raise InvalidInput(f"k={k}: Pinecone returns at most {MAX_TOP_K:,} matches per query")
        handle, namespace = self._layout.target(spec)
        flt = self._filters.visit(node) if node is not None else None
        with_payload = k <= MAX_TOP_K_WITH_PAYLOAD  # Pinecone's limit for matches with metadata/values
        with pinecone_errors(f"query collection {spec.name!r}"):
            result = handle.query(
                vector=vector,
                top_k=k,
                namespace=namespace,
                filter=flt,
                include_metadata=with_payload,
                include_values=with_payload and include_vectors,
            )
        matches_ = list(result.matches)
        if with_payload:
            return [hit_from_match(m.id, m.score, m.values, m.metadata, spec.metric, include_vectors) for m in matches_]
        stored = self._fetch(handle, namespace, [m.id for m in matches_])
        hits = []
        for m in matches_:
            found = stored.get(m.id)
            if found is not None:  # deleted between the query and the fetch
                hits.append(hit_from_match(m.id, m.score, found.values, found.metadata, spec.metric, include_vectors))
        return hits

    def _get(self, spec: CollectionSpec, ids: list[str], include_vectors: bool) -> list[Record]:
        handle, namespace = self._layout.target(spec)
        wanted = {pinecone_id(i): i for i in ids}
        found = self._fetch(handle, namespace, list(wanted))
        return [
            record_from_vector(pid, v.values, v.metadata, include_vectors) for pid, v in found.items() if pid in wanted
        ]

    def _delete_ids(self, spec: CollectionSpec, ids: list[str]) -> None:
        handle, namespace = self._layout.target(spec)
        for chunk in batched([pinecone_id(i) for i in ids], MAX_IDS_PER_REQUEST):
            self._delete(handle, namespace, f"delete {len(chunk)} records", ids=chunk)

    def _delete_filter(self, spec: CollectionSpec, node: FilterNode) -> None:
        handle, namespace = self._layout.target(spec)
        self._delete(handle, namespace, "delete records by filter", filter=self._filters.visit(node))

    @staticmethod
    def _delete(handle: Any, namespace: str, what: str, **selector: Any) -> None:
        try:
            with pinecone_errors(what):
                handle.delete(namespace=namespace, **selector)
        except StoreError as exc:
            # A namespace that holds no records may not exist: there is nothing to delete.
            if exc.__cause__ is None or not is_not_found(exc.__cause__):
                raise

    def _count(self, spec: CollectionSpec, node: FilterNode | None) -> int:
        handle, namespace = self._layout.target(spec)
        if node is None:
            with pinecone_errors(f"count collection {spec.name!r}"):
                stats = handle.describe_index_stats()
            summaries = stats.namespaces or {}
            summary = summaries.get(namespace) or (summaries.get("__default__") if namespace == "" else None)
            return int(summary.vector_count) if summary is not None else 0
        # describe_index_stats cannot filter on serverless indexes: count the matches of a
        # filtered query, and past its 10,000-match ceiling, scan and evaluate the filter here.
        with pinecone_errors(f"count collection {spec.name!r} with a filter"):
            result = handle.query(
                vector=self._probe(spec),
                top_k=MAX_TOP_K,
                namespace=namespace,
                filter=self._filters.visit(node),
                include_metadata=False,
                include_values=False,
            )
        if len(result.matches) < MAX_TOP_K:
            return len(result.matches)
        return sum(
            1 for page in self._scan(spec, MAX_IDS_PER_REQUEST, None) for r in page.records if matches(node, r.metadata)
        )

    def _scan(self, spec: CollectionSpec, batch_size: int, cursor: str | None) -> Iterator[ScanPage]:
        handle, namespace = self._layout.target(spec)
        token = cursor or None
        while True:
            ids: list[str] = []
            while len(ids) < batch_size:
                got, token = self._list_page(handle, namespace, min(MAX_LIST_PAGE, batch_size - len(ids)), token)
                ids.extend(got)
                if token is None:
                    break
            if not ids:
                return
            found = self._retrying(lambda ids=ids: self._fetch(handle, namespace, ids))  # type: ignore[misc]
            records = [
                record_from_vector(pid, found[pid].values, found[pid].metadata, True) for pid in ids if pid in found
            ]
            yield ScanPage(records, token)
            if token is None:
                return

    def _close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        self._control.close()
