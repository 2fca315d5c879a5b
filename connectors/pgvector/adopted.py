"""Tables vecbridge did not create, read as collections (``Store.adopt``): a custom layout named
column by column, and the presets of LangChain ``PGVector``, LangChain ``PGVectorStore`` and
LlamaIndex ``PGVectorStore``.

``inspect`` reads the catalog once and checks everything the reads rely on, refusing what it
cannot read exactly (a missing column, a column that is not a pgvector ``vector``/``halfvec``, an
unknown LangChain collection, NULL or duplicate ids, NULL vectors, vectors of several dimensions,
a name that already is a vecbridge collection of the store); ``AdoptedPlans`` then builds the
reads (search, count, get, scan) with the same filter compiler as vecbridge's own collections,
run against the layout's metadata expression:

* ``id``: read as text (``id::text``). Ids of other types come back as PostgreSQL prints them (a
  uuid in lower case with hyphens, an integer in decimal) and ``get`` finds a record by exactly
  that text (``"01"`` is not the integer 1); scans go in the column's own order.
* ``metadata``: the JSON/jsonb column (NULL reads as ``{}``), with ``metadata_fields`` columns
  added under their column names (a NULL column adds nothing; a column wins over a key of the
  same name in the JSON column). Filters read exactly this document.
* dimension: the column's type modifier, else (an unconstrained ``vector``, as LangChain's
  ``PGVector`` makes) the one dimension of the rows in scope. Metric: the operator class of an
  HNSW/IVFFlat index on the column, else cosine (the default of all three tools).
* LlamaIndex: the keys it adds for itself (``LLAMAINDEX_PRIVATE_KEYS``) are left out of the
  metadata, and out of what filters see.
* Refused: date-range filters (no date shadow beside the metadata: ``UnsupportedFilter``) and
  keyword search (no text index).

Adopted tables are read-only here: vecbridge never writes a layout another tool has to read back.
Every name from the user is an ``sql.Identifier`` or a bind parameter, and every statement that
holds one goes with parameters (a dict, maybe empty), so its ``%`` escaping always applies.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from vecbridge.core.driver import Adoption, Batch, SearchMode, SearchRequest, Target, WriteResult
from vecbridge.core.errors import CollectionExists, CollectionNotFound, InvalidInput, StoreError, UnsupportedFeature
from vecbridge.core.filters import FilterNode
from vecbridge.core.models import CollectionSpec, Hit, Metric, Record, ScanPage

from .convert import hit_from_row, pack_vector, record_from_row
from .filters import compile_filter
from .options import CollectionLayout, SearchKnobs
from .plans import Plan, Query, Work
from .schema import operators
from .statements import DataPlans, filter_first

__all__ = ["AdoptedPlans", "inspect"]

#: Keys LlamaIndex adds to every node's metadata for its own use: the serialised node (whose text
#: is the ``text`` column) and its type, and two copies of ``ref_doc_id`` kept for other stores.
#: ``ref_doc_id`` itself stays: it links the node to its source document.
LLAMAINDEX_PRIVATE_KEYS = ("_node_content", "_node_type", "document_id", "doc_id")

_TEXT_IDS = frozenset({"text", "varchar", "name"})
_INTEGER_IDS = {"int2": 2**15, "int4": 2**31, "int8": 2**63}
_VECTOR_TYPES = frozenset({"vector", "halfvec"})
_METADATA_TYPES = frozenset({"json", "jsonb"})
_OPCLASS_METRIC = {"cosine": Metric.COSINE, "ip": Metric.DOT, "l2": Metric.EUCLIDEAN}
_INTEGER_TEXT = re.compile(r"-?(0|[1-9][0-9]*)")
#: The (id, vector, text, metadata) columns of each preset; any of them can be named otherwise.
_PRESET_COLUMNS: dict[str | None, tuple[str | None, ...]] = {
    "langchain": ("id", "embedding", "document", "cmetadata"),
    "langchain-pgvectorstore": ("langchain_id", "embedding", "content", "langchain_metadata"),
    "llamaindex": ("node_id", "embedding", "text", "metadata_"),
}


@dataclass(frozen=True)
class _Wanted:
    """The columns an adoption names, once its preset's defaults are filled in."""

    schema: str
    table: str
    id: str
    vector: str
    text: str | None
    metadata: str | None
    metadata_fields: tuple[str, ...] | None  # None: every other column (LangChain PGVectorStore)
    hidden: tuple[str, ...] = ()
    group: str | None = None


