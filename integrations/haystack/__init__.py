"""Haystack adapters (``pip install 'vecbridge[haystack]'``).

- :class:`VecbridgeDocumentStore`: Haystack's ``DocumentStore`` protocol (plus count/delete/update
  by filter and embedding retrieval, sync and async) over a collection of any vecbridge store.
- :class:`VecbridgeEmbeddingRetriever`: the retriever component for it.
- :func:`translate_filters`: Haystack filters -> vecbridge's portable filter AST.
"""

from vecbridge.core.errors import MissingExtra

try:
    import haystack  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingExtra("vecbridge.integrations.haystack", "haystack", exc) from exc

from .document_store import VecbridgeDocumentStore
from .documents import PLACEHOLDER_KEY, MissingEmbedding
from .filters import HaystackFilterError, UnsupportedHaystackFilter, translate_filters
from .retriever import VecbridgeEmbeddingRetriever

__all__ = [
    "PLACEHOLDER_KEY",
    "HaystackFilterError",
    "MissingEmbedding",
    "UnsupportedHaystackFilter",
    "VecbridgeDocumentStore",
    "VecbridgeEmbeddingRetriever",
    "translate_filters",
]
