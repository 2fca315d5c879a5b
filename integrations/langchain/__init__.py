"""LangChain adapters (``pip install 'vecbridge[langchain]'``).

- :class:`VecbridgeVectorStore`: a LangChain ``VectorStore`` over a collection of any vecbridge
  store, with a LangChain ``Embeddings`` or a vecbridge embedder.
- :class:`VecbridgeEmbeddings`: any vecbridge embedder as a LangChain ``Embeddings``.
"""

from vecbridge.core.errors import MissingExtra

try:
    import langchain_core  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingExtra("vecbridge.integrations.langchain", "langchain", exc) from exc

from .embeddings import VecbridgeEmbeddings
from .vectorstore import VecbridgeVectorStore

__all__ = ["VecbridgeEmbeddings", "VecbridgeVectorStore"]
