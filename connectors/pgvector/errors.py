"""psycopg exceptions (and the pools') -> the vecbridge error hierarchy: the one place they are mapped.

What a retry can fix becomes ``TransientError`` (the store's one retry policy retries it): a lost
or refused connection, an exhausted pool, serialization failures and deadlocks, a server shutting
down or out of connections, lock and statement timeouts, and a unique violation (the one place it
can happen is the direct COPY of new ids, when another writer added one of them at the same
moment: sent again, the batch takes the merging path). Everything else is final. Messages carry
the server's first line only, never the connection string, so a password cannot leak through them.
"""

from __future__ import annotations

import psycopg
from psycopg import errors as pg

from vecbridge.core.errors import CollectionNotFound, StoreError, TransientError, VecbridgeError

__all__ = ["PoolClosed", "PoolExhausted", "is_transient", "translate"]

# SQLSTATE classes / codes worth retrying (https://www.postgresql.org/docs/current/errcodes-appendix.html).
_TRANSIENT_CLASSES = ("08", "40")  # connection exception; transaction rollback (40001, 40P01 ...)
_TRANSIENT_CODES = {
    "23505",  # unique_violation: see the module docstring
    "53300",  # too_many_connections
    "55P03",  # lock_not_available
    "57014",  # query_canceled (statement_timeout)
    "57P01",  # admin_shutdown
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now (server starting up)
    "57P05",  # idle_session_timeout
}


class PoolExhausted(Exception):
    """Every connection of a pool stayed busy for ``pool_timeout`` seconds."""


class PoolClosed(Exception):
    """The driver was closed."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, PoolExhausted):
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


def translate(exc: BaseException) -> VecbridgeError | None:
    """The vecbridge error for a psycopg / pool exception (None: not ours to translate)."""
    if isinstance(exc, VecbridgeError):
        return exc
    if isinstance(exc, PoolClosed):
        return StoreError("the pgvector store is closed: open a new one")
    if is_transient(exc):
        return TransientError(f"PostgreSQL failed temporarily: {_first_line(exc)}")
    if isinstance(exc, pg.UndefinedTable):
        return CollectionNotFound(
            f"its table is missing (dropped outside vecbridge?): drop the collection and create it again "
            f"({_first_line(exc)})"
        )
    if isinstance(exc, pg.InsufficientPrivilege):
        return StoreError(
            f"PostgreSQL denied permission: {_first_line(exc)}. Grant this role the privilege, or connect as "
            "a role that has it"
        )
    if isinstance(exc, pg.CharacterNotInRepertoire | pg.UntranslatableCharacter):
        return StoreError(f"PostgreSQL cannot store this text: {_first_line(exc)}")
    if isinstance(exc, psycopg.Error):
        return StoreError(f"PostgreSQL refused the request: {_first_line(exc)}")
    return None
