"""Error replies in Pinecone's two wire formats.

The control plane answers ``{"error": {"code": "NOT_FOUND", "message": ...}, "status": 404}``
(``ErrorResponse`` in db_control OpenAPI); the data plane answers google.rpc.Status as JSON,
``{"code": 3, "message": ..., "details": []}`` (``rpcStatus`` in db_data OpenAPI).
"""

from __future__ import annotations

from typing import Any

#: HTTP status -> (control-plane code, gRPC status number used on the data plane).
_CODES: dict[int, tuple[str, int]] = {
    400: ("INVALID_ARGUMENT", 3),
    401: ("UNAUTHENTICATED", 16),
    403: ("FORBIDDEN", 7),
    404: ("NOT_FOUND", 5),
    409: ("ALREADY_EXISTS", 6),
    412: ("FAILED_PRECONDITION", 9),
    413: ("INVALID_ARGUMENT", 3),
    422: ("UNPROCESSABLE_ENTITY", 3),
    429: ("RESOURCE_EXHAUSTED", 8),
    500: ("UNKNOWN", 13),
    501: ("UNIMPLEMENTED", 12),
    503: ("UNAVAILABLE", 14),
}


class ApiFailure(Exception):
    """Raised by handlers; the server turns it into the plane's error body."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def control_error_body(status: int, message: str) -> dict[str, Any]:
    code = _CODES.get(status, ("UNKNOWN", 2))[0]
    return {"error": {"code": code, "message": message}, "status": status}


def data_error_body(status: int, message: str) -> dict[str, Any]:
    return {"code": _CODES.get(status, ("UNKNOWN", 2))[1], "message": message, "details": []}


#: A per-second rate limit: retrying later succeeds.
RATE_LIMIT_MESSAGE = (
    "Request failed. You've reached the max request units per second limit for this index. "
    "Learn more about limits: https://docs.pinecone.io/reference/api/database-limits"
)
#: The Starter plan's monthly read- and write-unit limits ("Database limits"): the same 429 status,
#: but nothing but a new month or another plan lifts them.
MONTHLY_READ_LIMIT_MESSAGE = (
    "Request failed. You've reached your read unit limit for the current month. "
    "To continue reading data, upgrade your plan."
)
MONTHLY_WRITE_LIMIT_MESSAGE = (
    "Request failed. You've reached your write unit limit for the current month. "
    "To continue writing data, upgrade your plan."
)
