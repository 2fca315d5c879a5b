"""Where vecbridge keeps its own files (``$VECBRIDGE_HOME``, else ``~/.vecbridge``), and how it
writes them: private to the user, and never through a planted link.

Those files hold embeddings of private text, job names and migration state, so folders vecbridge
creates are ``0700`` and files it creates ``0600``, whatever the umask. A folder or file that
already exists keeps its mode: vecbridge never changes the mode of something it did not create
(``VECBRIDGE_HOME=~/project`` must not lock the user's group out of their own project folder).

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> write_private(root / "state" / "job.json", '{"done": true}')
    >>> oct((root / "state").stat().st_mode & 0o777), oct((root / "state" / "job.json").stat().st_mode & 0o777)
    ('0o700', '0o600')
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from .errors import InvalidInput

__all__ = ["private_dir", "private_file", "vecbridge_home", "write_private"]

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# Not every platform has these; where one is missing the flag is simply not asked for.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def vecbridge_home() -> Path:
    """The folder for the embedded store, the embedding cache, checkpoints and batch-job state."""
    return Path(os.environ.get("VECBRIDGE_HOME", "~/.vecbridge")).expanduser()


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Make sure ``path`` is a folder, creating it and any missing parents as ``0700`` folders.

    Folders that exist already are left as they are. Raises ``InvalidInput`` when ``path`` or
    one of its parents exists but is not a folder.
    """
    folder = Path(path)
    missing: list[Path] = []
    probe = folder
    while not probe.is_dir():
        if probe.exists() or probe.is_symlink():
            raise InvalidInput(
                f"{probe} is not a folder, but vecbridge keeps files in {folder}: move it aside "
                "(or set VECBRIDGE_HOME to another folder)"
            )
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for new in reversed(missing):
        try:
            os.mkdir(new, PRIVATE_DIR_MODE)
        except FileExistsError:
            if not new.is_dir():  # another process made a file there in the meantime
                raise InvalidInput(f"{new} is not a folder: move it aside") from None
            continue
        # mkdir's mode is masked by the umask; an odd umask (0o277) would even take our own
        # write bit, so set the mode outright on the folders we made.
        os.chmod(new, PRIVATE_DIR_MODE)
    return folder


def _open_no_link(path: Path, flags: int) -> int:
    try:
        return os.open(path, flags | _NOFOLLOW | _CLOEXEC, PRIVATE_FILE_MODE)
    except OSError as exc:
        if path.is_symlink():
            raise InvalidInput(f"{path} is a symbolic link: vecbridge never writes through a link; remove it") from None
        if path.is_dir():
            raise InvalidInput(f"{path} is a folder: pass a file path inside it") from None
        raise exc


def private_file(path: str | os.PathLike[str]) -> Path:
    """Make sure ``path`` is a regular file that is not a symbolic link, creating it empty as a
    ``0600`` file (and its missing folders as ``0700``) when it does not exist. For files that
    another library opens by name, such as the SQLite embedding cache; an existing file keeps its
    content and mode."""
    target = Path(path)
    private_dir(target.parent)
    try:
        fd = _open_no_link(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        fd = _open_no_link(target, os.O_RDONLY)
        created = False
    else:
        created = True
    try:
        if created:
            os.fchmod(fd, PRIVATE_FILE_MODE)  # the umask only removes bits; make it exactly 0600
        elif not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InvalidInput(f"{target} is not a regular file: pass the path of a file")
    finally:
        os.close(fd)
    return target


def write_private(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Replace the content of ``path`` with ``data`` (text is written as UTF-8), atomically and
    privately: a new ``0600`` file beside it is filled, synced and renamed over ``path``, so a
    reader or a crash sees the old content or the new, never half.

    The new file is created with ``O_EXCL | O_NOFOLLOW`` under a random name, so nothing planted
    beside ``path`` is ever written through, and the rename replaces a link at ``path`` itself,
    never the file it points to. Missing folders are created ``0700``.
    """
    target = Path(path)
    private_dir(target.parent)
    if target.is_dir() and not target.is_symlink():
        raise InvalidInput(f"{target} is a folder: pass a file path inside it")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = _open_no_link(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        try:
            os.fchmod(fd, PRIVATE_FILE_MODE)
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _sync_folder(target.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (a power cut after it keeps the new name). Best effort: some
    platforms and file systems cannot open or sync a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
