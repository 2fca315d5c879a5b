"""The DDL of the pgvector connector: collection tables, their indexes, the catalog, and the
per-metric distance operators.

A collection is one table (layout format 2)::

    [tenant  text COLLATE "C" NOT NULL,]       multi-tenant collections: part of the key
    id       text COLLATE "C" NOT NULL,        the user's id, as is
    embedding vector(d) | halfvec(d) NOT NULL,
    text     text,
    metadata json NOT NULL,                    exactly as written (json keeps the text: -0.0, 1e16)
    dates    jsonb,                            core.dates.date_shadow(metadata): instants of date strings
    fields   jsonb GENERATED (metadata::jsonb), what filters read, GIN-indexed
    [search  tsvector GENERATED (to_tsvector('simple', text)),]   hybrid collections, GIN-indexed
    PRIMARY KEY ([tenant,] id)

``metadata`` is ``json``, not ``jsonb``: jsonb stores numbers as ``numeric``, which has no negative
zero and prints a float without a fraction (``1e16``, ``1e308``) as an integer, so those would not
come back as written. ``fields`` (the same document as jsonb) serves the filters, whose comparisons
are numeric and exact.

Keyword search uses the ``simple`` text-search configuration: it lowercases and keeps every word
whole (no stemming, no stop words, no language), so part numbers and codes such as ``XK-7741`` or
``E-1042`` match exactly, whatever the language of the text.

Identifiers are validated upstream and composed with ``psycopg.sql.Identifier``. DDL cannot take
parameters for type modifiers (``vector(768)``) or index options (``WITH (m = 16)``): those few
integers are checked to be ``int`` and rendered with ``sql.Literal``, never by string formatting.
"""

from __future__ import annotations

import hashlib

from psycopg import sql

from vecbridge.core.models import CollectionSpec, Metric

from .options import CollectionLayout

__all__ = [
    "CATALOG_TABLE",
    "RESERVED_PREFIX",
    "STAGE_TABLE",
    "TEXT_SEARCH_CONFIG",
    "Operators",
    "TableNames",
    "ann_index_sql",
    "catalog_ddl",
    "catalog_upgrade_ddl",
    "create_table_sql",
    "operators",
    "stage_ddl",
    "stage_table",
    "table_index_sql",
]

#: Collection names with this prefix would clash with the connector's own tables.
RESERVED_PREFIX = "vecbridge_"
CATALOG_TABLE = "vecbridge_collections"
#: Prefix of the per-session staging tables (one for vector, one for halfvec collections).
STAGE_TABLE = "vecbridge_stage"
TEXT_SEARCH_CONFIG = "simple"


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
        self.fields_index_name = f"{stem}_meta"
        self.search_index_name = f"{stem}_text"
        self.catalog = sql.Identifier(schema, CATALOG_TABLE)
        #: Key of the advisory lock that coordinates bulk loads and index builds of this collection.
        self.lock_key = int.from_bytes(
            hashlib.sha1(f"vecbridge-load:{schema}.{collection}".encode()).digest()[:8], "big", signed=True
        )


def catalog_ddl(schema: str) -> sql.Composed:
    return sql.SQL(
        "CREATE TABLE IF NOT EXISTS {} ("
        ' name text COLLATE "C" PRIMARY KEY,'
        " spec jsonb NOT NULL,"  # CollectionSpec.to_dict(): dimension, metric, embedder fingerprint ...
        " layout jsonb NOT NULL,"  # CollectionLayout.to_dict(): column type and index parameters
        " index_state text NOT NULL DEFAULT 'ready',"  # 'pending': the vector index is still to be built
        " created_at timestamptz NOT NULL DEFAULT now())"
    ).format(sql.Identifier(schema, CATALOG_TABLE))


def catalog_upgrade_ddl(schema: str) -> sql.Composed:
    """Bring a catalog made by an earlier version up to date (idempotent)."""
    return sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS index_state text NOT NULL DEFAULT 'ready'").format(
        sql.Identifier(schema, CATALOG_TABLE)
    )


