"""``migrate`` on Ray Data: the single-process migration with its copy step spread over a cluster.

``core.migration.migrate`` runs as ever — plan (specs, compatibility, the transform), dry run,
checkpoint phases, verification, report — and hands its copy step to :class:`RayCopier`
(``core.migration.Copier``):

1. The source is split into scan ranges once (recorded in the checkpoint, ``partitions.py``) and
   read by parallel tasks where it can be opened by several processes, else by the driver.
2. Re-embedding runs in an actor pool (``embedding.py``), truncation in tasks.
3. Writers (``writing.py``: tasks for stores several processes may open, else the driver) upsert
   every batch through the destination's policy and return a receipt per record; the driver
   commits receipts to the checkpoint as they arrive — written ids, skipped ones, sample
   candidates, and how far each scan range is done.

A crash, a Ctrl-C or a lost cluster leaves the checkpoint at the last committed batch; the rerun
reads each range from its frontier. A worker killed mid-job is replaced by Ray, which runs its
task again: deterministic ids make that an overwrite. Verification compares the destination with
the ids the receipts recorded and with a sample of the records as written (so a re-embedded
sample is not embedded a second time in the driver).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import ray.data

from vecbridge.core.checkpoint import MigrationKey
from vecbridge.core.driver import Adoption, ScanRange
from vecbridge.core.migration import CopyStep, MigrationReport, cannot_keep
from vecbridge.core.migration import migrate as migrate_in_process
from vecbridge.core.models import Record
from vecbridge.core.transform import RecordTransform
from vecbridge.core.urls import redact_url

from .embedding import default_workers, embed
from .partitions import PageLedger, Partition, PartitionState
from .rate_limit import RateLimit
from .reading import ScanJob, source_dataset
from .session import check_workers, job_context
from .stores import StoreAddress
from .tables import table_records, vector_array
from .writing import HELD, REFUSED, WRITTEN, CopyJob, sample_record, write_receipts, write_receipts_task

__all__ = ["RayCopier", "migrate"]

Progress = Callable[[int, int], None] | None


def migrate(
    source: str,
    destination: str,
    collection: str,
    *,
    workers: int | None = None,
    threads: int | None = 1,
    rate_limit: RateLimit | None = None,
    adoption: Adoption | None = None,
    **options: Any,
) -> MigrationReport:
    """Copy ``collection`` from the store at ``source`` to the one at ``destination`` on the Ray
    cluster this process is connected to (see ``session.ray_session``). ``options`` and the report
    are those of :func:`vecbridge.core.migration.migrate` (``to_collection``, ``batch_size``,
    ``checkpoint``, ``resume``, ``verify``, ``re_embedder``, ``dry_run``, ``progress`` ...);
    ``re_embedder`` is rebuilt in every worker from its fingerprint. ``workers``: parallel readers,
    embedding actors and writers (default: one per CPU of the cluster); ``threads``: torch threads
    per embedding actor; ``rate_limit``: the quota of a remote re-embedder, shared by all workers;
    ``adoption``: the source collection was made by another tool (``Store.adopt``), opened so in
    every worker that reads it."""
    check_workers(workers)
    adopted = ((collection, adoption),) if adoption is not None else ()
    copier = RayCopier(StoreAddress(source, adopted=adopted), StoreAddress(destination), workers, threads, rate_limit)
    with job_context(), copier.source.connect() as src, copier.destination.connect() as dst:
        names = redact_url(source), redact_url(destination)
        return migrate_in_process(
            src, dst, collection, copier=copier, source_name=names[0], destination_name=names[1], **options
        )


class RayCopier:
    """The copy step of a migration on Ray (``core.migration.Copier``; see the module docstring)."""

    #: Receipts carry the records as written, so the sample is compared as it is.
    sample_as_written = True

    def __init__(
        self,
        source: StoreAddress,
        destination: StoreAddress,
        workers: int | None,
        threads: int | None,
        rate_limit: RateLimit | None,
    ) -> None:
        self.source, self.destination = source, destination
        self.workers, self.threads, self.rate_limit = workers, threads, rate_limit

    def open_state(self, path: Path, key: MigrationKey, *, restart: bool) -> PartitionState:
        return PartitionState.open(path, key, restart=restart)

    def copy(self, step: CopyStep) -> None:
        _CopyRun(self, step, self.workers or default_workers()).run()


def _transform_batch(table: pa.Table, transform: RecordTransform) -> pa.Table:
    """Apply a record transform (Matryoshka truncation) to a batch's vectors."""
    records = transform(table_records(table.select(["id", "vector", "text", "metadata"])))
    matrix = np.asarray([r.vector for r in records], dtype=np.float32).reshape(len(records), -1)
    return table.set_column(table.column_names.index("vector"), "vector", vector_array(matrix))


