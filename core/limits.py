"""vecbridge's documented limits, in one place (see docs/limits-and-guarantees.md).

Each one keeps a request portable across every store, or keeps a hostile input from exhausting a
stack, a server or memory. Crossing one raises ``InvalidInput`` / ``InvalidFilter`` naming it,
before anything is sent.
"""

from __future__ import annotations

__all__ = [
    "MAX_FILTER_CONDITIONS",
    "MAX_FILTER_DEPTH",
    "MAX_FILTER_LIST",
    "MAX_ID_LENGTH",
    "MAX_K",
    "MAX_METADATA_DEPTH",
    "MAX_SAFE_INTEGER",
    "MAX_TENANT_LENGTH",
    "MAX_VECTOR_NORM",
]

#: Results per search: Pinecone's top_k ceiling and Weaviate's default QUERY_MAXIMUM_RESULTS.
MAX_K = 10_000
#: Nesting of $and / $or / $not in one filter (Qdrant Edge crashed at ~850, Python at ~500).
MAX_FILTER_DEPTH = 32
#: Field conditions in one filter.
MAX_FILTER_CONDITIONS = 256
#: Values in one $in / $nin list (PostgreSQL's stack overflowed at 50,000).
MAX_FILTER_LIST = 1_024
#: Nesting of objects and lists inside one metadata value.
MAX_METADATA_DEPTH = 32
#: Characters in a record id.
MAX_ID_LENGTH = 512
#: Characters in a tenant name.
MAX_TENANT_LENGTH = 64
#: Integers in metadata and filters stay within JSON's interoperable range (RFC 8259, IEEE 754
#: doubles): beyond it some stores compare or keep them as floats, and 2**53 + 1 would match 2**53.
MAX_SAFE_INTEGER = 2**53 - 1
#: Length (L2 norm) of a vector: beyond it, similarity scores overflow the float32 arithmetic the
#: stores use (a vector of 3e38s is finite in float32, but its norm and dot products are not).
MAX_VECTOR_NORM = 1e18
