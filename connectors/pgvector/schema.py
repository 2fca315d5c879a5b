"""The SQL of the pgvector connector: tables, indexes, the catalog, and per-metric operators.

Identifiers (schema, table and index names) are validated upstream and always composed with
``psycopg.sql.Identifier``. Values are bind parameters everywhere PostgreSQL allows them; DDL does
not (a type modifier such as ``vector(768)`` or an index's ``WITH (m = 16)`` cannot be a
parameter), so those few integers are checked to be ``int`` in range and rendered with
``sql.Literal``, never with string formatting.
"""

from __future__ import annotations

import hashlib

from psycopg import sql

from vecbridge.core.models import Metric

from .options import CollectionLayout

__all__ = [
    "CATALOG_TABLE",
    "STAGE_TABLE",
    "Operators",
    "RESERVED_PREFIX",
    "TableNames",
    "ann_index_sql",
    "any_exists_sql",
    "catalog_ddl",
    "copy_sql",
    "create_table_sql",
    "metadata_index_sql",
    "operators",
    "stage_ddl",
    "stage_table",
    "upsert_from_stage_sql",
]

#: Collection names with this prefix would clash with the connector's own tables.
RESERVED_PREFIX = "vecbridge_"
CATALOG_TABLE = "vecbridge_collections"
#: Prefix of the per-session staging tables (one for vector, one for halfvec collections).
STAGE_TABLE = "vecbridge_stage"


class Operators:
    """Distance operator, index operator class and distance -> score for one metric and type."""

    def __init__(self, operator: str, opclass: str, metric: Metric) -> None:
        self.operator = sql.SQL(operator)
        self.opclass = sql.SQL(opclass)
        self.metric = metric

    def score(self, distance: float) -> float:
        """pgvector distance -> the core score convention (see ``Metric``)."""
        if self.metric is Metric.COSINE:
            return 1.0 - distance  # <=> is cosine distance, 1 - cosine similarity
        return -distance  # <#> is the negated inner product; <-> the L2 distance, negated by convention


_OPERATOR = {Metric.COSINE: ("<=>", "cosine"), Metric.DOT: ("<#>", "ip"), Metric.EUCLIDEAN: ("<->", "l2")}


def operators(metric: Metric, storage: str) -> Operators:
    op, family = _OPERATOR[metric]
    return Operators(op, f"{storage}_{family}_ops", metric)


class TableNames:
    """Quoted names of one collection's table and indexes inside ``schema``.

    Index names are derived from the collection name plus a short hash, so they stay unique and
    within PostgreSQL's 63-byte identifier limit however long the collection name is.
    """

    def __init__(self, schema: str, collection: str) -> None:
        digest = hashlib.sha1(f"{schema}.{collection}".encode()).hexdigest()[:8]
        stem = f"{collection[:40]}_{digest}"
        self.schema = schema
        self.collection = collection
        self.table = sql.Identifier(schema, collection)
        self.ann_index_name = f"{stem}_ann"
        self.ann_index = sql.Identifier(schema, self.ann_index_name)
        self.metadata_index_name = f"{stem}_meta"
        self.catalog = sql.Identifier(schema, CATALOG_TABLE)


def catalog_ddl(schema: str) -> sql.Composed:
    return sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} ("
        " name text COLLATE \"C\" PRIMARY KEY,"
        " spec jsonb NOT NULL,"  # CollectionSpec.to_dict(): dimension, metric, embedder fingerprint
        " layout jsonb NOT NULL,"  # CollectionLayout.to_dict(): column type and index parameters
        " created_at timestamptz NOT NULL DEFAULT now())"
    ).format(sql.Identifier(schema, CATALOG_TABLE))


def create_table_sql(names: TableNames, dimension: int, layout: CollectionLayout) -> sql.Composed:
    # ids sort and compare byte-wise (COLLATE "C"): scan cursors are then independent of the
    # database's locale, and the primary key index is cheaper than under a linguistic collation.
    storage, dim = _checked_storage(layout.storage), _checked_int(dimension)
    column_type = sql.SQL("{}({})").format(sql.SQL(storage), sql.Literal(dim))
    return sql.SQL(
        "CREATE TABLE {} ("
        " id text COLLATE \"C\" PRIMARY KEY,"
        " embedding {} NOT NULL,"
        " text text,"
        " metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb)"
    ).format(names.table, column_type)


def metadata_index_sql(names: TableNames) -> sql.Composed:
    # jsonb_path_ops: smaller and faster than the default jsonb_ops for the containment (@>)
    # tests that $eq/$in compile to.
    return sql.SQL("CREATE INDEX {} ON {} USING gin (metadata jsonb_path_ops)").format(
        sql.Identifier(names.metadata_index_name), names.table
    )


def ann_index_sql(names: TableNames, metric: Metric, layout: CollectionLayout) -> sql.Composed | None:
    """CREATE INDEX for the collection's nearest-neighbour index, or None for exact search."""
    if layout.index == "none":
        return None
    opclass = operators(metric, layout.storage).opclass
    if layout.index == "hnsw":
        params = sql.SQL("m = {}, ef_construction = {}").format(
            sql.Literal(_checked_int(layout.m)), sql.Literal(_checked_int(layout.ef_construction))
        )
    else:
        params = sql.SQL("lists = {}").format(sql.Literal(_checked_int(layout.lists)))
    return sql.SQL("CREATE INDEX {} ON {} USING {} (embedding {}) WITH ({})").format(
        sql.Identifier(names.ann_index_name), names.table, sql.SQL(layout.index), opclass, params
    )


def stage_table(storage: str) -> sql.Identifier:
    """The session's staging table for collections stored as ``storage`` (vector or halfvec)."""
    return sql.Identifier("pg_temp", f"{STAGE_TABLE}_{storage}")


def stage_ddl(storage: str) -> sql.Composed:
    # Temporary: private to the session, no WAL, emptied at every commit (ON COMMIT DELETE ROWS).
    # The column type has no dimension, so one table serves every collection of that type.
    return sql.SQL(
        "CREATE TEMPORARY TABLE IF NOT EXISTS {} (id text, embedding {}, text text, metadata jsonb)"
        " ON COMMIT DELETE ROWS"
    ).format(sql.Identifier(f"{STAGE_TABLE}_{storage}"), sql.SQL(_checked_storage(storage)))


def copy_sql(target: sql.Composable) -> sql.Composed:
    return sql.SQL("COPY {} (id, embedding, text, metadata) FROM STDIN (FORMAT BINARY)").format(target)


def any_exists_sql(names: TableNames) -> sql.Composed:
    return sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE id = ANY(%s))").format(names.table)


def upsert_from_stage_sql(names: TableNames, layout: CollectionLayout) -> sql.Composed:
    # ORDER BY id: concurrent upserts of overlapping ids take row locks in the same order, which
    # avoids most deadlocks (those left are retried as TransientError).
    return sql.SQL(
        "INSERT INTO {} (id, embedding, text, metadata)"
        " SELECT id, embedding, text, metadata FROM {} ORDER BY id"
        " ON CONFLICT (id) DO UPDATE SET"
        " embedding = EXCLUDED.embedding, text = EXCLUDED.text, metadata = EXCLUDED.metadata"
    ).format(names.table, stage_table(layout.storage))


def _checked_storage(storage: str) -> str:
    if storage not in ("vector", "halfvec"):
        raise ValueError(f"unknown vector storage {storage!r}")
    return storage


def _checked_int(value: int | None) -> int:
    """DDL integers are rendered as literals: make sure they are plain ints (never text)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an int for DDL, got {value!r}")
    return value
