"""Record-level operations (as :mod:`.session` generators): write, search, get, delete, count, scan.

Every call goes to the target's class, its tenant (Weaviate multi-tenancy) and the consistency
level of the store URL (``consistency``, QUORUM by default) or of the search (``consistency=``).
A tenant that was never written to does not exist on the server: reads of it are empty.
"""

from __future__ import annotations

import uuid as uuid_module
from typing import Any

from weaviate.classes.config import ConsistencyLevel
from weaviate.classes.query import Filter, MetadataQuery
from weaviate.exceptions import WeaviateBaseError, WeaviateInsertManyAllFailedError

from vecbridge.core.driver import SearchMode, SearchRequest, Target, WriteResult
from vecbridge.core.errors import InvalidInput, StoreError, UnsupportedFeature
from vecbridge.core.filters import FilterNode, Not, matches
from vecbridge.core.ids import point_uuid
from vecbridge.core.models import Hit, Record, ScanPage

from .collection_ops import check_still_ours, compile_filter, ensure_properties
from .convert import distance_to_score, prepare_batch, vector_argument
from .errors import CLASS_MISSING, TENANT_MISSING, object_failure
from .filters import match_all
from .foreign import canonical_uuid
from .options import consistency_level
from .reading import Reading, reading
from .schema import TEXT_PROP
from .session import Io, Session, Steps

__all__ = ["count", "delete_filter", "delete_ids", "get", "scan_page", "search", "write"]

_EMPTY: Any = object()


def _handle(client: Any, session: Session, target: Target, consistency: ConsistencyLevel | None) -> Any:
    collection = client.collections.use(reading(session, target).cls)
    if target.tenant is not None:
        collection = collection.with_tenant(target.tenant)
    return collection.with_consistency_level(consistency) if consistency is not None else collection


def _read(session: Session, target: Target, io: Io, empty: Any = _EMPTY) -> Steps[Any]:
    """One read: a tenant that does not exist yet has no records (``empty``); a missing class
    forgets what the session knew of it."""
    try:
        return (yield io)
    except WeaviateBaseError as exc:
        if empty is not _EMPTY and target.tenant is not None and TENANT_MISSING.search(str(exc)):
            return empty
        if CLASS_MISSING.search(str(exc)):
            session.forget(reading(session, target).cls)
        raise


# ----- writes ---------------------------------------------------------------------------------


def write(session: Session, target: Target, batch: Any) -> Steps[WriteResult]:
    """One gRPC batch. Every object the reply names failed is a failure (transient or not, by its
    message); every other one landed."""
    if session.foreign(target.name) is not None:
        raise UnsupportedFeature(
            f"collection {target.name!r} is a Weaviate class made by another tool: the Weaviate connector reads "
            "and deletes in adopted classes but does not write into them; migrate it into a vecbridge collection"
        )
    prepared = prepare_batch(batch)
    yield from ensure_properties(session, target.spec, prepared.needs)
    level = session.settings.consistency
    try:
        reply = yield from _read(
            session, target, Io(lambda c: _handle(c, session, target, level).data.insert_many(prepared.objects))
        )
        errors = {int(i): str(e.message) for i, e in reply.errors.items()}
    except WeaviateInsertManyAllFailedError as exc:
        # The client raises when every object failed, merging their messages: each gets all of them.
        errors = dict.fromkeys(range(len(batch)), str(exc))
    yield from check_still_ours(session, target.spec)
    result = WriteResult()
    for index, record_id in enumerate(batch.ids):
        if index in errors:
            result.failed[record_id] = object_failure(errors[index], session.settings.secrets)
        else:
            result.written.append(record_id)
    return result


