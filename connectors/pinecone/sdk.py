"""Everything that depends on the shape of the ``pinecone`` SDK: the request that creates an index
in either API generation, reading index descriptions, and switching the SDK's own retries off.

Supported: ``pinecone`` 9.x and 10.x (the extra pins ``>=9,<11``).

* 10.x speaks API version ``2026-07``: an index is created with a ``schema``. The vectors API
  (upsert, query, fetch ...) serves the reserved fields ``_values`` (dense) and ``_sparse_values``
  (sparse, declared only for hybrid collections: sparse writes need it); describing any dense
  vectors-API index reports both.
* 9.x speaks ``2025-10``: ``dimension``/``metric``/``spec``, where a ``dotproduct`` index takes
  sparse values as well. Pinecone Local speaks the older ``2025-01`` shape, which SDK 10 cannot
  parse; use ``pinecone>=9,<10`` with Pinecone Local.

Retries: the SDK retries 408/429/5xx and connection errors itself (``RetryConfig``, 3 retries).
vecbridge's store retries every call once, in core, honouring Retry-After through
``TransientError.retry_after``, so the SDK's retries are switched off: for the control plane
through ``retry_config``, for the data-plane clients (``Index``/``AsyncIndex``, which in 10.2
take no retry_config) by giving their HTTP layer the same no-retry config (:func:`without_retries`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any, cast

__all__ = [
    "DENSE_FIELD",
    "SDK_MAJOR",
    "SPARSE_FIELD",
    "create_index_kwargs",
    "host_url",
    "index_state",
    "index_tags",
    "no_retries",
    "sdk_version",
    "vector_shape",
    "without_retries",
]

logger = logging.getLogger(__name__)

#: The reserved schema fields under which the 2026-07 vectors API addresses dense and sparse values.
DENSE_FIELD = "_values"
SPARSE_FIELD = "_sparse_values"


def sdk_version() -> str:
    try:
        return version("pinecone")
    except PackageNotFoundError:  # pragma: no cover - the package imports, so it is installed
        return "0"


def _major(text: str) -> int:
    head = text.split(".", 1)[0]
    return int(head) if head.isdigit() else 0


SDK_MAJOR = _major(sdk_version())


def create_index_kwargs(
    *, name: str, dimension: int, metric: str, sparse: bool, cloud: str, region: str, tags: Mapping[str, str]
) -> dict[str, Any]:
    """Keyword arguments of ``pc.indexes.create`` for a vectors-API index, in this SDK's terms.

    ``timeout=-1`` returns at once: the driver waits for readiness itself, with its own timeout
    and message (the SDK polls every 5 s).
    """
    kwargs: dict[str, Any] = {"name": name, "timeout": -1}
    if tags:
        kwargs["tags"] = dict(tags)
    if SDK_MAJOR >= 10:
        fields: dict[str, Any] = {DENSE_FIELD: {"type": "dense_vector", "dimension": dimension, "metric": metric}}
        if sparse:
            fields[SPARSE_FIELD] = {"type": "sparse_vector"}
        kwargs["schema"] = {"fields": fields}
        kwargs["deployment"] = {"deployment_type": "managed", "cloud": cloud, "region": region}
    else:
        kwargs.update(
            dimension=dimension,
            metric=metric,
            vector_type="dense",
            spec={"serverless": {"cloud": cloud, "region": region}},
        )
    return kwargs


#: Schema field classes (SDK 10) that make an index something else than a vectors-API index.
_SEARCHED = frozenset({"DenseVectorField", "SparseVectorField", "SemanticTextField", "StringField"})


def vector_shape(model: Any) -> tuple[int, str] | None:
    """(dimension, Pinecone metric) of a dense index that the vectors API serves; None for sparse,
    integrated-embedding or document indexes."""
    schema = getattr(model, "schema", None)
    fields = getattr(schema, "fields", None)
    if isinstance(fields, Mapping):  # SDK 10: the 2026-07 schema
        searched = {n: f for n, f in fields.items() if type(f).__name__ in _SEARCHED}
        dense = searched.pop(DENSE_FIELD, None)
        sparse = searched.pop(SPARSE_FIELD, None)
        if searched or type(dense).__name__ != "DenseVectorField":
            return None
        if sparse is not None and type(sparse).__name__ != "SparseVectorField":
            return None
        dimension, metric = getattr(dense, "dimension", None), getattr(dense, "metric", None)
    else:  # SDK 9: dimension/metric on the model
        if getattr(model, "vector_type", "dense") != "dense" or getattr(model, "embed", None) is not None:
            return None
        dimension, metric = getattr(model, "dimension", None), getattr(model, "metric", None)
    if not isinstance(dimension, int) or not isinstance(metric, str):
        return None
    return dimension, metric.lower()


def index_tags(model: Any) -> dict[str, str]:
    tags = getattr(model, "tags", None)
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, Mapping) else {}


def index_state(model: Any) -> tuple[bool, str]:
    status = getattr(model, "status", None)
    return bool(getattr(status, "ready", False)), str(getattr(status, "state", "") or "")


def host_url(host: str, plain_http: bool) -> str:
    # Pinecone Local (and the emulator) serve plain HTTP but report bare "host:port", which the
    # SDK would otherwise turn into https://.
    if plain_http:
        return "http://" + host.split("://", 1)[-1]
    return host


def no_retries() -> Any:
    from pinecone import RetryConfig

    return RetryConfig(max_retries=0)


def without_retries(handle: Any) -> Any:
    """``handle`` (an ``Index`` or ``AsyncIndex``) with the SDK's retries switched off.

    SDK 10.2 builds data-plane clients with the default ``RetryConfig`` whatever the parent
    client was given. Their HTTP layer reads its config when it builds its transport (at once for
    ``Index``, on the first request for ``AsyncIndex``), so both the config and an already built
    transport get the no-retry one. An SDK laid out otherwise keeps its retries (with a warning).
    """
    http = getattr(handle, "_http", None)
    config = getattr(http, "_config", None)
    if http is None or not dataclasses.is_dataclass(config) or not hasattr(config, "retry_config"):
        logger.warning(
            "pinecone SDK %s: cannot switch off its data-plane retries; they nest in vecbridge's", sdk_version()
        )
        return handle
    quiet = no_retries()
    http._config = dataclasses.replace(cast(Any, config), retry_config=quiet)
    transport = getattr(getattr(http, "_client", None), "_transport", None)
    if transport is not None and hasattr(transport, "_config"):
        transport._config = quiet
    return handle
