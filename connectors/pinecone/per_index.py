"""One index per collection (the default layout): a dense serverless index whose tags hold the
collection's name, flags and embedder (see ``names``); tenants are namespaces of that index."""

from __future__ import annotations

from typing import Any

from vecbridge.core.driver import Target
from vecbridge.core.errors import CollectionExists, InvalidInput, StoreError, TransientError
from vecbridge.core.models import CollectionSpec, validate_collection_name

from .errors import is_conflict
from .indexes import create_index, delete_index
from .layout import Place, place_of, shape_of
from .names import (
    FLAG_HYBRID,
    FLAG_TENANTS,
    FLAG_UNIT,
    LAYOUT_COLLECTION,
    LAYOUT_NAMESPACES,
    TAG_LAYOUT,
    TAG_NAME,
    embedder_from_tags,
    embedder_tags,
    flags_from_tags,
    flags_tag,
    index_name_for,
)
from .plan import Plan
from .planes import Planes, state_problem
from .sdk import index_state, index_tags, vector_shape
from .settings import Settings
from .storage import check_storable, storage_metric, unit_vectors

__all__ = ["IndexPerCollection"]


def _owner(name: str, index: str, tags: dict[str, str]) -> None:
    """Refuse indexes that are not this collection's (name clashes, shared indexes)."""
    if tags.get(TAG_LAYOUT) == LAYOUT_NAMESPACES:
        raise StoreError(
            f"index {index!r} is a shared index whose namespaces are collections: open it with "
            f"'pinecone://?index={index}', or choose another collection name"
        )
    owner = tags.get(TAG_NAME)
    if (owner is not None and owner != name) or (owner is None and index != name):
        raise StoreError(
            f"collection {name!r} maps to index {index!r}, which belongs to "
            f"{owner or 'an index created outside vecbridge'!r}: choose another collection name"
        )


def _spec(name: str, index: str, model: Any) -> CollectionSpec:
    tags = index_tags(model)
    _owner(name, index, tags)
    flags = flags_from_tags(tags)
    dimension, metric = shape_of(model, index, unit=FLAG_UNIT in flags)
    return CollectionSpec(
        name,
        dimension,
        metric,
        embedder_from_tags(tags),
        hybrid=FLAG_HYBRID in flags,
        multi_tenant=FLAG_TENANTS in flags,
    )


class IndexPerCollection:
    def __init__(self, planes: Planes, settings: Settings) -> None:
        self._planes = planes
        self._settings = settings

    def place(self, target: Target) -> Place:
        return place_of(target, index_name_for(target.name), target.tenant or "")

    def describe(self, name: str) -> Plan[CollectionSpec | None]:
        index = index_name_for(name)
        model = yield from self._planes.describe(index)
        if model is None:
            return None
        problem = state_problem(index, model)
        if isinstance(problem, TransientError):
            return None  # being deleted: absent for every purpose but its name
        if problem is not None:
            raise problem
        return _spec(name, index, model)

    def list_names(self) -> Plan[list[str]]:
        names: list[str] = []
        for model in (yield from self._planes.list_indexes()):
            index, tags = str(model.name), index_tags(model)
            if index_state(model)[1] == "Terminating":
                continue
            if tags.get(TAG_LAYOUT) == LAYOUT_NAMESPACES or vector_shape(model) is None:
                continue
            candidate = tags.get(TAG_NAME, index)
            try:
                validate_collection_name(candidate)
            except InvalidInput:
                continue  # e.g. an index named '1st-try': no portable name reaches it
            if index_name_for(candidate) == index:
                names.append(candidate)
        return names

    def create(self, spec: CollectionSpec) -> Plan[None]:
        check_storable(spec)
        index = index_name_for(spec.name)
        flags = {
            flag
            for flag, on in (
                (FLAG_HYBRID, spec.hybrid),
                (FLAG_TENANTS, spec.multi_tenant),
                (FLAG_UNIT, unit_vectors(spec)),
            )
            if on
        }
        tags = {TAG_LAYOUT: LAYOUT_COLLECTION, TAG_NAME: spec.name, **flags_tag(flags), **embedder_tags(spec.embedder)}
        try:
            yield from create_index(
                self._planes,
                index,
                dimension=spec.dimension,
                metric=storage_metric(spec),
                sparse=spec.hybrid,
                cloud=self._settings.cloud,
                region=self._settings.region,
                tags=tags,
                timeout=self._settings.ready_timeout,
                local=self._settings.plain_http,
            )
        except Exception as exc:
            if not is_conflict(exc):
                raise
            model = yield from self._planes.describe(index)
            problem = state_problem(index, model) if model is not None else None
            if problem is not None:
                raise problem from exc
            raise CollectionExists(
                f"index {index!r} (collection {spec.name!r}) was created meanwhile by someone else: "
                "open it with exist_ok=True"
            ) from exc

    def drop(self, name: str) -> Plan[bool]:
        index = index_name_for(name)
        model = yield from self._planes.describe(index)
        if model is None:
            return False
        _owner(name, index, index_tags(model))
        dropped: bool = yield from delete_index(self._planes, index, self._settings.ready_timeout)
        return dropped
