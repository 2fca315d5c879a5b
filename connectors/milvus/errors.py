"""pymilvus, gRPC and Milvus Lite exceptions -> the vecbridge error hierarchy.

Transient (a retry may succeed): the codes Milvus marks retriable (``pkg/util/merr``: service not
ready / unavailable, request or rate limit, resource insufficient, collection recovering ...), a
status with ``retriable`` set, and gRPC's UNAVAILABLE / DEADLINE_EXCEEDED / ABORTED (no connection,
a deadline, a server restarting). Quota, memory and disk limits are final: they need an operator.
Milvus Lite answers ``1`` for every unexpected error, so ``1`` counts as "not ready" only when
the message says so.

The driver calls pymilvus with ``retry_times=0``: pymilvus then wraps each failure once more
("Retry run out of 0 retry times, message=..."), which is unwrapped here to the server's own words.
"""

from __future__ import annotations

import re

import grpc
from pymilvus.exceptions import MilvusException

from vecbridge.core.errors import (
    CollectionExists,
    CollectionNotFound,
    InvalidInput,
    StoreDamaged,
    StoreError,
    StoreInUse,
    TransientError,
    VecbridgeError,
)

__all__ = ["NotLoaded", "translate"]


class NotLoaded(StoreError):
    """The collection is not loaded into memory (released by someone, or Milvus Lite reopened):
    the driver loads it and asks again."""


_RETRIABLE_CODES = frozenset({2, 4, 8, 12, 103, 106, 202, 305, 1002, 1807, 2200})
_COLLECTION_NOT_FOUND = 100
_NOT_LOADED = frozenset({101, 201})  # collection / partition not loaded
_TRANSIENT_GRPC = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.ABORTED})
_WRAPPER = re.compile(r"^\[\w+\] Retry (?:run out of \d+ retry times|timeout: [\d.]+s), (?:message=)?")


def _message(exc: BaseException) -> str:
    text = exc.message if isinstance(exc, MilvusException) else str(exc)
    if isinstance(exc, grpc.RpcError):
        text = f"{exc.code().name}: {exc.details()}"
    text = _WRAPPER.sub("", str(text)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _root(exc: BaseException) -> BaseException:
    """The server's own error under pymilvus's retry wrapper (which drops its flags)."""
    cause = exc.__cause__
    while isinstance(exc, MilvusException) and isinstance(cause, (MilvusException, grpc.RpcError)) and cause is not exc:
        exc, cause = cause, cause.__cause__
    return exc


def _lite_error(exc: BaseException) -> VecbridgeError | None:
    try:
        from milvus_lite import exceptions as lite
    except ImportError:  # a server-only install
        return None
    if isinstance(exc, lite.DataDirLockedError):
        return StoreInUse(
            f"Milvus Lite's data directory is locked by another process (or another client in this one): {exc}. "
            "Close that first, or open another directory"
        )
    if isinstance(exc, (lite.WALCorruptedError, lite.ManifestCorruptedError)):
        return StoreDamaged(f"Milvus Lite's data directory is damaged ({type(exc).__name__}: {exc}): restore a backup")
    return None


def translate(exc: BaseException) -> VecbridgeError | None:
    """The vecbridge error for an exception of pymilvus, gRPC or Milvus Lite; None if it is none of theirs."""
    if isinstance(exc, VecbridgeError):
        return exc
    lite = _lite_error(exc)
    if lite is not None:
        return lite
    root = _root(exc)
    message = _message(root)
    if isinstance(root, grpc.RpcError):
        if root.code() in _TRANSIENT_GRPC:
            return TransientError(f"Milvus did not answer: {message}")
        return StoreError(f"Milvus refused the call: {message}")
    if not isinstance(root, MilvusException):
        return None
    code = root.code
    if isinstance(code, grpc.StatusCode):  # pymilvus reports a gRPC failure with its status as the code
        if code in _TRANSIENT_GRPC:
            return TransientError(f"Milvus did not answer: {message}")
        return StoreError(f"Milvus refused the call: {message}")
    lowered = message.lower()
    missing = "not exist" in lowered or "not found" in lowered
    if code == _COLLECTION_NOT_FOUND or ("collection" in lowered and missing):
        return CollectionNotFound(f"Milvus: {message}")
    if code in _NOT_LOADED or "not loaded" in lowered or "call load()" in lowered:
        return NotLoaded(f"Milvus: {message}")
    if "already exist" in lowered and "collection" in lowered:
        return CollectionExists(
            f"Milvus: {message}. If vecbridge does not list it, a collection of that name was made outside vecbridge: "
            "use another name"
        )
    if root.retriable or code in _RETRIABLE_CODES or (code == 1 and "not ready" in lowered):
        return TransientError(f"Milvus failed temporarily: {message}")
    if root.is_input_error:
        return InvalidInput(f"Milvus refused the request as invalid: {message}")
    return StoreError(f"Milvus refused the call: {message}")
