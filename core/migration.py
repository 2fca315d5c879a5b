"""Copy a collection between any two stores: streamed, resumable, verified.

Built only on the VectorStore protocol (``scan``, ``upsert``, ``get``, ``count``), so it works
between any registered connectors, third-party ones included::

    from vecbridge.core import connect
    from vecbridge.core.migration import migrate
    report = migrate(connect("pgvector+embedded:///data/pg"), connect("qdrant+edge:///data/q"), "docs")
    assert report.ok

A reader thread scans the source into a small bounded queue while the caller's thread writes to
the destination, so reading and writing overlap and memory holds at most a few batches whatever
the collection's size. After every written batch a checkpoint records the scan cursor; running
the same migration again continues from it.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .checkpoint import Checkpoint
from .embedders import Embedder
from .errors import InvalidInput
from .models import CollectionSpec, ScanPage
from .paths import vecbridge_home
from .store import VectorStore, check_compatible
from .transform import RecordTransform, re_embed, truncate_renormalise
from .verify import VerifyReport, verify_copy

__all__ = ["MigrationPlan", "MigrationReport", "default_checkpoint_path", "migrate", "plan_migration"]


@dataclass
class MigrationPlan:
    source: CollectionSpec
    destination: CollectionSpec
    records: int
    destination_exists: bool
    #: Records the destination could not keep intact, with why (checked before anything is written).
    problems: list[str] = field(default_factory=list)
    #: What the copy does to each batch (truncation, re-embedding), or None to copy as is.
    transform: RecordTransform | None = field(default=None, repr=False)


@dataclass
class MigrationReport:
    plan: MigrationPlan
    written: int = 0
    resumed_from: int = 0
    verification: VerifyReport | None = None
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.plan.problems and (self.verification is None or self.verification.ok)


def default_checkpoint_path(source: str, destination: str, collection: str, to_collection: str) -> Path:
    """One checkpoint per (source, destination, collection, to_collection), under VECBRIDGE_HOME."""
    home = vecbridge_home()
    key = hashlib.sha256("\0".join((source, destination, collection, to_collection)).encode()).hexdigest()[:16]
    return home / "migrations" / f"{collection}-{key}.json"


def _target_spec(
    spec: CollectionSpec,
    to_collection: str,
    dimension: int | None,
    force_truncate: bool,
    re_embedder: Embedder | None,
) -> tuple[CollectionSpec, RecordTransform | None]:
    if re_embedder is not None:
        new_spec, transform = re_embed(spec, re_embedder)
        return new_spec.renamed(to_collection), transform
    if dimension is not None and dimension != spec.dimension:
        new_spec, transform = truncate_renormalise(spec, dimension, force=force_truncate)
        return new_spec.renamed(to_collection), transform
    return spec.renamed(to_collection), None


def plan_migration(
    source: VectorStore,
    destination: VectorStore,
    collection: str,
    *,
    to_collection: str | None = None,
    dimension: int | None = None,
    force_truncate: bool = False,
    re_embedder: Embedder | None = None,
    check_records: bool = True,
) -> MigrationPlan:
    """What a migration would do, without writing: specs, record count, and every record the
    destination cannot keep intact (a full read of the source when ``check_records``)."""
    spec = source.describe_collection(collection)  # CollectionNotFound if there is no source
    target, transform = _target_spec(spec, to_collection or collection, dimension, force_truncate, re_embedder)
    exists = destination.has_collection(target.name)
    if exists:
        check_compatible(destination.describe_collection(target.name), target)  # DimensionMismatch ...
    plan = MigrationPlan(spec, target, source.count(collection), exists, transform=transform)
    if check_records:
        checker = getattr(destination, "check_record", None)
        for page in source.scan(collection, batch_size=1000):
            for rec in page.records:
                if re_embedder is not None and not rec.text:
                    plan.problems.append(f"record {rec.id!r}: no text to re-embed")
                if checker is not None:
                    plan.problems.extend(f"record {rec.id!r}: {p}" for p in checker(rec))
    return plan


_DONE = object()


def _read_ahead(pages: Iterator[ScanPage], depth: int, stop: threading.Event) -> Iterator[ScanPage]:
    """Run the source scan in a thread, ``depth`` pages ahead of the writer (bounded memory)."""
    q: queue.Queue[object] = queue.Queue(maxsize=depth)

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def reader() -> None:
        try:
            for page in pages:
                if not put(page):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the writer thread, which re-raises it
            put(exc)

    thread = threading.Thread(target=reader, name="vecbridge-migrate-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, ScanPage)
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def migrate(
    source: VectorStore,
    destination: VectorStore,
    collection: str,
    *,
    to_collection: str | None = None,
    batch_size: int = 500,
    checkpoint: str | Path | None = None,
    resume: bool = True,
    verify: bool = True,
    sample_size: int = 100,
    dimension: int | None = None,
    force_truncate: bool = False,
    re_embedder: Embedder | None = None,
    check_records: bool = True,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    source_name: str | None = None,
    destination_name: str | None = None,
) -> MigrationReport:
    """Copy ``collection`` from ``source`` to ``destination`` (as ``to_collection``).

    Creates the destination collection with the same dimension, metric and embedder fingerprint
    (or checks an existing one and refuses a mismatch). Problems found by the record check raise
    ``InvalidInput`` before anything is written (``dry_run`` returns them instead). ``progress`` is
    called with (records written, total). With ``verify``, counts, every id and a sample of records
    are compared afterwards; see ``report.ok``.
    """
    to = to_collection or collection
    plan = plan_migration(
        source,
        destination,
        collection,
        to_collection=to,
        dimension=dimension,
        force_truncate=force_truncate,
        re_embedder=re_embedder,
        check_records=check_records,
    )
    if dry_run:
        return MigrationReport(plan, dry_run=True)
    if plan.problems:
        shown = "\n  ".join(plan.problems[:20])
        more = f"\n  ... and {len(plan.problems) - 20} more" if len(plan.problems) > 20 else ""
        raise InvalidInput(
            f"{len(plan.problems)} problem(s) would lose data in the destination; nothing was written:\n  "
            f"{shown}{more}"
        )
    transform = plan.transform

    src_name = source_name or repr(source)
    dst_name = destination_name or repr(destination)
    ckpt_path = Path(checkpoint) if checkpoint else default_checkpoint_path(src_name, dst_name, collection, to)
    state = Checkpoint(src_name, dst_name, collection, to)
    if resume and ckpt_path.exists():
        saved = Checkpoint.load(ckpt_path)  # unreadable -> InvalidInput, nothing written
        if saved.key() != state.key():
            raise InvalidInput(
                f"checkpoint {ckpt_path} belongs to another migration ({saved.collection} from {saved.source} "
                f"to {saved.destination}): pass another checkpoint path"
            )
        if not saved.done:
            state = saved
    report = MigrationReport(plan, resumed_from=state.written)

    destination.create_collection(plan.destination, exist_ok=True)
    state.save(ckpt_path)
    written = state.written
    if progress:
        progress(written, plan.records)
    stop = threading.Event()
    pages = _read_ahead(source.scan(collection, batch_size=batch_size, cursor=state.cursor), 2, stop)
    for page in pages:
        records = transform(page.records) if transform and page.records else page.records
        if records:
            destination.upsert(to, records, batch_size=batch_size)
        written += len(records)
        state.cursor, state.written = page.next_cursor, written
        state.save(ckpt_path)
        if progress:
            progress(written, plan.records)
    state.done = True
    state.save(ckpt_path)
    report.written = written - report.resumed_from
    if verify:
        report.verification = verify_copy(
            source,
            collection,
            destination,
            to,
            metric=plan.source.metric,
            sample_size=sample_size,
            transform=transform,
        )
    return report
