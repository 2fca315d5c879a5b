"""Connector and embedder registry, after fsspec's: a name maps to ``"module:Class"`` plus the
pip extra that provides it, imported lazily on first use. The built-ins are declared here, once;
third-party packages add their own through entry points (groups ``vecbridge.connectors`` and
``vecbridge.embedders``) or at run time with :func:`register_connector` / :func:`register_embedder`.

A connector class is a *driver* (see ``driver.py``) with ``from_url(url: str, **options)``, and
optionally ``async_from_url`` for a native async driver; :func:`connect` wraps it in a
:class:`~vecbridge.core.store.Store`, :func:`connect_async` in an ``AsyncStore``. An embedder
class is called with keyword options and provides ``from_fingerprint(fingerprint)``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, cast

from .async_store import AsyncStore
from .embedders import Embedder
from .errors import ConnectorNotFound, InvalidInput, MissingExtra
from .models import EmbedderFingerprint
from .retry import RetryPolicy
from .store import Store

__all__ = [
    "available_connectors",
    "available_embedders",
    "connect",
    "connect_async",
    "embedder_from_fingerprint",
    "load_embedder",
    "register_connector",
    "register_embedder",
]

CONNECTOR_GROUP = "vecbridge.connectors"
EMBEDDER_GROUP = "vecbridge.embedders"


@dataclass(frozen=True)
class Entry:
    target: str  # "package.module:Class"
    extra: str | None  # pip extra that installs its dependencies
    loaded: Any = None  # a class registered as an object (register_connector(name, cls))


_CONNECTORS: dict[str, Entry] = {
    "qdrant+edge": Entry("vecbridge.connectors.qdrant:EdgeDriver", None),  # qdrant-edge-py is a core dependency
    "qdrant": Entry("vecbridge.connectors.qdrant:QdrantDriver", "qdrant"),
    "qdrants": Entry("vecbridge.connectors.qdrant:QdrantDriver", "qdrant"),
    "qdrant+local": Entry("vecbridge.connectors.qdrant:QdrantDriver", "qdrant"),
    "pgvector": Entry("vecbridge.connectors.pgvector:PgVectorDriver", "pgvector"),
    "pgvector+embedded": Entry("vecbridge.connectors.pgvector:PgVectorDriver", "pgvector"),
    "weaviate": Entry("vecbridge.connectors.weaviate:WeaviateDriver", "weaviate"),
    "weaviates": Entry("vecbridge.connectors.weaviate:WeaviateDriver", "weaviate"),
    "weaviate+cloud": Entry("vecbridge.connectors.weaviate:WeaviateDriver", "weaviate"),
    "pinecone": Entry("vecbridge.connectors.pinecone:PineconeDriver", "pinecone"),
    "pinecone+local": Entry("vecbridge.connectors.pinecone:PineconeDriver", "pinecone"),
    "milvus": Entry("vecbridge.connectors.milvus:MilvusDriver", "milvus"),
    "milvus+lite": Entry("vecbridge.connectors.milvus:MilvusDriver", "milvus"),
    "memory": Entry("vecbridge.testing.memory:MemoryDriver", None),
}

_EMBEDDERS: dict[str, Entry] = {
    "hashing": Entry("vecbridge.embedders.hashing:HashingEmbedder", None),
    "gemini": Entry("vecbridge.embedders.gemini:GeminiEmbedder", "gemini"),
    "sentence-transformers": Entry("vecbridge.embedders.local:SentenceTransformerEmbedder", "local"),
}

_entry_points_loaded = False


def _load_entry_points() -> None:
    """Add third-party registrations once; built-in names win over entry points of the same name."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for group, table in ((CONNECTOR_GROUP, _CONNECTORS), (EMBEDDER_GROUP, _EMBEDDERS)):
        for ep in entry_points(group=group):
            table.setdefault(ep.name.lower(), Entry(ep.value, None))


def register_connector(scheme: str, target: str | type, *, extra: str | None = None, clobber: bool = False) -> None:
    """Register ``scheme`` -> a driver class, as ``"module:Class"`` (imported on first use) or the
    class itself, at run time."""
    _register(_CONNECTORS, scheme, target, extra, clobber)


def register_embedder(name: str, target: str | type, *, extra: str | None = None, clobber: bool = False) -> None:
    """Register embedder ``name`` -> ``"module:Class"`` or the class itself, at run time."""
    _register(_EMBEDDERS, name, target, extra, clobber)


