"""Counting and scanning a namespace.

``count`` reads ``describe_index_stats``; with a filter (which serverless stats do not take) it
counts the matches of a filtered id-only query, and past that query's 10,000-match ceiling scans
the namespace and evaluates the filter with the core's reference semantics. A scan pages through
the list endpoint (at most 100 ids a call) and fetches each page; its cursor is Pinecone's
pagination token, which cannot be compared, so scans cannot stop at a cursor (no split scans).
"""

from __future__ import annotations

from typing import Any

from vecbridge.core.errors import InvalidInput
from vecbridge.core.filters import FilterNode, matches
from vecbridge.core.models import ScanPage

from .layout import Place
from .plan import Plan
from .planes import Planes
from .reads import MAX_IDS_PER_REQUEST, fetch, record

__all__ = ["count", "scan_page"]

MAX_TOP_K = 10_000
MAX_LIST_PAGE = 100


def count(
    planes: Planes, place: Place, dimension: int, node: FilterNode | None, compiled: dict[str, Any] | None
) -> Plan[int]:
    if node is None:
        stats = yield from planes.data(place.index, "describe_index_stats")
        summaries = stats.namespaces or {}
        summary = summaries.get(place.namespace or "__default__") or summaries.get(place.namespace)
        return int(summary.vector_count) if summary is not None else 0
    result = yield from planes.data(
        place.index,
        "query",
        vector=[1.0] * dimension,
        top_k=MAX_TOP_K,
        namespace=place.namespace,
        filter=compiled,
        include_metadata=False,
        include_values=False,
    )
    if len(result.matches) < MAX_TOP_K:
        return len(result.matches)
    total, cursor = 0, None
    while True:
        page = yield from scan_page(planes, place, cursor, MAX_IDS_PER_REQUEST, False, None)
        total += sum(1 for r in page.records if matches(node, r.metadata))
        if page.next_cursor is None:
            return total
        cursor = page.next_cursor


def scan_page(
    planes: Planes, place: Place, cursor: str | None, limit: int, include_vectors: bool, stop: str | None
) -> Plan[ScanPage]:
    if stop is not None:
        raise InvalidInput(
            "a Pinecone scan cannot stop at a cursor (its cursors are opaque pagination tokens): scan to the end"
        )
    ids: list[str] = []
    token = cursor or None
    while len(ids) < limit:
        page = yield from planes.data(
            place.index,
            "list_paginated",
            namespace=place.namespace,
            limit=min(MAX_LIST_PAGE, limit - len(ids)),
            pagination_token=token,
        )
        ids.extend(item.id for item in page.vectors if item.id)
        token = (page.pagination.next if page.pagination else None) or None
        if token is None:
            break
    if not ids:
        return ScanPage([], None)
    found = yield from fetch(planes, place, ids)
    return ScanPage([record(place, pid, found[pid], include_vectors) for pid in ids if pid in found], token)
