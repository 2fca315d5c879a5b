"""Failures the emulator can inject, with the error bodies the real Gemini API sends.

Bodies follow google.rpc.Status as the API returns it (``{"error": {code, message, status,
details}}``); the 429 carries ``google.rpc.QuotaFailure`` and ``google.rpc.RetryInfo``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RATE_LIMIT_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
)
TOO_MANY_REQUESTS_MESSAGE = "* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n"


def error_body(code: int, status: str, message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        err["details"] = details
    return {"error": err}


def rate_limit_body(
    retry_delay: str | None = "1s", *, per_day: bool = False, model: str = "gemini-embedding-001"
) -> dict[str, Any]:
    quota_id = (
        "EmbedContentRequestsPerDayPerProjectPerModel" if per_day else "EmbedContentRequestsPerMinutePerProjectPerModel"
    )
    details: list[dict[str, Any]] = [
        {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [
                {
                    "quotaMetric": "generativelanguage.googleapis.com/embed_content_requests",
                    "quotaId": quota_id,
                    "quotaDimensions": {"model": model, "location": "global"},
                    "quotaValue": "3000",
                }
            ],
        },
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [{"description": "Learn more about Gemini API quotas",
                       "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}],
        },
    ]
    if retry_delay is not None:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
    return error_body(429, "RESOURCE_EXHAUSTED", RATE_LIMIT_MESSAGE, details)


def bad_key_body() -> dict[str, Any]:
    msg = "API key not valid. Please pass a valid API key."
    return error_body(
        400,
        "INVALID_ARGUMENT",
        msg,
        [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
             "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
            {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": msg},
        ],
    )


def missing_key_body() -> dict[str, Any]:
    return error_body(
        403,
        "PERMISSION_DENIED",
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API.",
    )


SERVER_ERRORS = {
    500: ("INTERNAL", "An internal error has occurred. Please retry or report in "
          "https://developers.generativeai.google/guide/troubleshooting"),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
}


@dataclass(frozen=True)
class Fault:
    """One injected failure, consumed by the next embedding request.

    ``kind``: ``"status"`` (reply ``code`` with the real error body), ``"rate_limit"`` (429 with
    RetryInfo ``retry_delay``), ``"daily_quota"`` (429 whose quota is per day), or a malformed
    200 reply: ``"wrong_count"`` (one vector missing), ``"bad_json"``, ``"empty_values"``,
    ``"wrong_dimension"``.
    """

    kind: str
    code: int = 500
    retry_delay: str | None = "1s"

    @classmethod
    def rate_limited(cls, retry_delay: str | None = "1s") -> Fault:
        return cls("rate_limit", 429, retry_delay)

    @classmethod
    def server_error(cls, code: int = 500) -> Fault:
        return cls("status", code)

    @classmethod
    def malformed(cls, kind: str = "wrong_count") -> Fault:
        return cls(kind, 200)
