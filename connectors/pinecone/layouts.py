"""Where collections live: one index per collection (the default), or one namespace per
collection inside a shared index (``?index=NAME``, for many small tenants). See ``names``."""

from __future__ import annotations

import json
import time
from typing import Any, Protocol

from vecbridge.core.errors import (
    CollectionExists,
    DimensionMismatch,
    InvalidInput,
    MetricMismatch,
    StoreError,
)
from vecbridge.core.models import CollectionSpec, validate_collection_name

from .control import ControlPlane
from .convert import from_pinecone_metric, pinecone_metric
from .names import (
    LAYOUT_COLLECTION,
    LAYOUT_NAMESPACES,
    TAG_LAYOUT,
    TAG_NAME,
    catalog_namespace,
    embedder_from_tags,
    embedder_tags,
    index_name_for,
    namespace_for,
)
from .sdk import dense_shape, index_tags, is_not_found, pinecone_errors

__all__ = ["IndexPerCollection", "Layout", "NamespacePerCollection"]

#: Metadata key of a catalog record holding a collection spec (shared-index layout).
SPEC_KEY = "_vb_spec"
_LIST_PAGE = 100  # Pinecone's largest list page


class Layout(Protocol):
    def list_names(self) -> list[str]: ...
    def describe(self, name: str) -> CollectionSpec | None: ...
    def create(self, spec: CollectionSpec) -> None: ...
    def drop(self, name: str) -> bool: ...
    def target(self, spec: CollectionSpec) -> tuple[Any, str]: ...
    def summary(self) -> str: ...


def _shape_of(model: Any, index: str) -> tuple[int, Any]:
    shape = dense_shape(model)
    metric = from_pinecone_metric(shape[1]) if shape else None
    if shape is None or metric is None:
        raise StoreError(
            f"index {index!r} is not a dense vector index with a cosine, dotproduct or euclidean metric "
            "(sparse, integrated-embedding and document indexes are not supported): use another name"
        )
    return shape[0], metric


def _is_conflict(exc: StoreError) -> bool:
    return getattr(exc.__cause__, "status_code", None) == 409


class IndexPerCollection:
    """Each collection is a dense serverless index; spec and user name live in index tags."""

    def __init__(self, control: ControlPlane, *, cloud: str, region: str) -> None:
        self._control = control
        self._cloud = cloud
        self._region = region

    def summary(self) -> str:
        return f"one index per collection, {self._cloud} {self._region}"

    def _owner(self, name: str, index: str, tags: dict[str, str]) -> None:
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

    def describe(self, name: str) -> CollectionSpec | None:
        index = index_name_for(name)
        model = self._control.describe(index)
        if model is None:
            return None
        tags = index_tags(model)
        self._owner(name, index, tags)
        dimension, metric = _shape_of(model, index)
        return CollectionSpec(name, dimension, metric, embedder_from_tags(tags))

    def list_names(self) -> list[str]:
        names: list[str] = []
        for model in self._control.list():
            index, tags = str(model.name), index_tags(model)
            if tags.get(TAG_LAYOUT) == LAYOUT_NAMESPACES or dense_shape(model) is None:
                continue
            owner = tags.get(TAG_NAME)
            candidate = owner if owner is not None else index
            try:
                validate_collection_name(candidate)
            except InvalidInput:
                continue  # e.g. an index named '1st-try': no portable name reaches it
            if index_name_for(candidate) == index:
                names.append(candidate)
        return names

    def create(self, spec: CollectionSpec) -> None:
        index = index_name_for(spec.name)
        tags = {TAG_LAYOUT: LAYOUT_COLLECTION, TAG_NAME: spec.name, **embedder_tags(spec.embedder)}
        try:
            model = self._control.create(
                index,
                dimension=spec.dimension,
                metric=pinecone_metric(spec.metric),
                cloud=self._cloud,
                region=self._region,
                tags=tags,
            )
        except StoreError as exc:
            if _is_conflict(exc):
                raise CollectionExists(
                    f"index {index!r} (collection {spec.name!r}) was created meanwhile by someone else: "
                    "open it with exist_ok=True"
                ) from exc
            raise
        self._control.data_plane(index, model)

    def drop(self, name: str) -> bool:
        if self.describe(name) is None:
            return False
        return self._control.delete(index_name_for(name))

    def target(self, spec: CollectionSpec) -> tuple[Any, str]:
        return self._control.data_plane(index_name_for(spec.name)), ""


