"""An in-process HTTP server speaking Pinecone's REST API, reached like Pinecone Local.

The control plane listens on one port (``pinecone+local://127.0.0.1:PORT``); each index gets its
own data-plane port, returned as the bare ``host`` of describe_index (``127.0.0.1:PORT``), as
Pinecone Local does. The real ``pinecone`` SDK drives it, so its request building, headers and
response parsing are exercised.

Wire formats follow Pinecone's OpenAPI (pinecone-io/pinecone-api): the control plane in the
2026-07 shape when the ``X-Pinecone-Api-Version`` header says 2026-07 (SDK 10) and in the
``dimension``/``metric``/``spec`` shape for older versions (SDK <= 9, Pinecone Local's 2025-01);
the data plane is the same in both. Limits and error bodies: ``limits``, ``errors``; filter
semantics: ``filters``. Every request is logged (``requests``) so tests can check what the server
received, and failures can be injected (``inject``).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import limits
from .control import EmulatedIndex, check_state, parse_configure, parse_create
from .errors import RATE_LIMIT_MESSAGE, ApiFailure, control_error_body, data_error_body
from .routes import data_route

__all__ = ["NOT_COVERED", "Fault", "PineconeEmulator", "ReceivedRequest"]

NOT_COVERED = (
    "integrated-embedding (create-for-model, upsert_records/search), sparse-only and 2026-07 document "
    "indexes (index.documents); only vectors-API indexes (the reserved _values / _sparse_values schema) are served",
    "BYOC deployments, dedicated read capacity, CMEK, private hosts; every index is serverless and "
    "becomes ready after a fixed ready_delay",
    "collections, backups, restore jobs, bulk imports, namespace creation and aliases, fetch_by_metadata and "
    "update (/vectors/update): answered with 501",
    "gRPC data plane (the SDK's GrpcIndex) and the admin/inference/assistant APIs",
    "approximate search: queries are exact brute force, so recall is always 1.0",
    "rate limits and quotas as such (429s are injected on demand, with the per-second or the monthly message), "
    "project/index count limits, the 100,000-records-per-index cap of Pinecone Local",
    "the exact wording of every server error message (status codes and body shapes follow the OpenAPI "
    "spec; messages are close to, not copies of, the real ones); the status of a query over the 4 MB "
    "result limit and of data calls to a Disabled index are not documented (400 and 412 here)",
    "$in/$nin value-count limits and filter depth/size limits; an empty list stored by another client "
    "counts as present for $exists",
    "usage/read-unit accounting beyond a nominal value, x-pinecone-request-id",
    "assumed where the docs are silent: every read (fetch, list and stats too, not only queries) lags "
    "writes by the same lag; a sparse-only query ranks only records sharing an index with it",
)


@dataclass
class ReceivedRequest:
    """One request as the emulator received it."""

    plane: str  # "control" or "data"
    index: str | None  # the index a data-plane request went to
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    body_bytes: int
    status: int = 0

    @property
    def vectors(self) -> list[dict[str, Any]]:
        """The vectors of an upsert request (empty for anything else)."""
        if self.path == "/vectors/upsert" and isinstance(self.body, dict):
            return list(self.body.get("vectors") or [])
        return []


@dataclass
class Fault:
    """An injected failure: the next ``times`` requests to ``path`` (any path if None) get
    ``status`` with Pinecone's error body and, for 429/503, a ``Retry-After`` header."""

    status: int = 429
    path: str | None = None
    times: int = 1
    retry_after: str | None = "0"
    message: str | None = None
    hits: int = field(default=0, init=False)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class PineconeEmulator:
    """Pinecone's control and data planes in threads of this process.

    ``api_key``: when set, requests must carry it in ``Api-Key`` (Pinecone Local ignores keys).
    ``ready_delay``: seconds a new index reports ``Initializing`` before ``Ready``.
    ``pinned_version``: answer in this API version whatever the client asks, as Pinecone Local
    does with ``"2025-01"``. ``lag``: seconds before a write becomes visible to reads (Pinecone is
    eventually consistent; 0 makes every write visible to the next read); :meth:`settle` waits
    until everything written so far is visible.
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        ready_delay: float = 0.0,
        pinned_version: str | None = None,
        bind: str = "127.0.0.1",
        lag: float = 0.0,
    ) -> None:
        self.api_key = api_key
        self.lag = lag
        self.ready_delay = ready_delay
        self.pinned_version = pinned_version
        self.bind = bind
        self.indexes: dict[str, EmulatedIndex] = {}
        self.requests: list[ReceivedRequest] = []
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._control: _Server | None = None
        self._data: dict[str, _Server] = {}
        self._in_flight: dict[str, int] = {}
        #: Most requests to one path that were being answered at the same time.
        self.max_in_flight: dict[str, int] = {}

    # ----- lifecycle ----------------------------------------------------------------------

    def start(self) -> PineconeEmulator:
        if self._control is None:
            self._control = self._serve(self._handler("control", None))
        return self

    def stop(self) -> None:
        with self._lock:
            servers = list(self._data.values())
            self._data.clear()
            control, self._control = self._control, None
        for server in [*servers, *([control] if control else [])]:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> PineconeEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._control is not None, "start() the emulator first"
        return int(self._control.server_address[1])

    @property
    def url(self) -> str:
        """The vecbridge URL of this emulator."""
        return f"pinecone+local://{self.bind}:{self.port}"

    @property
    def control_url(self) -> str:
        return f"http://{self.bind}:{self.port}"

    # ----- test helpers -------------------------------------------------------------------

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Forget the request log and pending faults (indexes stay)."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()
            self.max_in_flight.clear()

    def set_state(self, name: str, state: str | None) -> None:
        """Report index ``name`` in ``state`` (e.g. ``"Disabled"``); None: back to normal."""
        with self._lock:
            self.indexes[name].forced_state = None if state is None else check_state(state)

    def settle(self) -> None:
        """Wait until every write accepted so far is visible to reads."""
        with self._lock:
            indexes = list(self.indexes.values())
        deadline = max((i.data.settled_at() for i in indexes), default=0.0)
        time.sleep(max(0.0, deadline - time.monotonic()))

    def received(self, path: str | None = None, *, index: str | None = None) -> list[ReceivedRequest]:
        with self._lock:
            return [
                r for r in self.requests if (path is None or r.path == path) and (index is None or r.index == index)
            ]

    # ----- plumbing -----------------------------------------------------------------------

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> _Server:
        server = _Server((self.bind, 0), handler)
        # A short poll interval keeps shutdown() (one per deleted index) fast.
        threading.Thread(target=server.serve_forever, args=(0.02,), name="pinecone-emulator", daemon=True).start()
        return server

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path in (None, path) and fault.hits < fault.times:
                    fault.hits += 1
                    return fault
        return None

    def _handler(self, plane: str, index: str | None) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body in one write, sent at once: otherwise Nagle's algorithm and
            # delayed ACKs add ~40 ms to every keep-alive request.
            wbufsize = 64 * 1024
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                emulator._dispatch(self, plane, index)

            def do_POST(self) -> None:
                emulator._dispatch(self, plane, index)

            def do_PATCH(self) -> None:
                emulator._dispatch(self, plane, index)

            def do_DELETE(self) -> None:
                emulator._dispatch(self, plane, index)

        return Handler

    def _dispatch(self, handler: BaseHTTPRequestHandler, plane: str, index: str | None) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        record = ReceivedRequest(
            plane=plane,
            index=index,
            method=handler.command,
            path=unquote(parts.path),
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k: v for k, v in handler.headers.items()},
            body=None,
            body_bytes=len(raw),
        )
        try:
            record.body = json.loads(raw) if raw else None
        except ValueError:
            record.body = raw
        with self._lock:
            self.requests.append(record)
            busy = self._in_flight[record.path] = self._in_flight.get(record.path, 0) + 1
            self.max_in_flight[record.path] = max(busy, self.max_in_flight.get(record.path, 0))
        reply_headers: dict[str, str] = {}
        try:
            status, payload, reply_headers = self._answer(record, handler, plane, index)
        except ApiFailure as failure:
            status, reply_headers = failure.status, failure.headers
            body_of = control_error_body if plane == "control" else data_error_body
            payload = body_of(failure.status, failure.message)
        finally:
            with self._lock:
                self._in_flight[record.path] -= 1
        record.status = status
        data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        handler.send_response(status)
        if payload is not None:
            handler.send_header("Content-Type", "application/json")
        for key, value in reply_headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _answer(
        self, record: ReceivedRequest, handler: BaseHTTPRequestHandler, plane: str, index: str | None
    ) -> tuple[int, Any, dict[str, str]]:
        if self.api_key is not None and handler.headers.get("Api-Key") != self.api_key:
            raise ApiFailure(401, "Invalid API key." if plane == "control" else "Invalid API Key")
        version = self.pinned_version or handler.headers.get("X-Pinecone-Api-Version") or limits.DEFAULT_VERSION
        if version not in limits.SCHEMA_VERSIONS | limits.LEGACY_VERSIONS:
            raise ApiFailure(400, f"Unsupported API version {version!r}")
        fault = self._take_fault(record.path)
        if fault is not None:
            retry = (
                {"Retry-After": fault.retry_after}
                if fault.retry_after is not None and fault.status in (429, 503)
                else {}
            )
            message = fault.message or (RATE_LIMIT_MESSAGE if fault.status == 429 else "Internal error (injected)")
            raise ApiFailure(fault.status, message, retry)
        if plane == "data" and record.body_bytes > limits.MAX_REQUEST_BYTES:
            raise ApiFailure(
                413,
                f"Request size {record.body_bytes} bytes exceeds the maximum supported size of "
                f"{limits.MAX_REQUEST_BYTES} bytes (2 MB)",
            )
        if record.body is not None and not isinstance(record.body, (dict, list)):
            raise ApiFailure(400, "The request body is not valid JSON")
        if plane == "control":
            status, payload = self._control_plane(record, version)
            return status, payload, {}
        assert index is not None
        return self._data_plane(record, index, version)

    # ----- control plane ------------------------------------------------------------------

    def _control_plane(self, record: ReceivedRequest, version: str) -> tuple[int, Any]:
        path, method = record.path.rstrip("/"), record.method
        if path == "/indexes" and method == "GET":
            with self._lock:
                models = [i.render(version) for i in self.indexes.values()]
            return 200, {"indexes": models}
        if path == "/indexes" and method == "POST":
            return 201, self._create(record.body, version)
        if path.startswith("/indexes/") and path.count("/") == 2 and path != "/indexes/create-for-model":
            name = path.split("/")[2]
            with self._lock:
                found = self.indexes.get(name)
                if found is None:
                    raise ApiFailure(404, f"Index {name} not found.")
                if method == "GET":
                    return 200, found.render(version)
                if method == "PATCH":
                    parse_configure(found, record.body)
                    return 200, found.render(version)
                if method == "DELETE":
                    if found.deletion_protection == "enabled":
                        raise ApiFailure(
                            403,
                            "Deletion protection is enabled for this index. "
                            "Disable deletion protection before retrying.",
                        )
                    del self.indexes[name]
                    server = self._data.pop(name, None)
            if server is not None:
                # Not in this request's thread: shutdown() waits for serve_forever to stop.
                threading.Thread(target=self._close, args=(server,), daemon=True).start()
            return 202, None
        raise ApiFailure(501, f"{method} {path} is not implemented by the vecbridge Pinecone emulator")

    @staticmethod
    def _close(server: _Server) -> None:
        server.shutdown()
        server.server_close()

    def _create(self, body: Any, version: str) -> dict[str, Any]:
        index = parse_create(body, version, lag=self.lag)
        with self._lock:
            if index.name in self.indexes:
                raise ApiFailure(409, "Resource already exists.")
            server = self._serve(self._handler("data", index.name))
            index.host = f"{self.bind}:{server.server_address[1]}"  # bare host:port, like Pinecone Local
            index.ready_at = time.monotonic() + self.ready_delay
            self.indexes[index.name] = index
            self._data[index.name] = server
            return index.render(version)

    # ----- data plane ---------------------------------------------------------------------

    def _data_plane(self, record: ReceivedRequest, name: str, version: str) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            index = self.indexes.get(name)
        if index is None:
            raise ApiFailure(404, f"Index {name} not found")
        if index.state == "Disabled":
            raise ApiFailure(412, f"Index {name} is disabled")
        return data_route(index.data, record.method, record.path, record.query, record.body, version)
