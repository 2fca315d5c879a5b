"""Copy a collection between any two stores: streamed, resumable, verified, the source read once.

Built only on the public store API (``scan``, ``upsert``, ``get``, ``count``), so it works between
any registered connectors, third-party ones included::

    from vecbridge.core import connect
    from vecbridge.core.migration import migrate
    report = migrate(connect("pgvector+embedded:///data/pg"), connect("qdrant+edge:///data/q"), "docs")
    assert report.ok

How it runs:

1. *Plan* (no scan): the source's spec and count; the destination spec (same dimension, metric and
   embedder fingerprint, or changed by ``dimension`` / ``re_embedder`` / ``hybrid``); an existing
   destination collection is checked for compatibility. ``dry_run`` then reads the source once to
   list every record the destination cannot keep, and writes nothing.
2. *Copy*: a reader thread scans the source a couple of pages ahead of the writer (memory holds a
   few pages, whatever the collection's size); each page is validated against the destination's
   rules and written inside one bulk load (the destination indexes at the end). After each page a
   checkpoint (``checkpoint.py``) records the cursor, the ids copied and a sample — so the source is
   read once, and a rerun after a crash or Ctrl-C continues from the last page.
   A page with records the destination cannot keep stops the copy before that page is written
   (``InvalidInput`` naming them, with how many records were copied), unless ``skip_invalid``:
   then they are skipped, listed in the report, and the rest is copied.
3. *Verify* (resumable too): the destination's ids against the ids copied, the counts, and a sample
   of records compared in full (``verify.py``); eventually consistent destinations are given time.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .checkpoint import MigrationKey, MigrationState
from .embedders import Embedder
from .errors import InvalidInput
from .models import CollectionSpec, Record, ScanPage
from .paths import vecbridge_home
from .policy import check_compatible
from .store import Store
from .transform import RecordTransform, re_embed, truncate_renormalise
from .urls import redact_url
from .verify import VerifyReport, verify_copy

__all__ = [
    "Copier",
    "CopyStep",
    "MigrationPlan",
    "MigrationReport",
    "PageCopy",
    "cannot_keep",
    "copy_page",
    "default_checkpoint_path",
    "migrate",
    "plan_migration",
]

Progress = Callable[[int, int], None] | None
Status = Callable[[str], None] | None


@dataclass
class MigrationPlan:
    source: CollectionSpec
    destination: CollectionSpec
    records: int
    destination_exists: bool
    #: Records the destination could not keep intact, with why (``dry_run`` only: a full read).
    problems: list[str] = field(default_factory=list)
    #: What the copy does to each batch (truncation, re-embedding), or None to copy as is.
    transform: RecordTransform | None = field(default=None, repr=False)
    #: The vectors are recomputed from each record's text.
    re_embeds: bool = False


@dataclass
class MigrationReport:
    plan: MigrationPlan
    written: int = 0
    resumed_from: int = 0
    verification: VerifyReport | None = None
    dry_run: bool = False
    #: Records left out on purpose (``skip_invalid``), id -> why.
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.plan.problems and (self.verification is None or self.verification.ok)


@dataclass
class CopyStep:
    """What the copy step of a migration works with: copy ``plan.source`` from ``source`` into
    ``plan.destination`` of ``destination``, committing progress to ``state``."""

    source: Store
    destination: Store
    plan: MigrationPlan
    state: MigrationState
    batch_size: int
    sample_size: int
    skip_invalid: bool
    tenant: str | None
    progress: Progress


class Copier(Protocol):
    """The copy step of :func:`migrate` run by another engine (``vecbridge.integrations.ray``):
    planning, the checkpoint's phases, verification and the report stay the same."""

    #: The checkpoint's sample holds the records as written (transformed already), so verification
    #: compares them as they are instead of transforming the source's again.
    sample_as_written: bool

    def open_state(self, path: Path, key: MigrationKey, *, restart: bool) -> MigrationState: ...

    def copy(self, step: CopyStep) -> None: ...


def default_checkpoint_path(source: str, destination: str, collection: str, to_collection: str) -> Path:
    """One checkpoint per (source, destination, collection, to_collection), under VECBRIDGE_HOME,
    keyed by the redacted URLs (a password never reaches the file name or the file)."""
    key = "\0".join((redact_url(source), redact_url(destination), collection, to_collection))
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return vecbridge_home() / "migrations" / f"{collection}-{digest}.ckpt"