class _CopyRun:
    """One run of the copy step: read the unfinished partitions, transform, write, commit."""

    def __init__(self, copier: RayCopier, step: CopyStep, workers: int) -> None:
        assert isinstance(step.state, PartitionState)  # RayCopier.open_state made it
        self.copier, self.step, self.workers = copier, step, workers
        self.src, self.dst, self.plan, self.state = step.source, step.destination, step.plan, step.state
        self.tenant, self.batch_size = step.tenant, step.batch_size

    def partitions(self) -> list[Partition]:
        """The checkpoint's partitions, or the source split now (about 4 per worker, at most one
        per batch) and recorded before anything is read. A checkpoint left by the single-process
        migration resumes from its cursor."""
        saved = self.state.partitions()
        if saved is not None:
            return saved
        ranges = [ScanRange(self.state.cursor)]
        if self.src.capabilities.multi_process and self.state.cursor is None:
            parts = max(1, min(4 * self.workers, math.ceil(self.plan.records / self.batch_size)))
            ranges = self.src.scan_ranges(self.plan.source.name, parts, tenant=self.tenant)
        partitions = [Partition.first(i, r) for i, r in enumerate(ranges)]
        self.state.save_partitions(partitions)
        return partitions

    def run(self) -> None:
        sample_size, skip_invalid, progress = self.step.sample_size, self.step.skip_invalid, self.step.progress
        partitions = self.partitions()
        ledger = PageLedger(partitions)
        if progress is not None:
            progress(self.state.written, self.plan.records)
        plan, batch_size = self.plan, self.batch_size
        scan = ScanJob(plan.source.name, plan.source.dimension, batch_size, tenant=self.tenant, pages=True)
        data = source_dataset(self.src, self.copier.source, scan, partitions, concurrency=self.workers)
        fraction = min(1.0, 8.0 * sample_size / max(1, plan.records))  # ~8x the sample: enough to pick from
        job = CopyJob.of(
            plan, batch_size=batch_size, tenant=self.tenant, skip_invalid=skip_invalid, sample_fraction=fraction
        )
        with self.dst.bulk_load(job.collection, expected=plan.records, tenant=self.tenant):
            if data is not None:
                for receipts in self._receipts(self._transformed(data), job):
                    total = self._commit(ledger, receipts, sample_size)
                    if progress is not None:
                        progress(total, plan.records)
            ledger.finish()
            self.state.save_partitions(list(ledger.partitions.values()))

    def _transformed(self, data: ray.data.Dataset) -> ray.data.Dataset:
        plan, copier = self.plan, self.copier
        if plan.re_embeds:
            assert plan.destination.embedder is not None  # re_embed() sets the new fingerprint
            return embed(
                data, plan.destination.embedder, workers=self.workers, batch_size=self.batch_size,
                threads=copier.threads, rate_limit=copier.rate_limit, mark_missing=True,
            )  # fmt: skip
        if plan.transform is not None:
            return data.map_batches(
                functools.partial(_transform_batch, transform=plan.transform), batch_format="pyarrow", num_cpus=0,
                compute=ray.data.TaskPoolStrategy(size=self.workers),
            )  # fmt: skip
        return data

    def _receipts(self, data: ray.data.Dataset, job: CopyJob) -> Iterator[pa.Table]:
        if self.dst.capabilities.multi_process:
            write = functools.partial(write_receipts_task, address=self.copier.destination, job=job)
            written = data.map_batches(
                write, batch_size=job.batch_size, batch_format="pyarrow", num_cpus=0,
                compute=ray.data.TaskPoolStrategy(size=self.workers),
            )  # fmt: skip
            yield from written.iter_batches(batch_size=None, batch_format="pyarrow")
            return
        # A destination one process owns: the driver writes what the cluster read and embedded.
        for table in data.iter_batches(batch_size=job.batch_size, batch_format="pyarrow"):
            yield write_receipts(self.dst, job, table)

    def _commit(self, ledger: PageLedger, receipts: pa.Table, sample_size: int) -> int:
        columns: dict[str, list[Any]] = receipts.to_pydict()
        written: list[str] = []
        skipped: dict[str, str] = {}
        refused: dict[str, str] = {}
        sample: list[Record] = []
        rows = zip(
            *(columns[c] for c in ("id", "_part", "_page", "_rows", "_next", "_status", "_reason", "_sample")),
            strict=True,
        )
        for rid, part, page, size, next_cursor, outcome, reason, sampled in rows:
            if outcome == REFUSED:
                refused[rid] = reason
            if outcome in (REFUSED, HELD):
                continue
            ledger.add(part, page, size, next_cursor, rid)
            if outcome == WRITTEN:
                written.append(rid)
                if sampled is not None:
                    sample.append(sample_record(rid, sampled))
            else:
                skipped[rid] = reason
        ledger.advance()
        total = self.state.commit_pages(written, skipped, sample, sample_size, list(ledger.partitions.values()))
        if refused:
            raise cannot_keep(
                refused,
                f"nothing of their batch was written. {total} record(s) are copied and checkpointed (batches still "
                "in flight may have landed too; a rerun overwrites them, never duplicates)",
            )
        return total
