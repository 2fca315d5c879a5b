"""Weaviate's REST API (the parts the Python client v4 calls for schema and single objects)."""

from __future__ import annotations

import json
import re
import uuid as uuid_module
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .database import LEGACY_VECTOR, Database, StoredObject, canonical_uuid
from .errors import EmulatedError, invalid, not_found, unimplemented
from .faults import Faults

_SCHEMA_CLASS = re.compile(r"^/v1/schema/([^/]+)$")
_SCHEMA_PROPERTIES = re.compile(r"^/v1/schema/([^/]+)/properties$")
_SCHEMA_SHARDS = re.compile(r"^/v1/schema/([^/]+)/shards$")
_OBJECT = re.compile(r"^/v1/objects/([^/]+)/([^/]+)$")


def object_json(class_name: str, obj: StoredObject, named: bool, include_vector: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "class": class_name,
        "id": obj.uuid,
        "properties": obj.properties,
        "creationTimeUnix": obj.created_ms,
        "lastUpdateTimeUnix": obj.updated_ms,
    }
    if include_vector:
        if named:
            out["vectors"] = {k: v for k, v in obj.vectors.items() if k != LEGACY_VECTOR}
        elif LEGACY_VECTOR in obj.vectors:
            out["vector"] = obj.vectors[LEGACY_VECTOR]
    return out


class RestServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], db: Database, faults: Faults, api_key: str | None) -> None:
        super().__init__(address, _Handler)
        self.db = db
        self.faults = faults
        self.api_key = api_key
        self.client_version = "4.0.0"


class _Handler(BaseHTTPRequestHandler):
    server: RestServer
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects
    # headers and body go out in two writes: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms each
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read results, not logs
        return

    # ----- plumbing ---------------------------------------------------------------------------

    def _send(self, status: int, body: Any = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return None
        try:
            return json.loads(self.rfile.read(length))
        except ValueError:
            raise invalid("request body is not JSON") from None

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.server.faults.record(f"rest:{self.command} {path}")
        try:
            fault = self.server.faults.take_http_fault(self.command, path)
            if fault is not None:
                self._send(fault[0], {"error": [{"message": fault[1]}]})
                return
            protected = self.server.api_key is not None and path.startswith("/v1") and "/.well-known/" not in path
            if protected and self.headers.get("Authorization") != f"Bearer {self.server.api_key}":
                self._send(401, {"code": 401, "message": "anonymous access not enabled, please provide an auth scheme"})
                return
            status, body = self._route(self.command, path, query)
            self._send(status, body)
        except EmulatedError as exc:
            self._send(exc.status, exc.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

    # ----- routes -----------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, str]) -> tuple[int, Any]:
        db = self.server.db
        if path == "/pypi/weaviate-client/json":  # stands in for PyPI's version check, so tests stay offline
            return 200, {"info": {"version": self.server.client_version}}
        if path in ("/v1/.well-known/ready", "/v1/.well-known/live"):
            return 200, None
        if path == "/v1/.well-known/openid-configuration":
            return 404, None
        if path == "/v1/meta" and method == "GET":
            host, port = str(self.server.server_address[0]), int(self.server.server_address[1])
            return 200, {
                "hostname": f"http://{host}:{port}",
                "modules": {},
                "version": db.settings.version,
                "grpcMaxMessageSize": db.settings.grpc_max_message_size,
            }
        if path == "/v1/nodes" and method == "GET":
            return 200, {
                "nodes": [
                    {
                        "name": "node1",
                        "status": "HEALTHY",
                        "version": db.settings.version,
                        "gitHash": "emulator",
                        "batchStats": {"queueLength": 0, "ratePerSecond": 0},
                    }
                ]
            }
        if path == "/v1/schema":
            if method == "GET":
                with db.lock:
                    return 200, {"classes": [d.schema for d in db.classes.values()]}
            if method == "POST":
                return 200, db.create_class(self._body())
        if m := _SCHEMA_CLASS.match(path):
            name = m.group(1)
            if method == "GET":
                data = db.get_class(name)
                if data is None:
                    return 404, None
                return 200, data.schema
            if method == "DELETE":
                db.delete_class(name)
                return 200, None
        if (m := _SCHEMA_PROPERTIES.match(path)) and method == "POST":
            return 200, db.add_property(m.group(1), self._body())
        if (m := _SCHEMA_SHARDS.match(path)) and method == "GET":
            db.require_class(m.group(1))
            return 200, [{"name": "shard0", "status": "READY", "vectorQueueSize": 0}]
        if path == "/v1/objects" and method == "POST":
            return self._create_object(self._body())
        if m := _OBJECT.match(path):
            return self._object(method, m.group(1), m.group(2), query)
        if path.startswith("/v1/"):  # Weaviate has it (GraphQL, batch, backups ...), the emulator does not
            raise unimplemented(f"{method} {path}")
        raise not_found(f"{method} {path} does not exist")

    def _create_object(
        self, body: Any, *, replace_id: str | None = None, class_name: str | None = None
    ) -> tuple[int, Any]:
        if not isinstance(body, dict):
            raise invalid("the request body must be an object")
        db = self.server.db
        cls = class_name or str(body.get("class") or "")
        object_id = replace_id or body.get("id") or str(uuid_module.uuid4())
        with db.lock:
            if replace_id is None and db.get_object(cls, object_id) is not None:
                raise invalid(f"id '{canonical_uuid(object_id)}' already exists")
            vectors: dict[str, list[float]] = {}
            if body.get("vector"):
                vectors[LEGACY_VECTOR] = [float(x) for x in body["vector"]]
            for name, vec in (body.get("vectors") or {}).items():
                vectors[name] = [float(x) for x in vec]
            props = {k: (v, "struct") for k, v in (body.get("properties") or {}).items()}
            obj = db.put_object(cls, object_id, props, vectors, tenant=body.get("tenant") or "")
            data = db.require_class(cls)
            return 200, object_json(data.name, obj, bool(data.named_vectors), include_vector=True)

    def _object(self, method: str, cls: str, object_id: str, query: dict[str, str]) -> tuple[int, Any]:
        db = self.server.db
        if method in ("GET", "HEAD"):
            obj = db.get_object(cls, object_id)
            if obj is None:
                return 404, None
            if method == "HEAD":
                return 204, None
            data = db.require_class(cls)
            include = "vector" in query.get("include", "")
            return 200, object_json(data.name, obj, bool(data.named_vectors), include_vector=include)
        if method == "DELETE":
            return (204, None) if db.delete_object(cls, object_id) else (404, None)
        if method == "PUT":
            return self._create_object(self._body(), replace_id=object_id, class_name=cls)
        if method == "PATCH":
            body = self._body() or {}
            with db.lock:
                current = db.get_object(cls, object_id)
                if current is None:
                    return 404, None
                merged = {**current.properties, **(body.get("properties") or {})}
                vectors = dict(current.vectors)
                props = {k: (v, "struct") for k, v in merged.items()}
                db.put_object(cls, object_id, props, vectors)
            return 204, None
        raise not_found(f"{method} on objects is not emulated")
