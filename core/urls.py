"""Parsing of store URLs such as ``qdrant://host:6333`` or ``pgvector+embedded:///data/pg``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from .errors import InvalidInput

__all__ = ["StoreURL", "parse_store_url", "redact_text", "redact_url"]


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
        """The URL with any password, key or token replaced by ``***``: safe for messages, logs
        and checkpoint files."""
        auth = ""
        if self.username:
            auth = self.username + (":***" if self.password else "") + "@"
        host = self.host or ""
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        port = f":{self.port}" if self.port else ""
        q = "&".join(f"{k}={'***' if _secret_key(k) else v}" for k, v in self.query.items())
        return f"{self.scheme}://{auth}{host}{port}{self.path}" + (f"?{q}" if q else "")


_SECRET_WORDS = ("key", "password", "passwd", "secret", "token", "credential", "auth")


def _secret_key(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def redact_url(url: str) -> str:
    """``url`` with its password and secret query values replaced by ``***``. Never raises: text
    that is not a parsable URL comes back with anything after ``//user:`` and secret-looking
    query values masked."""
    try:
        return parse_store_url(url).redacted()
    except Exception:
        return redact_text(str(url))


def redact_text(text: str) -> str:
    """``text`` (a message, a log line) with the password of every ``scheme://user:password@``
    and every secret-looking ``key=value`` query value replaced by ``***``."""
    text = re.sub(r"(//[^/:@\s]*:)[^@/\s]*@", r"\1***@", text)
    return re.sub(r"((?:key|password|passwd|secret|token)[^=&\s]*=)[^&\s]*", r"\1***", text, flags=re.I)


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
    try:
        parts = urlsplit(url)
        port = parts.port
        hostname = parts.hostname
    except ValueError as exc:
        shown = redact_url(url) if "@" not in url else scheme + "://(redacted)"
        raise InvalidInput(f"{shown} is not a valid store URL ({exc}): check the host and port") from None
    return StoreURL(
        scheme=scheme,
        host=hostname,
        port=port,
        path=unquote(parts.path),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        query=dict(parse_qsl(parts.query)),
        raw=url,
    )
