"""Per-call search options Qdrant takes (``SearchRequest.options``), checked once for every driver.

* ``hnsw_ef``: candidates the HNSW search keeps (higher: better recall, slower); a positive integer.
* ``exact``: True searches without the index (brute force, exact results); a boolean.

Local mode searches exactly whatever they say.

Also what every Qdrant driver declares it does (:func:`qdrant_capabilities`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vecbridge.core.driver import Capabilities, SearchMode
from vecbridge.core.errors import InvalidInput

__all__ = ["QUERY_OPTIONS", "qdrant_capabilities", "search_options"]

QUERY_OPTIONS = frozenset({"hnsw_ef", "exact"})
_MAX_EF = 100_000


def search_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options as keyword arguments of Qdrant's ``SearchParams`` (empty: Qdrant's defaults)."""
    out: dict[str, Any] = {}
    ef = options.get("hnsw_ef")
    if ef is not None:
        if isinstance(ef, bool) or not isinstance(ef, int) or not 1 <= ef <= _MAX_EF:
            raise InvalidInput(f"hnsw_ef must be an integer from 1 to {_MAX_EF:,}, got {ef!r}")
        out["hnsw_ef"] = ef
    exact = options.get("exact")
    if exact is not None:
        if not isinstance(exact, bool):
            raise InvalidInput(f"exact must be True or False, got {exact!r}")
        out["exact"] = exact
    return out


def qdrant_capabilities(
    *, exact: bool, batch_size: int, native_async: bool, multi_process: bool = True
) -> Capabilities:
    """Dense and keyword search (core fuses hybrid searches with its own formula), tenants, split
    scans and the options above, on every Qdrant driver. ``multi_process`` is False for the
    in-process engines (Edge, qdrant-client's local mode): one process at a time holds their files."""
    return Capabilities(
        exact_search=exact,
        search_modes=frozenset({SearchMode.DENSE, SearchMode.KEYWORD}),
        tenants=True,
        split_scan=True,
        default_batch_size=batch_size,
        query_options=QUERY_OPTIONS,
        native_async=native_async,
        multi_process=multi_process,
    )
