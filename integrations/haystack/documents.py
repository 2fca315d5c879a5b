"""Haystack ``Document`` <-> vecbridge ``Record``.

``id`` -> ``Record.id``, ``content`` -> ``Record.text``, ``meta`` -> ``Record.metadata``,
``embedding`` -> ``Record.vector``. A blank ``content`` is stored as no text and comes back as
``None``. ``blob`` and ``sparse_embedding`` have no place in a vecbridge record and are refused
rather than dropped.

Documents without an embedding: every vecbridge record needs a vector of the collection's
dimension. They are refused unless the store was built with ``missing_embeddings="placeholder"``;
then they get :func:`placeholder_vector` (the first unit vector) and the metadata flag
``PLACEHOLDER_KEY``, which is removed again on reading (the document comes back with
``embedding=None``) and keeps them out of embedding retrieval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from haystack.dataclasses import Document

from vecbridge.core.errors import InvalidInput
from vecbridge.core.models import Record

__all__ = ["PLACEHOLDER_KEY", "MissingEmbedding", "placeholder_vector", "to_document", "to_record"]

#: Metadata flag of documents stored without an embedding (placeholder mode).
PLACEHOLDER_KEY = "vecbridge_no_embedding"


class MissingEmbedding(InvalidInput):
    """A document has no embedding and the store does not store placeholders."""


def placeholder_vector(dimension: int) -> list[float]:
    """The vector stored for documents without an embedding: ``[1, 0, 0, ...]``.

    Not zeros, which cosine collections and Pinecone reject. Its value never matters: flagged
    documents are excluded from embedding retrieval.
    """
    return [1.0] + [0.0] * (dimension - 1)


def to_record(document: Document, dimension: int | None, *, placeholders: bool) -> Record:
    """The record for ``document``; ``dimension`` is needed only for a placeholder vector."""
    if document.blob is not None:
        raise InvalidInput(
            f"document {document.id!r} has a blob: vecbridge stores text, metadata and a dense vector, "
            "not binary data. Keep the blob elsewhere and put a reference to it in the metadata"
        )
    if document.sparse_embedding is not None:
        raise InvalidInput(
            f"document {document.id!r} has a sparse embedding, which vecbridge does not store: "
            "drop it (sparse_embedding=None) before writing"
        )
    if PLACEHOLDER_KEY in document.meta:
        raise InvalidInput(f"document {document.id!r}: the metadata key {PLACEHOLDER_KEY!r} is reserved by vecbridge")
    metadata: dict[str, Any] = dict(document.meta)
    vector: Sequence[float]
    if document.embedding is not None:
        vector = document.embedding
    elif not placeholders:
        raise MissingEmbedding(
            f"document {document.id!r} has no embedding: embed documents before writing them (e.g. with a "
            "Haystack DocumentEmbedder), or build the store with missing_embeddings='placeholder' to keep "
            "them without one (they are then left out of embedding retrieval)"
        )
    elif dimension is None:
        raise MissingEmbedding(
            f"document {document.id!r} has no embedding and the collection's dimension is not known yet: "
            "pass dimension=... to the document store, or write a document with an embedding first"
        )
    else:
        vector = placeholder_vector(dimension)
        metadata[PLACEHOLDER_KEY] = True
    text = document.content if isinstance(document.content, str) and document.content.strip() else None
    return Record(document.id, vector, text, metadata)


def to_document(
    record_id: str,
    text: str | None,
    metadata: Mapping[str, Any],
    vector: Sequence[float] | None,
    score: float | None = None,
) -> Document:
    """The Haystack document of a stored record (or hit)."""
    meta = dict(metadata)
    is_placeholder = meta.pop(PLACEHOLDER_KEY, None) is True
    embedding = None if is_placeholder or vector is None else [float(x) for x in vector]
    return Document(id=record_id, content=text, meta=meta, embedding=embedding, score=score)
