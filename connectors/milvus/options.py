"""Where a Milvus store is and how to talk to it, read from its URL.

::

    milvus://localhost:19530                    a Milvus server (standalone or cluster), plain gRPC
    milvus://user:password@host:19530/db_name   with a user (token "user:password") and a database
    milvus://host:443?tls=true                  TLS (Zilliz Cloud: token= option or MILVUS_TOKEN)
    milvus+lite:///home/me/data/milvus.db       Milvus Lite: the engine in this process, data in that directory

Query parameters: ``index`` = ``FLAT`` | ``HNSW`` | ``AUTOINDEX`` (the vector index of collections
created from now on; default ``AUTOINDEX`` on a server, ``FLAT`` on Milvus Lite, whose searches are
then exact), ``tls`` = ``true`` | ``false``. Options: ``token=`` (else the URL's user and password,
else the ``MILVUS_TOKEN`` environment variable) and ``index=``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vecbridge.core.errors import InvalidInput
from vecbridge.core.urls import parse_store_url

from .lite import resolve_data_dir
from .schema import INDEX_TYPES

__all__ = ["DEFAULT_PORT", "MilvusSettings", "settings_from_url"]

DEFAULT_PORT = 19530
_QUERY_KEYS = frozenset({"index", "tls"})
_OPTION_KEYS = frozenset({"token", "index"})


@dataclass(frozen=True)
class MilvusSettings:
    #: ``http(s)://host:port`` of a server; None for Milvus Lite.
    server_uri: str | None
    #: Milvus Lite's data directory; None for a server.
    data_dir: Path | None
    index_type: str
    #: The URL with secrets masked, for messages.
    label: str
    db_name: str = ""
    token: str = field(default="", repr=False)


def _index_type(value: Any) -> str:
    if not isinstance(value, str) or value.upper() not in INDEX_TYPES:
        raise InvalidInput(f"Milvus index {value!r} is not one vecbridge builds: use one of {', '.join(INDEX_TYPES)}")
    return value.upper()


def _flag(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("true", "false", "1", "0", "yes", "no"):
        raise InvalidInput(f"{name}={value!r}: use true or false")
    return lowered in ("true", "1", "yes")


def settings_from_url(url: str, **options: Any) -> MilvusSettings:
    parsed = parse_store_url(url)
    label = parsed.redacted()
    unknown = sorted(set(options) - _OPTION_KEYS)
    if unknown:
        raise InvalidInput(f"unknown option(s) {unknown} for {label}: it takes {', '.join(sorted(_OPTION_KEYS))}")
    unknown = sorted(set(parsed.query) - _QUERY_KEYS)
    if unknown:
        raise InvalidInput(f"unknown URL parameter(s) {unknown} in {label}: it takes {', '.join(sorted(_QUERY_KEYS))}")
    lite = parsed.variant == "lite"
    index = _index_type(options.get("index", parsed.query.get("index", "FLAT" if lite else "AUTOINDEX")))
    if lite:
        if parsed.username or parsed.password or "token" in options or "tls" in parsed.query:
            raise InvalidInput(f"{label}: Milvus Lite runs in this process and takes no user, token or tls")
        return MilvusSettings(None, resolve_data_dir((parsed.host or "") + parsed.path), index, label)
    if parsed.variant is not None:
        raise InvalidInput(f"unknown Milvus URL scheme {parsed.scheme!r}: use milvus:// or milvus+lite://")
    if not parsed.host:
        raise InvalidInput(f"{label} names no host: use e.g. milvus://localhost:19530")
    tls = _flag(parsed.query.get("tls", "false"), "tls")
    token = options.get("token")
    if token is None:
        if parsed.username and parsed.password:
            token = f"{parsed.username}:{parsed.password}"
        else:
            token = os.environ.get("MILVUS_TOKEN", "")
    if not isinstance(token, str):
        raise InvalidInput("token must be a string ('user:password' or an API key)")
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    server = f"{'https' if tls else 'http'}://{host}:{parsed.port or DEFAULT_PORT}"
    return MilvusSettings(server, None, index, label, db_name=parsed.path.strip("/"), token=token)