class NamespacePerCollection:
    """Each collection is a namespace of one shared index; specs are catalog records."""

    def __init__(
        self,
        control: ControlPlane,
        *,
        index: str,
        tenant: str | None,
        cloud: str,
        region: str,
        ready_timeout: float,
    ) -> None:
        self._control = control
        self._index = index
        self._tenant = tenant
        self._catalog = catalog_namespace(tenant)
        self._cloud = cloud
        self._region = region
        self._ready_timeout = ready_timeout

    def summary(self) -> str:
        tenant = f", namespace prefix {self._tenant!r}" if self._tenant else ""
        return f"namespaces of index {self._index!r}{tenant}"

    def _model(self) -> Any | None:
        model = self._control.describe(self._index)
        if model is not None and index_tags(model).get(TAG_LAYOUT) == LAYOUT_COLLECTION:
            raise StoreError(
                f"index {self._index!r} holds the single collection {index_tags(model).get(TAG_NAME)!r}; "
                "it cannot also be a shared index: choose another ?index="
            )
        return model

    def _catalog_spec(self, handle: Any, name: str) -> CollectionSpec | None:
        with pinecone_errors(f"read the spec of collection {name!r}"):
            found = handle.fetch(ids=[name], namespace=self._catalog).vectors
        vector = found.get(name)
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

    def describe(self, name: str) -> CollectionSpec | None:
        model = self._model()
        if model is None:
            return None
        dimension, metric = _shape_of(model, self._index)
        spec = self._catalog_spec(self._control.data_plane(self._index, model), name)
        if spec is not None and (spec.dimension, spec.metric) != (dimension, metric):
            raise StoreError(
                f"collection {name!r} says {spec.dimension}-d {spec.metric.value} but index {self._index!r} "
                f"holds {dimension}-d {metric.value} vectors: its catalog record was edited outside vecbridge"
            )
        return spec

    def list_names(self) -> list[str]:
        model = self._model()
        if model is None:
            return []
        handle = self._control.data_plane(self._index, model)
        names: list[str] = []
        token: str | None = None
        while True:
            with pinecone_errors(f"list the collections of index {self._index!r}"):
                page = handle.list_paginated(namespace=self._catalog, limit=_LIST_PAGE, pagination_token=token)
            names.extend(item.id for item in page.vectors if item.id)
            token = page.pagination.next if page.pagination else None
            if not token:
                return names

    def create(self, spec: CollectionSpec) -> None:
        model = self._model()
        if model is None:
            try:
                model = self._control.create(
                    self._index,
                    dimension=spec.dimension,
                    metric=pinecone_metric(spec.metric),
                    cloud=self._cloud,
                    region=self._region,
                    tags={TAG_LAYOUT: LAYOUT_NAMESPACES},
                )
            except StoreError as exc:
                if not _is_conflict(exc):
                    raise
                model = self._control.wait_ready(self._index)  # another process created it first
        dimension, metric = _shape_of(model, self._index)
        if dimension != spec.dimension:
            raise DimensionMismatch(
                f"shared index {self._index!r} holds {dimension}-d vectors, so collection {spec.name!r} "
                f"cannot be {spec.dimension}-d: every collection of a shared index has its dimension; "
                "use another ?index= for other dimensions"
            )
        if metric != spec.metric:
            raise MetricMismatch(
                f"shared index {self._index!r} uses metric {metric.value!r}, not {spec.metric.value!r}: "
                "every collection of a shared index has its metric; use another ?index="
            )
        handle = self._control.data_plane(self._index, model)
        marker = [1.0] + [0.0] * (dimension - 1)  # Pinecone refuses all-zero dense vectors
        record = {"id": spec.name, "values": marker, "metadata": {SPEC_KEY: json.dumps(spec.to_dict())}}
        with pinecone_errors(f"record the spec of collection {spec.name!r}"):
            handle.upsert(vectors=[record], namespace=self._catalog)
        # Writes are eventually consistent: wait until the catalog shows the new collection.
        deadline = time.monotonic() + self._ready_timeout
        delay = 0.05
        while self._catalog_spec(handle, spec.name) is None:
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"collection {spec.name!r} was written to index {self._index!r} but not visible after "
                    f"{self._ready_timeout:g} s; open it again later"
                )
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def drop(self, name: str) -> bool:
        if self.describe(name) is None:
            return False
        handle = self._control.data_plane(self._index)
        try:
            with pinecone_errors(f"delete the records of collection {name!r}"):
                handle.delete(delete_all=True, namespace=namespace_for(name, self._tenant))
        except StoreError as exc:
            if exc.__cause__ is None or not is_not_found(exc.__cause__):
                raise  # a namespace that never held a record may not exist: nothing to delete
        with pinecone_errors(f"delete the spec of collection {name!r}"):
            handle.delete(ids=[name], namespace=self._catalog)
        return True

    def target(self, spec: CollectionSpec) -> tuple[Any, str]:
        return self._control.data_plane(self._index), namespace_for(spec.name, self._tenant)
