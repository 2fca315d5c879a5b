"""Pinecone connector: Pinecone cloud (``pinecone://``, key from ``PINECONE_API_KEY``) and
Pinecone Local (``pinecone+local://localhost:5080``), through the official ``pinecone`` SDK over
REST, sync (``PineconeDriver``) and asyncio (``AsyncPineconeDriver``, ``connect_async``). Needs
``pip install 'vecbridge[pinecone]'`` (pinecone 9.x or 10.x; Pinecone Local needs 9.x, see
``sdk``). URLs, storage rules, name mapping and filter semantics: README.md next to this file."""

from vecbridge.core.errors import MissingExtra

try:
    import pinecone  # noqa: F401
    from pinecone.errors import exceptions as _sdk_exceptions  # noqa: F401  (absent before SDK 9)
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("the pinecone connector (pinecone>=9,<11)", "pinecone", exc) from exc

from .drivers import AsyncPineconeDriver, PineconeDriver
from .errors import QuotaExceeded

__all__ = ["AsyncPineconeDriver", "PineconeDriver", "QuotaExceeded"]
