"""An in-process HTTP server speaking the Gemini API's REST wire format for embeddings.

The google-genai SDK is pointed at it with ``HttpOptions(base_url=emulator.base_url)``, so the
SDK's own request building, headers and response parsing are exercised. Every request is logged
(headers, JSON body, reply status) so tests can check what the server *received*: task types,
dimensions, batch sizes, the key header.

Endpoints (under ``/v1/`` and ``/v1beta/``, camelCase JSON as the SDK sends it):

- ``POST models/{model}:batchEmbedContents``  — at most 100 requests, the real 400 beyond.
- ``POST models/{model}:embedContent``         — one content.
- ``POST models/{model}:asyncBatchEmbedContent`` — creates a batch job (inlined requests).
- ``GET batches/{id}``                          — the job; it advances one state per poll.
- ``POST batches/{id}:cancel``

NOT COVERED (see ``NOT_COVERED``): anything the real service does that tests here do not rely on.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .faults import (
    SERVER_ERRORS,
    TOO_MANY_REQUESTS_MESSAGE,
    Fault,
    bad_key_body,
    error_body,
    missing_key_body,
    rate_limit_body,
)
from .vectors import FULL_DIMENSION, full_vectors

try:  # orjson writes numpy arrays ~20x faster than json: keeps the emulator off the benchmark's CPU
    import orjson
except ImportError:  # pragma: no cover - the stdlib fallback gives the same JSON
    orjson = None  # type: ignore[assignment]


def _to_list(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"cannot encode {type(obj).__name__}")


def encode_json(obj: Any) -> bytes:
    if orjson is not None:
        return bytes(orjson.dumps(obj, default=_to_list, option=orjson.OPT_SERIALIZE_NUMPY))
    return json.dumps(obj, default=_to_list).encode()

NOT_COVERED = (
    "Vertex AI endpoints (:predict, Vertex batchEmbedContents, batchPredictionJobs) and OAuth/ADC auth",
    "the 2,048/8,192-token input limits, countTokens and autoTruncate (the real API's behaviour past the "
    "limit is undocumented)",
    "per-minute/per-day quotas as such: 429s are injected on demand, not computed from traffic",
    "request payload size limits, file-based batch input/output (Files API, resumable upload)",
    "batch list/delete, batch priority, batchStats beyond counts, job expiry after 48 h",
    "multimodal parts (images, audio, PDF) and usage/token metadata in replies",
    "semantic meaning: vectors are hash-derived, so only identity (same input, same vector) is meaningful",
)

_PATH_RE = re.compile(r"^/(?P<version>v1|v1beta|v1alpha)/(?P<resource>(?:models|batches)/[^:/]+)(?::(?P<action>\w+))?$")
_MAX_BATCH_BYTES = 20 * 1024 * 1024


@dataclass
class ReceivedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    version: str
    resource: str
    action: str
    headers: dict[str, str]
    query: dict[str, list[str]]
    body: Any
    status: int = 0
    started: float = 0.0
    ended: float = 0.0

    @property
    def model(self) -> str | None:
        return self.resource.split("/", 1)[1] if self.resource.startswith("models/") else None

    @property
    def embed_requests(self) -> list[dict[str, Any]]:
        """The per-text requests inside this call (batch, single or batch-job form)."""
        body = self.body if isinstance(self.body, dict) else {}
        if self.action == "batchEmbedContents":
            return list(body.get("requests") or [])
        if self.action == "embedContent":
            return [body]
        if self.action == "asyncBatchEmbedContent":
            inner = body.get("batch", {}).get("inputConfig", {}).get("requests", {}).get("requests", [])
            return [r.get("request", {}) for r in inner]
        return []

    @property
    def texts(self) -> list[str]:
        return ["".join(p.get("text", "") for p in r.get("content", {}).get("parts", [])) for r in self.embed_requests]

    @property
    def task_types(self) -> list[str | None]:
        return [r.get("taskType") for r in self.embed_requests]

    @property
    def titles(self) -> list[str | None]:
        return [r.get("title") for r in self.embed_requests]

    @property
    def dimensions(self) -> list[int | None]:
        return [r.get("outputDimensionality") for r in self.embed_requests]


@dataclass
class BatchJob:
    id: str
    model: str
    display_name: str
    requests: list[dict[str, Any]]
    state: str = "BATCH_STATE_PENDING"
    polls: int = 0
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


class GeminiEmulator:
    """Start with ``with GeminiEmulator() as emu:``; point the SDK at ``emu.base_url``.

    Knobs: ``api_keys`` (accepted keys; ``None`` accepts any non-empty key), ``latency`` (seconds
    per embedding request), ``max_batch`` (the real limit, 100), ``rate_limit_every`` (every Nth
    embedding request gets a 429 with RetryInfo ``rate_limit_delay``), ``batch_polls_to_finish``
    and ``batch_final_state`` for batch jobs. ``inject(*faults)`` queues one-shot failures;
    ``reject_text(substring)`` makes any request containing it fail with a permanent 400.
    """

    def __init__(
        self,
        *,
        api_keys: Iterable[str] | None = ("test-key",),
        latency: float = 0.0,
        max_batch: int = 100,
        rate_limit_every: int = 0,
        rate_limit_delay: str | None = "1s",
        batch_polls_to_finish: int = 2,
        batch_final_state: str = "BATCH_STATE_SUCCEEDED",
    ) -> None:
        self.api_keys = set(api_keys) if api_keys is not None else None
        self.latency = latency
        self.max_batch = max_batch
        self.rate_limit_every = rate_limit_every
        self.rate_limit_delay = rate_limit_delay
        self.batch_polls_to_finish = batch_polls_to_finish
        self.batch_final_state = batch_final_state
        self._lock = threading.Lock()
        self._log: list[ReceivedRequest] = []
        self._faults: deque[Fault] = deque()
        self._rejected: dict[str, int] = {}
        self._embed_calls = 0
        self._in_flight = 0
        self.max_in_flight = 0
        self._jobs: dict[str, BatchJob] = {}
        self._job_ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> GeminiEmulator:
        handler = type("Handler", (_Handler,), {"emulator": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        server.request_queue_size = 128  # concurrent clients must not be refused by a short backlog
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="gemini-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> GeminiEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the emulator first"
        return f"http://127.0.0.1:{self._server.server_port}"

    # -- test controls -----------------------------------------------------------------------
    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def reject_text(self, substring: str, code: int = 400) -> None:
        with self._lock:
            self._rejected[substring] = code

    def clear_log(self) -> None:
        """Forget received requests and restart the request counter (so every-Nth 429s line up again)."""
        with self._lock:
            self._log.clear()
            self._embed_calls = 0
            self.max_in_flight = 0

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._log)

    def embed_calls(self) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.action in ("batchEmbedContents", "embedContent")]

    def job_state(self, name: str) -> str:
        with self._lock:
            return self._jobs[name.split("/")[-1]].state

    # -- request handling (called from handler threads) ------------------------------------------
    def _record(self, req: ReceivedRequest) -> None:
        with self._lock:
            self._log.append(req)

    def handle(self, req: ReceivedRequest) -> tuple[int, Any]:
        key = req.headers.get("x-goog-api-key") or (req.query.get("key") or [""])[0]
        if not key:
            return 403, missing_key_body()
        if self.api_keys is not None and key not in self.api_keys:
            return 400, bad_key_body()
        if req.action in ("batchEmbedContents", "embedContent"):
            return self._embed(req)
        if req.action == "asyncBatchEmbedContent":
            return self._create_job(req)
        if req.resource.startswith("batches/") and req.method == "GET" and not req.action:
            return self._get_job(req)
        if req.resource.startswith("batches/") and req.action == "cancel":
            return self._cancel_job(req)
        return 404, error_body(404, "NOT_FOUND", f"Method {req.method} {req.path} is not found.")

    def _next_fault(self) -> Fault | None:
        with self._lock:
            self._embed_calls += 1
            if self._faults:
                return self._faults.popleft()
            if self.rate_limit_every and self._embed_calls % self.rate_limit_every == 0:
                return Fault.rate_limited(self.rate_limit_delay)
        return None

    def _validate(self, model: str, reqs: list[dict[str, Any]], what: str) -> tuple[int, Any] | None:
        for i, r in enumerate(reqs):
            if r.get("model") not in (None, f"models/{model}"):
                return 400, error_body(400, "INVALID_ARGUMENT", f"* {what}.requests[{i}].model: model mismatch")
            text = "".join(p.get("text", "") for p in r.get("content", {}).get("parts", []))
            if not text:
                return 400, error_body(
                    400, "INVALID_ARGUMENT",
                    f"* {what}.requests[{i}].content.parts[0].data: required oneof field 'data' must have one "
                    "initialized field\n",
                )
            dim = r.get("outputDimensionality")
            if dim is not None and not 1 <= int(dim) <= FULL_DIMENSION:
                return 400, error_body(400, "INVALID_ARGUMENT", f"* {what}.requests[{i}].output_dimensionality: "
                                       f"must be between 1 and {FULL_DIMENSION}\n")
            with self._lock:
                rejected = dict(self._rejected)
            for sub, code in rejected.items():
                if sub in text:
                    status = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED"}.get(code, "FAILED_PRECONDITION")
                    return code, error_body(code, status, f"Request contains an invalid argument (input {i}).")
        return None

    @staticmethod
    def _vectors(model: str, reqs: list[dict[str, Any]]) -> list[Any]:
        """The emulated embeddings (float32 numpy rows), truncated to each request's dimension."""
        if not reqs:
            return []
        items = [("".join(p.get("text", "") for p in r.get("content", {}).get("parts", [])),
                  r.get("taskType"), r.get("title")) for r in reqs]
        full = full_vectors(items, model=model)
        return [full[i, : int(r.get("outputDimensionality") or FULL_DIMENSION)] for i, r in enumerate(reqs)]

    def _embed(self, req: ReceivedRequest) -> tuple[int, Any]:
        model = req.model or ""
        if not model.startswith(("gemini-embedding", "text-embedding", "embedding")):
            return 404, error_body(404, "NOT_FOUND", f"models/{model} is not found for API version "
                                   f"{req.version}, or is not supported for embedContent.")
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            fault = self._next_fault()
            if fault is not None and fault.kind in ("status", "rate_limit", "daily_quota"):
                if fault.kind == "rate_limit":
                    return 429, rate_limit_body(fault.retry_delay, model=model)
                if fault.kind == "daily_quota":
                    return 429, rate_limit_body(fault.retry_delay, per_day=True, model=model)
                status, message = SERVER_ERRORS.get(fault.code, ("UNKNOWN", "Unknown error."))
                return fault.code, error_body(fault.code, status, message)
            reqs = req.embed_requests
            what = "BatchEmbedContentsRequest" if req.action == "batchEmbedContents" else "EmbedContentRequest"
            if req.action == "batchEmbedContents" and len(reqs) > self.max_batch:
                return 400, error_body(400, "INVALID_ARGUMENT", TOO_MANY_REQUESTS_MESSAGE)
            invalid = self._validate(model, reqs, what)
            if invalid is not None:
                return invalid
            vectors = self._vectors(model, reqs)
            if fault is not None:
                if fault.kind == "wrong_count" and vectors:
                    vectors = vectors[:-1]
                elif fault.kind == "empty_values" and vectors:
                    vectors[0] = vectors[0][:0]
                elif fault.kind == "wrong_dimension" and vectors:
                    vectors[0] = vectors[0][:-1]
                elif fault.kind == "bad_json":
                    return 200, b'{"embeddings": [{"values": [0.1, '
            if req.action == "embedContent":
                return 200, {"embedding": {"values": vectors[0] if vectors else []}}
            return 200, {"embeddings": [{"values": v} for v in vectors]}
        finally:
            with self._lock:
                self._in_flight -= 1

    # -- batch jobs ----------------------------------------------------------------------------
    def _create_job(self, req: ReceivedRequest) -> tuple[int, Any]:
        batch = (req.body or {}).get("batch") or {}
        reqs = req.embed_requests
        if not reqs:
            return 400, error_body(400, "INVALID_ARGUMENT", "* batch.input_config: requests must not be empty\n")
        if len(json.dumps(req.body)) > _MAX_BATCH_BYTES:
            return 400, error_body(400, "INVALID_ARGUMENT", "Request payload size exceeds the limit: 20971520 bytes.")
        job = BatchJob(id=f"emu{next(self._job_ids):06d}", model=req.model or "",
                       display_name=batch.get("displayName", ""), requests=reqs)
        with self._lock:
            self._jobs[job.id] = job
        return 200, self._job_json(job)

    def _job(self, req: ReceivedRequest) -> BatchJob | None:
        with self._lock:
            return self._jobs.get(req.resource.split("/", 1)[1])

    def _get_job(self, req: ReceivedRequest) -> tuple[int, Any]:
        job = self._job(req)
        if job is None:
            return 404, error_body(404, "NOT_FOUND", f"Requested entity was not found: {req.resource}")
        with self._lock:
            if job.state in ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING"):
                job.polls += 1
                job.state = "BATCH_STATE_RUNNING"
                if job.polls >= self.batch_polls_to_finish:
                    job.state = self.batch_final_state
        return 200, self._job_json(job)

    def _cancel_job(self, req: ReceivedRequest) -> tuple[int, Any]:
        job = self._job(req)
        if job is None:
            return 404, error_body(404, "NOT_FOUND", f"Requested entity was not found: {req.resource}")
        with self._lock:
            if job.state in ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING"):
                job.state = "BATCH_STATE_CANCELLED"
        return 200, {}

    def _job_json(self, job: BatchJob) -> dict[str, Any]:
        n = len(job.requests)
        done = job.state not in ("BATCH_STATE_PENDING", "BATCH_STATE_RUNNING")
        finished = n if job.state == "BATCH_STATE_SUCCEEDED" else 0
        meta: dict[str, Any] = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.EmbedContentBatch",
            "model": f"models/{job.model}",
            "displayName": job.display_name,
            "createTime": job.created,
            "updateTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "state": job.state,
            "batchStats": {"requestCount": str(n), "successfulRequestCount": str(finished),
                           "pendingRequestCount": str(n - finished)},
        }
        if job.state == "BATCH_STATE_SUCCEEDED":
            with self._lock:
                rejected = list(self._rejected)
            responses: list[dict[str, Any]] = []
            vectors = self._vectors(job.model, job.requests)
            for r, vec in zip(job.requests, vectors, strict=True):
                text = "".join(p.get("text", "") for p in r.get("content", {}).get("parts", []))
                if any(sub in text for sub in rejected):
                    responses.append({"error": {"code": 3, "message": "Request contains an invalid argument."}})
                else:
                    responses.append({"response": {"embedding": {"values": vec}}})
            meta["output"] = {"inlinedResponses": {"inlinedResponses": responses}}
        out: dict[str, Any] = {"name": f"batches/{job.id}", "metadata": meta}
        if done:
            out["done"] = True
            out["response"] = {**meta, "name": f"batches/{job.id}"}
        return out