def _wanted(name: str, adoption: Adoption, schema: str) -> _Wanted:
    """The adoption's layout with its preset's defaults; what is missing is refused here."""
    if adoption.writable:
        raise UnsupportedFeature(
            "the pgvector connector adopts tables read-only: drop writable=True, and write with the tool that "
            "made the table, or migrate it into a vecbridge collection and write there"
        )
    preset = adoption.preset
    if preset == "haystack":
        raise UnsupportedFeature(
            "the 'haystack' preset is for Qdrant; for a Haystack PgvectorDocumentStore table adopt with "
            "preset=None, native='haystack_documents', id='id', vector='embedding', text='content', metadata='meta'"
        )
    if preset != "langchain" and adoption.group is not None:
        raise InvalidInput("group= names a LangChain PGVector collection: it goes with preset='langchain' only")
    if preset == "langchain" and adoption.group is None:
        raise InvalidInput("preset 'langchain' needs group=: the LangChain collection_name to adopt")
    native = adoption.native or ("langchain_pg_embedding" if preset == "langchain" else name)
    # "schema.table" splits at the first dot; a name without one is looked up in the store's schema.
    table_schema, dot, table = native.partition(".")
    if not dot:
        table_schema, table = schema, native
    if preset == "llamaindex":
        table = f"data_{table}"  # LlamaIndex's table_name is the table's name without this prefix
    defaults = _PRESET_COLUMNS.get(preset, (None, None, None, None))
    given = (adoption.id, adoption.vector, adoption.text, adoption.metadata)
    id_column, vector, text, metadata = (g if g is not None else d for g, d in zip(given, defaults, strict=True))
    if id_column is None or vector is None:
        raise InvalidInput("adopting a table without a preset needs id= and vector= (the id and vector columns)")
    fields: tuple[str, ...] | None = tuple(adoption.metadata_fields)
    if preset == "langchain-pgvectorstore" and not fields:
        fields = None  # every other column, as LangChain's metadata_columns
    return _Wanted(
        schema=table_schema,
        table=table,
        id=id_column,
        vector=vector,
        text=text,
        metadata=metadata,
        metadata_fields=fields,
        hidden=LLAMAINDEX_PRIVATE_KEYS if preset == "llamaindex" and adoption.metadata is None else (),
        group=adoption.group,
    )


@dataclass(frozen=True)
class _Column:
    name: str
    number: int
    type: str
    typmod: int
    not_null: bool


