"""Weaviate's failures as vecbridge errors: the driver's ``translate`` and the verdict on each object
a batch reply names as failed. The one place that reads the client's exceptions.

What a retry can fix (TransientError): the node or network is briefly away (gRPC UNAVAILABLE,
DEADLINE_EXCEEDED, ABORTED; HTTP 502/503/504, a 429 that is not a usage limit), and a replica that
did not answer in time ("cannot achieve consistency level"). What it cannot (StoreError and
friends): usage limits (HTTP 429 / gRPC RESOURCE_EXHAUSTED with ``USAGE_LIMIT_EXCEEDED``, Weaviate
1.38+), a request larger than the gRPC message limit (the client's own "message larger than max"),
a refused configuration (``CONFIG_NOT_ALLOWED``), and anything the client already retried itself:
weaviate-client retries gRPC UNAVAILABLE inside searches, counts and batches (up to ~31 s, not
configurable), so retrying that again here would nest retries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from weaviate.exceptions import (
    UnexpectedStatusCodeError,
    WeaviateBaseError,
    WeaviateClosedClientError,
    WeaviateConnectionError,
    WeaviateGRPCUnavailableError,
    WeaviateInvalidInputError,
    WeaviateRetryError,
    WeaviateStartUpError,
    WeaviateTimeoutError,
)

from vecbridge.core.driver import Failure
from vecbridge.core.errors import (
    CollectionNotFound,
    InvalidInput,
    QuotaExceeded,
    StoreError,
    TransientError,
    UnsupportedFeature,
    VecbridgeError,
)

__all__ = [
    "CLASS_MISSING",
    "TENANT_MISSING",
    "grpc_code",
    "object_failure",
    "scrub",
    "translate",
]

CLASS_MISSING = re.compile(r"could not find class|class .* (does not exist|not found)|no such class", re.IGNORECASE)
TENANT_MISSING = re.compile(r"tenant not found", re.IGNORECASE)
_REPLICA = re.compile(r"cannot achieve consistency level|not enough replicas|replica.*(unavailable|timeout)", re.I)
# Per-object batch errors worth sending again: overload, network trouble, a replica away.
_TRANSIENT_OBJECT = re.compile(
    r"timeout|timed out|deadline|unavailable|connection (refused|reset)|temporar|try again|"
    r"cannot achieve consistency level|\b(502|503|504)\b",
    re.IGNORECASE,
)
_USAGE_LIMIT = re.compile(r"USAGE_LIMIT_EXCEEDED|count limit of \d+ reached", re.IGNORECASE)
_TOO_LARGE = re.compile(r"larger than max|message too large|payload too large", re.IGNORECASE)
_TRANSIENT_GRPC = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "ABORTED"}
_TRANSIENT_HTTP = {429, 502, 503, 504}


def scrub(text: str, secrets: Sequence[str]) -> str:
    """Belt and braces: no secret ends up in a message, whatever the SDK put in its own."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def grpc_code(exc: BaseException) -> str | None:
    """The gRPC status name behind a client exception (the client raises its own errors inside the
    ``except RpcError`` block, so the RpcError is in the chain), else the ``[CODE]`` some messages hold."""
    for current in _chain(exc):
        code = getattr(current, "code", None)
        if callable(code):
            try:
                return str(code().name)
            except Exception:  # not a grpc call object after all
                continue
    match = re.search(r"\[([A-Z_]{4,})\]", str(exc))
    return match.group(1) if match else None


def _http_status(exc: BaseException) -> int | None:
    for current in _chain(exc):
        if isinstance(current, UnexpectedStatusCodeError) and not callable(getattr(current, "code", None)):
            return current.status_code
    return None


def _usage_limit(exc: BaseException, text: str) -> bool:
    body = next((c.error for c in _chain(exc) if isinstance(c, UnexpectedStatusCodeError)), None)
    return (isinstance(body, dict) and body.get("errorCode") == "USAGE_LIMIT_EXCEEDED") or bool(
        _USAGE_LIMIT.search(text)
    )


def object_failure(message: str, secrets: Sequence[str] = ()) -> Failure:
    """The verdict on one object a batch reply names as failed."""
    text = scrub(message, secrets)
    if _USAGE_LIMIT.search(text):
        return Failure(f"Weaviate usage limit reached (not retried: raise the limit or delete data): {text}")
    return Failure(text, transient=bool(_TRANSIENT_OBJECT.search(text)))


def translate(exc: BaseException, secrets: Sequence[str] = (), location: str = "Weaviate") -> VecbridgeError | None:
    """The vecbridge error for a client exception, or None when it is not the client's."""
    if not isinstance(exc, (WeaviateBaseError, ConnectionError, TimeoutError)):
        return None
    text = scrub(str(exc), secrets)
    code = grpc_code(exc)
    status = _http_status(exc)
    if isinstance(exc, WeaviateClosedClientError):
        return StoreError(f"the connection to {location} is closed: open the store again")
    if any(isinstance(c, WeaviateRetryError) for c in _chain(exc)):
        return StoreError(
            f"{location} stayed unavailable through weaviate-client's own retries (~30 s): check that the server "
            f"is up and its gRPC port reachable ({text})"
        )
    if code == "RESOURCE_EXHAUSTED" or status == 429:
        if _TOO_LARGE.search(text):
            return StoreError(
                f"a request to {location} is larger than its gRPC message limit (grpcMaxMessageSize, set by "
                "GRPC_MAX_MESSAGE_SIZE on the server): lower batch_size, or store less metadata/text per record "
                f"({text})"
            )
        if _usage_limit(exc, text) or code == "RESOURCE_EXHAUSTED":
            return QuotaExceeded(
                f"{location} refused the request: a usage limit of the instance is reached (HTTP 429 / "
                f"RESOURCE_EXHAUSTED, not retried: retrying cannot help). Raise the limit or delete data ({text})"
            )
    if _TOO_LARGE.search(text) or status == 413:
        return StoreError(f"a request to {location} is too large: lower batch_size ({text})")
    if "CONFIG_NOT_ALLOWED" in text or (status == 422 and "not in allow-list" in text):
        return UnsupportedFeature(
            f"{location} refuses this collection's configuration ({text}). vecbridge keeps vectors uncompressed "
            "so scores are exact; on a cluster that only allows compressed indexes, pass compression=... in the "
            "store URL (e.g. 'weaviate://host?compression=rq-8') with one of the allowed types"
        )
    if CLASS_MISSING.search(text) or (status == 404 and isinstance(exc, UnexpectedStatusCodeError)):
        return CollectionNotFound(f"{location}: {text}")
    if _REPLICA.search(text):
        return TransientError(f"{location}: a replica did not answer in time ({text})")
    if isinstance(exc, (WeaviateStartUpError, WeaviateConnectionError, WeaviateGRPCUnavailableError)):
        return TransientError(f"cannot reach {location}: {text}")
    if isinstance(exc, (WeaviateTimeoutError, TimeoutError, ConnectionError)):
        return TransientError(f"{location} did not answer in time: {text}")
    if code in _TRANSIENT_GRPC or status in _TRANSIENT_HTTP:
        return TransientError(f"{location} is temporarily unavailable ({code or status}): {text}")
    if status in (401, 403) or code in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return StoreError(f"{location} refused the credentials: check the API key (WEAVIATE_API_KEY or api_key=...)")
    if isinstance(exc, WeaviateInvalidInputError):
        return InvalidInput(f"{location}: {text}")
    return StoreError(f"{location}: {text}")
