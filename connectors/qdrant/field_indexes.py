"""Payload indexes on the metadata fields of an Edge collection, and how a filtered search uses them.

Without an index on the field a filter reads, Qdrant cannot tell how many points pass the filter,
so it walks the HNSW graph and checks the filter at each step. When few points pass, that walk
finds too few of them, or none. Measured with qdrant-edge-py 0.9 on 50,000 x 768 clustered vectors,
after ``optimize()``, with ``cat`` one of 20 values: ``{"cat": "c3"}`` returned 1 hit of the 10
asked for, with recall@10 of 0.001 against an exact search. The same happened at 200,000 and with
a hand-written ``EdgeShard`` loop.

Which index a field gets depends on the first value written through this handle that is not
None, ``[]`` or a list starting with None:

* a string, or a list starting with one: a keyword index. If the string is an ISO-8601 date, its
  instants and their keys (convert.py) also get a float and an integer index.
* a number, or a list starting with one: a float index on the value, which serves ranges, and an
  integer index on its keys, which serves exact float equality (numbers.py).
* a boolean: an integer index on its keys.
* an object, or a key holding a double quote (no filter can address it): none.

None of them has Qdrant's per-value HNSW links. At 200,000 x 768 the links on ``cat`` doubled
``optimize()`` (70 -> 150 s), and they made *unfiltered* searches 2.5x slower (0.8 -> 2.1 ms
p50). A field's indexes are created by the first write that brings it, before its points: Edge
then indexes points as they arrive. Creating them after a load re-reads every payload, and
measured 0.3-0.4 s more at 50,000 points with five indexes. Only new fields get indexes:
creating an index Edge already has is a no-op.

A filtered search (:func:`plan_filtered`) then runs one of three ways:

* **exact**, over the points the filter passes, when the indexes estimate at most
  ``EXACT_FILTER_BYTES`` of their vectors. At 200,000 x 768 with 10,000 matches this took
  4.0 ms with recall 1.0, against 3.8 ms and recall 0.96 for ACORN.
* **ACORN** (Qdrant's two-hop graph walk for selective filters, which it applies below 40% of
  the points) when more pass.
* **exact** when the filter reads a field without the index its values need
  (:meth:`FieldIndexes.served`). Examples: a field first written as strings and later compared
  with a number, a field that was only ever None, an ``$eq`` on an object, and equality on a
  number (``{"year": 2024}``: integers match by value, filters.py, and a float index serves only
  ranges). This is slower, but the hits are the true nearest ones, where a graph walk on an
  unindexed condition could come back short or wrong.

An explicit ``exact=True`` from the caller is obeyed as it is; with ``exact=False`` a filtered
search on indexed fields uses ACORN, never exact, and one on fields without the indexes it needs is
still exact: ACORN needs the indexes' estimate.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

import qdrant_edge as qe

from vecbridge.core.dates import is_date_string
from vecbridge.core.filters import And, Comparison, FilterNode, Instant, Not, Or

from .convert import DATE_KEYS_KEY, DATES_KEY, KEY_PREFIX, METADATA_KEY, field_path, key_path

__all__ = ["EXACT_FILTER_BYTES", "FieldIndexes", "indexes_for", "plan_filtered"]

#: A filtered search reads every passing point exactly while their vectors come to at most this
#: (about 10,900 points of 768 floats): there it costs what ACORN does, with recall 1.0.
EXACT_FILTER_BYTES = 32 * 1024 * 1024
_ACORN = qe.AcornSearchParams(enable=True)

KEYWORD, FLOAT, INTEGER = qe.PayloadSchemaType.Keyword, qe.PayloadSchemaType.Float, qe.PayloadSchemaType.Integer
#: The parameters each index type is created with.
_PARAMS: dict[Any, qe.KeywordIndexParams | qe.FloatIndexParams | qe.IntegerIndexParams] = {
    KEYWORD: qe.KeywordIndexParams(enable_hnsw=False),
    FLOAT: qe.FloatIndexParams(enable_hnsw=False),
    INTEGER: qe.IntegerIndexParams(lookup=True, range=False, enable_hnsw=False),  # keys: equality only
}
_ANY = None  # an index of any type: Qdrant answers "is empty" from any index


def _canonical(path: str) -> tuple[str, str | None]:
    """A payload path as (top-level key, field): Edge lists ``metadata."cat"`` as ``metadata.cat``."""
    if path.startswith('"'):
        return path[1:-1], None
    top, _, rest = path.partition(".")
    if len(rest) >= 2 and rest[0] == rest[-1] == '"':
        rest = rest[1:-1]
    return top, rest


def _needs(node: Comparison) -> list[tuple[tuple[str, str | None], Any]]:
    """The (path, index type) pairs a comparison needs to be answered from indexes."""
    field, op, value = node.field, node.op, node.value
    values = (value,) if op in ("eq", "ne") else tuple(value) if op in ("in", "nin") else ()
    meta, keys = (METADATA_KEY, field), (KEY_PREFIX + field, None)
    if op == "exists":
        return [(meta, _ANY)]
    if isinstance(value, Instant):
        return [((DATES_KEY, field), FLOAT), ((DATE_KEYS_KEY, field), INTEGER)]
    if op in ("gt", "gte", "lt", "lte"):
        return [(meta, FLOAT), (keys, INTEGER)]  # the value's range, and keys near the bound
    out: list[tuple[tuple[str, str | None], Any]] = []
    for v in values:
        if type(v) is str:
            out.append((meta, KEYWORD))
        elif type(v) is bool:
            out.append((keys, INTEGER))
        else:
            # Equal to a number: integers match by value (filters.py), which a float index does
            # not serve. No integer index is made for values (a later float would be missing
            # from it), so such a filter searches exactly.
            out.append((meta, INTEGER))
    return out


def indexes_for(field: str, value: Any) -> dict[str, Any] | None:
    """The indexes (Qdrant path -> index type) a field whose value is ``value`` gets; None when
    the value does not decide it (None, ``[]``, a list starting with None)."""
    if '"' in field:
        return {}
    if type(value) is list:
        if not value:
            return None
        value = value[0]
    kind = type(value)
    if value is None:
        return None
    if kind is str:
        found = {field_path(METADATA_KEY, field): KEYWORD}
        if is_date_string(value):
            found[field_path(DATES_KEY, field)] = FLOAT
            found[field_path(DATE_KEYS_KEY, field)] = INTEGER
        return found
    if kind is bool:
        return {key_path(field): INTEGER}
    if kind is int or kind is float:
        return {field_path(METADATA_KEY, field): FLOAT, key_path(field): INTEGER}
    return {}


class FieldIndexes:
    """The fields of one collection seen through this handle, and the indexes not yet created."""

    def __init__(self) -> None:
        self._decided: set[str] = set()
        self._pending: dict[str, Any] = {}
        #: The shard's payload indexes, (top-level key, field) -> type; read from Edge on first use.
        self._indexed: dict[tuple[str, str | None], Any] | None = None
        self._lock = threading.Lock()

    def observe(self, rows: Iterable[Mapping[str, Any]]) -> bool:
        """Note the fields of records being written (cheap once every field is known: one set
        comparison per record). True when indexes are waiting to be created."""
        decided = self._decided
        for metadata in rows:
            if metadata.keys() <= decided:
                continue
            with self._lock:
                for field, value in metadata.items():
                    if field in decided:
                        continue
                    wanted = indexes_for(field, value)
                    if wanted is not None:
                        decided.add(field)
                        self._pending.update(wanted)
        return bool(self._pending)

    def create_pending(self, shard: qe.EdgeShard) -> int:
        """Create the indexes of fields first seen since the last call; returns how many."""
        indexed = self._known(shard)
        with self._lock:
            pending = list(self._pending.items())
        for path, kind in pending:
            shard.update(qe.UpdateOperation.create_field_index(path, _PARAMS[kind]))
            with self._lock:
                self._pending.pop(path, None)
                indexed[_canonical(path)] = kind
        return len(pending)

    def served(self, node: FilterNode, shard: qe.EdgeShard) -> bool:
        """Whether every comparison of a filter reads fields holding the index it needs."""
        indexed = self._known(shard)
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, (And, Or)):
                stack.extend(current.children)
            elif isinstance(current, Not):
                stack.append(current.child)
            elif isinstance(current, Comparison):
                for path, kind in _needs(current):
                    found = indexed.get(path, False)
                    if found is False or (kind is not _ANY and found != kind):
                        return False
            else:
                return False
        return True

    def _known(self, shard: qe.EdgeShard) -> dict[tuple[str, str | None], Any]:
        if self._indexed is None:
            schema = shard.info().payload_schema
            self._indexed = {_canonical(path): info.data_type for path, info in schema.items()}
        return self._indexed


def plan_filtered(
    fields: FieldIndexes, shard: qe.EdgeShard, node: FilterNode, compiled: Any, dimension: int, *, approximate: bool
) -> dict[str, Any]:
    """The search parameters of a filtered search (see the module docstring): ``exact`` or
    ``acorn``; only ``acorn`` when the caller asked for an ``approximate`` search (exact=False)."""
    if not fields.served(node, shard):
        return {"exact": True}  # even when approximate: ACORN needs the indexes' estimate
    if approximate:
        return {"acorn": _ACORN}
    # Edge's estimate from the indexes (exact=False): no point is read.
    passing = int(shard.count(qe.CountRequest(exact=False, filter=compiled)))
    if passing * dimension * 4 <= EXACT_FILTER_BYTES:
        return {"exact": True}
    return {"acorn": _ACORN}
