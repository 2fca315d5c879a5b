"""The data plane's routes: one request of an index's host -> the :class:`IndexData` operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .data import IndexData
from .errors import ApiFailure

__all__ = ["data_route"]

#: Versions whose describe_index_stats names the default namespace "" rather than "__default__".
_EMPTY_DEFAULT = ("2024-04", "2024-07", "2024-10", "2025-01")


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ApiFailure(400, f"limit must be an integer, got {text!r}") from None


def data_route(
    data: IndexData, method: str, path: str, query: dict[str, list[str]], raw_body: Any, version: str
) -> tuple[int, Any, dict[str, str]]:
    """(status, body, headers) of one data-plane request."""
    body = raw_body if isinstance(raw_body, dict) else {}

    def one(key: str, default: str) -> str:
        return query.get(key, [default])[0]

    def token() -> str | None:
        return query.get("paginationToken", [None])[0]

    routes: dict[tuple[str, str], Callable[[], tuple[Any, dict[str, str]]]] = {
        ("POST", "/vectors/upsert"): lambda: data.upsert(body),
        ("POST", "/query"): lambda: data.query(body),
        ("GET", "/vectors/fetch"): lambda: data.fetch(query.get("ids", []), one("namespace", "")),
        ("POST", "/vectors/delete"): lambda: data.delete(body),
        ("GET", "/vectors/list"): lambda: data.list_ids(
            one("namespace", ""), one("prefix", ""), _int(one("limit", "100")), token()
        ),
        ("GET", "/namespaces"): lambda: data.list_namespaces(one("prefix", ""), _int(one("limit", "100")), token()),
        ("POST", "/describe_index_stats"): lambda: data.stats(
            body, default_key="" if version in _EMPTY_DEFAULT else "__default__"
        ),
    }
    if method == "DELETE" and path.startswith("/namespaces/"):
        payload, headers = data.delete_namespace(path.removeprefix("/namespaces/"))
        return 202, payload, headers
    route = routes.get((method, path))
    if route is None:
        raise ApiFailure(501, f"{method} {path} is not implemented by the vecbridge Pinecone emulator")
    payload, headers = route()
    return 200, payload, headers