class _Handler(BaseHTTPRequestHandler):
    emulator: GeminiEmulator
    protocol_version = "HTTP/1.1"  # keep-alive, like the real endpoint

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read emulator.requests
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        started = time.monotonic()
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if split.path.startswith("/_emulator/"):
            self._control(method, split.path)
            return
        match = _PATH_RE.match(split.path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        req = ReceivedRequest(
            method=method,
            path=split.path,
            version=match.group("version") if match else "",
            resource=match.group("resource") if match else "",
            action=(match.group("action") or "") if match else "",
            headers={k.lower(): v for k, v in self.headers.items()},
            query=parse_qs(split.query),
            body=body,
            started=started,
        )
        if match is None:
            status, reply = 404, error_body(404, "NOT_FOUND", f"{split.path} is not a Gemini API path")
        elif raw and body is None:
            status, reply = 400, error_body(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        else:
            try:
                status, reply = self.emulator.handle(req)
            except Exception as exc:  # an emulator bug must surface as a 500, not a hung client
                status, reply = 500, error_body(500, "INTERNAL", f"emulator error: {exc!r}")
        data = reply if isinstance(reply, bytes) else encode_json(reply)
        req.status = status
        req.ended = time.monotonic()
        self.emulator._record(req)
        self._send(status, data)

    def _control(self, method: str, path: str) -> None:
        """Test-harness endpoints for an emulator in another process (see __main__.py)."""
        if method == "POST" and path == "/_emulator/reset":
            self.emulator.clear_log()
            self._send(200, b"{}")
        elif method == "GET" and path == "/_emulator/requests":
            self._send(200, encode_json([
                {"action": r.action, "status": r.status, "texts": r.texts, "started": r.started, "ended": r.ended}
                for r in self.emulator.requests
            ]))
        else:
            self._send(404, encode_json(error_body(404, "NOT_FOUND", f"no control endpoint {method} {path}")))

    def _send(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
