"""LlamaIndex adapters (``pip install 'vecbridge[llamaindex]'``).

- :class:`VecbridgeVectorStore`: a LlamaIndex vector store (``BasePydanticVectorStore``, sync and
  async) over a collection of any vecbridge store.
- :class:`VecbridgeEmbedding`: any vecbridge embedder as a LlamaIndex ``BaseEmbedding``.
- :func:`translate_filters`: LlamaIndex ``MetadataFilters`` -> vecbridge's portable filter AST.
"""

from vecbridge.core.errors import MissingExtra

try:
    import llama_index.core  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise MissingExtra("vecbridge.integrations.llamaindex", "llamaindex", exc) from exc

from .embedding import VecbridgeEmbedding
from .filters import translate_filters
from .vector_store import VecbridgeVectorStore

__all__ = ["VecbridgeEmbedding", "VecbridgeVectorStore", "translate_filters"]
