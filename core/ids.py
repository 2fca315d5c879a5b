"""Deterministic, injective mapping from a user's string id to the UUID some stores require.

Qdrant and Weaviate accept only UUIDs (Qdrant also unsigned ints). vecbridge keeps the user's id
in the payload and stores the point under ``uuid5(VECBRIDGE_NAMESPACE, id)``, so the same id always
lands on the same point (re-upserting overwrites, never duplicates) and two different ids never
share one: the mapping applies to *every* id, including ids that already look like UUIDs (passing
those through would let the id ``str(uuid5(NS, "victim"))`` overwrite the record ``"victim"``).

Collections written by other tools (LangChain, LlamaIndex) have no vecbridge id in their payload:
their records read back with the point's own id, and are written through an adopted layout
(``store.adopt(...)``), which keeps the foreign id scheme.
"""

from __future__ import annotations

import uuid

__all__ = ["VECBRIDGE_NAMESPACE", "point_uuid"]

#: Fixed namespace of vecbridge's uuid5 ids. Changing it would orphan every stored point.
VECBRIDGE_NAMESPACE = uuid.UUID("f9af39c6-c1b4-5351-a016-0fe5fdfe2f45")  # uuid5(URL, pypi page)


def point_uuid(record_id: str) -> str:
    """The UUID string under which ``record_id`` is stored on UUID-only stores."""
    return str(uuid.uuid5(VECBRIDGE_NAMESPACE, record_id))
