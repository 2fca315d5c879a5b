"""Searches and reads by id.

A query's response may hold at most 4 MB (and ``top_k`` at most 10,000): Pinecone's "Query
limits". A search whose matches could exceed that with their metadata (up to 40 KB each, which
JSON escaping may double) and values asks for ids and scores only, then fetches the records in
requests of at most 1,000 ids (and a bounded URL), all at once; a small search asks for
everything in one query. An id-only match takes about 50 bytes plus its id, so any ``k`` fits
for ids up to ~350 characters; longer ids lower the ``k`` Pinecone can return (it then refuses
the query and says so).

Keyword searches send the query's words as a sparse vector alone; only records sharing a word
score above zero, and the others are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import numpy as np

from vecbridge.core.batching import batched_by_size
from vecbridge.core.driver import SearchMode, SearchRequest
from vecbridge.core.models import Hit, Record

from .foreign import Decoded, decode_foreign
from .ids import MAX_ID_LENGTH
from .layout import Place
from .metadata import MAX_METADATA_BYTES, decode
from .plan import Plan
from .planes import Planes
from .storage import keyword_query, similarity, stored_rows

__all__ = ["fetch", "get", "hit", "record", "search"]

MAX_IDS_PER_REQUEST = 1000
#: Query-string budget of one fetch (ids travel in the URL of a GET).
_FETCH_URL_BUDGET = 6000
#: What a query response may hold, less room for its envelope (namespace, usage).
_QUERY_BUDGET = 4 * 1024 * 1024 - 64 * 1024
_MATCH_BYTES = MAX_ID_LENGTH + 96  # id, score and keys of one match
_METADATA_BYTES = 2 * MAX_METADATA_BYTES
_VALUE_BYTES = 26  # one float in JSON ("-1.2345678901234567e-308,")


def fits_one_query(k: int, dimension: int, include_values: bool) -> bool:
    """Whether ``k`` matches with metadata (and values) surely fit one query response."""
    per_match = _MATCH_BYTES + _METADATA_BYTES + (dimension * _VALUE_BYTES if include_values else 0)
    return k * per_match <= _QUERY_BUDGET


def _decode(place: Place, stored_id: str, metadata: Any) -> Decoded:
    """(user id, text, metadata) of a stored record, as vecbridge or (adopted) another tool wrote it."""
    if place.adopted is not None:
        return decode_foreign(place.adopted, stored_id, metadata)
    return decode(stored_id, metadata)


def hit(place: Place, stored_id: str, score: float, values: Any, metadata: Any, include_vectors: bool) -> Hit:
    user_id, text, md = _decode(place, stored_id, metadata)
    vector = [float(v) for v in values] if include_vectors and values else None
    return Hit(user_id, similarity(score, place.metric), text, md, vector)


def record(place: Place, stored_id: str, stored: Any, include_vectors: bool) -> Record:
    user_id, text, md = _decode(place, stored_id, stored.metadata)
    vector = [float(v) for v in stored.values] if include_vectors and stored.values else []
    return Record(user_id, vector, text, md)


def _fetch_chunks(ids: list[str]) -> Iterator[list[str]]:
    return batched_by_size(
        ids,
        max_count=MAX_IDS_PER_REQUEST,
        max_bytes=_FETCH_URL_BUDGET,
        size_of=lambda pid: len(quote(pid, safe="")) + 5,  # "&ids=" + the encoded id
    )


def fetch(planes: Planes, place: Place, ids: list[str]) -> Plan[dict[str, Any]]:
    """Stored vectors by Pinecone id (the ids that exist), fetched all at once."""
    calls = [("fetch", {"ids": chunk, "namespace": place.namespace}) for chunk in _fetch_chunks(ids)]
    found: dict[str, Any] = {}
    for outcome in (yield from planes.data_together(place.index, calls)):
        if isinstance(outcome, BaseException):
            raise outcome  # a read lands whole or not at all: the store retries it
        found.update(outcome.vectors)
    return found


def get(planes: Planes, place: Place, pids: dict[str, str], include_vectors: bool) -> Plan[list[Record]]:
    """Records by id (``pids``: Pinecone id -> user id); absent ids are left out."""
    found = yield from fetch(planes, place, list(pids))
    return [record(place, pid, v, include_vectors) for pid, v in found.items() if pid in pids]


def search(
    planes: Planes, place: Place, dimension: int, request: SearchRequest, compiled: dict[str, Any] | None
) -> Plan[list[Hit]]:
    query: dict[str, Any] = {"top_k": request.k, "namespace": place.namespace, "filter": compiled}
    if request.mode is SearchMode.KEYWORD:
        sparse = keyword_query(request.text or "")
        if sparse is None:
            return []  # a query without words matches no record's words
        query["sparse_vector"] = sparse
    else:
        assert request.vector is not None
        query["vector"] = stored_rows(np.asarray(request.vector, dtype=np.float32), place.unit).tolist()
    include_vectors = request.include_vectors
    if fits_one_query(request.k, dimension, include_vectors):
        response = yield from planes.data(
            place.index, "query", include_metadata=True, include_values=include_vectors, **query
        )
        hits = [hit(place, m.id, m.score, m.values, m.metadata, include_vectors) for m in response.matches]
    else:
        response = yield from planes.data(place.index, "query", include_metadata=False, include_values=False, **query)
        stored = yield from fetch(planes, place, [m.id for m in response.matches])
        hits = [
            hit(place, m.id, m.score, stored[m.id].values, stored[m.id].metadata, include_vectors)
            for m in response.matches
            if m.id in stored  # deleted between the query and the fetch
        ]
    if request.mode is SearchMode.KEYWORD:
        hits = [h for h in hits if h.score > 0]
    return hits