def _delete_where(session: Session, target: Target, where: Any) -> Steps[None]:
    """``delete_many`` until nothing matches: one call deletes at most QUERY_MAXIMUM_RESULTS
    objects (10,000 by default) while ``matches`` counts them all."""
    while True:
        result = yield from _read(
            session,
            target,
            Io(lambda c: _handle(c, session, target, None).data.delete_many(where=where, verbose=True)),
            None,
        )
        if result is None:
            return  # the tenant does not exist: nothing to delete
        if result.failed:
            failed = [o for o in (result.objects or []) if not o.successful]
            shown = "; ".join(f"{o.uuid}: {o.error}" for o in failed[:10])
            raise StoreError(
                f"Weaviate failed to delete {result.failed} object(s) from {target.name!r} ({shown}); "
                f"{result.successful} were deleted. Run the delete again"
            )
        if result.matches <= result.successful:
            return
        if result.successful == 0:
            raise StoreError(
                f"Weaviate matched {result.matches} object(s) in {target.name!r} but deleted none: "
                "check the server's QUERY_MAXIMUM_RESULTS and logs"
            )


def _uuids(session: Session, target: Target, ids: list[str]) -> list[str]:
    """The object uuids of ``ids``: in an adopted class an id is its object's uuid, so other ids
    name no object."""
    if session.foreign(target.name) is None:
        return [point_uuid(i) for i in ids]
    return [u for u in (canonical_uuid(i) for i in ids) if u is not None]


def delete_ids(session: Session, target: Target, ids: list[str]) -> Steps[None]:
    uuids = _uuids(session, target, ids)
    if uuids:
        yield from _delete_where(session, target, Filter.by_id().contains_any(uuids))


def delete_filter(session: Session, target: Target, node: FilterNode) -> Steps[None]:
    compiled = yield from compile_filter(session, target.spec, node)
    if compiled is not False:
        yield from _delete_where(session, target, match_all() if compiled is True else compiled)


# ----- reads ----------------------------------------------------------------------------------


def search(session: Session, target: Target, request: SearchRequest) -> Steps[list[Hit]]:
    """Dense (``near_vector``) or keyword (Weaviate's BM25 on the text property) search. Hybrid is
    fused in core from the two: see the package docstring for why not Weaviate's own fusion."""
    unknown = set(request.options) - {"consistency"}
    if unknown:  # the store checked the names against Capabilities.query_options
        raise InvalidInput(f"unknown Weaviate search option(s) {sorted(unknown)}")
    level = consistency_level(request.options.get("consistency", session.settings.consistency.value))
    compiled = yield from compile_filter(session, target.spec, request.filter)
    if compiled is False:
        return []
    view = reading(session, target)
    common: dict[str, Any] = {
        "limit": request.k,
        "filters": None if compiled is True else compiled,
        "include_vector": view.include_vector(request.include_vectors),
        "return_properties": view.properties,
    }
    if request.mode is SearchMode.KEYWORD:
        if view.layout is not None:
            raise UnsupportedFeature(f"collection {target.name!r} was adopted: keyword search is not offered on it")
        reply = yield from _read(
            session,
            target,
            Io(
                lambda c: _handle(c, session, target, level).query.bm25(
                    query=request.text,
                    query_properties=[TEXT_PROP],
                    return_metadata=MetadataQuery(score=True),
                    **common,
                )
            ),
            None,
        )
        hits = [view.hit(o, float(o.metadata.score or 0.0), request.include_vectors) for o in _objects(reply)]
    elif request.mode is SearchMode.DENSE:
        assert request.vector is not None
        vector = vector_argument(request.vector)
        if view.target_vector is not None:
            common["target_vector"] = view.target_vector
        reply = yield from _read(
            session,
            target,
            Io(
                lambda c: _handle(c, session, target, level).query.near_vector(
                    near_vector=vector, return_metadata=MetadataQuery(distance=True), **common
                )
            ),
            None,
        )
        hits = [_scored(view, o, target, request.include_vectors) for o in _objects(reply)]
    else:
        raise InvalidInput("the Weaviate driver answers dense and keyword searches; hybrid is fused by the store")
    hits.sort(key=lambda h: -h.score)  # stable: the server's order stays on ties
    return hits


def _objects(reply: Any) -> list[Any]:
    return list(reply.objects) if reply is not None else []


