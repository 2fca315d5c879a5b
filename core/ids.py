"""Deterministic mapping from a user's string id to the UUID some stores require.

Qdrant and Weaviate accept only UUIDs (Qdrant also unsigned ints). vecbridge keeps the user's id
in the payload and derives the point id with uuid5, so the same id always lands on the same point:
re-upserting overwrites, never duplicates. An id that is already a canonical UUID is used as is,
so collections created outside vecbridge keep their ids when read and written back.
"""

from __future__ import annotations

import uuid

__all__ = ["VECBRIDGE_NAMESPACE", "point_uuid"]

#: Fixed namespace of vecbridge's uuid5 ids. Changing it would orphan every stored point.
VECBRIDGE_NAMESPACE = uuid.UUID("f9af39c6-c1b4-5351-a016-0fe5fdfe2f45")  # uuid5(URL, pypi page)


def point_uuid(record_id: str) -> str:
    """The UUID string under which ``record_id`` is stored on UUID-only stores."""
    try:
        parsed = uuid.UUID(record_id)
    except ValueError:
        parsed = None
    if parsed is not None and str(parsed) == record_id:
        return record_id
    return str(uuid.uuid5(VECBRIDGE_NAMESPACE, record_id))
