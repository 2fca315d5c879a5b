"""One error type for the emulator, carrying the HTTP status and gRPC code Weaviate would use."""

from __future__ import annotations

from typing import Any

import grpc


class EmulatedError(Exception):
    """A request Weaviate would refuse. REST answers ``status`` with ``body`` (default
    ``{"error": [{"message": ...}]}``); gRPC aborts with ``code`` and the same message."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 422,
        code: grpc.StatusCode = grpc.StatusCode.UNKNOWN,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.body = body if body is not None else {"error": [{"message": message}]}


def not_found(what: str) -> EmulatedError:
    return EmulatedError(what, status=404, code=grpc.StatusCode.NOT_FOUND)


def invalid(message: str) -> EmulatedError:
    return EmulatedError(message, status=422, code=grpc.StatusCode.INVALID_ARGUMENT)


def usage_limit(limit: str, value: int) -> EmulatedError:
    """A usage limit (1.38+): HTTP 429 with USAGE_LIMIT_EXCEEDED, gRPC RESOURCE_EXHAUSTED; inside a
    batch reply each object carries the message (usecases/usagelimits)."""
    message = f"{limit} count limit of {value} reached for this instance."
    body = {"errorCode": "USAGE_LIMIT_EXCEEDED", "limit": limit, "message": message, "value": value}
    return EmulatedError(message, status=429, code=grpc.StatusCode.RESOURCE_EXHAUSTED, body=body)


def config_not_allowed(restriction: str, value: str, allowed: tuple[str, ...]) -> EmulatedError:
    """An operator allow-list refused a class config (ALLOWED_COMPRESSION_TYPES ..., 1.38+): 422
    with CONFIG_NOT_ALLOWED, as 1.38.2 answers it."""
    message = f"{value} is not allowed for {restriction}. Allowed values: {', '.join(allowed)}."
    body = {
        "allowed": list(allowed),
        "error": None,
        "errorCode": "CONFIG_NOT_ALLOWED",
        "message": message,
        "restriction": restriction,
        "value": value,
    }
    return EmulatedError(message, status=422, code=grpc.StatusCode.FAILED_PRECONDITION, body=body)


def unimplemented(feature: str) -> EmulatedError:
    return EmulatedError(
        f"the Weaviate emulator does not implement {feature} (see NOT_COVERED in tests/emulators/weaviate)",
        status=501,
        code=grpc.StatusCode.UNIMPLEMENTED,
    )