@dataclass
class AdoptedPlans:
    """The reads of one adopted table (see the module docstring)."""

    spec: CollectionSpec
    adoption: Adoption
    data: DataPlans
    table: sql.Identifier
    id: sql.Identifier
    id_kind: str  # "text", "uuid", "integer" or "other"
    vector: sql.Identifier
    layout: CollectionLayout
    text: sql.Composable
    metadata: sql.Composable  # what records carry (json/jsonb, or NULL)
    fields: sql.Composable  # the same document as jsonb, for filters
    nullable: bool  # ``fields`` may be NULL (a nullable metadata column read as is)
    scope: sql.Composable | None = None
    scope_params: dict[str, Any] = field(default_factory=dict)

    # ----- helpers ------------------------------------------------------------------------

    def _where(self, node: FilterNode | None, params: dict[str, Any], *extra: sql.Composable) -> sql.Composable:
        parts: list[sql.Composable] = [self.scope] if self.scope is not None else []
        params.update(self.scope_params)
        parts.extend(extra)
        cond = compile_filter(node, fields=self.fields, dates=None, nullable=self.nullable)
        if cond is not None:
            params.update(cond.params)
            parts.append(cond.clause)
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(parts) if parts else sql.SQL("")

    def _select(self, include_vectors: bool, *extra: sql.Composable) -> sql.Composed:
        columns = [sql.SQL("{}::text").format(self.id), self.text, self.metadata, *extra]
        if include_vectors:
            columns.append(sql.SQL("{}::vector").format(self.vector))
        return sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(columns), self.table)

    def _row(self, row: Sequence[Any]) -> tuple[Any, ...]:
        """A row with its metadata as a dict: NULL is ``{}``; anything but an object is refused."""
        value = row[2]
        if value is None:
            value = {}
        elif not isinstance(value, dict):
            raise StoreError(
                f"record {row[0]!r} of adopted collection {self.spec.name!r}: its metadata is a JSON "
                f"{type(value).__name__}, not an object: adopt the table without metadata= (or fix the row)"
            )
        return (row[0], row[1], value, *row[3:])

    # ----- reads --------------------------------------------------------------------------

    def search(self, target: Target, request: SearchRequest) -> Work[list[Hit]]:
        if request.mode is not SearchMode.DENSE:
            raise UnsupportedFeature(
                f"adopted collection {self.spec.name!r} has no keyword index: search it with mode='dense'"
            )
        knobs = SearchKnobs.parse(request.options) if request.options else SearchKnobs()
        settings = self.data._settings(self.layout, request.k, knobs)
        return Work(self._search(request, settings), target.name, transaction=bool(settings), pipeline=bool(settings))

    def _search(self, request: SearchRequest, settings: list[tuple[str, str]]) -> Plan[list[Hit]]:
        for name, value in settings:
            yield Query("SELECT set_config(%s, %s, true)", [name, value], "none")
        assert request.vector is not None
        ops = operators(self.spec.metric, self.layout.storage)
        params: dict[str, Any] = {"q": pack_vector(request.vector), "k": request.k}
        distance = sql.SQL("{} {} %(q)s::{} AS distance").format(
            self.vector, ops.operator, sql.SQL(self.layout.storage)
        )
        select, where = self._select(request.include_vectors, distance), self._where(request.filter, params)
        statement = sql.SQL("{}{} ORDER BY distance LIMIT %(k)s").format(select, where)
        rows = yield Query(statement, params, binary=True, prepare=False)
        if len(rows) < request.k and where != sql.SQL(""):
            # Short, maybe because the index scan gave up: the same search, filter first.
            rows = yield Query(filter_first(select, where), params, binary=True, prepare=False)
        rows.sort(key=lambda r: (r[3], r[0]))
        return [hit_from_row(self._row(r), ops, request.include_vectors) for r in rows]

    def count(self, target: Target, node: FilterNode | None) -> Work[int]:
        params: dict[str, Any] = {}
        statement = sql.SQL("SELECT count(*) FROM {}{}").format(self.table, self._where(node, params))
        return Work(_count(Query(statement, params, fetch="one")), target.name)

    def get(self, target: Target, ids: list[str], include_vectors: bool) -> Work[list[Record]]:
        typed = self._typed_ids(ids)
        if not typed:
            return Work(_nothing(), target.name)
        params: dict[str, Any] = {"ids": typed}
        column = self.id if self.id_kind != "other" else sql.SQL("{}::text").format(self.id)
        where = self._where(None, params, sql.SQL("{} = ANY(%(ids)s)").format(column))
        query = Query(self._select(include_vectors) + where, params, binary=True)
        return Work(self._records(query, include_vectors), target.name)

    def _typed_ids(self, ids: list[str]) -> list[Any]:
        """The ids as values of the id column's type. An id that is not exactly how PostgreSQL
        prints such a value can name no record (it would read back as another text), so it is left
        out instead of being cast to a record it does not name."""
        if self.id_kind == "uuid":
            return [uuid.UUID(i) for i in ids if _is_uuid_text(i)]
        if self.id_kind == "integer":
            return [int(i) for i in ids if _INTEGER_TEXT.fullmatch(i) and -(2**63) <= int(i) < 2**63]
        return list(ids)

    def _records(self, query: Query, include_vectors: bool) -> Plan[list[Record]]:
        rows = yield query
        return [record_from_row(self._row(r), include_vectors) for r in rows]

    def scan_page(
        self, target: Target, cursor: str | None, limit: int, include_vectors: bool, stop: str | None
    ) -> Work[ScanPage]:
        """Keyset pagination in the id column's own order. The cursor is the last id's text; an
        untyped parameter takes the column's type, so it compares as that type."""
        params: dict[str, Any] = {"after": cursor, "stop": stop, "n": limit + 1}
        bounds = [sql.SQL("{} > %(after)s").format(self.id)] if cursor is not None else []
        bounds += [sql.SQL("{} < %(stop)s").format(self.id)] if stop is not None else []
        # Qualified: a bare name in ORDER BY would pick the output column ``id::text`` (text order).
        statement = sql.SQL("{}{} ORDER BY {}.{} LIMIT %(n)s").format(
            self._select(include_vectors), self._where(None, params, *bounds), self.table, self.id
        )
        return Work(self._page(Query(statement, params, binary=True), limit, include_vectors), target.name)

    def _page(self, query: Query, limit: int, include_vectors: bool) -> Plan[ScanPage]:
        rows = yield query
        page = rows[:limit]
        records = [record_from_row(self._row(r), include_vectors) for r in page]
        return ScanPage(records, page[-1][0] if len(rows) > limit else None)

    # ----- writes (refused: adopted tables are read-only here) ---------------------------

    def _read_only(self) -> UnsupportedFeature:
        return UnsupportedFeature(
            f"adopted collection {self.spec.name!r} is read-only in the pgvector connector: "
            "migrate it into a vecbridge collection to write"
        )

    def write(self, target: Target, batch: Batch) -> Work[WriteResult]:
        raise self._read_only()

    def delete_ids(self, target: Target, ids: list[str]) -> Work[None]:
        raise self._read_only()

    def delete_filter(self, target: Target, node: FilterNode) -> Work[None]:
        raise self._read_only()


