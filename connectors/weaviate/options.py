"""Weaviate store URLs and options -> the settings of one driver, and its sync or async client.

URLs::

    weaviate://localhost:8080?grpc_port=50051     plain HTTP + gRPC (defaults 8080 / 50051)
    weaviates://weaviate.example.com              TLS for both (defaults 443 / 443)
    weaviate+cloud://abc123.c0.europe-west3.gcp.weaviate.cloud   Weaviate Cloud, key from WEAVIATE_API_KEY

There is no embedded mode: Weaviate ships no in-process engine for Python (the client's
"embedded" option downloads and runs a server binary), so ``embedded`` is refused with a pointer
to Docker or to ``qdrant+edge://``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import weaviate
from weaviate.classes.config import ConsistencyLevel
from weaviate.classes.init import AdditionalConfig, Auth, Timeout
from weaviate.config import ConnectionConfig

from vecbridge.core.errors import InvalidInput
from vecbridge.core.urls import StoreURL, parse_store_url

from .schema import check_compression

__all__ = ["API_KEY_ENV", "WeaviateSettings", "consistency_level", "parse_settings"]

API_KEY_ENV = "WEAVIATE_API_KEY"

_OPTIONS = (
    "api_key",
    "headers",
    "grpc_host",
    "grpc_port",
    "skip_init_checks",
    "timeout",
    "batch_size",
    "consistency",
    "compression",
)
_REMOVED = {
    "object_retries": "the store resends failed records itself (RetryPolicy), so the driver no longer retries",
    "concurrent_requests": "each batch goes in one gRPC request; use batch_size to size it",
}


def consistency_level(value: Any) -> ConsistencyLevel:
    """``ONE``, ``QUORUM`` or ``ALL`` (any case)."""
    try:
        return ConsistencyLevel(str(value).strip().upper())
    except ValueError:
        raise InvalidInput(f"consistency must be 'ONE', 'QUORUM' or 'ALL', got {value!r}") from None


@dataclass(frozen=True)
class WeaviateSettings:
    """Everything a driver needs to know about its server. ``location`` is safe to show; the
    connection arguments (with the API key and headers) never appear in a repr."""

    location: str
    #: Consistency of writes, reads and searches unless a search says otherwise. QUORUM: a QUORUM
    #: read after a QUORUM write sees it on a replicated cluster (vecbridge reads its own writes
    #: when it verifies a migration); Weaviate's own default for reads is ONE.
    consistency: ConsistencyLevel = ConsistencyLevel.QUORUM
    batch_size: int = 200
    compression: str = "none"
    secrets: tuple[str, ...] = field(default=(), repr=False)
    _sync: Callable[[], Any] | None = field(default=None, repr=False, compare=False)
    _async: Callable[[], Any] | None = field(default=None, repr=False, compare=False)

    def connect(self) -> weaviate.WeaviateClient:
        """A connected sync client (raises the client's own errors)."""
        assert self._sync is not None
        client: weaviate.WeaviateClient = self._sync()
        return client

    def async_client(self) -> weaviate.WeaviateAsyncClient:
        """An async client, not yet connected (``await client.connect()``)."""
        assert self._async is not None
        client: weaviate.WeaviateAsyncClient = self._async()
        return client


def parse_settings(url: str, options: Mapping[str, Any]) -> WeaviateSettings:
    """Check a URL and its options (keyword arguments, or query parameters for the non-secret
    ones): ``api_key`` (default: the ``WEAVIATE_API_KEY`` environment variable; required for
    Weaviate Cloud), ``headers`` (e.g. module API keys), ``grpc_host``, ``grpc_port``,
    ``skip_init_checks``, ``timeout`` (seconds for queries and inserts), ``batch_size`` (records
    per write), ``consistency`` (ONE / QUORUM / ALL), ``compression`` (none, rq-8, rq-1, sq, pq, bq)."""
    parsed = parse_store_url(url)
    opts = _merge_options(parsed, options)
    _refuse_embedded(parsed, opts)
    if parsed.username or parsed.password:
        raise InvalidInput(
            "do not put credentials in a Weaviate URL (they end up in shell history and logs): "
            f"set {API_KEY_ENV} or pass api_key=..."
        )
    if not parsed.host:
        raise InvalidInput(
            f"{parsed.redacted()} names no host: use e.g. 'weaviate://localhost:8080' "
            "(vecbridge has no embedded Weaviate; see 'qdrant+edge://' for an in-process store)"
        )
    api_key = opts.pop("api_key", None) or os.environ.get(API_KEY_ENV) or None
    headers = dict(opts.pop("headers", None) or {})
    timeout = _as_float(opts.pop("timeout"), "timeout") if "timeout" in opts else None
    common: dict[str, Any] = {
        "headers": headers or None,
        # No retries inside the client's HTTP transport: the store retries, once.
        "additional_config": AdditionalConfig(
            connection=ConnectionConfig(session_pool_max_retries=0),
            timeout=Timeout(query=timeout, insert=timeout) if timeout is not None else Timeout(),
        ),
        "auth_credentials": Auth.api_key(api_key) if api_key else None,
        "skip_init_checks": _as_bool(opts.pop("skip_init_checks", False), "skip_init_checks"),
    }
    consistency = consistency_level(opts.pop("consistency", "QUORUM"))
    batch_size = _positive(opts.pop("batch_size", 200), "batch_size")
    compression = check_compression(opts.pop("compression", "none"))
    secrets = tuple(s for s in (api_key or "", *headers.values()) if s)
    location, connect, use_async = _clients(parsed, opts, common, api_key is not None)
    return WeaviateSettings(location, consistency, batch_size, compression, secrets, connect, use_async)


def _clients(
    parsed: StoreURL, opts: dict[str, Any], common: dict[str, Any], has_key: bool
) -> tuple[str, Callable[[], Any], Callable[[], Any]]:
    """Where the server is (safe to show), and how to make its sync and async clients."""
    if parsed.variant == "cloud":
        if opts:  # grpc_* given for the cloud, where the client derives them
            raise InvalidInput(f"option(s) {sorted(opts)} do not apply to {parsed.scheme}:// URLs")
        if not has_key:
            raise InvalidInput(
                f"Weaviate Cloud needs an API key: set {API_KEY_ENV} or pass api_key=... "
                "(find it in the cluster's details in the Weaviate Cloud console)"
            )
        cloud = {"cluster_url": str(parsed.host), **common}
        return (
            f"weaviate+cloud://{parsed.host}",
            lambda: weaviate.connect_to_weaviate_cloud(**cloud),
            lambda: weaviate.use_async_with_weaviate_cloud(**cloud),
        )
    if parsed.variant is not None or parsed.scheme not in ("weaviate", "weaviates"):
        raise InvalidInput(
            f"unknown Weaviate URL scheme {parsed.scheme!r}: use weaviate://, weaviates:// or weaviate+cloud://"
        )
    secure = parsed.scheme == "weaviates"
    http_port = parsed.port or (443 if secure else 8080)
    grpc_host = str(opts.pop("grpc_host", None) or parsed.host)
    grpc_port = _positive(opts.pop("grpc_port", 443 if secure else 50051), "grpc_port")
    custom = {
        "http_host": str(parsed.host),
        "http_port": http_port,
        "http_secure": secure,
        "grpc_host": grpc_host,
        "grpc_port": grpc_port,
        "grpc_secure": secure,
        **common,
    }
    return (
        f"{parsed.scheme}://{parsed.host}:{http_port} (gRPC {grpc_host}:{grpc_port})",
        lambda: weaviate.connect_to_custom(**custom),
        lambda: weaviate.use_async_with_custom(**custom),
    )


def _merge_options(parsed: StoreURL, options: Mapping[str, Any]) -> dict[str, Any]:
    """Query parameters then keyword options (which win); unknown names are an error, not ignored."""
    merged: dict[str, Any] = {}
    for key, value in parsed.query.items():
        if "key" in key.lower():
            raise InvalidInput(
                f"do not put {key!r} in the URL (it would show up in logs and shell history): "
                f"set {API_KEY_ENV} or pass api_key=..."
            )
        merged[key] = value
    merged.update(options)
    for name, why in _REMOVED.items():
        if name in merged:
            raise InvalidInput(f"the Weaviate option {name!r} was removed: {why}")
    unknown = sorted(set(merged) - set(_OPTIONS) - {"embedded"})
    if unknown:
        raise InvalidInput(f"unknown Weaviate option(s) {unknown}: known options are {', '.join(_OPTIONS)}")
    return merged


def _refuse_embedded(parsed: StoreURL, options: dict[str, Any]) -> None:
    wants = parsed.variant == "embedded" or _as_bool(options.pop("embedded", False), "embedded")
    if wants or parsed.path == ":memory:":
        raise InvalidInput(
            "vecbridge has no embedded Weaviate: Weaviate has no in-process engine for Python (the "
            "client's embedded mode downloads and runs a server binary). Start a server, e.g. "
            "'docker run -p 8080:8080 -p 50051:50051 cr.weaviate.io/semitechnologies/weaviate', and use "
            "'weaviate://localhost:8080'; or use 'qdrant+edge:///path' for an in-process store"
        )


def _positive(value: Any, name: str) -> int:
    return int(_number(value, name, int, "an integer"))


def _as_float(value: Any, name: str) -> float:
    return float(_number(value, name, float, "a number of seconds"))


def _number(value: Any, name: str, kind: Callable[[Any], float], what: str) -> float:
    """``value`` as a positive ``kind`` (from an option or a query string); bools are not numbers."""
    try:
        if isinstance(value, bool):
            raise ValueError
        number = kind(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be {what}, got {value!r}") from None
    if not number > 0:
        raise InvalidInput(f"{name} must be positive, got {value!r}")
    return number


def _as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise InvalidInput(f"{name} must be true or false, got {value!r}")
