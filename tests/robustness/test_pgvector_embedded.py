"""The embedded PostgreSQL is private to its user: another local account cannot connect or read
its password, it listens on no TCP address, every connection needs the password, the files it
writes are 0700/0600, and no folder above its own changes mode or owner. With a short data path
(socket in the data folder) and a long one (socket in a private folder under /tmp).

The other account is ``nobody`` through ``runuser``, so these tests need root (as CI has).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("vecbridge.connectors.pgvector", reason="pip install 'vecbridge[pgvector]'")

import psutil
import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.backends.pgvector import _skip_without_pgserver, private_parent
from vecbridge.connectors.pgvector import embedded
from vecbridge.core import StoreError

if (_reason := _skip_without_pgserver()) is not None:
    pytest.skip(_reason, allow_module_level=True)
if os.geteuid() != 0 or shutil.which("runuser") is None:
    pytest.skip("needs root and runuser to act as another local account", allow_module_level=True)


def _modes(path: Path) -> dict[Path, tuple[int, int]]:
    """Mode and owner of every folder above ``path`` that exists."""
    return {p: (p.stat().st_mode, p.stat().st_uid) for p in path.parents if p.exists()}


@pytest.fixture(scope="module", params=["short-path", "long-path"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[Path, str, dict[Path, tuple[int, int]]]]:
    parent = private_parent("vb-pg-sec-")
    data_dir = parent / "data" if request.param == "short-path" else parent / ("p" * 100) / "data"
    before = _modes(data_dir)
    conninfo = embedded.acquire(data_dir)
    try:
        yield data_dir, conninfo, before
    finally:
        embedded.release(data_dir)
        shutil.rmtree(parent, ignore_errors=True)


def _as_nobody(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(shutil.which("runuser")), "-u", "nobody", "--", *command],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        env={"PATH": os.defpath},
    )


def test_socket_placement(server: tuple[Path, str, dict[Path, tuple[int, int]]]) -> None:
    data_dir, conninfo, _ = server
    sockets = Path(str(conninfo_to_dict(conninfo)["host"]))
    if len(str(data_dir)) < 60:
        assert sockets == data_dir
    else:
        assert sockets.parent == Path("/tmp") and sockets.name.startswith("vecbridge-pg-")


def test_files_are_private(server: tuple[Path, str, dict[Path, tuple[int, int]]]) -> None:
    data_dir, conninfo, _ = server
    account = embedded.server_account()
    sockets = Path(str(conninfo_to_dict(conninfo)["host"]))
    for folder in {data_dir, sockets}:
        info = folder.stat()
        assert stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == account.uid, folder
    password = data_dir / embedded.PASSWORD_FILE
    assert stat.S_IMODE(password.stat().st_mode) == 0o600 and password.stat().st_uid == os.geteuid()
    assert stat.S_IMODE((sockets / embedded.SOCKET_NAME).stat().st_mode) == 0o700


def test_folders_above_are_untouched(server: tuple[Path, str, dict[Path, tuple[int, int]]]) -> None:
    data_dir, _, before = server
    assert {p: v for p, v in _modes(data_dir).items() if p in before} == before


def test_no_tcp_and_a_password_for_everyone(server: tuple[Path, str, dict[Path, tuple[int, int]]]) -> None:
    data_dir, conninfo, _ = server
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
    postmaster = psutil.Process(int((data_dir / "postmaster.pid").read_text().split()[0]))
    pids = {postmaster.pid, *(c.pid for c in postmaster.children())}
    listening = [c for c in psutil.net_connections(kind="inet") if c.pid in pids and c.status == psutil.CONN_LISTEN]
    assert listening == []
    params = conninfo_to_dict(conninfo)
    for password in (None, "wrong"):
        attempt = {k: v for k, v in params.items() if k != "password"}
        if password:
            attempt["password"] = password
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(make_conninfo("", **attempt))


def test_another_account_cannot_connect(server: tuple[Path, str, dict[Path, tuple[int, int]]]) -> None:
    data_dir, conninfo, _ = server
    # The server's own psql, run as nobody: even knowing the password, it cannot reach the socket.
    bin_dir = embedded.server_bin_dir(data_dir)
    assert bin_dir is not None
    psql = str(bin_dir / "psql")
    assert _as_nobody(psql, "--version").returncode == 0, "nobody must be able to run the client at all"
    out = _as_nobody(psql, "-X", "-w", conninfo, "-c", "SELECT 'CONNECTED'")
    assert out.returncode != 0 and "CONNECTED" not in out.stdout, out.stdout + out.stderr
    assert "Permission denied" in out.stderr
    read = _as_nobody("cat", str(data_dir / embedded.PASSWORD_FILE))
    assert read.returncode != 0 and "Permission denied" in read.stderr


def test_a_closed_folder_above_is_reported_not_opened() -> None:
    parent = private_parent("vb-pg-closed-")
    closed = parent / "closed"
    closed.mkdir(mode=0o700)
    try:
        with pytest.raises(StoreError, match="may not enter") as info:
            embedded.acquire(closed / "data")
        assert str(closed) in str(info.value)
        assert stat.S_IMODE(closed.stat().st_mode) == 0o700 and not (closed / "data").exists()
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def test_an_existing_folder_of_someone_else_is_not_taken() -> None:
    parent = private_parent("vb-pg-taken-")
    existing = parent / "data"
    existing.mkdir(mode=0o700)  # root's, not the server account's
    try:
        with pytest.raises(StoreError, match="belongs to"):
            embedded.acquire(existing)
        assert existing.stat().st_uid == 0 and stat.S_IMODE(existing.stat().st_mode) == 0o700
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def test_binaries_in_a_closed_environment_are_copied_not_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    """A virtual environment the server's account cannot enter (under /root, in a 0700 folder):
    its PostgreSQL binaries are copied to a root-owned cache the account can run them from."""
    from vecbridge.connectors.pgvector import binaries

    provider, real_bin = binaries.bin_dir()
    install, module_dir = real_bin.parent, real_bin.parents[1]
    parent = private_parent("vb-pg-bin-")
    closed_site = parent / "closed" / "site-packages"
    try:
        shutil.copytree(install, closed_site / module_dir.name / install.name, symlinks=True)
        for libs in module_dir.parent.glob("*.libs"):
            if libs.name.startswith((module_dir.name, provider.package.replace("-", "_"))):
                shutil.copytree(libs, closed_site / libs.name, symlinks=True)
        (parent / "closed").chmod(0o700)
        monkeypatch.setattr(binaries, "CACHE", parent / "cache")
        account = embedded.server_account()
        closed_bin = closed_site / module_dir.name / install.name / real_bin.name
        usable = binaries.reachable_bin_dir(provider.package, closed_bin, account)
        assert usable.is_relative_to(parent / "cache")
        assert stat.S_IMODE((parent / "closed").stat().st_mode) == 0o700  # not opened up
        for tool in ("postgres", "initdb"):  # initdb needs the wheel's bundled libpq
            ran = subprocess.run(
                [str(shutil.which("runuser")), "-u", account.name, "--", str(usable / tool), "--version"],
                capture_output=True,
                text=True,
                timeout=60,
                cwd="/",
            )
            assert ran.returncode == 0 and "PostgreSQL" in ran.stdout, ran.stderr
        assert binaries.reachable_bin_dir(provider.package, closed_bin, account) == usable  # copied once
    finally:
        shutil.rmtree(parent, ignore_errors=True)