def _ident(*names: str) -> sql.Identifier:
    """A quoted identifier for a statement that always goes with parameters: psycopg then reads
    ``%`` in the statement as the start of a placeholder, so a name's ``%`` is written ``%%``."""
    return sql.Identifier(*(n.replace("%", "%%") for n in names))


def _literal(value: str) -> sql.Literal:
    """A string literal in a statement that always goes with parameters (see ``_ident``)."""
    return sql.Literal(value.replace("%", "%%"))


def _is_uuid_text(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _nothing() -> Plan[list[Record]]:
    return []
    yield  # a plan without statements


def _count(query: Query) -> Plan[int]:
    row = yield query
    return int(row[0]) if row else 0


# ----- inspection -------------------------------------------------------------------------------


def inspect(name: str, adoption: Adoption, schema: str, data: DataPlans) -> Plan[AdoptedPlans]:
    """Read the table's layout from the catalog and check it (see the module docstring)."""
    wanted = _wanted(name, adoption, schema)
    where = f"{wanted.schema}.{wanted.table}"
    ours = yield Query(
        sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE name = %s)").format(data.catalog.table), [name], "one"
    )
    if ours[0]:
        raise CollectionExists(
            f"collection {name!r} is a vecbridge collection of this store: adopt {where!r} under another name"
        )
    found = yield Query(
        "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
        [wanted.schema, wanted.table],
        "one",
    )
    if found is None:
        llamaindex = adoption.preset == "llamaindex"
        hint = " (native= takes LlamaIndex's table_name, without its data_ prefix)" if llamaindex else ""
        raise CollectionNotFound(
            f"collection {name!r}: no table or view {where!r} to adopt{hint}: check native= and the schema"
        )
    oid = found[0]
    rows = yield Query(
        "SELECT a.attname, a.attnum, t.typname, a.atttypmod, a.attnotnull FROM pg_attribute a"
        " JOIN pg_type t ON t.oid = a.atttypid WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped"
        " ORDER BY a.attnum",
        [oid],
    )
    columns = {r[0]: _Column(*r) for r in rows}

    def column(label: str, wanted_name: str, types: frozenset[str] | None = None) -> _Column:
        col = columns.get(wanted_name)
        if col is None:
            raise InvalidInput(
                f"table {where!r} has no column {wanted_name!r} for {label}: its columns are {', '.join(columns)}"
            )
        if types is not None and col.type not in types:
            raise InvalidInput(
                f"column {wanted_name!r} of {where!r} is {col.type}, not {' or '.join(sorted(types))}: "
                f"name the {label} column"
            )
        return col

    id_col = column("the id (id=)", wanted.id)
    vector = column("the vector (vector=)", wanted.vector, _VECTOR_TYPES)
    text = column("the text (text=)", wanted.text) if wanted.text is not None else None
    meta = column("the metadata (metadata=)", wanted.metadata, _METADATA_TYPES) if wanted.metadata else None
    taken = {c.name for c in (id_col, vector, text, meta) if c is not None}
    names = wanted.metadata_fields
    if names is None:  # LangChain PGVectorStore: every other column is a metadata column, but its
        # hybrid-search index (a tsvector column, ``<content>_tsv``), which only LangChain reads.
        names = tuple(c.name for c in columns.values() if c.name not in taken and c.type != "tsvector")
    extra = [column("metadata_fields", n) for n in names]
    if vector.name in names:
        raise InvalidInput(f"metadata_fields names the vector column {vector.name!r}: leave it out")

    table = _ident(wanted.schema, wanted.table)
    scope, scope_params = yield from _group_scope(name, wanted)
    metric, layout = yield from _index(oid, vector, where)
    dimension = vector.typmod if vector.typmod > 0 else None
    dimension = yield from _check_rows(table, scope, scope_params, id_col, vector, dimension, where)
    yield from _check_unique(oid, table, scope, scope_params, id_col, where)

    metadata, fields = _metadata_expressions(meta, extra, wanted.hidden)
    return AdoptedPlans(
        spec=CollectionSpec(name, dimension, metric),
        adoption=adoption,
        data=data,
        table=table,
        id=_ident(id_col.name),
        id_kind=_id_kind(id_col.type),
        vector=_ident(vector.name),
        layout=layout,
        text=sql.SQL("{}::text").format(_ident(text.name)) if text is not None else sql.SQL("NULL::text"),
        metadata=metadata,
        fields=fields,
        nullable=meta is not None and not meta.not_null and not extra and not wanted.hidden,
        scope=scope,
        scope_params=scope_params,
    )


