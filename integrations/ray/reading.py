"""Reading a collection into a Ray dataset.

Stores several processes may open (``capabilities.multi_process``: servers, pgvector) are read by
Ray tasks, one per scan range, in parallel where the store can split its scan
(``capabilities.split_scan``: pgvector by key ranges, ...), else by one streaming task. Every page
is fetched through the store's policy (retries, translated errors).

Stores one process owns (Qdrant Edge, qdrant-client's local mode, Milvus Lite, ``memory://``) are
read by the driver: page by page into Ray's object store (which spills to disk past its memory), so
the driver never holds more than a page, and the dataset is complete before the job's next stages run.

Each page becomes one block. For resumable jobs a block also carries where it came from:
``_part`` (the scan range), ``_page`` (its number in that range's read), ``_rows`` (records in the
page) and ``_next`` (the cursor after it, null at the range's end) — see ``partitions.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import ray
import ray.data
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask

from vecbridge.core.driver import ScanRange
from vecbridge.core.errors import InvalidInput
from vecbridge.core.models import Record
from vecbridge.core.store import Store

from .partitions import Partition
from .session import cluster_cpus, job_context
from .stores import StoreAddress, worker_store
from .tables import records_table

__all__ = ["PAGE_COLUMNS", "ScanJob", "read_collection", "source_dataset"]

PAGE_COLUMNS = ("_part", "_page", "_rows", "_next")


@dataclass(frozen=True)
class ScanJob:
    """What a reader needs to know (sent to tasks: no store, no secrets in its repr)."""

    collection: str
    dimension: int
    batch_size: int
    include_vectors: bool = True
    tenant: str | None = None
    #: Add the page columns (``PAGE_COLUMNS``) for resumable jobs.
    pages: bool = False


def _page_table(job: ScanJob, records: list[Record], part: int, number: int, next_cursor: str | None) -> pa.Table:
    table = records_table(records, job.dimension, include_vectors=job.include_vectors)
    if not job.pages:
        return table
    n = len(records)
    table = table.append_column("_part", pa.array([part] * n, pa.int32()))
    table = table.append_column("_page", pa.array([number] * n, pa.int32()))
    table = table.append_column("_rows", pa.array([n] * n, pa.int32()))
    return table.append_column("_next", pa.array([next_cursor] * n, pa.string()))


def scan_tables(store: Store, job: ScanJob, partition: Partition) -> Iterator[pa.Table]:
    """The non-empty pages of one partition, from its frontier, as tables. A page is held until
    the next one arrives, so that empty pages fold into the page before them and the last table
    carries the range's final cursor (None)."""
    pages = store.scan(
        job.collection,
        batch_size=job.batch_size,
        cursor=partition.frontier,
        stop=partition.stop,
        include_vectors=job.include_vectors,
        tenant=job.tenant,
    )
    number = 0
    held: tuple[list[Record], str | None] | None = None
    for page in pages:
        if page.records:
            if held is not None:
                yield _page_table(job, held[0], partition.index, number, held[1])
                number += 1
            held = (page.records, page.next_cursor)
        elif held is not None:
            held = (held[0], page.next_cursor)
    if held is not None:
        yield _page_table(job, held[0], partition.index, number, held[1])


def _read_partition(address: StoreAddress, job: ScanJob, partition: Partition) -> Iterator[pa.Table]:
    yield from scan_tables(worker_store(address), job, partition)


class _ScanDatasource(Datasource):
    """One read task per unfinished partition of a store several processes may open."""

    def __init__(self, address: StoreAddress, job: ScanJob, partitions: Sequence[Partition]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._address = address
        self._job = job
        self._partitions = list(partitions)

    def get_name(self) -> str:
        return "VecbridgeScan"

    def estimate_inmemory_data_size(self) -> int | None:
        return None

    def get_read_tasks(
        self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None
    ) -> list[ReadTask]:
        unknown = BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None, input_files=None)
        return [
            ReadTask(functools.partial(_read_partition, self._address, self._job, p), unknown) for p in self._partitions
        ]


def source_dataset(
    store: Store, address: StoreAddress, job: ScanJob, partitions: Sequence[Partition], *, concurrency: int | None
) -> ray.data.Dataset | None:
    """The unfinished ``partitions`` of ``store`` as a dataset (None when nothing is left to read
    by the driver). ``store`` is the driver's own handle on the same store as ``address``."""
    todo = [p for p in partitions if not p.done]
    if store.capabilities.multi_process:
        if not todo:
            return None
        source = _ScanDatasource(address, job, todo)
        # Reading waits on the store, not the CPU: it takes no CPU slot from the embedding workers.
        dataset: ray.data.Dataset = ray.data.read_datasource(
            source, concurrency=min(concurrency or len(todo), len(todo)), num_cpus=0, override_num_blocks=len(todo)
        )
        return dataset
    refs: list[Any] = [ray.put(table) for p in todo for table in scan_tables(store, job, p)]
    return ray.data.from_arrow_refs(refs) if refs else None


def read_collection(
    url: str,
    collection: str,
    *,
    batch_size: int = 1000,
    parallelism: int | None = None,
    include_vectors: bool = True,
    tenant: str | None = None,
    **options: Any,
) -> ray.data.Dataset:
    """Every record of ``collection`` in the store at ``url`` as a Ray dataset with the columns
    ``id``, ``vector``, ``text``, ``metadata`` (JSON text), read in about ``parallelism`` parallel
    tasks where the store can split its scan (default: twice the cluster's CPUs). See the module
    docstring for stores one process owns. ``options`` go to :func:`~vecbridge.core.connect`.

    Errors of the collection itself (``CollectionNotFound``, a bad tenant ...) are raised here,
    before any task runs; a page that fails for good raises its typed error when the dataset runs.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInput(f"batch_size must be a positive integer, got {batch_size!r}")
    if parallelism is not None and (
        isinstance(parallelism, bool) or not isinstance(parallelism, int) or parallelism < 1
    ):
        raise InvalidInput(f"parallelism must be a positive integer, got {parallelism!r}")
    address = StoreAddress(url, tuple(sorted(options.items())))
    with job_context(), address.connect() as store:
        spec = store.describe_collection(collection)
        parts = parallelism or 2 * cluster_cpus()
        # One process owns a store that is not multi_process: the driver reads it in one pass.
        ranges = (
            store.scan_ranges(collection, parts, tenant=tenant) if store.capabilities.multi_process else [ScanRange()]
        )
        partitions = [Partition.first(i, r) for i, r in enumerate(ranges)]
        job = ScanJob(collection, spec.dimension, batch_size, include_vectors, tenant)
        dataset = source_dataset(store, address, job, partitions, concurrency=parallelism)
        if dataset is None:
            return ray.data.from_arrow(records_table([], spec.dimension, include_vectors=include_vectors))
        return dataset
