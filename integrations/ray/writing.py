"""Writing a Ray dataset into a collection, through the same store policy as ``Store.upsert``.

Every block is written with ``Store.upsert`` (a list: validated whole before anything of it is
sent, retried for transient failures, exact accounting), by Ray tasks for stores several processes
may open, by the driver for stores one process owns (``capabilities.multi_process`` False). The
collection is created — with its spec and embedder fingerprint — by the driver before any write.

Two forms: :func:`write_collection` (a Ray Data :class:`~ray.data.Datasink`, for any dataset with
the columns of ``tables.py``), and :func:`write_receipts` for migrations, which also reports per
record what happened (written, skipped, refused) so the driver can checkpoint exactly.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa
import ray.data
from ray.data.block import Block, BlockAccessor
from ray.data.datasource import Datasink

from vecbridge.core.errors import InvalidInput
from vecbridge.core.migration import MigrationPlan, copy_page
from vecbridge.core.models import CollectionSpec, Record
from vecbridge.core.store import Store

from .session import check_workers, cluster_cpus, job_context, typed_errors
from .stores import StoreAddress, worker_store
from .tables import table_records

__all__ = [
    "HELD",
    "REFUSED",
    "SKIPPED",
    "WRITTEN",
    "CopyJob",
    "CollectionDatasink",
    "check_dataset",
    "sample_rank",
    "sample_record",
    "write_collection",
    "write_receipts",
    "write_receipts_task",
]

#: What happened to a record of a migration batch (the ``_status`` of its receipt).
WRITTEN, SKIPPED, REFUSED, HELD = 0, 1, 2, 3


def sample_rank(record_id: str) -> float:
    """Where ``record_id`` falls in [0, 1) by its SHA-256: the order the migration state keeps its
    fixed-size sample in (smallest hashes first), so candidates can be picked where they are written."""
    digest = hashlib.sha256(record_id.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


@dataclass(frozen=True)
class CopyJob:
    """What a migration's writer needs (sent to tasks)."""

    collection: str
    plan: MigrationPlan
    batch_size: int
    tenant: str | None
    skip_invalid: bool
    #: Records whose :func:`sample_rank` is below this come back whole, as sample candidates.
    sample_fraction: float

    @classmethod
    def of(cls, plan: MigrationPlan, **fields: Any) -> CopyJob:
        # The plan's transform may hold the driver's embedder (a model): tasks never need it.
        return cls(plan.destination.name, replace(plan, transform=None), **fields)


def _sample_json(record: Record) -> str:
    vector = [float(x) for x in record.vector]
    return json.dumps({"vector": vector, "text": record.text, "metadata": record.metadata}, ensure_ascii=False)


def sample_record(record_id: str, text: str) -> Record:
    data = json.loads(text)
    return Record(record_id, data["vector"], data["text"], data["metadata"])


def write_receipts(store: Store, job: CopyJob, table: pa.Table) -> pa.Table:
    """Write one migration batch and say what happened to each record.

    Records the destination cannot keep (its record rules; no text to re-embed, marked by the
    embedding stage in ``_problem``) are *refused*, and then nothing of the batch is written (as in
    the single-process migration) — unless ``skip_invalid``: then they are skipped and the rest is
    written. Receipts keep the page columns, add ``_status``, ``_reason`` and, for sample
    candidates, ``_sample`` (the written record as JSON).
    """
    records = table_records(table.select([c for c in ("id", "vector", "text", "metadata") if c in table.column_names]))
    marked: dict[str, str] = {}
    if "_problem" in table.column_names:
        marked = {r.id: why for r, why in zip(records, table.column("_problem").to_pylist(), strict=True) if why}
    done = copy_page(
        store,
        job.plan,
        records,
        skip_invalid=job.skip_invalid,
        batch_size=job.batch_size,
        tenant=job.tenant,
        known=marked,
    )
    if done.refused:
        status = [REFUSED if r.id in done.bad else HELD for r in records]
    else:
        status = [SKIPPED if r.id in done.bad else WRITTEN for r in records]
    # The job's plan has no transform (records arrive transformed): written records are as read.
    sample = [
        _sample_json(r) if s == WRITTEN and sample_rank(r.id) < job.sample_fraction else None
        for r, s in zip(records, status, strict=True)
    ]
    page = [c for c in ("_part", "_page", "_rows", "_next") if c in table.column_names]
    return (
        table.select(["id", *page])
        .append_column("_status", pa.array(status, pa.int8()))
        .append_column("_reason", pa.array([done.bad.get(r.id) for r in records], pa.string()))
        .append_column("_sample", pa.array(sample, pa.string()))
    )


def write_receipts_task(table: pa.Table, address: StoreAddress, job: CopyJob) -> pa.Table:
    """:func:`write_receipts` in a Ray task, on this worker's handle on the destination."""
    return write_receipts(worker_store(address), job, table)


