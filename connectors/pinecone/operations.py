"""Every driver operation once, as a plan (see ``plan``): what the sync and the async driver run.

:class:`Operations` holds what one driver knows: its settings, its layout, the index hosts it
has seen (``planes``) and the LSNs of its writes (``freshness``). It also owns the driver's
record rules (``check_record``) and its declared capabilities.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vecbridge.core.driver import Adoption, Batch, Capabilities, SearchMode, SearchRequest, Target, WriteResult
from vecbridge.core.errors import UnsupportedFeature
from vecbridge.core.filters import FilterNode
from vecbridge.core.models import CollectionSpec, Hit, Record, ScanPage

from . import reads, scans, writes
from .filters import PineconeFilterCompiler
from .foreign import ForeignFilterCompiler, adopt_index
from .freshness import Freshness
from .ids import pinecone_id
from .layout import Layout, Place
from .metadata import problems
from .per_index import IndexPerCollection
from .plan import Plan
from .planes import Planes
from .settings import Settings
from .shared_index import SharedIndex

__all__ = ["Operations", "capabilities"]

#: Pinecone refuses a dense vector none of whose values reaches this magnitude ("only zeros").
MIN_DENSE_MAGNITUDE = 1e-8


def capabilities(native_async: bool) -> Capabilities:
    return Capabilities(
        exact_search=False,  # approximate (serverless) search
        search_modes=frozenset({SearchMode.DENSE, SearchMode.KEYWORD}),  # core fuses hybrid by RRF
        tenants=True,
        split_scan=False,
        eventually_consistent=True,
        default_batch_size=writes.MAX_UPSERT_VECTORS,
        nested_metadata=False,
        native_async=native_async,
    )


class Operations:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.planes = Planes(settings.plain_http)
        self.layout: Layout = (
            SharedIndex(self.planes, settings)
            if settings.index is not None
            else IndexPerCollection(self.planes, settings)
        )
        self.freshness = Freshness()
        self._filters = PineconeFilterCompiler()
        #: Collections adopted from indexes made by other tools: where their records are, and their spec.
        self._adopted: dict[str, tuple[Place, CollectionSpec]] = {}

    def _place(self, target: Target) -> Place:
        adopted = self._adopted.get(target.name)
        return adopted[0] if adopted is not None else self.layout.place(target)

    def _compiled(self, node: FilterNode | None, place: Place) -> dict[str, Any] | None:
        if node is None:
            return None
        compiler = ForeignFilterCompiler(place.adopted) if place.adopted is not None else self._filters
        return compiler.visit(node)

    def _stored_ids(self, place: Place, ids: list[str]) -> dict[str, str]:
        """Pinecone id -> user id (an adopted index's ids are Pinecone's own)."""
        return {i if place.adopted is not None else pinecone_id(i): i for i in ids}

    @staticmethod
    def check_record(record: Record) -> list[str]:
        """Pinecone's rules for one record (flat metadata, 40 KB, a non-zero vector)."""
        found = problems(record.id, record.text, record.metadata)
        vector = np.asarray(record.vector, dtype=np.float32)
        if vector.size and not (np.abs(vector) >= MIN_DENSE_MAGNITUDE).any():  # (no vector: checked before embedding)
            found.append(
                f"record {record.id!r}: Pinecone refuses a vector without a value of magnitude {MIN_DENSE_MAGNITUDE:g} "
                "or more (it counts as all zeros): check the embedding"
            )
        return found

    def list_collections(self) -> Plan[list[str]]:
        return (yield from self.layout.list_names())

    def describe(self, name: str) -> Plan[CollectionSpec | None]:
        adopted = self._adopted.get(name)
        if adopted is not None:  # its spec as adopted, while its index exists
            return adopted[1] if (yield from self.planes.describe(adopted[0].index)) is not None else None
        return (yield from self.layout.describe(name))

    def adopt(self, name: str, adoption: Adoption) -> Plan[CollectionSpec]:
        """Read a namespace of an index made by another tool as collection ``name`` (see ``foreign``)."""
        place, spec = yield from adopt_index(self.planes, name, adoption)
        self._adopted[name] = (place, spec)
        return spec

    def create(self, spec: CollectionSpec) -> Plan[None]:
        yield from self.layout.create(spec)

    def drop(self, name: str) -> Plan[bool]:
        if name in self._adopted:
            raise UnsupportedFeature(f"collection {name!r} is an index made by another tool: vecbridge never drops it")
        return (yield from self.layout.drop(name))

    def write(self, target: Target, batch: Batch) -> Plan[WriteResult]:
        place = self._place(target)
        if place.adopted is not None:
            raise UnsupportedFeature(
                f"collection {target.name!r} is an index made by another tool: the Pinecone connector reads and "
                "deletes in adopted indexes but does not write into them; migrate it into a vecbridge collection"
            )
        return (yield from writes.write(self.planes, self.freshness, place, batch))

    def search(self, target: Target, request: SearchRequest) -> Plan[list[Hit]]:
        place = self._place(target)
        compiled = self._compiled(request.filter, place)
        return (yield from reads.search(self.planes, place, target.spec.dimension, request, compiled))

    def get(self, target: Target, ids: list[str], include_vectors: bool) -> Plan[list[Record]]:
        place = self._place(target)
        return (yield from reads.get(self.planes, place, self._stored_ids(place, ids), include_vectors))

    def delete_ids(self, target: Target, ids: list[str]) -> Plan[None]:
        place = self._place(target)
        yield from writes.delete_ids(self.planes, place, list(self._stored_ids(place, ids)))

    def delete_filter(self, target: Target, node: FilterNode) -> Plan[None]:
        place = self._place(target)
        compiled = self._compiled(node, place)
        assert compiled is not None
        yield from writes.delete_filter(self.planes, place, compiled)

    def count(self, target: Target, node: FilterNode | None) -> Plan[int]:
        place = self._place(target)
        return (yield from scans.count(self.planes, place, target.spec.dimension, node, self._compiled(node, place)))

    def scan_page(
        self, target: Target, cursor: str | None, limit: int, include_vectors: bool, stop: str | None = None
    ) -> Plan[ScanPage]:
        return (yield from scans.scan_page(self.planes, self._place(target), cursor, limit, include_vectors, stop))

    def caught_up(self, target: Target) -> Plan[bool | None]:
        """Whether reads reflect every upsert this driver made to ``target`` (see ``freshness``)."""
        place = self._place(target)
        return (yield from self.freshness.caught_up(self.planes, place, target.spec.dimension))
