"""Bulk loads: the vector index is built once, after the data, as pgvector recommends.

pgvector builds an HNSW graph far faster over rows already in the table (in memory, in parallel)
than by inserting into it row by row, and IVFFlat needs data to place its lists. So:

* **A new collection** has no vector index yet: its state in the catalog is ``pending``. The end
  of its first load builds it (an IVFFlat index waits until the table holds at least ``lists``
  rows). Until then queries are exact scans: correct, only slower.
* **A bulk load defers the index** when it is large and the table small next to it: at least
  ``DEFER_MIN_ROWS`` records expected (or a stream of unknown length), and the table holding no
  more rows than the load brings (``DEFER_MIN_ROWS`` for a stream). Rebuilding then costs at most
  about as much again as the load itself, against some 4x for inserting into a live graph
  (30k x 768, measured: ``benchmarks/bench_pgvector.py``). Core calls ``begin_load`` and
  ``end_load`` around every upsert, ``Collection.add_*`` and ``store.bulk_load(...)`` (so CLI
  ingest, migrate and import too): a small upsert costs nothing here.
* **Deferring**: the load holds a shared advisory lock on the collection for as long as it runs
  (on a connection of its own, so a crash releases it), marks the index ``pending`` and drops it.
* **Building**: at the end of a load, or when a store first sees a ``pending`` collection (the
  repair after a crashed load), the builder takes the collection's lock exclusively — only when no
  load holds it, so the last of several concurrent loads builds — with ``maintenance_work_mem``
  sized to the graph (rows x (vector + 2.5 m neighbours x 16 B + 128 B), at least the server's
  setting, at most 1 GB on a server or a quarter of this machine's memory for the embedded one, or
  the ``maintenance_work_mem`` option) and ``max_parallel_maintenance_workers`` (the
  ``build_workers`` option; embedded: one per core besides the leader, up to 7). It builds
  ``CONCURRENTLY`` when the collection is in use (it held rows before the load, other client
  sessions hold locks on it, or it is a repair), and plainly otherwise (faster; blocks writers, of whom there are
  none), then marks the index ``ready``.
* ``defer_index=False`` keeps the old behaviour: the index is created with the collection and
  maintained row by row.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from vecbridge.core.driver import Target

from .catalog import PENDING, READY, Catalog
from .options import CollectionLayout, PgVectorOptions
from .plans import Plan, Query, Work
from .schema import ann_index_sql

__all__ = ["DEFER_MIN_ROWS", "LoadPlans", "LoadToken"]

#: A load expected to bring fewer records keeps the index live (its own cost is small).
DEFER_MIN_ROWS = 5_000
_MB = 1 << 20
#: Cap of the automatic maintenance_work_mem on a server whose memory vecbridge cannot see.
_SERVER_MEMORY_CAP = 1024 * _MB


@dataclass
class LoadToken:
    """A deferring load: the connection holding its shared lock, and whether the collection held
    rows when the load began (then it is in use, and the index is built concurrently)."""

    connection: Any
    had_rows: bool


class LoadPlans:
    """Plans of the load life cycle for one driver."""

    def __init__(self, catalog: Catalog, options: PgVectorOptions, *, embedded: bool) -> None:
        self.catalog = catalog
        self.options = options
        self.embedded = embedded

    def wants_deferral(self, target: Target, expected: int | None) -> Work[bool]:
        return Work(self._wants_deferral(target, expected), target.name)

    def _wants_deferral(self, target: Target, expected: int | None) -> Plan[bool]:
        entry = yield from self.catalog.entry(target.name)
        if entry.layout.index == "none" or not self.options.defer_index:
            return False
        if expected is not None and expected < DEFER_MIN_ROWS:
            return False
        cap = max(expected or 0, DEFER_MIN_ROWS)
        table = self.catalog.names(target.name).table
        row = yield Query(sql.SQL("SELECT count(*) FROM (SELECT FROM {} LIMIT %s) s").format(table), [cap + 1], "one")
        return int(row[0]) <= cap

    def defer(self, target: Target) -> Work[bool]:
        """On the load's own connection: take the shared lock, mark the index pending and drop it.
        Returns whether the table held rows."""
        return Work(self._defer(target), target.name, transaction=True)

    def _defer(self, target: Target) -> Plan[bool]:
        names = self.catalog.names(target.name)
        # Session level: held until the load ends or its connection dies (a crashed process).
        yield Query("SELECT pg_advisory_lock_shared(%s)", [names.lock_key], "none")
        row = yield Query(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(names.table), fetch="one")
        yield self.catalog.set_state_query(target.name, PENDING)
        yield Query(sql.SQL("DROP INDEX IF EXISTS {}").format(names.ann_index), fetch="none")
        self.catalog.mark(target.name, PENDING)
        return bool(row[0])

    def build_due(self, target: Target) -> bool:
        """Whether the end of a load that did not defer should try to build (the cache says the
        index is pending: a new collection, or one whose load crashed)."""
        entry = self.catalog.cached(target.name)
        return entry is not None and entry.index_pending

    def settle(self, target: Target, token: LoadToken | None, *, repair: bool) -> Work[bool]:
        """Release the load's shared lock (if any); returns whether to build concurrently."""
        return Work(self._settle(target, token, repair), target.name)

    def _settle(self, target: Target, token: LoadToken | None, repair: bool) -> Plan[bool]:
        names = self.catalog.names(target.name)
        if token is not None:
            yield Query("SELECT pg_advisory_unlock_shared(%s)", [names.lock_key], "none")
        if repair or (token is not None and token.had_rows):
            return True
        # Client sessions only: autovacuum, busy with the rows the load just wrote, gives way to a
        # plain CREATE INDEX anyway (PostgreSQL cancels it), so it is no reason to build concurrently.
        row = yield Query(
            "SELECT EXISTS (SELECT FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.relation = to_regclass(%s) AND l.pid <> pg_backend_pid() AND a.backend_type = 'client backend')",
            [names.table.as_string(None)],
            "one",
        )
        return bool(row[0])

    def build(self, target: Target, *, concurrently: bool) -> Work[bool]:
        """Build the pending vector index (True if this call built it)."""
        return Work(self._build(target, concurrently), target.name, transaction=not concurrently)

    def _build(self, target: Target, concurrently: bool) -> Plan[bool]:
        names = self.catalog.names(target.name)
        # Inside a transaction the lock goes with it; otherwise with the builder's own connection.
        lock = "pg_try_advisory_lock" if concurrently else "pg_try_advisory_xact_lock"
        got = yield Query(f"SELECT {lock}(%s)", [names.lock_key], "one")
        if not got[0]:
            return False  # a load is running: the last one to end builds
        row = yield self.catalog.state_query(target.name, lock=not concurrently)
        if row is None or row[0] != PENDING:
            self.catalog.mark(target.name, READY)
            return False
        layout = CollectionLayout.from_dict(row[1])
        rows = yield Query(sql.SQL("SELECT count(*) FROM {}").format(names.table), fetch="one")
        if layout.index == "ivfflat" and int(rows[0]) < (layout.lists or 1):
            return False  # IVFFlat places its lists from the data: wait for enough rows
        current = yield Query("SELECT pg_size_bytes(current_setting('maintenance_work_mem'))", fetch="one")
        local = "false" if concurrently else "true"
        memory = self._memory(layout, target.spec.dimension, int(rows[0]), int(current[0]))
        yield Query(f"SELECT set_config('maintenance_work_mem', %s, {local})", [memory], "none")
        workers = self._workers()
        if workers is not None:
            yield Query(f"SELECT set_config('max_parallel_maintenance_workers', %s, {local})", [str(workers)], "none")
        drop = "DROP INDEX CONCURRENTLY IF EXISTS {}" if concurrently else "DROP INDEX IF EXISTS {}"
        yield Query(sql.SQL(drop).format(names.ann_index), fetch="none")  # an invalid one from a failed build
        statement = ann_index_sql(names, target.spec.metric, layout, concurrently=concurrently)
        if statement is not None:
            yield Query(statement, fetch="none")
        yield self.catalog.set_state_query(target.name, READY)
        self.catalog.mark(target.name, READY)
        return True

    def relayout(self, name: str, layout: CollectionLayout) -> Work[None]:
        """Record a new layout and drop the old index (waiting for running loads); the next build
        makes the new one."""
        return Work(self._relayout(name, layout), name, transaction=True)

    def _relayout(self, name: str, layout: CollectionLayout) -> Plan[None]:
        names = self.catalog.names(name)
        yield Query("SELECT pg_advisory_xact_lock(%s)", [names.lock_key], "none")
        yield Query(sql.SQL("DROP INDEX IF EXISTS {}").format(names.ann_index), fetch="none")
        yield self.catalog.set_state_query(name, PENDING if layout.index != "none" else READY, layout)
        self.catalog.evict(name)

    def _memory(self, layout: CollectionLayout, dimension: int, rows: int, current: int) -> str:
        """maintenance_work_mem for the build: the option, else the graph's estimated size within
        the caps of the module docstring, never below the server's own setting."""
        if self.options.maintenance_work_mem is not None:
            return self.options.maintenance_work_mem
        if layout.index != "hnsw":
            return f"{max(current // _MB, 1)}MB"
        per_row = dimension * (2 if layout.storage == "halfvec" else 4) + 8 + (5 * (layout.m or 16) // 2) * 16 + 128
        wanted = rows * per_row * 11 // 10
        cap = _machine_memory() // 4 if self.embedded else _SERVER_MEMORY_CAP
        return f"{max(min(wanted, cap), current) // _MB + 1}MB"

    def _workers(self) -> int | None:
        if self.options.build_workers is not None:
            return self.options.build_workers
        if self.embedded:
            return max(0, min(7, (os.cpu_count() or 1) - 1))
        return None


def _machine_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 4 * _SERVER_MEMORY_CAP
