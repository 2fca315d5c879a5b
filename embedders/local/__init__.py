"""The ``sentence-transformers`` embedder: a real semantic model, offline on this machine.

Importing this package is cheap (no torch): ``local_model_available()`` tells the CLI whether a
local model can be used. Building ``SentenceTransformerEmbedder`` needs the ``local`` extra
(``pip install 'vecbridge[local]'``) and raises ``MissingExtra`` naming it otherwise.
"""

from .embedder import SentenceTransformerEmbedder
from .model_sources import DEFAULT_MODEL, KNOWN_PACKAGES, ResolvedModel, local_model_available, resolve_model

__all__ = [
    "DEFAULT_MODEL",
    "KNOWN_PACKAGES",
    "ResolvedModel",
    "SentenceTransformerEmbedder",
    "local_model_available",
    "resolve_model",
]
