"""User ids <-> Pinecone ids.

Pinecone ids are 1-512 ASCII characters, and fetch (an HTTP GET) refuses spaces. An id of
printable ASCII without spaces or '%' is used unchanged; any other id is percent-encoded (UTF-8,
'%' itself included, so the mapping is one-to-one), or, if that would pass 512 characters,
replaced by ``%~`` + its SHA-256. The user's id is then kept in the reserved metadata key
``_vb_id`` (see ``metadata``).
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

__all__ = ["MAX_ID_LENGTH", "pinecone_id"]

MAX_ID_LENGTH = 512
# Printable ASCII except space (fetch refuses it) and '%' (the escape character).
_ID_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%")
_ID_SAFE_SET = frozenset(_ID_SAFE)
_HASHED_ID_PREFIX = "%~"  # percent-encoding never yields '%' followed by '~'


def pinecone_id(record_id: str) -> str:
    """The id under which ``record_id`` is stored (see the module docstring)."""
    if len(record_id) <= MAX_ID_LENGTH and all(c in _ID_SAFE_SET for c in record_id):
        return record_id
    encoded = quote(record_id, safe=_ID_SAFE, encoding="utf-8")
    if len(encoded) <= MAX_ID_LENGTH:
        return encoded
    return _HASHED_ID_PREFIX + hashlib.sha256(record_id.encode("utf-8")).hexdigest()