def _id_kind(type_name: str) -> str:
    if type_name in _TEXT_IDS:
        return "text"
    if type_name == "uuid":
        return "uuid"
    return "integer" if type_name in _INTEGER_IDS else "other"


def _group_scope(name: str, wanted: _Wanted) -> Plan[tuple[sql.Composable | None, dict[str, Any]]]:
    """LangChain ``PGVector``: the rows of one collection of the shared tables, by name (looked up
    in every statement, so a collection LangChain re-creates is followed)."""
    if wanted.group is None:
        return None, {}
    collections = _ident(wanted.schema, "langchain_pg_collection")
    exists = yield Query(
        "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = %s AND c.relname = 'langchain_pg_collection')",
        [wanted.schema],
        "one",
    )
    if not exists[0]:
        raise CollectionNotFound(
            f"collection {name!r}: no table {wanted.schema}.langchain_pg_collection: schema {wanted.schema!r} "
            "holds no LangChain PGVector store (native='<schema>.langchain_pg_embedding' names another schema)"
        )
    names = yield Query(sql.SQL("SELECT name FROM {} ORDER BY name").format(collections), {})
    known = [r[0] for r in names]
    if wanted.group not in known:
        raise CollectionNotFound(
            f"collection {name!r}: LangChain collection {wanted.group!r} not found in "
            f"{wanted.schema}.langchain_pg_collection: its collections are {', '.join(map(repr, known)) or '(none)'}"
        )
    scope = sql.SQL("collection_id = (SELECT uuid FROM {} WHERE name = %(group)s)").format(collections)
    return scope, {"group": wanted.group}


def _index(oid: int, vector: _Column, where: str) -> Plan[tuple[Metric, CollectionLayout]]:
    """The metric and index kind of the HNSW/IVFFlat indexes on the vector column itself."""
    rows = yield Query(
        "SELECT ic.relname, am.amname, opc.opcname, ic.reloptions FROM pg_index i"
        " JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam"
        " JOIN pg_opclass opc ON opc.oid = i.indclass[0]"
        " WHERE i.indrelid = %s AND i.indnatts = 1 AND i.indkey[0] = %s AND am.amname IN ('hnsw', 'ivfflat')"
        " ORDER BY ic.relname",
        [oid, vector.number],
    )
    storage = vector.type
    if not rows:
        return Metric.COSINE, CollectionLayout(storage, "none")
    metrics: dict[str, Metric] = {}
    for index, _, opclass, _ in rows:
        family = opclass.removeprefix(f"{storage}_").removesuffix("_ops")
        if family not in _OPCLASS_METRIC:
            raise InvalidInput(
                f"index {index!r} on {where!r} uses {opclass}, a distance vecbridge has no metric for "
                "(cosine, dot, euclidean)"
            )
        metrics[index] = _OPCLASS_METRIC[family]
    if len(set(metrics.values())) > 1:
        found = ", ".join(f"{i} ({m.value})" for i, m in metrics.items())
        raise InvalidInput(f"the vector indexes on {where!r} disagree about the metric: {found}")
    kind = rows[0][1]
    lists = _lists(rows[0][3]) if kind == "ivfflat" else None
    return next(iter(metrics.values())), CollectionLayout(storage, kind, lists=lists)