def _register(table: dict[str, Entry], name: str, target: str | type, extra: str | None, clobber: bool) -> None:
    _load_entry_points()
    key = name.lower()
    loaded = None
    if isinstance(target, type):
        loaded, target = target, f"{target.__module__}:{target.__qualname__}"
    elif not isinstance(target, str) or ":" not in target:
        raise InvalidInput(f"target must be a class or look like 'package.module:Class', got {target!r}")
    if key in table and not clobber and table[key].target != target:
        raise InvalidInput(f"{name!r} is already registered to {table[key].target}; pass clobber=True to replace it")
    table[key] = Entry(target, extra, loaded)


def available_connectors() -> dict[str, str]:
    """URL scheme -> "module:Class" of every known connector."""
    _load_entry_points()
    return {k: v.target for k, v in sorted(_CONNECTORS.items())}


def available_embedders() -> dict[str, str]:
    """Name -> "module:Class" of every known embedder."""
    _load_entry_points()
    return {k: v.target for k, v in sorted(_EMBEDDERS.items())}


def _import(entry: Entry, what: str) -> Any:
    if entry.loaded is not None:
        return entry.loaded
    module_name, _, attr = entry.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except MissingExtra:
        raise
    except ImportError as exc:
        if entry.extra and not (exc.name or "").startswith(module_name):
            raise MissingExtra(what, entry.extra, exc) from exc
        raise
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ConnectorNotFound(f"{entry.target} does not exist (registered for {what})") from None


def _driver_class(url: str) -> Any:
    from .urls import parse_store_url

    parsed = parse_store_url(url)
    _load_entry_points()
    entry = _CONNECTORS.get(parsed.scheme)
    if entry is None:
        known = ", ".join(sorted(_CONNECTORS))
        raise ConnectorNotFound(
            f"no connector for scheme {parsed.scheme!r}; known schemes: {known}. "
            "Third-party connectors register under the 'vecbridge.connectors' entry point group"
        )
    return _import(entry, f"the {parsed.scheme!r} connector")


def _retry_option(options: dict[str, Any]) -> RetryPolicy | None:
    retry = options.pop("retry", None)
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise InvalidInput(f"retry must be a vecbridge RetryPolicy, got {type(retry).__name__}")
    return retry


def connect(url: str, **options: Any) -> Store:
    """Open the store at ``url``; the scheme picks the connector. ``retry=RetryPolicy(...)``
    replaces the retry policy; every other option goes to the connector.

    >>> from vecbridge.core import connect
    >>> store = connect("memory://")
    >>> store.list_collections()
    []
    """
    retry = _retry_option(options)
    driver = _driver_class(url).from_url(url, **options)
    return Store(driver, retry=retry)


def connect_async(url: str, **options: Any) -> AsyncStore:
    """As :func:`connect`, for asyncio: an ``AsyncStore`` on the connector's native async driver,
    or its sync driver in worker threads where the store has no async client."""
    retry = _retry_option(options)
    cls = _driver_class(url)
    factory = getattr(cls, "async_from_url", None)
    driver = factory(url, **options) if factory is not None else cls.from_url(url, **options)
    return AsyncStore(driver, retry=retry)


def load_embedder(name: str, **options: Any) -> Embedder:
    """Build the embedder registered as ``name`` (``hashing``, ``gemini``, ``sentence-transformers``)."""
    _load_entry_points()
    entry = _EMBEDDERS.get(name.lower())
    if entry is None:
        known = ", ".join(sorted(_EMBEDDERS))
        raise ConnectorNotFound(f"no embedder named {name!r}; known embedders: {known}")
    cls = _import(entry, f"the {name!r} embedder")
    return cast(Embedder, cls(**options))


def embedder_from_fingerprint(fingerprint: EmbedderFingerprint) -> Embedder:
    """Rebuild the embedder a collection was made with (its API key comes from the environment)."""
    _load_entry_points()
    entry = _EMBEDDERS.get(fingerprint.provider.lower())
    if entry is None:
        raise ConnectorNotFound(
            f"the collection was embedded with {fingerprint.describe()}, but no embedder named "
            f"{fingerprint.provider!r} is installed"
        )
    cls = _import(entry, f"the {fingerprint.provider!r} embedder")
    return cast(Embedder, cls.from_fingerprint(fingerprint))