class CollectionDatasink(Datasink[int]):
    """Writes blocks into one collection of a store several processes may open; each write task
    upserts its blocks through the store's policy. ``written`` holds the total after the job."""

    def __init__(self, address: StoreAddress, collection: str, *, batch_size: int | None, tenant: str | None) -> None:
        self._address = address
        self._collection = collection
        self._batch_size = batch_size
        self._tenant = tenant
        self.written = 0

    def get_name(self) -> str:
        return "VecbridgeWrite"

    def write(self, blocks: Iterable[Block], ctx: Any) -> int:
        store = worker_store(self._address)
        n = 0
        for block in blocks:
            records = table_records(BlockAccessor.for_block(block).to_arrow())
            if records:
                n += store.upsert(self._collection, records, batch_size=self._batch_size, tenant=self._tenant)
        return n

    def on_write_complete(self, write_result: Any) -> None:
        self.written = int(sum(write_result.write_returns))


def check_block(table: pa.Table, address: StoreAddress, spec: CollectionSpec) -> pa.Table:
    """Validate a block as ``Store.upsert`` would (core's checks and the store's record rules);
    returns no rows (a check pass only needs to finish)."""
    worker_store(address).policy.prepare(spec, table_records(table))
    return table.slice(0, 0)


def check_dataset(dataset: ray.data.Dataset, store: Store, address: StoreAddress, spec: CollectionSpec) -> None:
    """Every row of ``dataset`` checked for ``spec`` in ``store`` before anything is written:
    by tasks where several processes may open the store, else by the driver."""
    if store.capabilities.multi_process:
        check = functools.partial(check_block, address=address, spec=spec)
        tasks = ray.data.TaskPoolStrategy(size=cluster_cpus())
        typed_errors(dataset.map_batches(check, batch_format="pyarrow", num_cpus=0, compute=tasks)).materialize()
        return
    for table in dataset.iter_batches(batch_size=2000, batch_format="pyarrow"):
        store.policy.prepare(spec, table_records(table))


def _prepare_collection(store: Store, collection: str, spec: CollectionSpec | None) -> CollectionSpec:
    if spec is None:
        return store.describe_collection(collection)  # CollectionNotFound: say to pass spec=
    if not isinstance(spec, CollectionSpec):
        raise InvalidInput(f"spec must be a CollectionSpec, got {type(spec).__name__}")
    return store.create_collection(spec.renamed(collection), exist_ok=True)


def write_collection(
    dataset: ray.data.Dataset,
    url: str,
    collection: str,
    *,
    spec: CollectionSpec | None = None,
    batch_size: int | None = None,
    tenant: str | None = None,
    workers: int | None = None,
    check_first: bool = False,
    **options: Any,
) -> int:
    """Upsert every row of ``dataset`` (columns ``id``, ``vector``, optional ``text`` and
    ``metadata`` as JSON text) into ``collection`` of the store at ``url``; returns how many were
    written. With ``spec`` the collection is created first (or an existing one checked:
    ``DimensionMismatch``, ``EmbedderMismatch`` ...); without, it must exist.

    Each block is validated whole before any of it is written, so a bad row raises the same typed
    error as ``Store.upsert`` (``InvalidInput``, ``DimensionMismatch`` ...) and nothing of its block
    lands — but blocks written by other tasks before it may have (a stream, as ``upsert`` of a
    generator). ``check_first`` checks every row before the first write, so bad input writes
    nothing at all; the dataset is then computed twice (cheap for a file, not for an embedding
    stage: materialize such a dataset first). Upserts are idempotent: run it again once the cause
    is fixed. ``workers`` bounds the parallel write tasks (stores one process owns are written by
    the driver alone).
    """
    check_workers(workers)
    address = StoreAddress(url, tuple(sorted(options.items())))
    with job_context(), address.connect() as store:
        if check_first:
            wanted = spec.renamed(collection) if spec is not None else store.describe_collection(collection)
            check_dataset(dataset, store, address, wanted)
        target = _prepare_collection(store, collection, spec)
        with store.bulk_load(target.name, tenant=tenant):
            if not store.capabilities.multi_process:
                written = 0
                for table in dataset.iter_batches(batch_size=batch_size or 1000, batch_format="pyarrow"):
                    written += store.upsert(target.name, table_records(table), batch_size=batch_size, tenant=tenant)
                return written
            sink = CollectionDatasink(address, target.name, batch_size=batch_size, tenant=tenant)
            # Writing waits on the store, not the CPU: it takes no CPU slot from embedding workers.
            dataset.write_datasink(sink, ray_remote_args={"num_cpus": 0}, concurrency=workers)
            return sink.written