def _target_spec(
    spec: CollectionSpec,
    to_collection: str,
    dimension: int | None,
    force_truncate: bool,
    re_embedder: Embedder | None,
    hybrid: bool | None,
) -> tuple[CollectionSpec, RecordTransform | None]:
    transform: RecordTransform | None = None
    if re_embedder is not None:
        spec, transform = re_embed(spec, re_embedder)
    elif dimension is not None and dimension != spec.dimension:
        spec, transform = truncate_renormalise(spec, dimension, force=force_truncate)
    target = spec.renamed(to_collection)
    if hybrid is not None and hybrid != target.hybrid:
        target = CollectionSpec(
            target.name,
            target.dimension,
            target.metric,
            target.embedder,
            hybrid=hybrid,
            multi_tenant=target.multi_tenant,
        )
    return target, transform


def plan_migration(
    source: Store,
    destination: Store,
    collection: str,
    *,
    to_collection: str | None = None,
    dimension: int | None = None,
    force_truncate: bool = False,
    re_embedder: Embedder | None = None,
    hybrid: bool | None = None,
    tenant: str | None = None,
) -> MigrationPlan:
    """What a migration would do, from the specs and one count (no scan)."""
    spec = source.describe_collection(collection)  # CollectionNotFound if there is no source
    target, transform = _target_spec(spec, to_collection or collection, dimension, force_truncate, re_embedder, hybrid)
    exists = destination.has_collection(target.name)
    if exists:
        check_compatible(destination.describe_collection(target.name), target)  # DimensionMismatch ...
    records = source.count(collection, tenant=tenant)
    return MigrationPlan(spec, target, records, exists, transform=transform, re_embeds=re_embedder is not None)


def _problems(destination: Store, plan: MigrationPlan, records: list[Record]) -> dict[str, str]:
    """What stops the destination from keeping each record: a text where one is needed (keyword
    index, re-embedding), and the destination's own record rules."""
    found: dict[str, str] = {}
    rules = destination.policy.check_record
    for rec in records:
        if not rec.text and plan.re_embeds:
            found[rec.id] = "no text to re-embed"
        elif not rec.text and plan.destination.hybrid:
            found[rec.id] = "no text for the keyword index of a hybrid collection"
        elif problems := rules(rec):
            found[rec.id] = "; ".join(problems)
    return found


@dataclass
class PageCopy:
    """What :func:`copy_page` did with one page of the source."""

    #: The records the destination can keep, as read.
    kept: list[Record]
    #: The same records as written (transformed); empty when ``refused``.
    written: list[Record]
    #: Records the destination cannot keep, id -> why.
    bad: dict[str, str]
    #: There were ``bad`` records and ``skip_invalid`` was off: nothing of the page was written.
    refused: bool


def copy_page(
    destination: Store,
    plan: MigrationPlan,
    records: list[Record],
    *,
    skip_invalid: bool,
    batch_size: int,
    tenant: str | None,
    known: dict[str, str] | None = None,
) -> PageCopy:
    """Check one page against the destination's rules and write what it can keep, transformed by
    ``plan.transform``: with records it cannot keep, nothing is written unless ``skip_invalid``
    (then they are left out). ``known``: problems found before (id -> why), e.g. by a re-embedding
    stage that ran first."""
    bad = dict(known or {})
    bad.update(_problems(destination, plan, [r for r in records if r.id not in bad]))
    if bad and not skip_invalid:
        return PageCopy([], [], bad, refused=True)
    keep = [r for r in records if r.id not in bad]
    out = plan.transform(keep) if plan.transform is not None and keep else keep
    if out:
        destination.upsert(plan.destination.name, out, batch_size=batch_size, tenant=tenant)
    return PageCopy(keep, out, bad, refused=False)


def cannot_keep(bad: dict[str, str], copied: str) -> InvalidInput:
    """The error that stops a copy at records the destination cannot keep; ``copied`` says what
    was written and checkpointed before it."""
    shown = "\n  ".join(f"record {i!r}: {why}" for i, why in list(bad.items())[:20])
    more = f"\n  ... and {len(bad) - 20} more" if len(bad) > 20 else ""
    return InvalidInput(
        f"{len(bad)} record(s) of the source cannot be kept by the destination; {copied}:\n  {shown}{more}\n"
        "Run with dry_run (--dry-run) to list every such record, or skip_invalid (--skip-invalid) to copy "
        "the rest and list them in the report"
    )


