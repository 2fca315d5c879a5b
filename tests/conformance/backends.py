"""Every store backend the conformance suite runs on. A new store joins with one line in
``BACKENDS``; its factory and skip rule live in its own module under ``tests/backends/``."""

from __future__ import annotations

from tests.backends import memory as _memory
from tests.backends import milvus as _milvus
from tests.backends import pgvector as _pgvector
from tests.backends import pinecone as _pinecone
from tests.backends import qdrant as _qdrant
from tests.backends import weaviate as _weaviate
from vecbridge.testing import Backend

BACKENDS: list[Backend] = [
    *_memory.BACKENDS,
    *_qdrant.BACKENDS,
    *_pgvector.BACKENDS,
    *_pinecone.BACKENDS,
    *_weaviate.BACKENDS,
    *_milvus.BACKENDS,
]
