"""The ``hashing`` embedder: offline, deterministic, lexical (not semantic)."""

from .embedder import HashingEmbedder

__all__ = ["HashingEmbedder"]
