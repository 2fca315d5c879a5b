"""What the sync and the async pgvector drivers share: capabilities, error translation, the plans
they run and the decisions around them. Only their I/O (``driver.py``, ``async_driver.py``) differs.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from vecbridge.core.driver import Adoption, Batch, Capabilities, SearchMode, Target
from vecbridge.core.errors import VecbridgeError
from vecbridge.core.models import CollectionSpec, Record

from .adopted import AdoptedPlans, inspect
from .catalog import Catalog, Entry
from .convert import pack_matrix
from .errors import is_transient, translate
from .loads import LoadPlans
from .options import CollectionLayout, PgVectorOptions, choose_layout
from .plans import Plan, Work
from .session import ServerInfo, session_setup
from .statements import DataPlans

__all__ = ["DriverBase"]

_log = logging.getLogger(__name__)

#: COPY pays off with large batches; 1,000 rows of 768-d floats is ~3 MB per transaction.
DEFAULT_BATCH_SIZE = 1000


class DriverBase:
    """Shared state and plan building. Subclasses set up ``server`` (``_ready``) before data calls."""

    def __init__(self, options: PgVectorOptions, description: str, *, embedded: bool, native_async: bool) -> None:
        self.options = options
        self.description = description
        self.capabilities = Capabilities(
            exact_search=options.index == "none",
            search_modes=frozenset({SearchMode.DENSE, SearchMode.KEYWORD}),
            tenants=True,
            split_scan=True,
            default_batch_size=DEFAULT_BATCH_SIZE,
            query_options=frozenset({"ef_search", "probes"}),
            native_async=native_async,
        )
        self.catalog = Catalog(options.schema)
        self.loads = LoadPlans(self.catalog, options, embedded=embedded)
        self.server: ServerInfo | None = None
        self.data: DataPlans | None = None
        self.session_sql = ""
        #: Collections whose pending index this driver has looked at (created or repaired).
        self._seen: set[str] = set()
        #: Tables made by other tools, adopted under a collection name (``adopted.py``).
        self._adopted: dict[str, AdoptedPlans] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description!r}, schema={self.options.schema!r})"

    @staticmethod
    def translate(exc: BaseException) -> VecbridgeError | None:
        return translate(exc)

    def check_record(self, record: Record) -> list[str]:
        return []  # core refuses what PostgreSQL cannot store (NUL, lone surrogates); halfvec's range is per collection

    def check_batch(self, spec: CollectionSpec, batch: Batch) -> list[str]:
        """halfvec's range, before anything of the batch is sent (core calls this with the spec).
        The layout comes from this driver's catalog cache; when it is not cached yet the write
        itself still refuses such records one by one."""
        entry = self.catalog.cached(spec.name)
        if entry is None or entry.layout.storage != "halfvec":
            return []
        _, failures = pack_matrix(batch, "halfvec", spec.metric)
        return [f.reason for f in failures.values()]

    def _failed(self, work: Work[Any], exc: BaseException) -> None:
        """A statement about a collection failed for good (its table is gone, its layout changed
        under us ...): forget its cached layout, so the next call reads the catalog again (core
        evicts its spec on the same errors)."""
        if work.collection is not None and not is_transient(exc):
            self.catalog.evict(work.collection)

    def _ready(self, server: ServerInfo) -> None:
        self.server = server
        self.data = DataPlans(self.catalog, self.options, server)
        self.session_sql = session_setup(self.options, server)

    def _data(self) -> DataPlans:
        assert self.data is not None, "the driver prepares the database before any data call"
        return self.data

    def _plans(self, name: str) -> DataPlans | AdoptedPlans:
        """The plans of a data call on ``name``: an adopted table's, or a vecbridge collection's."""
        return self._adopted.get(name) or self._data()

    def _adoption(self, name: str) -> Adoption | None:
        """How ``name`` was adopted (``describe`` inspects its table again), None if it was not."""
        known = self._adopted.get(name)
        return known.adoption if known is not None else None

    def _adopt_work(self, name: str, adoption: Adoption) -> Work[CollectionSpec]:
        """Inspect a table made by another tool and remember it under ``name``."""
        return Work(self._adopt(name, adoption), name)

    def _adopt(self, name: str, adoption: Adoption) -> Plan[CollectionSpec]:
        plans = yield from inspect(name, adoption, self.options.schema, self._data())
        self._adopted[name] = plans
        self.catalog.evict(name)
        return plans.spec

    def _new_layout(self, spec: CollectionSpec, **changes: Any) -> CollectionLayout:
        options = replace(self.options, **changes) if changes else self.options
        layout = choose_layout(spec.dimension, options, index=changes.get("index"))
        assert self.server is not None
        self.server.check_layout(layout)
        return layout

    def _create_work(self, spec: CollectionSpec) -> Work[None]:
        layout = self._new_layout(spec)
        self._seen.add(spec.name)
        plan = self.catalog.create(spec, layout, index_now=not self.options.defer_index)
        return Work(plan, spec.name, transaction=True)

    def _describe_work(self, name: str) -> Work[Entry | None]:
        return Work(self.catalog.describe(name))

    def _needs_repair(self, entry: Entry | None) -> Target | None:
        """A collection whose index a crashed load left pending, seen for the first time here."""
        if entry is None or not entry.index_pending or entry.spec.name in self._seen:
            return None
        self._seen.add(entry.spec.name)
        return Target(entry.spec)

    @staticmethod
    def _not_built(target: Target, exc: Exception, *, repair: bool) -> None:
        """A build that failed: raised at the end of a load, only logged for a repair (the
        collection stays correct, with exact scans, and the next load tries again)."""
        if not repair:
            raise exc
        _log.warning("could not build the pending vector index of %r; queries stay exact", target.name, exc_info=exc)
