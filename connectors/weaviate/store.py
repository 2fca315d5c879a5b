"""``WeaviateStore``: vecbridge's store API over weaviate-client v4 (REST + gRPC).

URLs::

    weaviate://localhost:8080?grpc_port=50051     plain HTTP + gRPC (defaults 8080 / 50051)
    weaviates://weaviate.example.com              TLS for both (defaults 443 / 443)
    weaviate+cloud://abc123.c0.europe-west3.gcp.weaviate.cloud   Weaviate Cloud, key from WEAVIATE_API_KEY

There is no embedded mode: Weaviate ships no in-process engine for Python (the client's
"embedded" option downloads and runs a server binary), so ``embedded`` is refused with a pointer
to Docker or to ``qdrant+edge://``.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid as uuid_module
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, NoReturn

import weaviate
from weaviate.classes.init import AdditionalConfig, Auth, Timeout
from weaviate.classes.query import Filter, MetadataQuery
from weaviate.collections.classes.filters import _Filters
from weaviate.exceptions import (
    UnexpectedStatusCodeError,
    WeaviateBaseError,
    WeaviateClosedClientError,
    WeaviateConnectionError,
    WeaviateGRPCUnavailableError,
    WeaviateInsertManyAllFailedError,
    WeaviateInvalidInputError,
    WeaviateRetryError,
    WeaviateStartUpError,
    WeaviateTimeoutError,
)

from vecbridge.core.errors import (
    CollectionExists,
    CollectionNotFound,
    InvalidInput,
    StoreError,
    TransientError,
    VecbridgeError,
)
from vecbridge.core.filters import FilterNode
from vecbridge.core.ids import point_uuid
from vecbridge.core.models import CollectionSpec, Hit, Record, ScanPage
from vecbridge.core.retry import call_with_retry
from vecbridge.core.store import BaseVectorStore
from vecbridge.core.urls import StoreURL, parse_store_url

from .convert import PreparedObject, hit_from_object, prepare, record_from_object
from .filters import Compiled, WeaviateFilterCompiler, match_all
from .schema import (
    BASE_PROPERTIES,
    RETURN_PROPERTIES,
    VECTOR_NAME,
    class_name,
    decode_description,
    encode_description,
    expected_type,
    filter_property_definition,
    metric_of,
    vector_config,
)

__all__ = ["WeaviateStore"]

API_KEY_ENV = "WEAVIATE_API_KEY"

_OPTIONS = (
    "api_key",
    "headers",
    "grpc_host",
    "grpc_port",
    "skip_init_checks",
    "timeout",
    "batch_size",
    "concurrent_requests",
    "object_retries",
)

# Per-object batch errors worth sending again: overload and network trouble, not validation.
_TRANSIENT_OBJECT_ERROR = re.compile(
    r"timeout|timed out|deadline|unavailable|too many requests|rate limit|connection (refused|reset)|"
    r"temporar|try again|\b(429|502|503|504)\b",
    re.IGNORECASE,
)
_CONNECT_ERRORS = (WeaviateStartUpError, WeaviateConnectionError, WeaviateGRPCUnavailableError, WeaviateTimeoutError)
_TRANSIENT_GRPC = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED"}
_CLASS_MISSING = re.compile(r"could not find class|class .* (does not exist|not found)|no such class", re.IGNORECASE)


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def _grpc_code(exc: BaseException) -> str | None:
    """The gRPC status name behind a client exception, if there is one in its chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        code = getattr(current, "code", None)
        if callable(code):
            try:
                return str(code().name)
            except Exception:  # not a grpc call object after all
                pass
        if isinstance(current, WeaviateRetryError):
            return "UNAVAILABLE"  # the client only retries UNAVAILABLE, then gives up with this
        current = current.__cause__ or current.__context__
    match = re.search(r"\[([A-Z_]+)\]", str(exc))  # delete_many puts "[CODE]" in its message
    return match.group(1) if match else None


