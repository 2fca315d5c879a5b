"""The one place where Qdrant's exceptions (qdrant-client over REST or gRPC, its local mode, and
Qdrant Edge) become vecbridge errors.

qdrant-client is imported only if the exception comes from it, so Edge users need no extra.
Qdrant Edge raises a plain ``Exception`` whose text is the engine's error, and a Rust panic as
``pyo3_runtime.PanicException`` (a ``BaseException``): both are recognised by their text.
"""

from __future__ import annotations

import re
from typing import Any

from vecbridge.core.errors import (
    CollectionNotFound,
    StoreDamaged,
    StoreError,
    StoreInUse,
    TransientError,
    VecbridgeError,
)

__all__ = ["edge_damage", "is_edge_lock", "translate"]

_TRANSIENT_HTTP = {408, 429, 502, 503, 504}
#: Texts of Qdrant Edge errors that mean its files are damaged (seen when shard files were
#: truncated, zeroed or overwritten: see tests/test_qdrant_edge_damage.py).
_DAMAGE = re.compile(
    r"failed to load segment|Failed to decode value|out of bounds|Inconsistent storage|Can't parse version|"
    r"Failed to deserialize|Failed to open mmap|Gridstore IO error|GraphLinks|Storage file not found|"
    r"Failed to load ID tracker|vector offset|capacity overflow|index out of bounds|unexpected end of file",
    re.IGNORECASE,
)
_LOCK = re.compile(r"WouldBlock|already accessed by another instance", re.IGNORECASE)


def is_edge_lock(exc: BaseException) -> bool:
    """Whether an Edge (or local-mode) error says the files are locked by another store."""
    return bool(_LOCK.search(str(exc)))


def edge_damage(exc: BaseException) -> bool:
    """Whether an Edge error says its files are damaged."""
    return bool(_DAMAGE.search(str(exc))) or type(exc).__name__ == "PanicException"


def _short(text: str, limit: int = 400) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _retry_after(headers: Any) -> float | None:
    try:
        value = headers.get("Retry-After") if headers is not None else None
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _from_http(exc: Any, where: str) -> VecbridgeError:
    code = exc.status_code or 0
    body = _short(bytes(exc.content or b"").decode("utf-8", errors="replace"))
    if code == 404:
        return CollectionNotFound(f"{where}: not found ({body})")
    if code in _TRANSIENT_HTTP:
        return TransientError(f"{where} answered {code}: {body}", retry_after=_retry_after(exc.headers))
    if code in (401, 403):
        return StoreError(f"{where} refused the credentials ({code}): check the API key (QDRANT_API_KEY or api_key=)")
    return StoreError(f"{where} refused the request ({code}): {body}")


def _from_grpc(exc: Any, where: str) -> VecbridgeError:
    import grpc

    code = exc.code()
    detail = _short(str(exc.details() or ""))
    if code == grpc.StatusCode.NOT_FOUND:
        return CollectionNotFound(f"{where}: not found ({detail})")
    if code in (
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
    ):
        return TransientError(f"{where} answered {code.name} over gRPC: {detail}")
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        return StoreError(f"{where} refused the credentials ({code.name}): check the API key")
    return StoreError(f"{where} refused the request ({code.name}): {detail}")


def _from_client(exc: BaseException, where: str) -> VecbridgeError | None:
    from qdrant_client.common.client_exceptions import ResourceExhaustedResponse
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    if isinstance(exc, ResourceExhaustedResponse):
        return TransientError(f"{where} is rate limiting: {exc.message}", retry_after=float(exc.retry_after_s))
    if isinstance(exc, ResponseHandlingException):  # connection refused, timeout, unreadable answer
        return TransientError(f"{where} did not answer ({_short(str(exc))}): check that the server is running")
    if isinstance(exc, UnexpectedResponse):
        return _from_http(exc, where)
    return None


def translate(exc: BaseException, where: str) -> VecbridgeError | None:
    """The vecbridge error for ``exc`` raised by Qdrant's SDKs (None: not one of theirs).
    ``where`` names the store in the message (a redacted URL or a folder)."""
    module = type(exc).__module__ or ""
    if module.startswith("qdrant_client"):
        return _from_client(exc, where)
    if module.startswith("grpc") and hasattr(exc, "code"):
        return _from_grpc(exc, where)
    text = str(exc)
    if isinstance(exc, ValueError) and re.match(r"Collection .* not found", text):  # local mode
        return CollectionNotFound(f"{where}: {text}")
    if is_edge_lock(exc):
        return StoreInUse(
            f"{where} is in use by another process or store object ({_short(text)}): Qdrant Edge and local mode "
            "allow one at a time; close the other one (or wait for its ingest to end), or use a Qdrant server"
        )
    if type(exc) is Exception or type(exc).__name__ == "PanicException":  # Qdrant Edge
        if edge_damage(exc):
            return StoreDamaged(
                f"{where}: Qdrant Edge's files are damaged ({_short(text)}): restore the folder from a backup or "
                "ingest the data again"
            )
        return StoreError(f"{where}: Qdrant Edge refused the request ({_short(text)})")
    if isinstance(exc, RuntimeError) and "QdrantLocal instance is closed" in text:
        return StoreError(f"{where} is closed: connect again")
    return None