def create_table_sql(names: TableNames, spec: CollectionSpec, layout: CollectionLayout) -> sql.Composed:
    # ids (and tenants) sort and compare byte-wise (COLLATE "C"): scan cursors are then independent
    # of the database's locale, and the key's index is cheaper than under a linguistic collation.
    storage, dim = _checked_storage(layout.storage), _checked_int(spec.dimension)
    column_type = sql.SQL("{}({})").format(sql.SQL(storage), sql.Literal(dim))
    tenant = sql.SQL(' tenant text COLLATE "C" NOT NULL,') if spec.multi_tenant else sql.SQL("")
    search = (
        sql.SQL(" search tsvector GENERATED ALWAYS AS (to_tsvector({}, coalesce(text, ''))) STORED,").format(
            sql.Literal(TEXT_SEARCH_CONFIG)
        )
        if spec.hybrid
        else sql.SQL("")
    )
    key = sql.SQL("tenant, id") if spec.multi_tenant else sql.SQL("id")
    return sql.SQL(
        "CREATE TABLE {} ({}"
        ' id text COLLATE "C" NOT NULL,'
        " embedding {} NOT NULL,"
        " text text,"
        " metadata json NOT NULL DEFAULT '{{}}'::json,"
        " dates jsonb,"
        " fields jsonb GENERATED ALWAYS AS (metadata::jsonb) STORED,{}"
        " PRIMARY KEY ({}))"
    ).format(names.table, tenant, column_type, search, key)


def table_index_sql(names: TableNames, spec: CollectionSpec) -> list[sql.Composed]:
    """The GIN indexes every collection has: on ``fields`` (filters) and on ``search`` (hybrid)."""
    # jsonb_path_ops: smaller and faster than the default jsonb_ops for the SQL/JSON path tests
    # ($eq/$in) the filters compile to.
    out = [
        sql.SQL("CREATE INDEX {} ON {} USING gin (fields jsonb_path_ops)").format(
            sql.Identifier(names.fields_index_name), names.table
        )
    ]
    if spec.hybrid:
        out.append(
            sql.SQL("CREATE INDEX {} ON {} USING gin (search)").format(
                sql.Identifier(names.search_index_name), names.table
            )
        )
    return out


def ann_index_sql(
    names: TableNames, metric: Metric, layout: CollectionLayout, *, concurrently: bool = False
) -> sql.Composed | None:
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
    return sql.SQL("CREATE INDEX {}{} ON {} USING {} (embedding {}) WITH ({})").format(
        sql.SQL("CONCURRENTLY ") if concurrently else sql.SQL(""),
        sql.Identifier(names.ann_index_name),
        names.table,
        sql.SQL(layout.index),
        opclass,
        params,
    )


def stage_table(storage: str) -> sql.Identifier:
    """The session's staging table for collections stored as ``storage`` (vector or halfvec)."""
    return sql.Identifier("pg_temp", f"{STAGE_TABLE}_{_checked_storage(storage)}")


def stage_ddl(storage: str) -> sql.Composed:
    # Temporary: private to the session, no WAL, emptied at every commit (ON COMMIT DELETE ROWS).
    # The column type has no dimension, so one table serves every collection of that type.
    return sql.SQL(
        "CREATE TEMPORARY TABLE IF NOT EXISTS {} "
        "(tenant text, id text, embedding {}, text text, metadata json, dates jsonb) ON COMMIT DELETE ROWS"
    ).format(sql.Identifier(f"{STAGE_TABLE}_{storage}"), sql.SQL(_checked_storage(storage)))


def _checked_storage(storage: str) -> str:
    if storage not in ("vector", "halfvec"):
        raise ValueError(f"unknown vector storage {storage!r}")
    return storage


def _checked_int(value: int | None) -> int:
    """DDL integers are rendered as literals: make sure they are plain ints (never text)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an int for DDL, got {value!r}")
    return value
