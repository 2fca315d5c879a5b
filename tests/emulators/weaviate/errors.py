"""One error type for the emulator, carrying the HTTP status and gRPC code Weaviate would use."""

from __future__ import annotations

import grpc


class EmulatedError(Exception):
    """A request Weaviate would refuse. REST answers ``status`` with ``{"error": [{"message": ...}]}``;
    gRPC aborts with ``code`` and the same message."""

    def __init__(self, message: str, *, status: int = 422, code: grpc.StatusCode = grpc.StatusCode.UNKNOWN) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def not_found(what: str) -> EmulatedError:
    return EmulatedError(what, status=404, code=grpc.StatusCode.NOT_FOUND)


def invalid(message: str) -> EmulatedError:
    return EmulatedError(message, status=422, code=grpc.StatusCode.INVALID_ARGUMENT)


def unimplemented(feature: str) -> EmulatedError:
    return EmulatedError(
        f"the Weaviate emulator does not implement {feature} (see NOT_COVERED in tests/emulators/weaviate)",
        status=501,
        code=grpc.StatusCode.UNIMPLEMENTED,
    )
