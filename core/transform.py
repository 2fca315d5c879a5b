"""Vector changes applied while copying: Matryoshka truncation, or re-embedding from the text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .embedders import Embedder
from .errors import InvalidInput
from .models import CollectionSpec, EmbedderFingerprint, Record

__all__ = ["MATRYOSHKA_MODELS", "RecordTransform", "re_embed", "truncate_renormalise"]

#: Models trained so that a prefix of the vector is itself a good embedding (Matryoshka
#: Representation Learning); truncating and re-normalising them keeps most retrieval quality.
MATRYOSHKA_MODELS = (
    "gemini-embedding-001",
    "gemini-embedding-2",
    "text-embedding-3-small",
    "text-embedding-3-large",
    "nomic-embed-text-v1.5",
    "mxbai-embed-large-v1",
)

RecordTransform = Callable[[list[Record]], list[Record]]


def _is_matryoshka(fp: EmbedderFingerprint | None) -> bool:
    return fp is not None and any(fp.model.endswith(m) for m in MATRYOSHKA_MODELS)


def truncate_renormalise(
    spec: CollectionSpec, dimension: int, *, force: bool = False
) -> tuple[CollectionSpec, RecordTransform]:
    """Keep the first ``dimension`` components of every vector and scale it back to unit length.

    Only valid for Matryoshka models: for any other model the prefix is not an embedding, so this
    refuses unless ``force`` (the caller knows better) — use re-embedding instead.
    """
    if not 1 <= dimension < spec.dimension:
        raise InvalidInput(
            f"--dimension must be smaller than the source's {spec.dimension} to truncate; got {dimension}"
        )
    if not force and not _is_matryoshka(spec.embedder):
        model = spec.embedder.describe() if spec.embedder else "an unknown model"
        raise InvalidInput(
            f"collection {spec.name!r} was embedded with {model}, which is not known to support "
            "truncation (Matryoshka embeddings such as gemini-embedding-001 do). Re-embed from the "
            "stored text instead, or force truncation if you know the model allows it"
        )
    fp = spec.embedder
    new_fp = (
        EmbedderFingerprint(fp.provider, fp.model, dimension, fp.task, dict(fp.options)) if fp is not None else None
    )
    new_spec = CollectionSpec(spec.name, dimension, spec.metric, new_fp)

    def apply(records: list[Record]) -> list[Record]:
        if not records:
            return records
        mat = np.asarray([r.vector for r in records], dtype=np.float64)[:, :dimension]
        norms = np.linalg.norm(mat, axis=1, keepdims=True)
        mat = mat / np.where(norms == 0, 1.0, norms)
        return [replace(r, vector=mat[i].tolist()) for i, r in enumerate(records)]

    return new_spec, apply


def re_embed(spec: CollectionSpec, embedder: Embedder) -> tuple[CollectionSpec, RecordTransform]:
    """Recompute every vector from the record's stored text with ``embedder``."""
    new_spec = CollectionSpec(spec.name, embedder.dimension, spec.metric, embedder.fingerprint)

    def apply(records: list[Record]) -> list[Record]:
        missing = [r.id for r in records if not r.text]
        if missing:
            raise InvalidInput(f"cannot re-embed records without text: {missing[:10]}")
        vectors = embedder.embed_documents([r.text or "" for r in records])
        return [replace(r, vector=v) for r, v in zip(records, vectors, strict=True)]

    return new_spec, apply
