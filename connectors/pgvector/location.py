"""Where a pgvector store is: ``pgvector://`` and ``pgvector+embedded://`` URLs -> options and a
libpq connection string, and a description of it that never holds the password.

URLs::

    pgvector://user:password@host:5432/db?schema=rag     a server (password also from PGPASSWORD,
                                                         ~/.pgpass; every libpq variable applies)
    pgvector+embedded:///path/to/dir                     PostgreSQL 18 + pgvector 0.8 from pip
                                                         (see embedded.py)

Query-string keys that are connector options (``PgVectorOptions``) configure the store; the others
(``sslmode``, ``connect_timeout``, ``application_name`` ...) go to libpq. Keyword options override
the query string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from vecbridge.core.errors import InvalidInput
from vecbridge.core.urls import parse_store_url

from . import embedded
from .options import PgVectorOptions

__all__ = ["Location", "describe_conninfo", "locate"]


@dataclass(frozen=True)
class Location:
    """A parsed URL: the server's connection string (None for an embedded server, whose password
    is known once it runs), its data folder when embedded, a description and the options."""

    conninfo: str | None
    data_dir: Path | None
    description: str
    options: PgVectorOptions


def describe_conninfo(conninfo: str) -> str:
    """``pgvector://user@host:port/db`` for messages and reprs: never the password."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "pgvector://(unparsable connection string)"
    user = f"{params['user']}@" if params.get("user") else ""
    host = str(params.get("host") or "")
    port = f":{params['port']}" if params.get("port") else ""
    db = params.get("dbname") or ""
    return f"pgvector://{user}{host}{port}/{db}"


def locate(url: str, overrides: Mapping[str, Any]) -> Location:
    parsed = parse_store_url(url)
    if parsed.scheme not in ("pgvector", "pgvector+embedded"):
        raise InvalidInput(
            f"the pgvector connector opens pgvector:// and pgvector+embedded:// URLs, not {parsed.scheme}://"
        )
    options, libpq = PgVectorOptions.split(parsed.query, overrides)
    if parsed.scheme == "pgvector+embedded":
        if libpq:
            raise InvalidInput(
                f"unknown option(s) {', '.join(sorted(libpq))} for pgvector+embedded:// "
                "(connection parameters apply to pgvector:// servers only)"
            )
        # Take the path verbatim from the URL: urlsplit would lowercase a relative first segment.
        data_dir = embedded.resolve_data_dir(unquote(url.split("://", 1)[1].split("?", 1)[0]))
        return Location(None, data_dir, f"pgvector+embedded://{data_dir}", options)
    parts = {
        "host": parsed.host,
        "port": parsed.port,
        "dbname": parsed.path.lstrip("/") or None,
        "user": parsed.username,
        "password": parsed.password,  # without it libpq reads PGPASSWORD or ~/.pgpass
    }
    # As in a libpq URI, query parameters (e.g. ?host=/run/postgresql) win over the URL's parts.
    params = {"connect_timeout": "10", **{k: v for k, v in parts.items() if v is not None}, **libpq}
    conninfo = make_conninfo("", **params)
    return Location(conninfo, None, describe_conninfo(conninfo), options)
