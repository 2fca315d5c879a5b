"""Translate google-genai exceptions into vecbridge's, at the connector boundary.

Transient failures (429, 408, 5xx, connection errors, malformed replies) become
``TransientError`` subclasses carrying the server's requested delay (``google.rpc.RetryInfo``
or ``Retry-After``), so the retry policy can honour it. Everything else fails fast as
``GeminiAPIError`` with the API's own message. The API key never appears in any message:
every text that leaves this module goes through :func:`scrub`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pydantic
from google.genai import errors as genai_errors

from vecbridge.core.errors import TransientError, VecbridgeError

__all__ = [
    "GeminiAPIError",
    "GeminiTransientError",
    "MalformedReply",
    "retry_delay_from",
    "scrub",
    "translate",
]

_TRANSIENT_CODES = frozenset({408, 429, 500, 502, 503, 504})


def _transport_errors() -> tuple[type[BaseException], ...]:
    # The SDK talks through httpx or its fork httpx2, whichever is installed.
    found: list[type[BaseException]] = []
    for name in ("httpx", "httpx2"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        found.append(module.TransportError)
    return tuple(found)


_TRANSPORT_ERRORS = _transport_errors()


def scrub(text: str, secret: str | None) -> str:
    """Remove ``secret`` (the API key) from ``text``."""
    if secret:
        text = text.replace(secret, "***")
    # A key may also travel URL-encoded in a ?key= parameter.
    return re.sub(r"([?&]key=)[^&\s'\"]+", r"\1***", text)


class GeminiAPIError(VecbridgeError):
    """The Gemini API refused a request for a reason retrying will not fix (400, 401, 403, 404 ...)."""

    def __init__(self, message: str, *, code: int | None = None, status: str | None = None) -> None:
        self.code = code
        self.status = status
        super().__init__(message)


class GeminiTransientError(TransientError):
    """A 429/5xx/timeout: retried with backoff; ``retry_after`` is the server's requested delay."""

    def __init__(self, message: str, *, code: int | None = None, status: str | None = None,
                 retry_after: float | None = None) -> None:
        self.code = code
        self.status = status
        super().__init__(message, retry_after=retry_after)


class MalformedReply(GeminiTransientError):
    """A 200 reply that cannot be trusted (wrong number of vectors, wrong length, bad JSON)."""


def _error_details(exc: genai_errors.APIError) -> list[dict[str, Any]]:
    body = exc.details if isinstance(exc.details, dict) else {}
    err = body.get("error", body)
    details = err.get("details") if isinstance(err, dict) else None
    return [d for d in details or [] if isinstance(d, dict)]


def _parse_duration(value: Any) -> float | None:
    """google.protobuf.Duration in JSON form: "12s", "0.5s", "1.234567890s"."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+(?:\.\d*)?)s?\s*", value)
        if match:
            return float(match.group(1))
    if isinstance(value, dict):  # proto form {"seconds": "12", "nanos": 500000000}
        return float(value.get("seconds", 0)) + float(value.get("nanos", 0)) / 1e9
    return None


def retry_delay_from(exc: genai_errors.APIError) -> float | None:
    """The delay the server asked for: RetryInfo.retryDelay, else a Retry-After header."""
    for d in _error_details(exc):
        if str(d.get("@type", "")).endswith("google.rpc.RetryInfo"):
            delay = _parse_duration(d.get("retryDelay"))
            if delay is not None:
                return delay
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is not None:
        try:
            value = headers.get("retry-after")
        except Exception:  # headers of an unknown response type
            value = None
        if value:
            return _parse_duration(value)
    return None


def _is_daily_quota(exc: genai_errors.APIError) -> bool:
    for d in _error_details(exc):
        if str(d.get("@type", "")).endswith("google.rpc.QuotaFailure"):
            for v in d.get("violations") or []:
                if "PerDay" in str(v.get("quotaId", "")):
                    return True
    return False


_HINTS = {
    400: "check the request settings (model, task type, output_dimensionality) and the API key",
    401: "check the API key (GEMINI_API_KEY / GOOGLE_API_KEY)",
    403: "check that the API key is valid and its project may use the Gemini API",
    404: "check the model name (e.g. 'gemini-embedding-001')",
}


def translate(exc: BaseException, *, secret: str | None = None) -> VecbridgeError:
    """Map an exception raised while calling the API to a vecbridge error (key scrubbed)."""
    if isinstance(exc, VecbridgeError):
        return exc
    if isinstance(exc, genai_errors.APIError):
        code = int(exc.code) if exc.code else None
        status = exc.status or ""
        api_message = scrub(str(exc.message or "").strip(), secret)
        label = f"{code} {status}".strip()
        if code in _TRANSIENT_CODES:
            if code == 429 and _is_daily_quota(exc):
                return GeminiAPIError(
                    f"Gemini API daily quota exhausted ({label}): {api_message} — retrying today will not "
                    "help: wait for the quota reset, raise the quota, or use the Batch API",
                    code=code, status=status,
                )
            return GeminiTransientError(
                f"Gemini API temporarily unavailable ({label}): {api_message}",
                code=code, status=status, retry_after=retry_delay_from(exc),
            )
        hint = _HINTS.get(code or 0, "see the message above")
        if "API_KEY_INVALID" in json.dumps(_error_details(exc)):
            hint = "the API key is not valid: set GEMINI_API_KEY (or GOOGLE_API_KEY) to a valid key"
        return GeminiAPIError(f"Gemini API refused the request ({label}): {api_message} — {hint}",
                              code=code, status=status)
    if _TRANSPORT_ERRORS and isinstance(exc, _TRANSPORT_ERRORS):
        return GeminiTransientError(f"could not reach the Gemini API: {scrub(repr(exc), secret)}")
    if isinstance(exc, json.JSONDecodeError):
        return MalformedReply(f"the Gemini API sent a reply that is not valid JSON: {exc.msg}")
    if isinstance(exc, pydantic.ValidationError):
        return MalformedReply(f"the Gemini API sent a reply of an unexpected shape ({exc.error_count()} problem(s))")
    return GeminiAPIError(f"unexpected error calling the Gemini API: {type(exc).__name__}: {scrub(str(exc), secret)}")
