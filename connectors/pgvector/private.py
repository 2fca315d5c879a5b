"""Folders and files only their owner can use: what the embedded PostgreSQL keeps its data, socket
and password in.

Nothing here ever widens the permissions of, or changes the owner of, a folder it did not create:
a folder that exists already must be private to the right account, or the caller is told what to
do instead.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from vecbridge.core.errors import StoreError

__all__ = [
    "Account",
    "check_private_dir",
    "make_parents",
    "make_private_dir",
    "read_secret",
    "unreachable_ancestor",
    "write_secret",
]


@dataclass(frozen=True)
class Account:
    """The operating-system account an embedded server runs as."""

    name: str
    uid: int
    gid: int

    @property
    def is_caller(self) -> bool:
        return self.uid == os.geteuid()


def check_private_dir(path: Path, owner: Account) -> None:
    """``path`` must be a real folder (not a link) of ``owner`` that no one else may enter."""
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise StoreError(f"{path} is not a folder (a link or a file?): point vecbridge at a folder of its own")
    if info.st_uid != owner.uid:
        raise StoreError(
            f"{path} belongs to user id {info.st_uid}, not to {owner.name!r} (id {owner.uid}), which runs the "
            "embedded PostgreSQL: use a folder that does not exist yet (vecbridge creates it privately)"
        )
    if info.st_mode & 0o077:
        raise StoreError(
            f"{path} is open to other users (mode {stat.S_IMODE(info.st_mode):04o}): the embedded PostgreSQL keeps "
            f"its data and socket private. Run: chmod 700 {path}"
        )


def make_parents(path: Path, owner: Account) -> None:
    """Create the missing folders above ``path``: as ``mkdir -p`` would for the caller's own server;
    0711 (others may pass, not list) when another account runs it and must reach ``path``."""
    if owner.is_caller:
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    for folder in reversed(path.parents):
        if not folder.exists():
            os.mkdir(folder, 0o711)
            os.chmod(folder, 0o711)  # our own new folder: exactly this mode, whatever the umask


def make_private_dir(path: Path, owner: Account) -> bool:
    """Create ``path`` as a 0700 folder of ``owner`` (True), or check that the existing one is
    such a folder (False)."""
    make_parents(path, owner)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        check_private_dir(path, owner)
        return False
    os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask; this is exactly 0700
    if not owner.is_caller:
        os.chown(path, owner.uid, owner.gid)  # our own new folder, handed to the server's account
    return True


def unreachable_ancestor(path: Path, account: Account) -> Path | None:
    """The first folder above ``path`` that ``account`` may not enter (None when it can reach it)."""
    if account.is_caller or account.uid == 0:
        return None
    groups = set(os.getgrouplist(account.name, account.gid))
    for folder in reversed(path.parents):
        info = folder.stat()
        if info.st_uid == account.uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid in groups:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            return folder
    return None


def write_secret(path: Path, text: str) -> None:
    """Write ``text`` to a new 0600 file of the caller (created with that mode: never readable by
    others, not even for a moment)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def read_secret(path: Path) -> str | None:
    """The text of a secret file written by :func:`write_secret`, None if absent; refused when
    others could read it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, encoding="utf-8") as f:
        mode = stat.S_IMODE(os.fstat(f.fileno()).st_mode)
        if mode & 0o077:
            raise StoreError(f"{path} is readable by other users (mode {mode:04o}): run chmod 600 {path}")
        return f.read().strip()
