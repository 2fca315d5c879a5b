"""Scan pages and parallel scan ranges over Qdrant's scroll, which walks points in id order.

A scan cursor is the id of the next page's first point (Qdrant's ``next_page_offset``), so a scan
resumes exactly there. vecbridge's point ids are uuid5 hashes, spread evenly over the UUID space,
so ``parts`` equal slices of that space hold about equal shares of a collection: a range starts
at its slice's first UUID (scroll starts at the first point at or after it) and stops before the
next slice's. Points with integer ids (written by other tools) come before every UUID in Qdrant's
order, so they fall in the first range.
"""

from __future__ import annotations

import uuid
from typing import Any

from vecbridge.core.driver import ScanRange

__all__ = ["cut_at_stop", "uuid_ranges"]

_SPACE = 2**128


def _order(point_id: Any) -> tuple[int, int]:
    """Qdrant's order of point ids: unsigned integers first, then UUIDs by value."""
    if isinstance(point_id, int):
        return (0, point_id)
    return (1, uuid.UUID(str(point_id)).int)


def uuid_ranges(parts: int) -> list[ScanRange]:
    """``parts`` consecutive ranges covering every point id."""
    cuts = [str(uuid.UUID(int=_SPACE * p // parts)) for p in range(1, parts)]
    starts: list[str | None] = [None, *cuts]
    stops: list[str | None] = [*cuts, None]
    return [ScanRange(a, b) for a, b in zip(starts, stops, strict=True)]


def cut_at_stop(points: list[Any], next_offset: Any, stop: str | None) -> tuple[list[Any], Any]:
    """A scroll page without the points at or after ``stop``; the scan ends where it cuts."""
    if stop is None:
        return points, next_offset
    limit = _order(stop if not stop.isdigit() else int(stop))
    kept = [p for p in points if _order(p.id) < limit]
    if len(kept) < len(points) or (next_offset is not None and _order(next_offset) >= limit):
        return kept, None
    return kept, next_offset
