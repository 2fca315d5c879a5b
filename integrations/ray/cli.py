"""What the CLI calls for ``--engine ray`` (``ingest``, ``migrate``, ``export``, ``import``).

Each function connects to the cluster (``--address``; none: a Ray instance on this machine, shut
down afterwards), runs the job and returns what the single-process command's function returns, so
the command prints the same output. The CLI imports this module only when ``--engine ray`` is
given: without it, Ray is never imported.

While a job runs, whatever is printed on stdout goes to stderr: Ray prints its own notices there
(``(raylet) A worker died ...``), and a command's stdout carries its result only (``--json``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vecbridge.core.migration import MigrationReport
from vecbridge.core.models import CollectionSpec

from .migration import migrate
from .session import check_address, check_workers, ray_session
from .transfer import export_collection, import_file, ingest_texts

__all__ = ["Engine", "export_command", "import_command", "ingest_command", "migrate_command"]


@dataclass(frozen=True)
class Engine:
    """``--address`` and ``--workers``, checked (``InvalidInput`` names the bad one)."""

    address: str | None = None
    workers: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", check_address(self.address))
        check_workers(self.workers)


@contextmanager
def _session(engine: Engine) -> Iterator[None]:
    with redirect_stdout(sys.stderr), ray_session(engine.address):
        yield


def migrate_command(
    source: str, destination: str, collection: str, *, engine: Engine, **options: Any
) -> MigrationReport:
    """``vecbridge migrate SRC DST --collection C --engine ray``: ``options`` are those of
    :func:`vecbridge.core.migration.migrate` (``to_collection``, ``batch_size``, ``checkpoint``,
    ``resume``, ``verify``, ``sample_size``, ``dimension``, ``force_truncate``, ``re_embedder``,
    ``dry_run``, ``progress`` ...; ``source_name`` / ``destination_name`` are not needed: the URLs
    key the checkpoint, redacted), and ``adoption`` (``--adopt``: how every reader opens the source)."""
    for unused in ("source_name", "destination_name"):
        options.pop(unused, None)
    with _session(engine):
        return migrate(source, destination, collection, workers=engine.workers, **options)


def export_command(
    url: str,
    collection: str,
    path: str | Path,
    *,
    engine: Engine,
    progress: Callable[[int], None] | None = None,
) -> int:
    """``vecbridge export FILE --collection C --engine ray``: records written to the file."""
    with _session(engine):
        return export_collection(url, collection, path, workers=engine.workers, progress=progress)


def import_command(
    path: str | Path, url: str, *, engine: Engine, collection: str | None = None
) -> tuple[CollectionSpec, int]:
    """``vecbridge import FILE --engine ray``: (the collection's spec, records written)."""
    with _session(engine):
        return import_file(path, url, collection=collection, workers=engine.workers)


def ingest_command(url: str, collection: str, *, engine: Engine, **options: Any) -> int:
    """``vecbridge ingest PATHS --collection C --engine ray``: records written. ``options`` are
    those of :func:`~.transfer.ingest_texts` (``ids``, ``texts``, ``metadatas``, ``embedder`` —
    the one the command resolved, rebuilt in every worker from its fingerprint —, ``metric``,
    ``batch_size``); the local embedding cache is not used on the cluster."""
    with _session(engine):
        return ingest_texts(url, collection, workers=engine.workers, **options)
