"""Milvus Lite for ``milvus+lite:///path``: Milvus's engine in this process, served on a private socket.

``pymilvus.MilvusClient("x.db")`` starts Milvus Lite on a TCP port of 127.0.0.1 that any local user
can reach, without a password, and keeps it (and the data directory's lock) until the process
exits. vecbridge serves the same engine (``milvus_lite.MilvusLite`` with its gRPC servicer) on a Unix
socket inside a fresh 0700 directory instead: private to this user, no TCP. One server per data
directory, shared by every store of this process on it and stopped, releasing the directory, when
the last of them closes.

Milvus Lite 3.2 does not implement ``AllocTimestamp``, which ``AsyncMilvusClient.create_index``
calls before it polls the index state (the sync client does not): the servicer here answers it
the way Milvus's timestamp oracle does (physical milliseconds shifted left by 18 logical bits).
Milvus Lite builds indexes synchronously and reports them finished, so the timestamp only has to
exist.

The server handles one request at a time: Milvus Lite's engine does not guard concurrent writes to
one collection (its ``server.py`` says so), so requests are serialised here rather than in every
caller.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import time
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vecbridge.core.errors import InvalidInput, MissingExtra

__all__ = ["acquire", "release", "resolve_data_dir", "running"]

#: Milvus standalone's default gRPC message ceiling, which Milvus Lite also uses.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024


@dataclass
class _Server:
    grpc_server: Any
    database: Any
    socket_dir: Path
    users: int

    @property
    def uri(self) -> str:
        return f"unix:{self.socket_dir / 'milvus.sock'}"


_lock = threading.Lock()
_servers: dict[Path, _Server] = {}


def resolve_data_dir(raw: str) -> Path:
    """The data directory of a ``milvus+lite://`` URL (absolute, ``~`` expanded)."""
    if not raw or raw in ("/", ":memory:"):
        raise InvalidInput(
            "milvus+lite needs a data directory, e.g. milvus+lite:///home/me/.vecbridge/milvus.db "
            "(created if missing; Milvus Lite has no in-memory mode)"
        )
    return Path(raw).expanduser().resolve()


def _servicer(database: Any) -> Any:
    from milvus_lite.adapter.grpc.servicer import MilvusServicer
    from pymilvus.grpc_gen import common_pb2, milvus_pb2

    class Servicer(MilvusServicer):  # type: ignore[misc]
        def AllocTimestamp(self, request: Any, context: Any) -> Any:
            return milvus_pb2.AllocTimestampResponse(
                status=common_pb2.Status(), timestamp=int(time.time() * 1000) << 18
            )

    return Servicer(database)


def _start(data_dir: Path) -> _Server:
    try:
        import grpc
        from milvus_lite import MilvusLite
        from pymilvus.grpc_gen import milvus_pb2_grpc
    except ImportError as exc:
        raise MissingExtra("milvus+lite://", "milvus", exc) from exc

    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    database = MilvusLite(str(data_dir))  # takes the directory's lock, or raises DataDirLockedError
    socket_dir = Path(tempfile.mkdtemp(prefix="vb-milvus-"))  # mode 0700
    try:
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="milvus-lite"),
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ],
        )
        milvus_pb2_grpc.add_MilvusServiceServicer_to_server(_servicer(database), server)
        handle = _Server(server, database, socket_dir, 0)
        server.add_insecure_port(handle.uri)
        server.start()
    except BaseException:
        database.close()
        shutil.rmtree(socket_dir, ignore_errors=True)
        raise
    return handle


def acquire(data_dir: Path) -> str:
    """Start (or share) the server of ``data_dir``; returns its ``unix:`` address for pymilvus."""
    with _lock:
        handle = _servers.get(data_dir)
        if handle is None:
            handle = _servers[data_dir] = _start(data_dir)
        handle.users += 1
        return handle.uri


def release(data_dir: Path) -> None:
    """One store of ``data_dir`` is done; the last one stops the server and frees the directory."""
    with _lock:
        handle = _servers.get(data_dir)
        if handle is None:
            return
        handle.users -= 1
        if handle.users > 0:
            return
        del _servers[data_dir]
    _stop(handle)


def _stop(handle: _Server) -> None:
    handle.grpc_server.stop(grace=2).wait()
    handle.database.close()
    shutil.rmtree(handle.socket_dir, ignore_errors=True)


@atexit.register
def _stop_all() -> None:
    """Stores left open at exit: flush Milvus Lite's files and remove the socket folders."""
    with _lock:
        handles = list(_servers.values())
        _servers.clear()
    for handle in handles:
        _stop(handle)


def running() -> list[Path]:
    """Data directories served now (for tests and diagnostics)."""
    with _lock:
        return sorted(_servers)

