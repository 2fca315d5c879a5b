"""The drivers' connection pools: a few lines over psycopg, so that a dead server fails a call at
once and only the store's retry policy retries.

psycopg-pool was the first choice, but it connects in background workers and replaces every
connection it discards, so a caller waiting for a connection learns nothing when the server is
gone: it waits out the pool timeout (30 s) per retry while the workers keep trying, a second
retry layer under the store's. Here a connection is opened in the caller's own thread or task,
once, when no idle one is free: a refused connection raises right away (``OperationalError``,
transient), and the store's policy decides whether to try again.

* At most ``pool_max_size`` connections are in use at once; a caller waits up to
  ``pool_timeout`` seconds for one to be returned (then ``PoolExhausted``, transient).
* A returned connection is kept (most recently used first) unless it is broken, closed, inside a
  transaction, or has been idle longer than ``MAX_IDLE`` seconds.
* A connection that broke during a call means the server went away or restarted: every idle
  connection is dropped too, so the retry does not pick up the next dead one.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from .errors import PoolClosed, PoolExhausted

__all__ = ["MAX_IDLE", "AsyncConnections", "Connections"]

#: Seconds a connection may sit idle before it is closed instead of reused (servers, proxies and
#: firewalls drop idle sessions; PostgreSQL's own idle_session_timeout is off by default).
MAX_IDLE = 300.0


class _Idle:
    """Idle connections, most recently returned first, with the time each was returned."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conns: deque[tuple[float, Any]] = deque()
        self.closed = False

    def take(self) -> tuple[Any | None, list[Any]]:
        """A reusable connection (or None), and the stale ones to close."""
        stale: list[Any] = []
        with self._lock:
            while self._conns:
                returned, conn = self._conns.pop()
                if time.monotonic() - returned < MAX_IDLE and not conn.closed:
                    return conn, stale
                stale.append(conn)
        return None, stale

    def keep(self, conn: Any) -> list[Any]:
        """Take ``conn`` back, or say to close it (and, if it broke, every idle one)."""
        broken = conn.broken
        if broken or conn.closed or self.closed or conn.pgconn.transaction_status != TransactionStatus.IDLE:
            return [conn, *self.drain()] if broken else [conn]
        with self._lock:
            self._conns.append((time.monotonic(), conn))
        return []

    def drain(self) -> list[Any]:
        with self._lock:
            conns = [conn for _, conn in self._conns]
            self._conns.clear()
        return conns


def _timeout(seconds: float) -> PoolExhausted:
    return PoolExhausted(
        f"all connections stayed busy for {seconds:g} s: raise the pgvector option pool_max_size or pool_timeout"
    )


class Connections:
    """The sync driver's pool (thread-safe)."""

    def __init__(self, conninfo: str, options: Any, configure: Callable[[psycopg.Connection[Any]], None]) -> None:
        self._conninfo = conninfo
        self._configure = configure
        self._timeout = float(options.pool_timeout)
        self._slots = threading.BoundedSemaphore(options.pool_max_size)
        self._idle = _Idle()

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.Connection.connect(self._conninfo, autocommit=True)
        try:
            self._configure(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        if self._idle.closed:
            raise PoolClosed("the pool is closed")
        if not self._slots.acquire(timeout=self._timeout):
            raise _timeout(self._timeout)
        try:
            conn, stale = self._idle.take()
            for old in stale:
                old.close()
            conn = conn or self._connect()
            try:
                yield conn
            finally:
                for done in self._idle.keep(conn):
                    done.close()
        finally:
            self._slots.release()

    def close(self) -> None:
        self._idle.closed = True
        for conn in self._idle.drain():
            conn.close()


class AsyncConnections:
    """The async driver's pool (one event loop)."""

    def __init__(
        self, conninfo: str, options: Any, configure: Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]
    ) -> None:
        self._conninfo = conninfo
        self._configure = configure
        self._timeout = float(options.pool_timeout)
        self._size = int(options.pool_max_size)
        self._slots: asyncio.Semaphore | None = None  # made inside the loop that uses it
        self._idle = _Idle()

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        try:
            await self._configure(conn)
        except BaseException:
            await conn.close()
            raise
        return conn

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if self._idle.closed:
            raise PoolClosed("the pool is closed")
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._size)
        try:
            await asyncio.wait_for(self._slots.acquire(), self._timeout)
        except asyncio.TimeoutError:
            raise _timeout(self._timeout) from None
        try:
            conn, stale = self._idle.take()
            for old in stale:
                await old.close()
            conn = conn or await self._connect()
            try:
                yield conn
            finally:
                for done in self._idle.keep(conn):
                    await done.close()
        finally:
            self._slots.release()

    async def close(self) -> None:
        self._idle.closed = True
        for conn in self._idle.drain():
            await conn.close()
