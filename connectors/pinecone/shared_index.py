"""Namespaces of one shared index (``?index=NAME``): every collection is a namespace (a tenant of
a multi-tenant collection another one, see ``names``) and its spec a record of the catalog
namespace. The index is created with the first collection's dimension and storage metric (and a
sparse field if that collection is hybrid); every later collection must fit it.

Catalog records are written and deleted like any record, so they too become visible after a
while: creating and dropping a collection wait until the catalog shows the change."""

from __future__ import annotations

import json
import time
from typing import Any

from vecbridge.core.driver import Target
from vecbridge.core.errors import DimensionMismatch, MetricMismatch, StoreError, UnsupportedFeature
from vecbridge.core.models import CollectionSpec

from .errors import is_conflict, is_not_found
from .indexes import POLL_INTERVAL, create_index, wait_ready
from .layout import Place, place_of, shape_of
from .names import (
    FLAG_HYBRID,
    LAYOUT_COLLECTION,
    LAYOUT_NAMESPACES,
    TAG_LAYOUT,
    TAG_NAME,
    catalog_namespace,
    flags_from_tags,
    flags_tag,
    namespace_for,
    tenant_prefix,
)
from .plan import Pause, Plan
from .planes import Planes, state_problem
from .sdk import index_tags, vector_shape
from .settings import Settings
from .storage import check_storable, storage_metric

__all__ = ["SharedIndex"]

#: Metadata key of a catalog record holding a collection spec.
SPEC_KEY = "_vb_spec"
_LIST_PAGE = 100  # Pinecone's largest list page


