"""One index's records and its data-plane operations (db_data OpenAPI: upsert, query, fetch,
delete, list, describe_index_stats), with Pinecone's validation rules and limits.

Vectors are stored as float32 and every metadata number as a 64-bit float, as Pinecone does;
null metadata values are stripped on write (the server's ``NullHandling::Strip``). Query scores:
cosine similarity, dot product, and for ``euclidean`` the squared L2 distance (lowest first).
Search is exact (brute force), so results equal Pinecone's only where its ANN search is exact.
"""

from __future__ import annotations

import base64
import bisect
import json
import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import limits
from .errors import ApiFailure
from .filters import evaluate, validate

__all__ = ["IndexData", "StoredVector"]

DEFAULT_NAMESPACE = "__default__"


@dataclass
class StoredVector:
    id: str
    values: np.ndarray
    metadata: dict[str, Any]


def _ns(name: Any) -> str:
    if name is None or name == "":
        return DEFAULT_NAMESPACE
    if not isinstance(name, str) or len(name) > limits.MAX_NAMESPACE_LENGTH or not name.isascii():
        raise ApiFailure(400, f"Invalid namespace {name!r}: namespaces are 1-512 ASCII characters")
    return name


def _bad(message: str) -> ApiFailure:
    return ApiFailure(400, message)


def _check_id(vid: Any, where: str) -> str:
    if not isinstance(vid, str) or not vid:
        raise _bad(f"{where}: vector id must be a non-empty string")
    if len(vid) > limits.MAX_ID_LENGTH:
        raise _bad(f"{where}: vector id exceeds the maximum length of {limits.MAX_ID_LENGTH} characters")
    if not vid.isascii() or "\x00" in vid:
        raise _bad(f"{where}: vector id must contain only ASCII characters and no NUL")
    return vid


