"""Pinecone's exceptions -> vecbridge errors: the one place they are translated (``translate``).

* 429 is two things on Pinecone ("Database limits"): a per-second rate limit, which a retry fixes
  (``TransientError`` with the server's Retry-After), and a monthly read- or write-unit limit of
  the Starter plan ("... upgrade your plan"), which it does not (:class:`QuotaExceeded`).
* 408 and 5xx, timeouts and connection errors are transient; 401, 403 and other 4xx are not.
* A 404 on the data plane means the index is gone (a missing namespace reads as empty and is
  handled where deletes meet it).

Messages carry the server's explanation and the HTTP status, never request headers (where the
API key travels).
"""

from __future__ import annotations

from typing import Any

from vecbridge.core.errors import (
    CollectionNotFound,
    InvalidInput,
    QuotaExceeded,
    StoreError,
    TransientError,
    VecbridgeError,
)

from .sdk import sdk_version

__all__ = ["QuotaExceeded", "is_conflict", "is_gone", "is_not_found", "status_of", "translate"]

#: Words of Pinecone's monthly-limit 429s ("To continue reading data, upgrade your plan").
_MONTHLY_MARKERS = ("upgrade your plan", "for the current month", "monthly")


def status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def is_not_found(exc: BaseException) -> bool:
    return status_of(exc) == 404


def is_conflict(exc: BaseException) -> bool:
    return status_of(exc) == 409


def is_gone(exc: BaseException) -> bool:
    """Whether ``exc`` suggests the index's host no longer serves it (deleted, or re-created
    elsewhere): its host is then looked up again."""
    from pinecone.errors.exceptions import PineconeConnectionError

    return is_not_found(exc) or isinstance(exc, PineconeConnectionError)


def _server_message(exc: Any) -> str:
    message = getattr(exc, "message", None)
    return str(message) if message else str(exc)


def _api_error(exc: Any) -> VecbridgeError:
    status, message = int(exc.status_code), _server_message(exc)
    if status == 429 and any(m in message.lower() for m in _MONTHLY_MARKERS):
        return QuotaExceeded(
            f"Pinecone: the project's monthly usage limit is reached (429: {message}); retrying will not help "
            "before the limit resets: upgrade the Pinecone plan or wait for the next month"
        )
    if status in (408, 429) or status >= 500:
        return TransientError(
            f"Pinecone is busy or unavailable ({status}: {message}); retry later",
            retry_after=getattr(exc, "retry_after", None),
        )
    if status == 401:
        return StoreError(
            f"Pinecone refused the API key (401: {message}): check PINECONE_API_KEY or the api_key option"
        )
    if status == 402:
        return QuotaExceeded(f"Pinecone requires payment (402: {message}): settle the account's invoices")
    if status == 403:
        return StoreError(
            f"Pinecone forbade the request (403: {message}): deletion protection, a plan quota or the key's "
            "role may be the cause; see the Pinecone console"
        )
    if status == 404:
        return CollectionNotFound(f"Pinecone: the index is gone (404: {message})")
    return StoreError(f"Pinecone refused the request ({status}: {message})")


def translate(exc: BaseException) -> VecbridgeError | None:
    """The vecbridge error for an exception the SDK raised (None: not the SDK's)."""
    from pinecone.errors.exceptions import (
        ApiError,
        PineconeConnectionError,
        PineconeError,
        PineconeTimeoutError,
        PineconeTypeError,
        PineconeValueError,
        ResponseParsingError,
    )

    if isinstance(exc, ApiError):
        return _api_error(exc)
    if isinstance(exc, (PineconeTimeoutError, PineconeConnectionError)):
        return TransientError(f"Pinecone did not answer: {type(exc).__name__}: {exc}")
    if isinstance(exc, ResponseParsingError):
        return StoreError(
            f"the server's answer does not fit pinecone SDK {sdk_version()} ({exc}). "
            "SDK 10 speaks API 2026-07; Pinecone Local speaks 2025-01: use pinecone>=9,<10 with it"
        )
    if isinstance(exc, (PineconeValueError, PineconeTypeError)):
        return InvalidInput(f"the pinecone SDK refused the request: {exc}")
    if isinstance(exc, PineconeError):
        return StoreError(f"Pinecone failed: {type(exc).__name__}: {exc}")
    return None
