"""Milvus connector: a Milvus server (``milvus://host:19530``) or Milvus Lite, Milvus's engine in
this process (``milvus+lite:///path/to/milvus.db``). Needs ``pip install 'vecbridge[milvus]'``.

See ``options.py`` for URLs, ``schema.py`` for the layout of a collection, ``shadow.py`` and
``filters.py`` for how filters keep vecbridge's semantics, ``lite.py`` for the embedded server.
"""

from vecbridge.core.errors import MissingExtra

try:
    import pymilvus  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("the milvus connector", "milvus", exc) from exc

from .drivers import AsyncMilvusDriver, MilvusDriver

__all__ = ["AsyncMilvusDriver", "MilvusDriver"]
