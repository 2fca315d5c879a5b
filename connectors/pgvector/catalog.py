"""The catalog of collections (table ``vecbridge_collections`` of the store's schema) and this
driver's cache of it.

A catalog row holds a collection's spec (dimension, metric, embedder fingerprint, hybrid, tenancy),
its layout (column type and vector index) and its index state: ``ready``, or ``pending`` while the
vector index is still to be built (a new collection, a bulk load that deferred it, a load that
crashed: see ``loads.py``). Reads need the layout to build their SQL, so the driver caches the
entries it has seen; an entry is dropped as soon as the catalog says the collection is gone
(``describe`` finds no row, a write's catalog check finds none, a statement finds no table), and
every ``describe`` refreshes it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from vecbridge.core.errors import CollectionExists, CollectionNotFound, InvalidInput, StoreError
from vecbridge.core.models import CollectionSpec
from vecbridge.core.policy import check_compatible

from .options import LAYOUT_FORMAT, CollectionLayout
from .plans import Plan, Query
from .schema import RESERVED_PREFIX, TableNames, ann_index_sql, create_table_sql, table_index_sql

__all__ = ["DDL_LOCK", "Catalog", "Entry"]

#: Advisory lock key serialising vecbridge's DDL in one database ("vecbridg" in ASCII).
DDL_LOCK = 0x7665636272696467
READY, PENDING = "ready", "pending"


@dataclass(frozen=True)
class Entry:
    """What the catalog says about one collection."""

    spec: CollectionSpec
    layout: CollectionLayout
    index_state: str

    @property
    def index_pending(self) -> bool:
        return self.index_state == PENDING and self.layout.index != "none"


class Catalog:
    """Plans over the catalog of one schema, and the cache of its entries (thread-safe)."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.table = sql.Identifier(schema, "vecbridge_collections")
        self._entries: dict[str, Entry] = {}
        self._names: dict[str, TableNames] = {}
        self._lock = threading.Lock()

    # ----- cache --------------------------------------------------------------------------

    def names(self, collection: str) -> TableNames:
        with self._lock:
            found = self._names.get(collection)
            if found is None:
                found = self._names[collection] = TableNames(self.schema, collection)
            return found

    def cached(self, name: str) -> Entry | None:
        with self._lock:
            return self._entries.get(name)

    def remember(self, name: str, entry: Entry | None) -> None:
        with self._lock:
            if entry is None:
                self._entries.pop(name, None)
            else:
                self._entries[name] = entry

    def evict(self, name: str) -> None:
        self.remember(name, None)

    def mark(self, name: str, state: str) -> None:
        """Record a new index state in the cache (after this driver changed it in the catalog)."""
        with self._lock:
            entry = self._entries.get(name)
            if entry is not None:
                self._entries[name] = replace(entry, index_state=state)

    # ----- plans --------------------------------------------------------------------------

    def list_names(self) -> Plan[list[str]]:
        rows = yield Query(sql.SQL("SELECT name FROM {}").format(self.table))
        return [r[0] for r in rows]

    def describe(self, name: str) -> Plan[Entry | None]:
        """The catalog's entry for ``name`` (None if absent); refreshes the cache."""
        row = yield Query(
            sql.SQL("SELECT spec, layout, index_state FROM {} WHERE name = %s").format(self.table), [name], "one"
        )
        entry = None if row is None else _entry(name, row)
        self.remember(name, entry)
        return entry

    def entry(self, name: str) -> Plan[Entry]:
        """The cached entry of ``name``, or the catalog's; raises ``CollectionNotFound``."""
        entry = self.cached(name)
        if entry is None:
            entry = yield from self.describe(name)
        if entry is None:
            raise CollectionNotFound(f"collection {name!r} does not exist (dropped by another client?)")
        return entry

    def checked_for_write(self, spec: CollectionSpec, row: Any) -> Entry:
        """The entry a write's catalog check read (``row``: spec, layout, state, or None), which
        must still describe the collection the caller validated the batch for."""
        if row is None:
            self.evict(spec.name)
            raise CollectionNotFound(f"collection {spec.name!r} does not exist (dropped by another client?)")
        entry = _entry(spec.name, row)
        self.remember(spec.name, entry)
        if entry.spec != spec:
            raise StoreError(
                f"collection {spec.name!r} was dropped and created again with another spec by another client: "
                "describe it again (the next call does) and check your records against it"
            )
        return entry

    def create(self, spec: CollectionSpec, layout: CollectionLayout, *, index_now: bool) -> Plan[None]:
        """Create the table, its indexes and its catalog row (run in one transaction). The vector
        index is built now when ``index_now`` (the ``defer_index=False`` behaviour), else left
        ``pending`` for the end of the first load, when there is data to build it from."""
        if spec.name.startswith(RESERVED_PREFIX):
            raise InvalidInput(
                f"collection names starting with {RESERVED_PREFIX!r} are reserved by the pgvector connector: "
                "choose another name"
            )
        names = self.names(spec.name)
        yield Query("SELECT pg_advisory_xact_lock(%s)", [DDL_LOCK], "none")
        row = yield Query(sql.SQL("SELECT spec FROM {} WHERE name = %s").format(self.table), [spec.name], "one")
        if row is not None:
            # Another client created it since core looked: fine if it is the same collection.
            try:
                check_compatible(CollectionSpec.from_dict(row[0]), spec)
            except InvalidInput:
                raise CollectionExists(
                    f"collection {spec.name!r} was just created by another client with another spec"
                ) from None
            return
        taken = yield Query("SELECT to_regclass(%s) IS NOT NULL", [names.table.as_string(None)], "one")
        if taken[0]:
            raise StoreError(
                f"schema {self.schema!r} already has a table named {spec.name!r} that is not a vecbridge "
                "collection: choose another collection name, or another schema (?schema=...)"
            )
        yield Query(create_table_sql(names, spec, layout), fetch="none")
        for index in table_index_sql(names, spec):
            yield Query(index, fetch="none")
        ann = ann_index_sql(names, spec.metric, layout) if index_now else None
        if ann is not None:
            yield Query(ann, fetch="none")
        state = READY if layout.index == "none" or index_now else PENDING
        yield Query(
            sql.SQL("INSERT INTO {} (name, spec, layout, index_state) VALUES (%s, %s, %s, %s)").format(self.table),
            [spec.name, Jsonb(spec.to_dict()), Jsonb(layout.to_dict()), state],
            "none",
        )
        self.remember(spec.name, Entry(spec, layout, state))

    def drop(self, name: str) -> Plan[bool]:
        """Delete the catalog row and the table it names (one transaction). Only a table the
        catalog knows is dropped: never a user's table that shares the name."""
        self.evict(name)
        names = self.names(name)
        yield Query("SELECT pg_advisory_xact_lock(%s)", [DDL_LOCK], "none")
        gone = yield Query(sql.SQL("DELETE FROM {} WHERE name = %s RETURNING name").format(self.table), [name], "one")
        if gone is not None:
            yield Query(sql.SQL("DROP TABLE IF EXISTS {}").format(names.table), fetch="none")
        self.evict(name)
        return gone is not None

    def state_query(self, name: str, *, lock: bool) -> Query:
        """The collection's index state (``FOR UPDATE`` inside a build's transaction)."""
        suffix = " FOR UPDATE" if lock else ""
        return Query(
            sql.SQL("SELECT index_state, layout FROM {} WHERE name = %s" + suffix).format(self.table), [name], "one"
        )

    def set_state_query(self, name: str, state: str, layout: CollectionLayout | None = None) -> Query:
        if layout is None:
            return Query(
                sql.SQL("UPDATE {} SET index_state = %s WHERE name = %s").format(self.table), [state, name], "none"
            )
        return Query(
            sql.SQL("UPDATE {} SET index_state = %s, layout = %s WHERE name = %s").format(self.table),
            [state, Jsonb(layout.to_dict()), name],
            "none",
        )


def _entry(name: str, row: Any) -> Entry:
    spec_data, layout_data, state = row[0], row[1], row[2]
    layout = CollectionLayout.from_dict(layout_data)
    if layout.format != LAYOUT_FORMAT:
        raise StoreError(
            f"collection {name!r} was made by a development version of vecbridge (table layout {layout.format}, "
            f"this version reads {LAYOUT_FORMAT}): recreate it, e.g. export it with that version and import it"
        )
    return Entry(CollectionSpec.from_dict(spec_data), layout, str(state))
