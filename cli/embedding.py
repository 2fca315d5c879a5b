"""Which embedder the CLI uses: the collection's own, the one asked for, or the best available."""

from __future__ import annotations

import importlib
import os
from typing import Any

from vecbridge.core import Embedder, VectorStore, embedder_from_fingerprint, load_embedder
from vecbridge.core.errors import VecbridgeError

__all__ = ["default_embedder", "resolve_embedder"]


def _local_model_available() -> bool:
    try:
        module = importlib.import_module("vecbridge.embedders.local")
    except ImportError:
        return False
    check = getattr(module, "local_model_available", None)
    try:
        return bool(check()) if callable(check) else False
    except ImportError:  # a half-installed torch or sentence-transformers: use the next embedder
        return False


def default_embedder(dimension: int | None = None) -> tuple[Embedder, str]:
    """Gemini when an API key is set, else a local sentence-transformers model when one is
    installed, else the offline hashing embedder. Returns the embedder and why it was picked."""
    options: dict[str, Any] = {"dimension": dimension} if dimension else {}
    if os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY"):
        try:
            return load_embedder("gemini", **options), "Gemini (an API key is set)"
        except VecbridgeError as exc:
            reason = f"Gemini unavailable: {exc}"
    else:
        reason = "no GEMINI_API_KEY"
    if _local_model_available():
        return load_embedder("sentence-transformers"), f"local sentence-transformers model ({reason})"
    return (
        load_embedder("hashing", **options),
        f"offline hashing embedder ({reason}, no local model installed; lexical, not semantic)",
    )


def resolve_embedder(
    store: VectorStore, collection: str, name: str | None, dimension: int | None
) -> tuple[Embedder, str]:
    """The embedder for ``collection``: the one recorded on it if it exists, else ``name``,
    else :func:`default_embedder`. A conflict with the recorded one is caught by
    ``Collection.open`` (EmbedderMismatch) before anything is written."""
    if store.has_collection(collection) and name is None:
        spec = store.describe_collection(collection)
        if spec.embedder is not None:
            return embedder_from_fingerprint(spec.embedder), f"the collection's embedder {spec.embedder.describe()}"
        if dimension is None:
            dimension = spec.dimension
    if name is not None:
        options: dict[str, Any] = {"dimension": dimension} if dimension else {}
        return load_embedder(name, **options), f"{name} (asked for)"
    return default_embedder(dimension)
