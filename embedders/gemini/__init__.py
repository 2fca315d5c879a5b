"""The ``gemini`` embedder: Google's Gemini embeddings through the google-genai SDK.

Needs the ``gemini`` extra (``pip install 'vecbridge[gemini]'``); importing this package without
it raises ``MissingExtra`` naming the command.
"""

from vecbridge.core.errors import MissingExtra

try:
    import google.genai  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("the Gemini embedder", "gemini", exc) from exc

from .batch_api import BatchJobPending, BatchProgress
from .embedder import GeminiEmbedder, default_query_task
from .errors import GeminiAPIError, GeminiTransientError, MalformedReply
from .retrying import GeminiRetryPolicy

__all__ = [
    "BatchJobPending",
    "BatchProgress",
    "GeminiAPIError",
    "GeminiEmbedder",
    "GeminiRetryPolicy",
    "GeminiTransientError",
    "MalformedReply",
    "default_query_task",
]