def _scored(view: Reading, obj: Any, target: Target, include_vector: bool) -> Hit:
    distance = obj.metadata.distance
    if distance is None:
        raise StoreError(f"Weaviate returned hit {obj.uuid} without a distance: cannot score it")
    return view.hit(obj, distance_to_score(distance, target.spec.metric), include_vector)


def get(session: Session, target: Target, ids: list[str], include_vectors: bool) -> Steps[list[Record]]:
    uuids = _uuids(session, target, ids)
    if not uuids:
        return []
    view = reading(session, target)
    level = session.settings.consistency
    reply = yield from _read(
        session,
        target,
        Io(
            # without a limit Weaviate returns QUERY_DEFAULTS_LIMIT objects
            lambda c: _handle(c, session, target, level).query.fetch_objects_by_ids(
                ids=uuids,
                limit=len(uuids),
                include_vector=view.include_vector(include_vectors),
                return_properties=view.properties,
            )
        ),
        None,
    )
    return [view.record(o, include_vectors) for o in _objects(reply)]


def _server_count(session: Session, target: Target, where: Any) -> Steps[int]:
    reply = yield from _read(
        session,
        target,
        Io(lambda c: _handle(c, session, target, None).aggregate.over_all(total_count=True, filters=where)),
        None,
    )
    return 0 if reply is None else int(reply.total_count or 0)


def count(session: Session, target: Target, node: FilterNode | None) -> Steps[int]:
    """Exact on every Weaviate version.

    Weaviate answers a negated filter (NotEqual, Not ...) as "every doc id ever used minus the
    matches", and its filtered count counts those ids without resolving them, so deleted objects
    are counted (weaviate/weaviate#10260: on 1.33-1.36.2 at once, on later versions, 1.38.2
    included, after a restart). A retired doc id has no properties, so it matches a filter exactly
    when a record without metadata would: when ``matches(node, {})`` is false, the server's count
    is exact; when it is true, the complement's is, and the count is the exact live total (the
    unfiltered count reads the object store) minus the complement's.
    """
    compiled = yield from compile_filter(session, target.spec, node)
    if compiled is False:
        return 0
    if compiled is True or node is None:
        return (yield from _server_count(session, target, None))
    if not matches(node, {}):
        return (yield from _server_count(session, target, compiled))
    complement = yield from compile_filter(session, target.spec, node.child if isinstance(node, Not) else Not(node))
    total = yield from _server_count(session, target, None)
    if complement is False:
        return total
    if complement is True:
        return 0
    return total - (yield from _server_count(session, target, complement))


def _cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return str(uuid_module.UUID(cursor))
    except (ValueError, TypeError, AttributeError):
        raise InvalidInput(
            f"{cursor!r} is not a scan cursor of a Weaviate collection: pass a next_cursor from a ScanPage"
        ) from None


def scan_page(
    session: Session, target: Target, cursor: str | None, limit: int, include_vectors: bool, stop: str | None
) -> Steps[ScanPage]:
    """One page of Weaviate's cursor API (``after=`` the last uuid, what ``collection.iterator``
    wraps), one object more than a page to know whether another page follows. The scan walks
    uuids in byte order; ``stop`` (a cursor) ends it before that uuid."""
    after, end = _cursor(cursor), _cursor(stop)
    view = reading(session, target)
    reply = yield from _read(
        session,
        target,
        Io(
            lambda c: _handle(c, session, target, None).query.fetch_objects(
                limit=limit + 1,
                after=after,
                include_vector=view.include_vector(include_vectors),
                return_properties=view.properties,
            )
        ),
        None,
    )
    objects = _objects(reply)
    if end is not None:
        bound = uuid_module.UUID(end).bytes
        kept = [o for o in objects if uuid_module.UUID(str(o.uuid)).bytes < bound]
        stopped, objects = len(kept) < len(objects), kept
    else:
        stopped = False
    page, more = objects[:limit], len(objects) > limit and not stopped
    records = [view.record(o, include_vectors) for o in page]
    return ScanPage(records, str(page[-1].uuid) if more else None)
