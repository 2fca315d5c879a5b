"""A Pinecone URL and its options -> :class:`Settings`, checked once for the sync and async drivers.

URLs::

    pinecone://                                  Pinecone cloud; key from PINECONE_API_KEY
    pinecone://?cloud=gcp&region=europe-west4    where new serverless indexes go (default aws, us-east-1)
    pinecone://?index=shared                     collections are namespaces of index 'shared'
    pinecone://?index=shared&namespace=acme      ... named 'acme/<collection>' (one tenant's view)
    pinecone+local://localhost:5080              Pinecone Local (plain HTTP, any key)

Options (query parameters, or keyword arguments of ``connect``, which win): ``api_key`` (keyword
only: keys do not belong in URLs), ``cloud``, ``region``, ``index``, ``namespace``,
``ready_timeout`` (seconds to wait for a new index, default 300), ``max_concurrency`` (parallel
requests of one call, default 4), ``timeout`` (seconds per HTTP request, default 30).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

from vecbridge.core.errors import InvalidInput
from vecbridge.core.urls import parse_store_url

from .names import check_index_name, check_prefix

__all__ = ["CLOUDS", "Settings", "settings_from_url"]

CLOUDS = ("aws", "gcp", "azure")
_OPTIONS = ("api_key", "cloud", "region", "index", "namespace", "ready_timeout", "max_concurrency", "timeout")


@dataclass(frozen=True)
class Settings:
    """Everything a driver needs to reach Pinecone. The key never shows in the repr."""

    api_key: str = field(repr=False)
    host: str | None
    plain_http: bool
    cloud: str
    region: str
    index: str | None
    prefix: str | None
    ready_timeout: float
    max_concurrency: int
    timeout: float
    display: str

    def summary(self) -> str:
        if self.index is None:
            return f"one index per collection, {self.cloud} {self.region}"
        prefix = f", namespace prefix {self.prefix!r}" if self.prefix else ""
        return f"namespaces of index {self.index!r}{prefix}"


def _positive_float(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise InvalidInput(f"{name} must be a positive number of seconds, got {value!r}")
    return number


def _concurrency(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if isinstance(value, bool) or not 1 <= number <= 64:
        raise InvalidInput(f"max_concurrency must be an integer from 1 to 64, got {value!r}")
    return number


def settings_from_url(url: str, options: dict[str, Any]) -> Settings:
    """Check ``url`` and ``options`` (see the module docstring); raises ``InvalidInput``."""
    parsed = parse_store_url(url)
    if parsed.base_scheme != "pinecone" or parsed.variant not in (None, "local"):
        raise InvalidInput(
            f"{parsed.scheme!r} is not a Pinecone URL: use 'pinecone://' or 'pinecone+local://host:5080'"
        )
    if parsed.username or parsed.password or any("key" in k.lower() for k in parsed.query):
        raise InvalidInput(
            "do not put the Pinecone API key in the URL (it would end up in logs and shell history): "
            "set PINECONE_API_KEY or pass api_key=..."
        )
    settings: dict[str, Any] = {**parsed.query, **options}
    unknown = sorted(set(settings) - set(_OPTIONS))
    if unknown:
        raise InvalidInput(f"unknown Pinecone option(s) {unknown}: use {', '.join(_OPTIONS)}")
    local = parsed.variant == "local"
    api_key = settings.get("api_key") or os.environ.get("PINECONE_API_KEY") or ("pclocal" if local else None)
    if not isinstance(api_key, str) or not api_key.strip():
        raise InvalidInput(
            "pinecone:// needs an API key: set the PINECONE_API_KEY environment variable or pass api_key=..."
        )
    if local:
        host: str | None = f"http://{parsed.host or 'localhost'}:{parsed.port or 5080}"
    elif parsed.host:
        host = f"https://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")
    else:
        host = None  # the SDK's default (https://api.pinecone.io) or PINECONE_CONTROLLER_HOST
    cloud = settings.get("cloud", "aws")
    if cloud not in CLOUDS:
        raise InvalidInput(f"cloud must be one of {', '.join(CLOUDS)}, got {cloud!r}")
    region = settings.get("region", "us-east-1")
    if not isinstance(region, str) or not region:
        raise InvalidInput("region must be a non-empty string such as 'us-east-1'")
    index, prefix = settings.get("index"), settings.get("namespace")
    if prefix is not None and index is None:
        raise InvalidInput("namespace= is a prefix inside a shared index: give the index too (?index=...)")
    return Settings(
        api_key=api_key,
        host=host,
        plain_http=local,
        cloud=cloud,
        region=region,
        index=check_index_name(index, what="shared index") if index is not None else None,
        prefix=check_prefix(prefix) if prefix is not None else None,
        ready_timeout=_positive_float("ready_timeout", settings.get("ready_timeout", 300.0)),
        max_concurrency=_concurrency(settings.get("max_concurrency", 4)),
        timeout=_positive_float("timeout", settings.get("timeout", 30.0)),
        display=parsed.redacted(),
    )
