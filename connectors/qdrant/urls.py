"""qdrant-client URLs -> the keyword arguments of ``QdrantClient`` / ``AsyncQdrantClient``.

::

    qdrant://localhost:6333            a server over HTTP (API key: api_key=, ?api_key=, QDRANT_API_KEY)
    qdrants://xyz.cloud.qdrant.io      the same over TLS (Qdrant Cloud)
        ?grpc=true                     speak gRPC (port ?grpc_port=, else the REST port + 1, else 6334)
        ?timeout=60                    seconds per request
    qdrant+local://:memory:            qdrant-client's local mode in memory
    qdrant+local://<folder>            local mode persisted in a folder, read verbatim like
                                       qdrant+edge:// (``qdrant+local:///data/q``, ``qdrant+local://q``)

The client is built with ``check_compatibility=False``: its version check is a request made in
the constructor, and the driver builds clients lazily, outside any event loop's critical path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vecbridge.core.errors import InvalidInput
from vecbridge.core.urls import parse_store_url

__all__ = ["ClientConfig", "client_config"]

_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class ClientConfig:
    """How to build the client: its keyword arguments (``repr`` never shows them: they may hold
    the API key), a label for messages, and whether it is local mode."""

    kwargs: dict[str, Any] = field(repr=False)
    label: str
    local: bool


def _local(rest: str) -> ClientConfig:
    if rest == ":memory:":
        return ClientConfig({"location": ":memory:"}, "qdrant+local://:memory:", True)
    if not rest:
        raise InvalidInput("qdrant+local:// needs a folder or :memory:, e.g. qdrant+local:///data/qdrant")
    path = Path(rest).expanduser().absolute()
    return ClientConfig({"path": str(path)}, f"qdrant+local://{path}", True)


def client_config(url: str, options: dict[str, Any]) -> ClientConfig:
    """Parse ``url``; ``options`` (api_key=, timeout=, other QdrantClient arguments) win over the URL."""
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme == "qdrant+local":
        if options:
            raise InvalidInput(f"qdrant+local:// takes no options, got {sorted(options)}")
        return _local(rest)
    if scheme not in ("qdrant", "qdrants"):
        raise InvalidInput(
            f"the Qdrant client driver takes qdrant://, qdrants:// or qdrant+local:// URLs, not {scheme}://"
        )
    u = parse_store_url(url)
    grpc = u.query.get("grpc", "").lower() in _TRUE
    try:
        timeout = int(options.pop("timeout", u.query.get("timeout", "60")))
        grpc_port = int(u.query.get("grpc_port") or ((u.port + 1) if u.port else 6334))
    except ValueError as exc:
        raise InvalidInput(f"{u.redacted()}: timeout and grpc_port must be whole numbers ({exc})") from None
    kwargs: dict[str, Any] = {
        "host": u.host or "localhost",
        "port": u.port or 6333,
        "grpc_port": grpc_port,
        "https": scheme == "qdrants",
        "api_key": options.pop("api_key", None) or u.query.get("api_key") or os.environ.get("QDRANT_API_KEY"),
        "prefer_grpc": grpc,
        "timeout": timeout,
        "check_compatibility": False,
    }
    if u.path.strip("/"):
        kwargs["prefix"] = u.path.strip("/")
    kwargs.update(options)
    return ClientConfig(kwargs, u.redacted(), False)
