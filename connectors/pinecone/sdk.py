"""Everything that depends on the shape of the ``pinecone`` SDK: building clients, the two SDK
generations this connector supports, reading index descriptions, translating exceptions.

Supported: ``pinecone`` 9.x and 10.x (the extra pins ``>=9,<11``).

* 10.x speaks API version ``2026-07``: an index is created with a ``schema`` (one dense field,
  ``_values``, is what the vector API serves) and a ``deployment``.
* 9.x speaks ``2025-10``: ``dimension``/``metric``/``spec``. Pinecone Local speaks the older
  ``2025-01`` shape, which SDK 10 cannot parse; use ``pinecone>=9,<10`` with Pinecone Local.

The data-plane calls (upsert, query, fetch, delete, list, describe_index_stats) are the same in both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from vecbridge.core.errors import (
    InvalidInput,
    StoreError,
    TransientError,
    VecbridgeError,
)

__all__ = [
    "DENSE_FIELD",
    "SDK_MAJOR",
    "create_index_kwargs",
    "dense_shape",
    "index_state",
    "index_tags",
    "is_not_found",
    "pinecone_errors",
    "sdk_version",
]

#: The reserved schema field under which the 2026-07 vector API addresses dense values.
DENSE_FIELD = "_values"


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
    *, name: str, dimension: int, metric: str, cloud: str, region: str, tags: Mapping[str, str]
) -> dict[str, Any]:
    """Keyword arguments of ``pc.indexes.create`` for a dense index, in this SDK's terms.

    ``timeout=-1`` returns at once: the store waits for readiness itself, with its own timeout
    and message (the SDK polls every 5 s).
    """
    kwargs: dict[str, Any] = {"name": name, "timeout": -1}
    if tags:
        kwargs["tags"] = dict(tags)
    if SDK_MAJOR >= 10:
        kwargs["schema"] = {"fields": {DENSE_FIELD: {"type": "dense_vector", "dimension": dimension, "metric": metric}}}
        kwargs["deployment"] = {"deployment_type": "managed", "cloud": cloud, "region": region}
    else:
        kwargs.update(
            dimension=dimension,
            metric=metric,
            vector_type="dense",
            spec={"serverless": {"cloud": cloud, "region": region}},
        )
    return kwargs


def dense_shape(model: Any) -> tuple[int, str] | None:
    """(dimension, Pinecone metric) of a plain dense index that the vector API serves; None for
    sparse, integrated-embedding or document indexes."""
    schema = getattr(model, "schema", None)
    fields = getattr(schema, "fields", None)
    if isinstance(fields, Mapping):  # SDK 10: the 2026-07 schema
        dense = [f for f in fields.values() if type(f).__name__ == "DenseVectorField"]
        if len(dense) != 1 or len(fields) != 1:
            return None
        dimension, metric = getattr(dense[0], "dimension", None), getattr(dense[0], "metric", None)
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


def is_not_found(exc: BaseException) -> bool:
    from pinecone.errors.exceptions import ApiError

    return isinstance(exc, ApiError) and exc.status_code == 404


def _server_message(exc: Any) -> str:
    message = getattr(exc, "message", None)
    return str(message) if message else str(exc)


def translate(exc: BaseException, what: str) -> VecbridgeError:
    """The vecbridge error for an SDK exception raised while doing ``what``.

    Messages carry the server's explanation and the HTTP status, never request headers (where the
    API key travels).
    """
    from pinecone.errors.exceptions import (
        ApiError,
        PineconeConnectionError,
        PineconeTimeoutError,
        PineconeTypeError,
        PineconeValueError,
        ResponseParsingError,
    )

    if isinstance(exc, ApiError):
        status, message = exc.status_code, _server_message(exc)
        if status in (408, 429) or status >= 500:
            return TransientError(f"Pinecone could not {what} ({status}: {message}); it may succeed if retried later")
        if status == 401:
            return StoreError(
                f"Pinecone refused the API key while trying to {what} (401: {message}): "
                "check PINECONE_API_KEY or the api_key option"
            )
        if status == 403:
            return StoreError(
                f"Pinecone forbade to {what} (403: {message}): deletion protection, a plan quota "
                "or the key's role may be the cause; see the Pinecone console"
            )
        return StoreError(f"Pinecone refused to {what} ({status}: {message})")
    if isinstance(exc, (PineconeTimeoutError, PineconeConnectionError)):
        return TransientError(f"Pinecone could not {what}: {exc}")
    if isinstance(exc, ResponseParsingError):
        return StoreError(
            f"the server's answer while trying to {what} does not fit pinecone SDK {sdk_version()} ({exc}). "
            "SDK 10 speaks API 2026-07; Pinecone Local speaks 2025-01: use pinecone>=9,<10 with it"
        )
    if isinstance(exc, (PineconeValueError, PineconeTypeError)):
        return InvalidInput(f"the pinecone SDK refused to {what}: {exc}")
    return StoreError(f"Pinecone could not {what}: {type(exc).__name__}: {exc}")


@contextlib.contextmanager
def pinecone_errors(what: str) -> Iterator[None]:
    """Translate SDK exceptions raised inside the block (vecbridge's own pass through)."""
    from pinecone.errors.exceptions import PineconeError

    try:
        yield
    except VecbridgeError:
        raise
    except PineconeError as exc:
        raise translate(exc, what) from exc
