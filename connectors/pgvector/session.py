"""Preparing a database once (pgvector, the schema, the catalog) and each new connection.

``prepare_database`` runs once per driver, before the pool opens: it makes sure the extension is
installed (creating it when the role may), the schema and the catalog exist, and reads what the
server runs (pgvector's version, its default ``hnsw.ef_search``). ``session_setup`` is the SQL each
pooled connection runs once: session search settings and the staging tables of upserts.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from vecbridge.core.errors import StoreError

from .catalog import DDL_LOCK
from .options import CollectionLayout, PgVectorOptions
from .plans import Plan, Query, Work
from .schema import CATALOG_TABLE, catalog_ddl, catalog_upgrade_ddl, stage_ddl

__all__ = ["ServerInfo", "prepare_database", "session_setup"]

#: pgvector's own default of hnsw.ef_search.
EF_SEARCH_DEFAULT = 40
_HOW = (
    "Ask a database owner to run CREATE EXTENSION vector; in this database, or install pgvector "
    "(https://github.com/pgvector/pgvector#installation). Without a server, use pgvector+embedded:///path"
)


@dataclass(frozen=True)
class ServerInfo:
    """What the server runs: pgvector's version and the session default of ``hnsw.ef_search``
    (postgresql.conf may change pgvector's 40; queries raise it to k when needed, never lower it)."""

    version: tuple[int, ...]
    ef_search: int

    def check_layout(self, layout: CollectionLayout) -> None:
        have = ".".join(map(str, self.version))
        if layout.storage == "halfvec" and self.version < (0, 7):
            raise StoreError(f"halfvec storage needs pgvector >= 0.7 (this server has {have}): upgrade pgvector")
        if layout.index == "hnsw" and self.version < (0, 5):
            raise StoreError(
                f"HNSW indexes need pgvector >= 0.5 (this server has {have}): upgrade, or use index='ivfflat'"
            )


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def prepare_database(options: PgVectorOptions, where: str) -> Work[ServerInfo]:
    return Work(_prepare(options, where), transaction=True)


def _prepare(options: PgVectorOptions, where: str) -> Plan[ServerInfo]:
    # Serialise with other processes bootstrapping the same database (CREATE ... IF NOT EXISTS is
    # not race-free in PostgreSQL).
    yield Query("SELECT pg_advisory_xact_lock(%s)", [DDL_LOCK], "none")
    version = yield from _extension(options, where)
    if options.schema != "public":
        exists = yield Query("SELECT 1 FROM pg_namespace WHERE nspname = %s", [options.schema], "one")
        if not exists:
            yield Query(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(options.schema)), fetch="none")
    catalog = sql.Identifier(options.schema, CATALOG_TABLE).as_string(None)
    # Look first: CREATE TABLE IF NOT EXISTS needs CREATE on the schema even when the table exists,
    # and a role that only reads and writes collections may not have it.
    found = yield Query("SELECT to_regclass(%s) IS NOT NULL", [catalog], "one")
    if not found[0]:
        yield Query(catalog_ddl(options.schema), fetch="none")
    else:
        upgraded = yield Query(
            "SELECT 1 FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'index_state'", [catalog], "one"
        )
        if not upgraded:
            yield Query(catalog_upgrade_ddl(options.schema), fetch="none")
    row = yield Query("SELECT current_setting('hnsw.ef_search', true)", fetch="one")
    return ServerInfo(version, int(row[0]) if row and row[0] else EF_SEARCH_DEFAULT)


def _extension(options: PgVectorOptions, where: str) -> Plan[tuple[int, ...]]:
    query = Query("SELECT extversion FROM pg_extension WHERE extname = 'vector'", fetch="one")
    row = yield query
    if row is not None:
        return _version(row[0])
    if not options.create_extension:
        raise StoreError(f"the pgvector extension is not installed in {where}. {_HOW}")
    available = yield Query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'", fetch="one")
    if available is None:
        raise StoreError(f"the pgvector extension is not available on the server of {where}. {_HOW}")
    try:
        yield Query("CREATE EXTENSION IF NOT EXISTS vector", fetch="none")
    except psycopg.errors.InsufficientPrivilege:
        raise StoreError(
            f"the pgvector extension is not installed in {where} and this role may not create it. {_HOW}"
        ) from None
    row = yield query
    return _version(row[0])


def session_setup(options: PgVectorOptions, server: ServerInfo) -> str:
    """One round trip of SQL for each new pooled connection (no parameters: every value is a
    checked choice or integer, rendered as a literal)."""
    statements: list[sql.Composable] = []
    if server.version >= (0, 8):
        statements.append(sql.SQL("SET hnsw.iterative_scan = {}").format(sql.Literal(options.iterative_scan)))
        # IVFFlat has no strict mode: relaxed is the closest to what was asked.
        ivfflat_mode = "off" if options.iterative_scan == "off" else "relaxed_order"
        statements.append(sql.SQL("SET ivfflat.iterative_scan = {}").format(sql.Literal(ivfflat_mode)))
    if options.ef_search is not None:
        statements.append(sql.SQL("SET hnsw.ef_search = {}").format(sql.Literal(options.ef_search)))
    statements.append(stage_ddl("vector"))
    if server.version >= (0, 7):
        statements.append(stage_ddl("halfvec"))
    return sql.SQL("; ").join(statements).as_string(None)