def _lists(reloptions: Sequence[str] | None) -> int:
    for option in reloptions or ():
        key, _, value = option.partition("=")
        if key == "lists":
            return int(value)
    return 100  # pgvector's default


def _check_rows(
    table: sql.Identifier,
    scope: sql.Composable | None,
    params: Mapping[str, Any],
    id_col: _Column,
    vector: _Column,
    dimension: int | None,
    where: str,
) -> Plan[int]:
    """Rows every record needs (an id and a vector) and, for an unconstrained column, the one
    dimension of its vectors. One pass over the rows in scope, only when the catalog cannot tell."""
    if dimension is not None and id_col.not_null and vector.not_null:
        return dimension
    vec = _ident(vector.name)
    row = yield Query(
        sql.SQL(
            "SELECT min(vector_dims({v})), max(vector_dims({v})), count(*) FILTER (WHERE {i} IS NULL),"
            " count(*) FILTER (WHERE {v} IS NULL) FROM {t}{w}"
        ).format(v=vec, i=_ident(id_col.name), t=table, w=sql.SQL(" WHERE ") + scope if scope else sql.SQL("")),
        dict(params),
        "one",
    )
    low, high, null_ids, null_vectors = row
    if null_ids or null_vectors:
        raise InvalidInput(
            f"{where!r} has {null_ids} row(s) without an id and {null_vectors} without a vector in the adopted scope: "
            "a record needs both; fix or leave out those rows (e.g. adopt a view without them)"
        )
    if dimension is not None:
        return dimension
    if low is None:
        raise InvalidInput(
            f"column {vector.name!r} of {where!r} has no dimension in its type and no rows to read one from: "
            "adopt it once it holds vectors"
        )
    if low != high:
        raise InvalidInput(
            f"column {vector.name!r} of {where!r} holds vectors of {low} to {high} dimensions: a collection has one; "
            "adopt a view of the rows of one dimension"
        )
    return int(low)


def _check_unique(
    oid: int,
    table: sql.Identifier,
    scope: sql.Composable | None,
    params: Mapping[str, Any],
    id_col: _Column,
    where: str,
) -> Plan[None]:
    """Ids name one record each: a unique index on the id column says so, else the rows are checked."""
    unique = yield Query(
        "SELECT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = %s AND indisunique AND indnatts = 1"
        " AND indkey[0] = %s AND indpred IS NULL)",
        [oid, id_col.number],
        "one",
    )
    if unique[0]:
        return
    column = _ident(id_col.name)
    twice = yield Query(
        sql.SQL("SELECT {c}::text FROM {t}{w} GROUP BY {c} HAVING count(*) > 1 LIMIT 1").format(
            c=column, t=table, w=sql.SQL(" WHERE ") + scope if scope else sql.SQL("")
        ),
        dict(params),
        "one",
    )
    if twice is not None:
        raise InvalidInput(
            f"id column {id_col.name!r} of {where!r} is not unique ({twice[0]!r} names several rows): "
            "adopt a column that names one row each"
        )


def _metadata_expressions(
    meta: _Column | None, extra: list[_Column], hidden: tuple[str, ...]
) -> tuple[sql.Composable, sql.Composable]:
    """What records carry as metadata, and the same document as jsonb for filters. A json column
    read as is keeps its text exactly (numbers as written); anything composed goes through jsonb."""
    if meta is None and not extra:
        return sql.SQL("NULL::jsonb"), sql.SQL("'{}'::jsonb")
    parts: list[sql.Composable] = []
    if meta is not None:
        base = _ident(meta.name)
        if not extra and not hidden:
            jsonb = base if meta.type == "jsonb" else sql.SQL("{}::jsonb").format(base)
            return base, sql.SQL("({})").format(jsonb)
        document: sql.Composable = sql.SQL("COALESCE({}::jsonb, '{{}}'::jsonb)").format(base)
        for key in hidden:
            document = sql.SQL("{} - {}").format(document, sql.Literal(key))
        parts.append(sql.SQL("({})").format(document))
    for col in extra:
        parts.append(
            sql.SQL("CASE WHEN {c} IS NULL THEN '{{}}'::jsonb ELSE jsonb_build_object({k}::text, {c}) END").format(
                c=_ident(col.name), k=_literal(col.name)
            )
        )
    expression = sql.SQL("(") + sql.SQL(" || ").join(parts) + sql.SQL(")")
    return expression, expression