class SharedIndex:
    def __init__(self, planes: Planes, settings: Settings) -> None:
        assert settings.index is not None
        self._planes = planes
        self._settings = settings
        self._index = settings.index
        self._catalog = catalog_namespace(settings.prefix)

    def place(self, target: Target) -> Place:
        return place_of(target, self._index, namespace_for(target.name, self._settings.prefix, target.tenant))

    def _model(self) -> Plan[Any | None]:
        model = yield from self._planes.describe(self._index)
        if model is None:
            return None
        if index_tags(model).get(TAG_LAYOUT) == LAYOUT_COLLECTION:
            raise StoreError(
                f"index {self._index!r} holds the single collection {index_tags(model).get(TAG_NAME)!r}; "
                "it cannot also be a shared index: choose another ?index="
            )
        problem = state_problem(self._index, model)
        if problem is not None:
            raise problem
        return model

    def _catalog_spec(self, name: str) -> Plan[CollectionSpec | None]:
        found = yield from self._planes.data(self._index, "fetch", ids=[name], namespace=self._catalog)
        vector = found.vectors.get(name)
        raw = (vector.metadata or {}).get(SPEC_KEY) if vector is not None else None
        if not isinstance(raw, str):
            return None
        try:
            return CollectionSpec.from_dict(json.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"the catalog record of collection {name!r} in namespace {self._catalog!r} is unreadable "
                f"({exc}): it was edited outside vecbridge; delete the record and create the collection again"
            ) from exc

    def _fits(self, model: Any, spec: CollectionSpec) -> None:
        """Raise unless ``spec`` can live in this index (its dimension, metric, sparse field)."""
        shape = vector_shape(model)
        dimension, metric = shape if shape is not None else (None, None)
        if shape is None:
            shape_of(model, self._index)  # raises: not a vectors-API index
        if dimension != spec.dimension:
            raise DimensionMismatch(
                f"shared index {self._index!r} holds {dimension}-d vectors, so collection {spec.name!r} "
                f"cannot be {spec.dimension}-d: every collection of a shared index has its dimension; "
                "use another ?index= for other dimensions"
            )
        if metric != storage_metric(spec):
            raise MetricMismatch(
                f"shared index {self._index!r} uses metric {metric!r}, but collection {spec.name!r} needs "
                f"{storage_metric(spec)!r} (hybrid collections need 'dotproduct'): every collection of a shared "
                "index has its metric; use another ?index="
            )
        if spec.hybrid and FLAG_HYBRID not in flags_from_tags(index_tags(model)):
            raise UnsupportedFeature(
                f"shared index {self._index!r} was created without a keyword (sparse) field, so hybrid collection "
                f"{spec.name!r} cannot live there: use another ?index= (created by a hybrid collection)"
            )

    def describe(self, name: str) -> Plan[CollectionSpec | None]:
        model = yield from self._model()
        if model is None:
            return None
        spec = yield from self._catalog_spec(name)
        if spec is not None:
            try:
                self._fits(model, spec)
            except StoreError as exc:
                raise StoreError(
                    f"the catalog record of collection {name!r} was edited outside vecbridge: {exc}"
                ) from exc
        return spec

    def list_names(self) -> Plan[list[str]]:
        if (yield from self._model()) is None:
            return []
        names: list[str] = []
        token: str | None = None
        while True:
            page = yield from self._planes.data(
                self._index, "list_paginated", namespace=self._catalog, limit=_LIST_PAGE, pagination_token=token
            )
            names.extend(item.id for item in page.vectors if item.id)
            token = page.pagination.next if page.pagination else None
            if not token:
                return names

    def create(self, spec: CollectionSpec) -> Plan[None]:
        check_storable(spec)
        model = yield from self._model()
        if model is None:
            try:
                model = yield from create_index(
                    self._planes,
                    self._index,
                    dimension=spec.dimension,
                    metric=storage_metric(spec),
                    sparse=spec.hybrid,
                    cloud=self._settings.cloud,
                    region=self._settings.region,
                    tags={TAG_LAYOUT: LAYOUT_NAMESPACES, **flags_tag({FLAG_HYBRID} if spec.hybrid else set())},
                    timeout=self._settings.ready_timeout,
                    local=self._settings.plain_http,
                )
            except Exception as exc:
                if not is_conflict(exc):
                    raise
                model = yield from wait_ready(self._planes, self._index, self._settings.ready_timeout)
        self._fits(model, spec)
        marker = [1.0] + [0.0] * (spec.dimension - 1)  # Pinecone refuses all-zero dense vectors
        record = {"id": spec.name, "values": marker, "metadata": {SPEC_KEY: json.dumps(spec.to_dict())}}
        yield from self._planes.data(self._index, "upsert", vectors=[record], namespace=self._catalog)
        yield from self._until(spec.name, present=True)

    def drop(self, name: str) -> Plan[bool]:
        spec = yield from self.describe(name)
        if spec is None:
            return False
        prefix = self._settings.prefix
        if spec.multi_tenant:
            namespaces = yield from self._tenant_namespaces(tenant_prefix(name, prefix))
        else:
            namespaces = [namespace_for(name, prefix)]
        for namespace in namespaces:
            try:
                yield from self._planes.data(self._index, "delete", delete_all=True, namespace=namespace)
            except Exception as exc:
                if not is_not_found(exc):
                    raise  # a namespace that never held a record does not exist: nothing to delete
        yield from self._planes.data(self._index, "delete", ids=[name], namespace=self._catalog)
        yield from self._until(name, present=False)
        return True

    def _tenant_namespaces(self, prefix: str) -> Plan[list[str]]:
        names: list[str] = []
        token: str | None = None
        while True:
            page = yield from self._planes.data(
                self._index, "list_namespaces_paginated", prefix=prefix, limit=_LIST_PAGE, pagination_token=token
            )
            names.extend(ns.name for ns in page.namespaces)
            token = page.pagination.next if page.pagination else None
            if not token:
                return names

    def _until(self, name: str, *, present: bool) -> Plan[None]:
        """Wait until the catalog shows (or no longer shows) collection ``name``."""
        deadline = time.monotonic() + self._settings.ready_timeout
        delay = 0.02
        while ((yield from self._catalog_spec(name)) is not None) != present:
            if time.monotonic() >= deadline:
                change = "written to" if present else "deleted from"
                raise StoreError(
                    f"collection {name!r} was {change} index {self._index!r} but the change was not visible after "
                    f"{self._settings.ready_timeout:g} s (Pinecone is eventually consistent); look again later"
                )
            yield Pause(delay)
            delay = min(delay * 2, POLL_INTERVAL)