class WeaviateStore(BaseVectorStore):
    """A Weaviate server or cluster. Use :meth:`from_url`, or pass a connected ``WeaviateClient``.

    ``batch_size`` objects go in one gRPC batch request and ``concurrent_requests`` such requests run
    at once for each upsert batch. Objects the server rejects are read back from the batch reply:
    transient failures (timeouts, overload) are sent again up to ``object_retries`` times, then the
    upsert fails naming every record that did not land.
    """

    default_batch_size = 1000

    def __init__(
        self,
        client: weaviate.WeaviateClient,
        *,
        location: str = "weaviate",
        secrets: Sequence[str] = (),
        batch_size: int = 200,
        concurrent_requests: int = 2,
        object_retries: int = 2,
    ) -> None:
        super().__init__()
        for label, value, low in (
            ("batch_size", batch_size, 1),
            ("concurrent_requests", concurrent_requests, 1),
            ("object_retries", object_retries, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidInput(f"{label} must be an integer >= {low}, got {value!r}")
        self._client = client
        self._location = location
        self._secrets = tuple(s for s in secrets if s)
        self._batch_size = batch_size
        self._concurrent = concurrent_requests
        self._object_retries = object_retries
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.RLock()
        self._collections: dict[str, Any] = {}
        self._properties: dict[str, dict[str, str]] = {}  # class -> property -> data type
        with self._errors("reading the server version"):
            self._server_version = str(client.get_meta().get("version", ""))
        self._supports_not = _version_tuple(self._server_version) >= (1, 33)

    # ----- construction -----------------------------------------------------------------------

    @classmethod
    def from_url(cls, url: str, **options: Any) -> WeaviateStore:
        """Connect to ``weaviate://``, ``weaviates://`` or ``weaviate+cloud://``.

        Options (keyword arguments, or query parameters for the non-secret ones): ``api_key``
        (default: the ``WEAVIATE_API_KEY`` environment variable; required for Weaviate Cloud),
        ``headers`` (e.g. module API keys), ``grpc_host``, ``grpc_port``, ``skip_init_checks``,
        ``timeout`` (seconds for queries and inserts), ``batch_size``, ``concurrent_requests``,
        ``object_retries``.
        """
        parsed = parse_store_url(url)
        opts = _merge_options(parsed, options)
        _refuse_embedded(parsed, opts)
        if parsed.username or parsed.password:
            raise InvalidInput(
                "do not put credentials in a Weaviate URL (they end up in shell history and logs): "
                f"set {API_KEY_ENV} or pass api_key=..."
            )
        api_key = opts.pop("api_key", None) or os.environ.get(API_KEY_ENV) or None
        headers = dict(opts.pop("headers", None) or {})
        skip_checks = _as_bool(opts.pop("skip_init_checks", False), "skip_init_checks")
        timeout = _as_float(opts.pop("timeout"), "timeout") if "timeout" in opts else None
        store_opts = {
            k: _as_int(opts.pop(k), k) for k in ("batch_size", "concurrent_requests", "object_retries") if k in opts
        }
        additional = AdditionalConfig(
            timeout=Timeout(query=timeout, insert=timeout) if timeout is not None else Timeout()
        )
        auth = Auth.api_key(api_key) if api_key else None
        secrets = [api_key or "", *headers.values()]
        variant = parsed.variant
        if not parsed.host:
            raise InvalidInput(
                f"{parsed.redacted()} names no host: use e.g. 'weaviate://localhost:8080' "
                "(vecbridge has no embedded Weaviate; see 'qdrant+edge://' for an in-process store)"
            )
        if variant == "cloud":
            if auth is None:
                raise InvalidInput(
                    f"Weaviate Cloud needs an API key: set {API_KEY_ENV} or pass api_key=... "
                    "(find it in the cluster's details in the Weaviate Cloud console)"
                )
            location = f"weaviate+cloud://{parsed.host}"

            def connect() -> weaviate.WeaviateClient:
                return weaviate.connect_to_weaviate_cloud(
                    cluster_url=str(parsed.host),
                    auth_credentials=auth,
                    headers=headers or None,
                    additional_config=additional,
                    skip_init_checks=skip_checks,
                )

        elif variant is None and parsed.scheme in ("weaviate", "weaviates"):
            secure = parsed.scheme == "weaviates"
            http_port = parsed.port or (443 if secure else 8080)
            grpc_host = str(opts.pop("grpc_host", None) or parsed.host)
            grpc_port = _as_int(opts.pop("grpc_port", 443 if secure else 50051), "grpc_port")
            location = f"{parsed.scheme}://{parsed.host}:{http_port} (gRPC {grpc_host}:{grpc_port})"

            def connect() -> weaviate.WeaviateClient:
                return weaviate.connect_to_custom(
                    http_host=str(parsed.host),
                    http_port=http_port,
                    http_secure=secure,
                    grpc_host=grpc_host,
                    grpc_port=grpc_port,
                    grpc_secure=secure,
                    headers=headers or None,
                    additional_config=additional,
                    auth_credentials=auth,
                    skip_init_checks=skip_checks,
                )

        else:
            raise InvalidInput(
                f"unknown Weaviate URL scheme {parsed.scheme!r}: use weaviate://, weaviates:// or weaviate+cloud://"
            )
        if opts:  # grpc_* given for the cloud, where the client derives them
            raise InvalidInput(f"option(s) {sorted(opts)} do not apply to {parsed.scheme}:// URLs")
        try:
            client = connect()
        except _CONNECT_ERRORS as exc:
            raise StoreError(
                _scrub(
                    f"could not connect to Weaviate at {location}: {exc}. Is it running, and are both its "
                    "REST and gRPC ports reachable? (set grpc_port=... if gRPC is not on the default port)",
                    secrets,
                )
            ) from None
        except UnexpectedStatusCodeError as exc:
            raise StoreError(
                _scrub(f"Weaviate at {location} refused the connection: {exc}. Check the API key.", secrets)
            ) from None
        try:
            return cls(client, location=location, secrets=secrets, **store_opts)
        except BaseException:
            client.close()
            raise

    def __repr__(self) -> str:
        return f"WeaviateStore({self._location})"

    # ----- error translation ------------------------------------------------------------------

    @contextmanager
    def _errors(self, what: str, name: str | None = None) -> Iterator[None]:
        """Translate weaviate-client exceptions into vecbridge's hierarchy at the boundary."""
        try:
            yield
        except VecbridgeError:
            raise
        except WeaviateClosedClientError:
            raise StoreError(f"{self!r} is closed: open a new store") from None
        except UnexpectedStatusCodeError as exc:
            self._raise_for_status(what, name, exc)
        except (WeaviateConnectionError, WeaviateTimeoutError, WeaviateRetryError, WeaviateGRPCUnavailableError) as exc:
            raise TransientError(self._scrub(f"{what} on {self!r} failed: {exc}")) from None
        except WeaviateInvalidInputError as exc:
            raise InvalidInput(self._scrub(f"{what}: {exc}")) from None
        except WeaviateBaseError as exc:
            message = self._scrub(f"{what} on {self!r} failed: {exc}")
            if name is not None and _CLASS_MISSING.search(str(exc)):
                self._forget(name)
                raise CollectionNotFound(f"collection {name!r} no longer exists in {self!r} ({exc})") from None
            code = _grpc_code(exc)
            if code in _TRANSIENT_GRPC or (code in (None, "UNKNOWN") and _TRANSIENT_OBJECT_ERROR.search(str(exc))):
                raise TransientError(message) from None
            if code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
                message += f" -- check the API key ({API_KEY_ENV}) and its permissions"
            raise StoreError(message) from None

    def _raise_for_status(self, what: str, name: str | None, exc: UnexpectedStatusCodeError) -> NoReturn:
        status = exc.status_code
        message = self._scrub(f"{what} on {self!r} failed: {exc}")
        if status == 404 and name is not None:
            self._forget(name)
            raise CollectionNotFound(f"collection {name!r} does not exist in {self!r}") from None
        if status in (408, 429, 500, 502, 503, 504):  # 501 and the like will not get better
            raise TransientError(message) from None
        if status in (401, 403):
            raise StoreError(f"{message} -- check the API key ({API_KEY_ENV}) and its permissions") from None
        raise StoreError(message) from None

    def _scrub(self, text: str) -> str:
        return _scrub(text, self._secrets)

    def _forget(self, name: str) -> None:
        """Drop cached knowledge of a collection another process may have dropped."""
        cls = class_name(name)
        with self._lock:
            self._collections.pop(cls, None)
            self._properties.pop(cls, None)
        with self._spec_lock:
            self._specs.pop(name, None)

    # ----- collections ------------------------------------------------------------------------

    def _collection(self, cls: str) -> Any:
        with self._lock:
            handle = self._collections.get(cls)
            if handle is None:
                handle = self._client.collections.use(cls)
                self._collections[cls] = handle
            return handle

    def _fetch_config(self, cls: str) -> Any | None:
        """The class's schema (and a fresh copy of its property types), or None if it is absent."""
        with self._errors(f"reading the schema of Weaviate class {cls!r}"):
            try:
                config = self._collection(cls).config.get(simple=True)
            except UnexpectedStatusCodeError as exc:
                if exc.status_code == 404:
                    return None
                raise
        self._remember_properties(cls, config.properties)
        return config

    def _remember_properties(self, cls: str, properties: Sequence[Any]) -> dict[str, str]:
        known = {p.name: p.data_type.value for p in properties}
        with self._lock:
            self._properties[cls] = known
        return known

    def _list_collections(self) -> list[str]:
        with self._errors("listing collections"):
            configs = self._client.collections.list_all(simple=True)
        names = []
        for cls, config in configs.items():
            try:
                spec = decode_description(config.description)
            except StoreError:
                continue  # damaged: describe_collection on its name reports the damage
            if spec is not None and class_name(spec.name) == cls:
                names.append(spec.name)
        return names

    def _describe(self, name: str) -> CollectionSpec | None:
        cls = class_name(name)
        config = self._fetch_config(cls)
        if config is None:
            return None
        spec = decode_description(config.description)
        if spec is None or spec.name != name:
            return None  # made outside vecbridge, or holds another name mapping to the same class
        vectors = getattr(config, "vector_config", None) or {}
        index = vectors.get(VECTOR_NAME)
        distance = getattr(getattr(index, "vector_index_config", None), "distance_metric", None)
        if distance is not None and metric_of(str(getattr(distance, "value", distance))) is not spec.metric:
            raise StoreError(
                f"Weaviate class {cls!r} uses distance {distance} but its vecbridge spec says "
                f"{spec.metric.value!r}: the class was changed outside vecbridge; recreate the collection"
            )
        return spec

    def _create(self, spec: CollectionSpec) -> None:
        cls = class_name(spec.name)
        try:
            with self._errors(f"creating collection {spec.name!r}"):
                self._client.collections.create(
                    name=cls,
                    description=encode_description(spec),
                    vector_config=vector_config(spec.metric),
                    properties=list(BASE_PROPERTIES),
                )
        except StoreError as exc:
            if "exist" in str(exc).lower() or "similar" in str(exc).lower():
                raise CollectionExists(self._clash_message(spec.name, cls)) from None
            raise
        with self._lock:
            self._properties[cls] = {p.name: p.dataType.value for p in BASE_PROPERTIES}

    def _clash_message(self, name: str, cls: str) -> str:
        holder = "another class"
        try:
            with self._errors("listing collections"):
                configs = self._client.collections.list_all(simple=True)
            for other, config in configs.items():
                if other.lower() == cls.lower():
                    owner = decode_description(config.description)
                    made_by = f"vecbridge collection {owner.name!r}" if owner else "a class not made by vecbridge"
                    holder = f"class {other!r} ({made_by})"
        except VecbridgeError:
            pass
        return (
            f"collection {name!r} maps to the Weaviate class {cls!r}, but Weaviate already has {holder}. "
            "Weaviate class names ignore case and cannot contain '-', so choose a name that differs "
            "from it in more than case or '-'/'_'"
        )

    def _drop(self, name: str) -> bool:
        if self._describe(name) is None:
            return False  # absent, or a class that is not this vecbridge collection: never touch it
        cls = class_name(name)
        with self._errors(f"dropping collection {name!r}"):
            self._client.collections.delete(cls)
        self._forget(name)
        return True

    # ----- schema of metadata filter properties -----------------------------------------------

    def _ensure_properties(self, spec: CollectionSpec, needs: Mapping[str, str]) -> None:
        """Create the typed filter properties ``needs`` names (name -> kind) that are missing.

        Declared by vecbridge before any object uses them, so Weaviate's auto-schema never guesses
        a type. Another writer may create one at the same moment: that is fine as long as the type
        is the expected one.
        """
        cls = class_name(spec.name)
        with self._lock:
            known = self._properties.get(cls)
            if known is not None and all(known.get(n) == expected_type(k) for n, k in needs.items()):
                return
            config = self._fetch_config(cls)
            if config is None:
                raise CollectionNotFound(f"collection {spec.name!r} no longer exists in {self!r}")
            known = self._properties[cls]
            for prop, kind in needs.items():
                if prop not in known:
                    try:
                        with self._errors(f"adding property {prop!r} to collection {spec.name!r}", spec.name):
                            self._collection(cls).config.add_property(filter_property_definition(prop, kind))
                        known[prop] = expected_type(kind)
                    except (InvalidInput, StoreError):
                        # a concurrent writer may have added it first: look again before failing
                        if self._fetch_config(cls) is None or prop not in self._properties[cls]:
                            raise
                        known = self._properties[cls]
                if known[prop] != expected_type(kind):
                    raise StoreError(
                        f"property {prop!r} of Weaviate class {cls!r} has type {known[prop]!r}, not "
                        f"{expected_type(kind)!r}: it was changed outside vecbridge; recreate the collection"
                    )

    def _compile(self, spec: CollectionSpec, node: FilterNode | None) -> Compiled:
        if node is None:
            return True
        cls = class_name(spec.name)
        refreshed = False

        def has_property(prop: str) -> bool:
            nonlocal refreshed
            with self._lock:
                known = self._properties.get(cls)
            if known is not None and prop in known:
                return True
            if not refreshed:  # another process may have written that key since we looked
                refreshed = True
                if self._fetch_config(cls) is None:
                    raise CollectionNotFound(f"collection {spec.name!r} no longer exists in {self!r}")
                with self._lock:
                    known = self._properties.get(cls)
            return known is not None and prop in known

        compiler = WeaviateFilterCompiler(has_property, supports_not=self._supports_not, server=self._server_version)
        return compiler.visit(node)

    # ----- writes -----------------------------------------------------------------------------

    def _upsert_batch(self, spec: CollectionSpec, records: list[Record]) -> None:
        prepared = [prepare(r) for r in records]
        needs: dict[str, str] = {}
        for p in prepared:
            needs.update(p.needs)
        self._ensure_properties(spec, needs)
        collection = self._collection(class_name(spec.name))
        pending = prepared
        failures: list[tuple[PreparedObject, str]] = []
        for attempt in range(self._object_retries + 1):
            failures = self._send(spec, collection, pending)
            if not failures:
                return
            if not all(_TRANSIENT_OBJECT_ERROR.search(msg) for _, msg in failures) or attempt == self._object_retries:
                break
            time.sleep(0.2 * 2**attempt)  # let an overloaded node recover before resending
            pending = [p for p, _ in failures]
        transient = all(_TRANSIENT_OBJECT_ERROR.search(msg) for _, msg in failures)
        shown = "; ".join(f"{p.record_id!r}: {msg}" for p, msg in failures[:10])
        more = f"; and {len(failures) - 10} more" if len(failures) > 10 else ""
        message = self._scrub(
            f"Weaviate rejected {len(failures)} of {len(records)} object(s) in a batch "
            f"(ids {[p.record_id for p, _ in failures]}): {shown}{more}"
        )
        raise (TransientError if transient else StoreError)(message)

    def _send(
        self, spec: CollectionSpec, collection: Any, objects: list[PreparedObject]
    ) -> list[tuple[PreparedObject, str]]:
        """Send fixed-size chunks, ``concurrent_requests`` at a time; return the objects that failed."""
        chunks = [objects[i : i + self._batch_size] for i in range(0, len(objects), self._batch_size)]

        def send_chunk(chunk: list[PreparedObject]) -> list[tuple[PreparedObject, str]]:
            with self._errors(f"upserting into collection {spec.name!r}", spec.name):
                try:
                    result = collection.data.insert_many([p.data for p in chunk])
                except WeaviateInsertManyAllFailedError as exc:  # the client raises when none landed
                    return [(p, exc.message) for p in chunk]
            return [(chunk[index], str(error.message)) for index, error in sorted(result.errors.items())]

        if len(chunks) == 1:
            return send_chunk(chunks[0])
        failures: list[tuple[PreparedObject, str]] = []
        for part in self._executor().map(send_chunk, chunks):
            failures.extend(part)
        return failures

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self._concurrent, thread_name_prefix="vecbridge-weaviate")
            return self._pool

    def _delete_where(self, spec: CollectionSpec, where: _Filters) -> None:
        """``delete_many`` until nothing matches: one call deletes at most QUERY_MAXIMUM_RESULTS
        objects (10,000 by default) while ``matches`` counts them all."""
        collection = self._collection(class_name(spec.name))
        while True:
            with self._errors(f"deleting from collection {spec.name!r}", spec.name):
                result = collection.data.delete_many(where=where, verbose=True)
            if result.failed:
                failed = [o for o in (result.objects or []) if not o.successful]
                shown = "; ".join(f"{o.uuid}: {o.error}" for o in failed[:10])
                raise StoreError(
                    f"Weaviate failed to delete {result.failed} object(s) from {spec.name!r} ({shown}); "
                    f"{result.successful} were deleted. Run the delete again"
                )
            if result.matches <= result.successful:
                return
            if result.successful == 0:
                raise StoreError(
                    f"Weaviate matched {result.matches} object(s) in {spec.name!r} but deleted none: "
                    "check the server's QUERY_MAXIMUM_RESULTS and logs"
                )

    def _delete_ids(self, spec: CollectionSpec, ids: list[str]) -> None:
        self._delete_where(spec, Filter.by_id().contains_any([point_uuid(i) for i in ids]))

    def _delete_filter(self, spec: CollectionSpec, node: FilterNode) -> None:
        compiled = self._compile(spec, node)
        if compiled is False:
            return
        self._delete_where(spec, match_all() if compiled is True else compiled)

    # ----- reads ------------------------------------------------------------------------------

    def _query(
        self, spec: CollectionSpec, vector: list[float], k: int, node: FilterNode | None, include_vectors: bool
    ) -> list[Hit]:
        compiled = self._compile(spec, node)
        if compiled is False:
            return []
        collection = self._collection(class_name(spec.name))
        with self._errors(f"querying collection {spec.name!r}", spec.name):
            result = collection.query.near_vector(
                near_vector=vector,
                limit=k,
                filters=None if compiled is True else compiled,
                return_metadata=MetadataQuery(distance=True),
                include_vector=include_vectors,
                return_properties=RETURN_PROPERTIES,
            )
        hits = [
            hit_from_object(o.uuid, o.properties, o.vector, o.metadata.distance, spec.metric, include_vectors)
            for o in result.objects
        ]
        hits.sort(key=lambda h: -h.score)  # stable; distances are float32, keep the server's order on ties
        return hits

    def _get(self, spec: CollectionSpec, ids: list[str], include_vectors: bool) -> list[Record]:
        collection = self._collection(class_name(spec.name))
        uuids = [point_uuid(i) for i in ids]
        with self._errors(f"reading from collection {spec.name!r}", spec.name):
            # without a limit Weaviate returns QUERY_DEFAULTS_LIMIT (10) objects
            result = collection.query.fetch_objects_by_ids(
                ids=uuids, limit=len(uuids), include_vector=include_vectors, return_properties=RETURN_PROPERTIES
            )
        return [record_from_object(o.uuid, o.properties, o.vector if include_vectors else None) for o in result.objects]

    def _count(self, spec: CollectionSpec, node: FilterNode | None) -> int:
        compiled = self._compile(spec, node)
        if compiled is False:
            return 0
        collection = self._collection(class_name(spec.name))
        with self._errors(f"counting collection {spec.name!r}", spec.name):
            result = collection.aggregate.over_all(total_count=True, filters=None if compiled is True else compiled)
        return int(result.total_count or 0)

    def _scan(self, spec: CollectionSpec, batch_size: int, cursor: str | None) -> Iterator[ScanPage]:
        after = _parse_cursor(cursor)
        return self._pages(spec, batch_size, after)

    def _pages(self, spec: CollectionSpec, batch_size: int, after: str | None) -> Iterator[ScanPage]:
        """Weaviate's cursor API (``after=`` the last uuid, what ``collection.iterator`` wraps), one
        object more than a page to know whether another page follows. Each page is retried alone."""
        collection = self._collection(class_name(spec.name))

        def fetch(after_uuid: str | None) -> list[Any]:
            with self._errors(f"scanning collection {spec.name!r}", spec.name):
                return list(
                    collection.query.fetch_objects(
                        limit=batch_size + 1,
                        after=after_uuid,
                        include_vector=True,
                        return_properties=RETURN_PROPERTIES,
                    ).objects
                )

        while True:
            objects = call_with_retry(lambda a=after: fetch(a), self.retry_policy)  # type: ignore[misc]
            page, more = objects[:batch_size], len(objects) > batch_size
            records = [record_from_object(o.uuid, o.properties, o.vector) for o in page]
            after = str(page[-1].uuid) if more else None
            yield ScanPage(records, after)
            if not more:
                return

    def _close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        self._client.close()


# ----- URL options ----------------------------------------------------------------------------


def _merge_options(parsed: StoreURL, options: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters then keyword options (which win); unknown names are an error, not ignored."""
    merged: dict[str, Any] = {}
    for key, value in parsed.query.items():
        if "key" in key.lower():
            raise InvalidInput(
                f"do not put {key!r} in the URL (it would show up in logs and shell history): "
                f"set {API_KEY_ENV} or pass api_key=..."
            )
        merged[key] = value
    merged.update(options)
    unknown = sorted(set(merged) - set(_OPTIONS) - {"embedded"})
    if unknown:
        raise InvalidInput(f"unknown Weaviate option(s) {unknown}: known options are {', '.join(_OPTIONS)}")
    return merged


def _refuse_embedded(parsed: StoreURL, options: dict[str, Any]) -> None:
    wants = parsed.variant == "embedded" or _as_bool(options.pop("embedded", False), "embedded")
    if wants or parsed.path == ":memory:":
        raise InvalidInput(
            "vecbridge has no embedded Weaviate: Weaviate has no in-process engine for Python (the "
            "client's embedded mode downloads and runs a server binary). Start a server, e.g. "
            "'docker run -p 8080:8080 -p 50051:50051 cr.weaviate.io/semitechnologies/weaviate', and use "
            "'weaviate://localhost:8080'; or use 'qdrant+edge:///path' for an in-process store"
        )


def _as_int(value: Any, name: str) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be an integer, got {value!r}") from None


def _as_float(value: Any, name: str) -> float:
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number of seconds, got {value!r}") from None
    if not number > 0:
        raise InvalidInput(f"{name} must be positive, got {value!r}")
    return number


def _as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise InvalidInput(f"{name} must be true or false, got {value!r}")


def _parse_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return str(uuid_module.UUID(cursor))
    except (ValueError, TypeError, AttributeError):
        raise InvalidInput(
            f"{cursor!r} is not a scan cursor of a Weaviate collection: pass a next_cursor from a ScanPage"
        ) from None


def _scrub(text: str, secrets: Sequence[str]) -> str:
    """Belt and braces: no secret ends up in a message, whatever the SDK put in its own."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
