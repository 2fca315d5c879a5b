"""One embedded PostgreSQL data folder: ``initdb``, start, reuse and stop, always with the settings
``embedded.py`` promises (a password, no TCP, a private socket). Callers hold the folder's
start/stop lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from vecbridge.core.errors import StoreError

from .private import Account, make_private_dir, read_secret, write_secret

__all__ = ["PASSWORD_FILE", "SOCKET_NAME", "Cluster", "is_our_postgres", "postmaster_fields", "socket_dir"]

PASSWORD_FILE = "vecbridge.password"
SOCKET_NAME = ".s.PGSQL.5432"
#: Longest socket path a Unix socket address holds (108 bytes on Linux, 104 on macOS, with NUL).
_SOCKET_PATH_MAX = 103
#: A socket folder goes on postgres' command line unquoted: only these characters.
_PLAIN_PATH = re.compile(r"^[A-Za-z0-9_./+@%~-]+$")
_HBA = (
    "# Written by vecbridge: local connections only, each with a password (scram-sha-256).\n"
    "# The server listens on no TCP address; vecbridge restores this file on every start.\n"
    "local all all scram-sha-256\n"
)
WAIT_SECONDS = 120.0


def socket_dir(data_dir: Path, account: Account) -> Path:
    """Where the server's socket goes: the data folder itself when its path is short and plain
    enough, else a private folder named after it under ``$XDG_RUNTIME_DIR`` (the caller's) or
    ``/tmp``. Either way a 0700 folder of the server's account."""
    if len(os.fsencode(data_dir / SOCKET_NAME)) <= _SOCKET_PATH_MAX and _PLAIN_PATH.match(str(data_dir)):
        return data_dir
    runtime = os.environ.get("XDG_RUNTIME_DIR") if account.is_caller else None
    base = Path(runtime) if runtime and Path(runtime).is_dir() and len(runtime) < 40 else Path("/tmp")
    digest = hashlib.sha256(os.fsencode(data_dir)).hexdigest()[:16]
    folder = base / f"vecbridge-pg-{account.uid}-{digest}"
    make_private_dir(folder, account)
    return folder


class Cluster:
    """One data folder: initdb, start, reuse and stop, always with the settings of the module
    docstring. Callers hold the folder's start/stop lock."""

    def __init__(self, data_dir: Path, account: Account, bin_dir: Path) -> None:
        self.data_dir = data_dir
        self.account = account
        self.bin_dir = bin_dir
        self.sockets = socket_dir(data_dir, account)

    # ----- running the binaries -----------------------------------------------------------

    def _run(self, tool: str, *args: str, timeout: float = WAIT_SECONDS) -> None:
        """Run a PostgreSQL tool as the server's account. Output goes to a file, not a pipe: the
        server pg_ctl starts would hold a pipe open forever."""
        switch: dict[str, Any] = (
            {} if self.account.is_caller else {"user": self.account.uid, "group": self.account.gid, "extra_groups": []}
        )
        env = {"PATH": os.defpath, "LC_ALL": "C", "TZ": "UTC"}
        with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as out:
            done = subprocess.run(
                [str(self.bin_dir / tool), *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd="/",
                env=env,
                umask=0o077,
                timeout=timeout,
                check=False,
                **switch,
            )
            if done.returncode != 0:
                out.seek(0)
                raise StoreError(
                    f"the embedded PostgreSQL's {tool} failed in {self.data_dir} (exit {done.returncode}): "
                    f"{out.read().strip()[-2000:]}. Server log: {self.data_dir / 'log'}"
                )

    def _write_config_file(self, name: str, text: str) -> None:
        """Replace a file of the cluster atomically, owned by the server's account (it reads it)."""
        target = self.data_dir / name
        fd, tmp = tempfile.mkstemp(dir=self.data_dir, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                if not self.account.is_caller:
                    os.fchown(f.fileno(), self.account.uid, self.account.gid)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    # ----- life cycle ---------------------------------------------------------------------

    def conninfo(self, password: str | None) -> str:
        from psycopg.conninfo import make_conninfo

        port = postmaster_fields(self.data_dir).get("port") or "5432"
        params = {"host": str(self.sockets), "port": port, "user": "postgres", "dbname": "postgres"}
        if password is not None:
            params["password"] = password
        return make_conninfo("", **params)

    def start_or_reuse(self) -> str:
        """The libpq connection string of this folder's server, started (initdb first if needed),
        or reused when a secure server already runs here."""
        password_file = self.data_dir / PASSWORD_FILE
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        self._check_version()
        password = read_secret(password_file)
        state = self._running_state()
        if state == "insecure":
            self.stop()
        if password is not None and self._hba() != _HBA:
            self._write_config_file("pg_hba.conf", _HBA)
        if state != "secure":
            self._start()
        if password is None:  # a cluster from before passwords: give it one now
            password = self._set_password()
        return self.conninfo(password)

    def _initdb(self) -> None:
        password = secrets.token_urlsafe(32)
        with tempfile.TemporaryDirectory(prefix="vecbridge-initdb-") as scratch:
            pwfile = Path(scratch) / "pw"
            write_secret(pwfile, password)
            if not self.account.is_caller:  # our own scratch files, read by initdb as the server's account
                os.chown(scratch, self.account.uid, self.account.gid)
                os.chown(pwfile, self.account.uid, self.account.gid)
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--encoding=UTF8",
                "--locale=C",
                "--locale-provider=builtin",
                "--builtin-locale=C.UTF-8",
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                f"--pwfile={pwfile}",
            )
        write_secret(self.data_dir / PASSWORD_FILE, password)
        self._write_config_file("pg_hba.conf", _HBA)

    def _check_version(self) -> None:
        version = (self.data_dir / "PG_VERSION").read_text().strip()
        if version != "18":
            raise StoreError(
                f"{self.data_dir} holds a PostgreSQL {version} cluster; the embedded server is PostgreSQL 18. "
                "Export it with a matching PostgreSQL (pg_dump), or use another folder"
            )

    def _hba(self) -> str:
        try:
            return (self.data_dir / "pg_hba.conf").read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def _running_state(self) -> str:
        """``none`` (no server here; a stale postmaster.pid is cleared), ``secure`` (ours, with
        this module's settings) or ``insecure`` (ours, started otherwise: to be restarted)."""
        fields = postmaster_fields(self.data_dir)
        pid = int(fields["pid"]) if fields.get("pid", "").isdigit() else None
        if pid is None or not is_our_postgres(pid, self.data_dir):
            if pid is not None and _alive(pid):
                # The file names a live process that is not this folder's server (its pid was
                # reused after a crash): PostgreSQL would refuse to start over it.
                (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
            return "none"
        secure = fields.get("socket_dir") == str(self.sockets) and fields.get("listen") == "" and self._hba() == _HBA
        return "secure" if secure else "insecure"

    def _start(self) -> None:
        # Settings on the command line win over every configuration file (ALTER SYSTEM included).
        options = f"-c listen_addresses= -c unix_socket_directories={self.sockets} -c unix_socket_permissions=0700"
        self._run(
            "pg_ctl",
            "start",
            "-w",
            "-t",
            str(int(WAIT_SECONDS)),
            "-s",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.data_dir / "log"),
            "-o",
            options,
        )

    def stop(self) -> None:
        pid = postmaster_fields(self.data_dir).get("pid", "")
        if pid.isdigit() and is_our_postgres(int(pid), self.data_dir):
            self._run(
                "pg_ctl", "stop", "-w", "-t", str(int(WAIT_SECONDS)), "-s", "-m", "fast", "-D", str(self.data_dir)
            )

    def _set_password(self) -> str:
        """Give the ``postgres`` role of a ``trust`` cluster a password, then require it."""
        import psycopg
        from psycopg import sql

        password = secrets.token_urlsafe(32)
        with psycopg.connect(self.conninfo(None), autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER ROLE postgres PASSWORD {}").format(sql.Literal(password)))
            write_secret(self.data_dir / PASSWORD_FILE, password)
            self._write_config_file("pg_hba.conf", _HBA)
            conn.execute("SELECT pg_reload_conf()")
        return password


def postmaster_fields(data_dir: Path) -> dict[str, str]:
    """The lines of ``postmaster.pid`` that matter here (empty when there is none)."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return {}
    names = ("pid", "data_dir", "started", "port", "socket_dir", "listen", "shmem", "status")
    return {name: line.strip() for name, line in zip(names, lines, strict=False)}


def _alive(pid: int) -> bool:
    import psutil

    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def is_our_postgres(pid: int, data_dir: Path) -> bool:
    """Whether ``pid`` is a running postgres working in ``data_dir`` (it changes into it)."""
    import psutil

    try:
        process = psutil.Process(pid)
        return (
            process.status() != psutil.STATUS_ZOMBIE
            and process.name() == "postgres"
            and Path(process.cwd()) == data_dir
        )
    except psutil.Error:
        return False
