"""Ingest, export and import on Ray: the same results as the single-process commands.

* :func:`ingest_texts`: texts (already chunked, in the driver) embedded by an actor pool and written
  in parallel. Every text, id and metadata is checked in the driver before anything is embedded
  (the same checks as ``Collection.add_texts``), so bad input writes nothing.
* :func:`export_collection`: the collection read in parallel (where the store can split its scan)
  and written by the driver into one Parquet file through ``core.parquet.export_parquet`` — the
  same file, with the same safety (a private file, renamed into place when complete).
* :func:`import_file`: a Parquet export read by Ray tasks (the file must be readable where they
  run: a local path on a local cluster, shared storage otherwise), checked, then written in parallel.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import ray.data

from vecbridge.core.collection import Collection, CollectionSteps
from vecbridge.core.embedders import Embedder
from vecbridge.core.models import CollectionSpec, Metric, ScanPage
from vecbridge.core.parquet import export_parquet, read_parquet_spec
from vecbridge.core.registry import connect
from vecbridge.core.store import VectorStore

from .embedding import default_workers, embed
from .rate_limit import RateLimit
from .reading import read_collection
from .session import check_workers, job_context
from .tables import table_records
from .writing import write_collection

__all__ = ["export_collection", "import_file", "ingest_texts"]


def ingest_texts(
    url: str,
    collection: str,
    ids: Sequence[str],
    texts: Sequence[str],
    metadatas: Sequence[dict[str, Any]],
    embedder: Embedder,
    *,
    metric: Metric | str = Metric.COSINE,
    batch_size: int = 100,
    workers: int | None = None,
    threads: int | None = 1,
    rate_limit: RateLimit | None = None,
) -> int:
    """Embed ``texts`` with ``embedder`` on the cluster and upsert them as records ``ids`` with
    ``metadatas`` into ``collection`` (created for the embedder, or checked: ``EmbedderMismatch``).
    Returns how many were written."""
    check_workers(workers)
    with job_context():
        with connect(url) as store:
            spec = Collection.open(store, collection, embedder=embedder, metric=metric).spec
            # The checks Collection.add_texts runs on a list: all rows before anything is embedded.
            rows = CollectionSteps(store.policy)._check_all(list(texts), list(ids), list(metadatas))
        if not rows:
            return 0
        n = workers or default_workers()
        table = pa.table(
            {
                "id": pa.array([r[0] for r in rows], pa.string()),
                "text": pa.array([r[1] for r in rows], pa.string()),
                "metadata": pa.array([json.dumps(r[2], ensure_ascii=False) for r in rows], pa.string()),
            }
        )
        step = max(1, min(batch_size, -(-len(rows) // (4 * n))))  # blocks small enough to keep every worker busy
        data: ray.data.Dataset = ray.data.from_arrow([table.slice(i, step) for i in range(0, len(rows), step)])
        data = embed(data, spec.embedder or embedder, workers=n, batch_size=batch_size, threads=threads,
                     rate_limit=rate_limit)  # fmt: skip
        return write_collection(data, url, collection, batch_size=batch_size, workers=n)


class _DatasetView:
    """Just what ``export_parquet`` reads of a store: the spec, and the records page by page —
    here from a dataset, so the file is written exactly as the single-process export writes it."""

    def __init__(self, spec: CollectionSpec, dataset: ray.data.Dataset) -> None:
        self._spec = spec
        self._dataset = dataset

    def describe_collection(self, name: str) -> CollectionSpec:
        return self._spec

    def scan(self, name: str, *, batch_size: int = 2000, **_: Any) -> Iterator[ScanPage]:
        for table in self._dataset.iter_batches(batch_size=batch_size, batch_format="pyarrow"):
            yield ScanPage(table_records(table), None)


def export_collection(
    url: str,
    collection: str,
    path: str | Path,
    *,
    batch_size: int = 2000,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write every record of ``collection`` into the Parquet file ``path`` (the format of
    ``vecbridge export``), reading with about ``4 x workers`` parallel tasks where the store can
    split its scan. Returns the number of records written."""
    check_workers(workers)
    with job_context():
        with connect(url) as store:
            spec = store.describe_collection(collection)
        data = read_collection(url, collection, batch_size=batch_size, parallelism=4 * (workers or default_workers()))
        view = cast(VectorStore, _DatasetView(spec, data))
        return export_parquet(view, collection, path, batch_size=batch_size, progress=progress)


def import_file(
    path: str | Path,
    url: str,
    *,
    collection: str | None = None,
    batch_size: int | None = None,
    workers: int | None = None,
) -> tuple[CollectionSpec, int]:
    """Load a Parquet export into the store at ``url`` (as ``collection``, default: the exported
    name), creating the collection from the file's spec or checking an existing one. Every row is
    checked before the first is written (the file is read twice: a check pass, then the write), so a
    bad file raises its typed error and writes nothing. Returns (spec, records written)."""
    check_workers(workers)
    spec = read_parquet_spec(path)  # InvalidInput: not a vecbridge export
    if collection:
        spec = spec.renamed(collection)
    source = str(Path(path).resolve())
    with job_context():
        data = ray.data.read_parquet(source).select_columns(["id", "vector", "text", "metadata"])
        written = write_collection(
            data, url, spec.name, spec=spec, batch_size=batch_size, workers=workers, check_first=True
        )
    return spec, written