def _read_ahead(pages: Iterator[ScanPage], depth: int, stop: threading.Event) -> Iterator[ScanPage]:
    """Run the source scan in a thread, ``depth`` pages ahead of the writer (bounded memory)."""
    q: queue.Queue[object] = queue.Queue(maxsize=depth)
    done = object()

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
            put(done)
        except BaseException as exc:  # handed to the writer thread, which re-raises it
            put(exc)

    thread = threading.Thread(target=reader, name="vecbridge-migrate-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, ScanPage)
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def _dry_run(source: Store, destination: Store, collection: str, plan: MigrationPlan, tenant: str | None) -> None:
    for page in source.scan(collection, batch_size=1000, tenant=tenant):
        for rid, why in _problems(destination, plan, page.records).items():
            plan.problems.append(f"record {rid!r}: {why}")


def migrate(
    source: Store,
    destination: Store,
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
    hybrid: bool | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    tenant: str | None = None,
    wait_timeout: float = 120.0,
    progress: Progress = None,
    status: Status = None,
    source_name: str | None = None,
    destination_name: str | None = None,
    copier: Copier | None = None,
) -> MigrationReport:
    """Copy ``collection`` from ``source`` to ``destination`` (as ``to_collection``); see the
    module docstring. ``progress(copied, total)`` follows the copy, ``status(text)`` the phases.
    ``source_name`` / ``destination_name`` (e.g. the URLs) key the default checkpoint; they are
    redacted before use. ``copier`` runs the copy step elsewhere (:class:`Copier`). Returns a
    report; ``report.ok`` is the verdict."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInput(f"batch_size must be a positive integer, got {batch_size!r}")
    to = to_collection or collection
    plan = plan_migration(
        source,
        destination,
        collection,
        to_collection=to,
        dimension=dimension,
        force_truncate=force_truncate,
        re_embedder=re_embedder,
        hybrid=hybrid,
        tenant=tenant,
    )
    if dry_run:
        _dry_run(source, destination, collection, plan, tenant)
        return MigrationReport(plan, dry_run=True)

    key = MigrationKey(
        redact_url(source_name or repr(source)), redact_url(destination_name or repr(destination)), collection, to
    )
    path = Path(checkpoint) if checkpoint else default_checkpoint_path(key.source, key.destination, collection, to)
    opened = (copier.open_state if copier is not None else MigrationState.open)(path, key, restart=not resume)
    with opened as state:
        report = MigrationReport(plan, resumed_from=state.written)
        if state.phase == "done":  # a finished migration run again: copy everything afresh
            state.reset(key)
            report.resumed_from = 0
        if state.phase == "copy":
            destination.create_collection(plan.destination, exist_ok=True)
            step = CopyStep(source, destination, plan, state, batch_size, sample_size, skip_invalid, tenant, progress)
            (copier.copy if copier is not None else _copy)(step)
            state.set_phase("verify")
        report.written = state.written - report.resumed_from
        report.skipped = state.skipped()
        if verify:
            report.verification = verify_copy(
                state,
                destination,
                to,
                metric=plan.source.metric,
                transform=None if copier is not None and copier.sample_as_written else plan.transform,
                wait_timeout=wait_timeout,
                status=status,
                tenant=tenant,
            )
        state.set_phase("done")
    return report


def _copy(step: CopyStep) -> None:
    """The copy step in this process (see the module docstring)."""
    source, destination, plan, state = step.source, step.destination, step.plan, step.state
    batch_size, tenant, progress = step.batch_size, step.tenant, step.progress
    written = state.written
    if progress is not None:
        progress(written, plan.records)
    stop = threading.Event()
    scan = source.scan(plan.source.name, batch_size=batch_size, cursor=state.cursor, tenant=tenant)
    pages = _read_ahead(scan, 2, stop)
    to = plan.destination.name
    with destination.bulk_load(to, expected=plan.records, tenant=tenant):
        for page in pages:
            done = copy_page(
                destination, plan, page.records, skip_invalid=step.skip_invalid, batch_size=batch_size, tenant=tenant
            )
            if done.refused:
                raise cannot_keep(
                    done.bad,
                    f"{written} record(s) were copied before them and the checkpoint is kept. "
                    "Nothing of this page was written",
                )
            written += len(done.written)
            ids = (r.id for r in page.records)
            state.commit_page(page.next_cursor, written, ids, done.kept, step.sample_size, done.bad)
            if progress is not None:
                progress(written, plan.records)
