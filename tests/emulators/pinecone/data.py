"""One index's records and its data-plane operations (db_data OpenAPI: upsert, query, fetch,
delete, list, describe_index_stats, list and delete namespaces), with Pinecone's rules and limits.

Every operation returns ``(body, headers)``. Writes go through the :class:`WriteLog`: with a lag
they become visible to reads (queries, fetches, lists, stats, deletes by filter) only later.
Search is exact (brute force), so results equal Pinecone's only where its ANN search is exact.
"""

from __future__ import annotations

import base64
import bisect
import json
import threading
from typing import Any

from . import limits
from .consistency import INDEXED_LSN, REQUEST_LSN, WriteLog
from .errors import ApiFailure
from .filters import evaluate, validate
from .query import QueryShape, rank
from .records import DEFAULT_NAMESPACE, StoredVector, check_id, namespace_of, parse_vector, render

__all__ = ["IndexData"]

Reply = tuple[Any, dict[str, str]]


def _bad(message: str) -> ApiFailure:
    return ApiFailure(400, message)


def _encode_token(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode()


def _decode_token(token: str) -> str:
    try:
        after = json.loads(base64.urlsafe_b64decode(token.encode()))["after"]
    except (ValueError, KeyError, TypeError):
        raise _bad("Invalid pagination token") from None
    if not isinstance(after, str):
        raise _bad("Invalid pagination token")
    return after


def _page(keys: list[str], after: str | None, prefix: str, limit: int) -> tuple[list[str], str | None]:
    """Up to ``limit`` keys starting with ``prefix`` after ``after`` (bitwise "C" collation) and
    the token of the next page."""
    encoded = [k.encode("utf-8") for k in keys]
    start = bisect.bisect_right(encoded, after.encode("utf-8")) if after is not None else 0
    wanted = prefix.encode("utf-8")
    page: list[str] = []
    for key in encoded[start:]:
        if not key.startswith(wanted):
            continue
        if len(page) == limit:
            return page, _encode_token(page[-1])
        page.append(key.decode("utf-8"))
    return page, None


class IndexData:
    """Records of one index, by namespace; thread-safe."""

    def __init__(self, dimension: int, metric: str, *, sparse: bool = False, lag: float = 0.0) -> None:
        self.dimension = dimension
        self.metric = metric
        self.sparse = sparse
        self.namespaces: dict[str, dict[str, StoredVector]] = {}
        self._log = WriteLog(lag)
        self._lock = threading.Lock()

    def count(self, namespace: str = "") -> int:
        with self._lock:
            self._log.catch_up()
            return len(self.namespaces.get(namespace_of(namespace), {}))

    def settled_at(self) -> float:
        with self._lock:
            return self._log.settled_at()

    def _visible(self, namespace: str) -> dict[str, StoredVector]:
        self._log.catch_up()
        return self.namespaces.get(namespace, {})

    # ----- writes -------------------------------------------------------------------------

    def upsert(self, body: dict[str, Any]) -> Reply:
        vectors = body.get("vectors")
        if not isinstance(vectors, list) or not vectors:
            raise _bad("vectors must be a non-empty array")
        if len(vectors) > limits.MAX_UPSERT_VECTORS:
            raise _bad(
                f"Number of vectors ({len(vectors)}) exceeds the maximum of "
                f"{limits.MAX_UPSERT_VECTORS} per upsert request"
            )
        namespace = namespace_of(body.get("namespace"))
        parsed = [parse_vector(item, i, self.dimension, self.sparse) for i, item in enumerate(vectors)]  # all or none

        def apply() -> None:
            target = self.namespaces.setdefault(namespace, {})
            for vector in parsed:
                target[vector.id] = vector

        with self._lock:
            lsn = self._log.accept(namespace, apply)
        return {"upsertedCount": len(parsed)}, {REQUEST_LSN: str(lsn)}

    def delete(self, body: dict[str, Any]) -> Reply:
        namespace = namespace_of(body.get("namespace"))
        ids, delete_all, flt = body.get("ids"), bool(body.get("deleteAll")), body.get("filter")
        if sum([ids is not None, delete_all, flt is not None]) == 0:
            raise _bad("Must specify one of ids, deleteAll or filter")
        if ids is not None and (not isinstance(ids, list) or len(ids) > limits.MAX_DELETE_IDS):
            raise _bad(f"ids must be an array of at most {limits.MAX_DELETE_IDS} ids")
        if flt is not None:
            if flt == {}:
                raise _bad("Delete with empty metadata filter is not allowed")
            validate(flt)

        def apply() -> None:
            records = self.namespaces.get(namespace, {})
            if delete_all:
                records.clear()
            elif flt is not None:  # the server ignores ids once a filter is present
                for vid in [v.id for v in records.values() if evaluate(flt, v.metadata)]:
                    del records[vid]
            else:
                for vid in ids or []:
                    records.pop(vid, None)
            if not records:
                self.namespaces.pop(namespace, None)

        with self._lock:
            self._log.catch_up()
            if namespace not in self.namespaces and not self._log.waiting_in(namespace):
                raise ApiFailure(404, "Namespace not found")
            lsn = self._log.accept(namespace, apply)
        return {}, {REQUEST_LSN: str(lsn)}

    def delete_namespace(self, name: str) -> Reply:
        namespace = namespace_of(name)

        def apply() -> None:
            self.namespaces.pop(namespace, None)

        with self._lock:
            self._log.catch_up()
            if namespace not in self.namespaces and not self._log.waiting_in(namespace):
                raise ApiFailure(404, f"Namespace {name} not found")
            self._log.accept(namespace, apply)
        return None, {}

    # ----- reads --------------------------------------------------------------------------

    def query(self, body: dict[str, Any]) -> Reply:
        shape = QueryShape(body, dimension=self.dimension, metric=self.metric, sparse_ok=self.sparse)
        namespace_in = body.get("namespace") or ""
        namespace = namespace_of(namespace_in)
        flt = body.get("filter")
        if flt is not None:
            validate(flt)
        with self._lock:
            stored = self._visible(namespace)
            records = list(stored.values())
            by_id = stored.get(shape.id) if shape.id is not None else None
            indexed = self._log.indexed_lsn(namespace)
        if flt:
            records = [r for r in records if evaluate(flt, r.metadata)]
        matches = []
        for record, score in rank(shape, records, by_id):
            match = render(record, values=shape.include_values, metadata=shape.include_metadata)
            match["score"] = score
            matches.append(match)
        reply = {"matches": matches, "namespace": namespace_in, "usage": {"readUnits": 1 + len(records) // 1000}}
        size = len(json.dumps(reply, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        if size > limits.MAX_QUERY_RESPONSE_BYTES:
            raise _bad(
                f"Query result size {size} bytes exceeds the 4MB limit: choose a lower top_k, or set "
                "include_metadata=False or include_values=False"
            )
        return reply, {INDEXED_LSN: str(indexed)}

    def fetch(self, ids: list[str], namespace_in: str) -> Reply:
        if not ids:
            raise _bad("ids must contain at least one id")
        if len(ids) > limits.MAX_FETCH_IDS:
            raise _bad(f"Cannot fetch more than {limits.MAX_FETCH_IDS} ids per request")
        for vid in ids:
            check_id(vid, "ids")
            if " " in vid:
                raise _bad(f"ids does not accept values containing spaces: {vid!r}")
        namespace = namespace_of(namespace_in)
        with self._lock:
            records = self._visible(namespace)
            found = {vid: render(records[vid], values=True, metadata=True) for vid in ids if vid in records}
        return {"vectors": found, "namespace": namespace_in, "usage": {"readUnits": 1}}, {}

    def list_ids(self, namespace_in: str, prefix: str, limit: int, token: str | None) -> Reply:
        if not 1 <= limit <= limits.MAX_LIST_LIMIT:
            raise _bad(f"limit must be between 1 and {limits.MAX_LIST_LIMIT}")
        namespace = namespace_of(namespace_in)
        after = _decode_token(token) if token else None
        with self._lock:
            keys = sorted(self._visible(namespace), key=lambda k: k.encode("utf-8"))
        page, following = _page(keys, after, prefix, limit)
        out: dict[str, Any] = {
            "vectors": [{"id": v} for v in page],
            "namespace": namespace_in,
            "usage": {"readUnits": 1},
        }
        if following:
            out["pagination"] = {"next": following}
        return out, {}

    def list_namespaces(self, prefix: str, limit: int, token: str | None) -> Reply:
        if not 1 <= limit <= limits.MAX_NAMESPACE_LIST_LIMIT:
            raise _bad(f"limit must be between 1 and {limits.MAX_NAMESPACE_LIST_LIMIT}")
        after = _decode_token(token) if token else None
        with self._lock:
            self._log.catch_up()
            sizes = {ns: len(v) for ns, v in self.namespaces.items() if v}
        names = sorted(sizes, key=lambda k: k.encode("utf-8"))
        page, following = _page(names, after, prefix, limit)
        out: dict[str, Any] = {
            "namespaces": [{"name": ns, "record_count": str(sizes[ns])} for ns in page],
            "total_count": sum(1 for ns in names if ns.startswith(prefix)),
        }
        if following:
            out["pagination"] = {"next": following}
        return out, {}

    def stats(self, body: dict[str, Any], *, default_key: str) -> Reply:
        if body.get("filter") is not None:
            raise _bad("Serverless and starter indexes do not support describing index stats with metadata filtering")
        with self._lock:
            self._log.catch_up()
            counts = {
                (default_key if ns == DEFAULT_NAMESPACE else ns): len(v) for ns, v in self.namespaces.items() if v
            }
        return {
            "namespaces": {ns: {"vectorCount": n} for ns, n in counts.items()},
            "dimension": self.dimension,
            "indexFullness": 0.0,
            "totalVectorCount": sum(counts.values()),
            "metric": self.metric,
            "vectorType": "dense",
        }, {}