def _clean_metadata(raw: Any, vid: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _bad(f"Vector {vid!r}: metadata must be a JSON object")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            continue  # stripped, not refused
        if isinstance(value, (bool, str)):
            out[key] = value
        elif isinstance(value, (int, float)):
            if not math.isfinite(float(value)):
                raise _bad(f"Vector {vid!r}: metadata value for field {key!r} is not a finite number")
            out[key] = float(value)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[key] = list(value)
        else:
            shown = json.dumps(value, separators=(",", ":"))[:16]
            raise _bad(
                f"Metadata value must be a string, number, boolean or list of strings, got '{shown}' for field '{key}'"
            )
    size = len(json.dumps(out, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > limits.MAX_METADATA_BYTES:
        raise _bad(
            f"Metadata size is {size} bytes, which exceeds the limit of {limits.MAX_METADATA_BYTES} bytes per vector"
        )
    return out


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


class IndexData:
    """Records of one index, by namespace; thread-safe."""

    def __init__(self, dimension: int, metric: str) -> None:
        self.dimension = dimension
        self.metric = metric
        self.namespaces: dict[str, dict[str, StoredVector]] = {}
        self._sorted: dict[str, list[bytes]] = {}  # ids in list order, per namespace; reset by writes
        self._lock = threading.Lock()

    def count(self, namespace: str = "") -> int:
        with self._lock:
            return len(self.namespaces.get(_ns(namespace), {}))

    # ----- writes -------------------------------------------------------------------------

    def _vector(self, item: Any, position: int) -> StoredVector:
        if not isinstance(item, dict):
            raise _bad(f"vectors[{position}] must be an object")
        vid = _check_id(item.get("id"), f"vectors[{position}]")
        if item.get("sparseValues") is not None:
            raise ApiFailure(501, "sparse values are not implemented by the vecbridge Pinecone emulator")
        values = item.get("values")
        if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
        ):
            raise _bad(f"Vector {vid!r}: values must be an array of numbers")
        if len(values) != self.dimension:
            raise _bad(f"Vector dimension {len(values)} does not match the dimension of the index {self.dimension}")
        array = np.asarray(values, dtype=np.float32)
        if not np.isfinite(array).all():
            raise _bad(f"Vector {vid!r}: values must be finite")
        if not array.any():
            raise _bad(f"Dense vectors must contain at least one non-zero value (vector {vid!r})")
        return StoredVector(vid, array, _clean_metadata(item.get("metadata"), vid))

    def upsert(self, body: dict[str, Any]) -> dict[str, Any]:
        vectors = body.get("vectors")
        if not isinstance(vectors, list) or not vectors:
            raise _bad("vectors must be a non-empty array")
        if len(vectors) > limits.MAX_UPSERT_VECTORS:
            raise _bad(
                f"Number of vectors ({len(vectors)}) exceeds the maximum of "
                f"{limits.MAX_UPSERT_VECTORS} per upsert request"
            )
        namespace = _ns(body.get("namespace"))
        parsed = [self._vector(item, i) for i, item in enumerate(vectors)]  # all or nothing
        with self._lock:
            target = self.namespaces.setdefault(namespace, {})
            for vector in parsed:
                target[vector.id] = vector
            self._sorted.pop(namespace, None)
        return {"upsertedCount": len(parsed)}

    def delete(self, body: dict[str, Any]) -> dict[str, Any]:
        namespace = _ns(body.get("namespace"))
        ids, delete_all, flt = body.get("ids"), bool(body.get("deleteAll")), body.get("filter")
        if sum([ids is not None, delete_all, flt is not None]) == 0:
            raise _bad("Must specify one of ids, deleteAll or filter")
        if ids is not None and (not isinstance(ids, list) or len(ids) > limits.MAX_DELETE_IDS):
            raise _bad(f"ids must be an array of at most {limits.MAX_DELETE_IDS} ids")
        if flt is not None:
            if flt == {}:
                raise _bad("Delete with empty metadata filter is not allowed")
            validate(flt)
        with self._lock:
            records = self.namespaces.get(namespace)
            if records is None:
                raise ApiFailure(404, "Namespace not found")
            if delete_all:
                records.clear()
            elif flt is not None:  # the server ignores ids once a filter is present
                for vid in [v.id for v in records.values() if evaluate(flt, v.metadata)]:
                    del records[vid]
            else:
                for vid in ids or []:
                    records.pop(vid, None)
            if not records:
                del self.namespaces[namespace]
            self._sorted.pop(namespace, None)
        return {}

    # ----- reads --------------------------------------------------------------------------

    def _render(self, vector: StoredVector, *, values: bool, metadata: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"id": vector.id, "values": [float(x) for x in vector.values] if values else []}
        if metadata and vector.metadata:
            out["metadata"] = dict(vector.metadata)
        return out

    def _scores(self, query: np.ndarray, data: np.ndarray) -> np.ndarray:
        q = query.astype(np.float64)
        d = data.astype(np.float64)
        if self.metric == "dotproduct":
            return d @ q
        if self.metric == "euclidean":
            return np.asarray(((d - q) ** 2).sum(axis=1))
        norms = np.linalg.norm(d, axis=1) * np.linalg.norm(q)
        return np.asarray((d @ q) / np.where(norms == 0, 1.0, norms))

    def query(self, body: dict[str, Any]) -> dict[str, Any]:
        top_k = body.get("topK")
        if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= limits.MAX_TOP_K:
            raise _bad(f"topK must be an integer between 1 and {limits.MAX_TOP_K}")
        include_values, include_metadata = bool(body.get("includeValues")), bool(body.get("includeMetadata"))
        if top_k > limits.MAX_TOP_K_WITH_PAYLOAD and (include_values or include_metadata):
            raise _bad(
                f"topK > {limits.MAX_TOP_K_WITH_PAYLOAD} is not supported when includeMetadata or includeValues is true"
            )
        if body.get("sparseVector") is not None or body.get("queries") is not None:
            raise ApiFailure(
                501, "sparse and multi-vector queries are not implemented by the vecbridge Pinecone emulator"
            )
        namespace_in = body.get("namespace") or ""
        namespace = _ns(namespace_in)
        flt = body.get("filter")
        if flt is not None:
            validate(flt)
        with self._lock:
            records = list(self.namespaces.get(namespace, {}).values())
            if body.get("id") is not None:
                source = self.namespaces.get(namespace, {}).get(_check_id(body["id"], "id"))
                query_vec = source.values if source is not None else None
            else:
                query_vec = None
        if body.get("id") is None:
            raw = body.get("vector")
            if not isinstance(raw, list) or len(raw) != self.dimension:
                raise _bad(
                    f"Query vector dimension {len(raw) if isinstance(raw, list) else 0} does not match "
                    f"the dimension of the index {self.dimension}"
                )
            query_vec = np.asarray(raw, dtype=np.float32)
        if flt:
            records = [r for r in records if evaluate(flt, r.metadata)]
        matches: list[dict[str, Any]] = []
        if records and query_vec is not None:
            scores = self._scores(query_vec, np.stack([r.values for r in records]))
            order = sorted(
                range(len(records)),
                key=lambda i: (scores[i] if self.metric == "euclidean" else -scores[i], records[i].id),
            )
            for i in order[:top_k]:
                match = self._render(records[i], values=include_values, metadata=include_metadata)
                match["score"] = float(np.float32(scores[i]))
                matches.append(match)
        return {"matches": matches, "namespace": namespace_in, "usage": {"readUnits": 1 + len(records) // 1000}}

    def fetch(self, ids: list[str], namespace_in: str) -> dict[str, Any]:
        if not ids:
            raise _bad("ids must contain at least one id")
        if len(ids) > limits.MAX_FETCH_IDS:
            raise _bad(f"Cannot fetch more than {limits.MAX_FETCH_IDS} ids per request")
        for vid in ids:
            _check_id(vid, "ids")
            if " " in vid:
                raise _bad(f"ids does not accept values containing spaces: {vid!r}")
        namespace = _ns(namespace_in)
        with self._lock:
            records = self.namespaces.get(namespace, {})
            found = {vid: self._render(records[vid], values=True, metadata=True) for vid in ids if vid in records}
        return {"vectors": found, "namespace": namespace_in, "usage": {"readUnits": 1}}

    def list_ids(self, namespace_in: str, prefix: str, limit: int, token: str | None) -> dict[str, Any]:
        if not 1 <= limit <= limits.MAX_LIST_LIMIT:
            raise _bad(f"limit must be between 1 and {limits.MAX_LIST_LIMIT}")
        namespace = _ns(namespace_in)
        after = _decode_token(token) if token else None
        with self._lock:
            keys = self._sorted.get(namespace)
            if keys is None:  # bitwise "C" collation, i.e. by UTF-8 bytes
                keys = self._sorted[namespace] = sorted(v.encode("utf-8") for v in self.namespaces.get(namespace, {}))
        start = bisect.bisect_right(keys, after.encode("utf-8")) if after is not None else 0
        wanted = prefix.encode("utf-8")
        page: list[str] = []
        more = False
        for key in keys[start:]:
            if not key.startswith(wanted):
                continue
            if len(page) == limit:
                more = True
                break
            page.append(key.decode("utf-8"))
        out: dict[str, Any] = {
            "vectors": [{"id": vid} for vid in page],
            "namespace": namespace_in,
            "usage": {"readUnits": 1},
        }
        if more:
            out["pagination"] = {"next": _encode_token(page[-1])}
        return out

    def stats(self, body: dict[str, Any], *, default_key: str) -> dict[str, Any]:
        if body.get("filter") is not None:
            raise _bad("Serverless and starter indexes do not support describing index stats with metadata filtering")
        with self._lock:
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
        }
