"""Parsing of store URLs such as ``qdrant://host:6333`` or ``pgvector+embedded:///data/pg``."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from .errors import InvalidInput

__all__ = ["StoreURL", "parse_store_url"]


@dataclass(frozen=True)
class StoreURL:
    scheme: str
    host: str | None = None
    port: int | None = None
    path: str = ""
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never shown in reprs or logs
    query: dict[str, str] = field(default_factory=dict)
    raw: str = field(default="", repr=False)

    @property
    def base_scheme(self) -> str:
        """``qdrant`` for ``qdrant+edge``: the store family."""
        return self.scheme.split("+", 1)[0]

    @property
    def variant(self) -> str | None:
        """``edge`` for ``qdrant+edge``; None for the plain scheme."""
        parts = self.scheme.split("+", 1)
        return parts[1] if len(parts) == 2 else None

    def redacted(self) -> str:
        """The URL with any password replaced, safe for messages."""
        auth = ""
        if self.username:
            auth = self.username + (":***" if self.password else "") + "@"
        host = self.host or ""
        port = f":{self.port}" if self.port else ""
        q = "&".join(f"{k}={v}" for k, v in self.query.items() if "key" not in k.lower())
        return f"{self.scheme}://{auth}{host}{port}{self.path}" + (f"?{q}" if q else "")


def parse_store_url(url: str) -> StoreURL:
    """Split a store URL. ``qdrant+local://:memory:`` is accepted as the in-memory form."""
    if not isinstance(url, str) or "://" not in url:
        raise InvalidInput(
            f"{url!r} is not a store URL: use e.g. 'qdrant+edge:///path/to/dir', 'qdrant://localhost:6333' "
            "or 'pgvector://user@host:5432/db'"
        )
    scheme, rest = url.split("://", 1)
    scheme = scheme.lower()
    if rest.startswith(":memory:"):
        return StoreURL(scheme=scheme, path=":memory:", raw=url)
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise InvalidInput(f"invalid port in store URL {parts.netloc!r}") from None
    return StoreURL(
        scheme=scheme,
        host=parts.hostname,
        port=port,
        path=unquote(parts.path),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        query=dict(parse_qsl(parts.query)),
        raw=url,
    )
