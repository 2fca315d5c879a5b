"""psycopg / psycopg-pool exceptions -> the vecbridge error hierarchy.

What a retry can fix becomes ``TransientError`` (the base class retries it with backoff): a lost or
refused connection, an exhausted pool, serialization failures and deadlocks, a server shutting
down or out of connections, lock and statement timeouts. Everything else is final. Messages never
carry the connection string, so a password cannot leak through them.
"""

from __future__ import annotations

import psycopg
from psycopg import errors as pg
from psycopg_pool import PoolTimeout, TooManyRequests

from vecbridge.core.errors import CollectionNotFound, StoreError, TransientError, VecbridgeError

__all__ = ["is_transient", "translate"]

# SQLSTATE classes / codes worth retrying (https://www.postgresql.org/docs/current/errcodes-appendix.html).
_TRANSIENT_CLASSES = ("08", "40")  # connection exception; transaction rollback (40001, 40P01 ...)
_TRANSIENT_CODES = {
    "53300",  # too_many_connections
    "55P03",  # lock_not_available
    "57014",  # query_canceled (statement_timeout)
    "57P01",  # admin_shutdown
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now (server starting up)
    "57P05",  # idle_session_timeout
}


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (PoolTimeout, TooManyRequests)):
        return True
    if not isinstance(exc, psycopg.Error):
        return False
    state = exc.sqlstate or ""
    if not state:
        # No SQLSTATE: the client lost the server (broken socket, server gone) mid-operation.
        return isinstance(exc, psycopg.OperationalError)
    return state[:2] in _TRANSIENT_CLASSES or state in _TRANSIENT_CODES


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def translate(exc: BaseException, what: str, collection: str | None = None) -> BaseException:
    """The vecbridge error for ``exc`` raised while doing ``what`` (e.g. "upserting into 'docs'")."""
    if isinstance(exc, VecbridgeError):
        return exc
    if is_transient(exc):
        return TransientError(f"PostgreSQL failed temporarily while {what}: {_first_line(exc)}")
    if isinstance(exc, pg.UndefinedTable) and collection is not None:
        return CollectionNotFound(
            f"the table of collection {collection!r} is missing (dropped outside vecbridge?): "
            "drop the collection and create it again"
        )
    if isinstance(exc, pg.InsufficientPrivilege):
        return StoreError(
            f"PostgreSQL denied permission while {what}: {_first_line(exc)}. Grant this role the privilege, "
            "or connect as a role that has it"
        )
    if isinstance(exc, psycopg.Error):
        return StoreError(f"PostgreSQL refused {what}: {_first_line(exc)}")
    return exc
