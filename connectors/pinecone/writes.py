"""Upserts and deletes.

A batch goes out in requests of at most 1,000 vectors and 2 MB (Pinecone's limits), sized from
the exact JSON of each vector (orjson, as the SDK encodes it: numpy rows are measured without
turning them into lists; the SDK converts each row once when it sends it), up to
``max_concurrency`` at a time. A request lands whole or not at all, so the
:class:`~vecbridge.core.driver.WriteResult` names the records of each request that succeeded as
written even when another request of the batch failed. When none landed, the cause is raised
itself (a gone index, a refused key, a quota), which says more than a list of failed ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from vecbridge.core.batching import batched_by_size
from vecbridge.core.driver import Batch, Failure, WriteResult
from vecbridge.core.errors import InvalidInput, StoreError, TransientError

from .errors import is_not_found, translate
from .freshness import Freshness
from .ids import pinecone_id
from .layout import Place
from .metadata import encode
from .plan import Plan
from .planes import Planes
from .storage import MAX_SPARSE_VALUES, keyword_vector, stored_rows

__all__ = ["delete_filter", "delete_ids", "write"]

MAX_UPSERT_VECTORS = 1000
MAX_UPSERT_BYTES = 2 * 1024 * 1024
#: Room in a request body for its envelope ({"vectors":[...],"namespace":...}) and for JSON keys.
_HEADROOM = 16 * 1024
_VECTOR_KEYS = 64  # '{"id":,"values":,"sparseValues":,"metadata":}' and a separating comma


@dataclass
class _Outgoing:
    user_id: str
    vector: dict[str, Any]
    size: int


def _outgoing(place: Place, batch: Batch) -> list[_Outgoing]:
    rows = stored_rows(batch.vectors, place.unit)
    out: list[_Outgoing] = []
    too_many: list[str] = []
    for i, rid in enumerate(batch.ids):
        metadata, size = encode(rid, batch.texts[i], batch.metadata[i])
        pid = pinecone_id(rid)
        vector: dict[str, Any] = {"id": pid, "values": rows[i], "metadata": metadata}
        size += len(orjson.dumps(rows[i].astype(np.float64), option=orjson.OPT_SERIALIZE_NUMPY))
        size += len(pid) + _VECTOR_KEYS
        text = batch.texts[i]
        if place.sparse and text is not None:
            sparse = keyword_vector(text)
            if sparse is not None and len(sparse["indices"]) > MAX_SPARSE_VALUES:
                too_many.append(f"{rid!r} ({len(sparse['indices'])} distinct words)")
            elif sparse is not None:
                vector["sparse_values"] = sparse
                size += len(orjson.dumps(sparse))
        out.append(_Outgoing(rid, vector, size))
    if too_many:
        raise InvalidInput(
            f"Pinecone keeps at most {MAX_SPARSE_VALUES} distinct words of a text in a hybrid collection's keyword "
            f"vector; these texts have more: {', '.join(too_many[:5])}: split them into several records. "
            "Nothing of this batch was written"
        )
    return out


def _worst(errors: list[BaseException]) -> BaseException:
    """The error to raise for a call of which nothing landed: a permanent one if any."""
    permanent = [e for e in errors if not isinstance(translate(e), TransientError)]
    return (permanent or errors)[0]


def write(planes: Planes, freshness: Freshness, place: Place, batch: Batch) -> Plan[WriteResult]:
    requests = list(
        batched_by_size(
            _outgoing(place, batch),
            max_count=MAX_UPSERT_VECTORS,
            max_bytes=MAX_UPSERT_BYTES - _HEADROOM - len(place.namespace),
            size_of=lambda o: o.size,
            describe=lambda o: f"record {o.user_id!r}",
        )
    )
    calls = [("upsert", {"vectors": [o.vector for o in chunk], "namespace": place.namespace}) for chunk in requests]
    outcomes = yield from planes.data_together(place.index, calls)
    result = WriteResult()
    errors: list[BaseException] = []
    for chunk, outcome in zip(requests, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            errors.append(outcome)
            error = translate(outcome) or StoreError(f"Pinecone upsert failed: {type(outcome).__name__}: {outcome}")
            failure = Failure(str(error), transient=isinstance(error, TransientError))
            result.failed.update((o.user_id, failure) for o in chunk)
        else:
            result.written.extend(o.user_id for o in chunk)
            freshness.wrote(place, outcome)
    if errors and not result.written:
        raise _worst(errors)
    return result


def _delete(planes: Planes, place: Place, **selector: Any) -> Plan[None]:
    try:
        yield from planes.data(place.index, "delete", namespace=place.namespace, **selector)
    except Exception as exc:
        if not is_not_found(exc):
            raise  # a namespace that holds no record does not exist: there is nothing to delete


def delete_ids(planes: Planes, place: Place, ids: list[str]) -> Plan[None]:
    """Delete by Pinecone id (``Operations`` maps user ids to them)."""
    yield from _delete(planes, place, ids=ids)


def delete_filter(planes: Planes, place: Place, compiled: dict[str, Any]) -> Plan[None]:
    yield from _delete(planes, place, filter=compiled)
