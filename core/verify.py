"""Verification after a copy, without a second read of the source.

The ids copied were recorded in the migration state while copying; verification reads the
destination's ids (without vectors) into the same state, compares the two sets there (on disk,
whatever the collection's size), compares counts, and fetches a fixed sample of records from the
destination to compare in full (text, metadata exactly; vectors within a tolerance).

Eventually consistent destinations (``capabilities.eventually_consistent``, e.g. Pinecone) are
given time first: verification waits, bounded, until the destination counts what was written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .checkpoint import MigrationState
from .models import Metric, Record
from .store import Store

__all__ = ["VerifyReport", "verify_copy"]

Status = Callable[[str], None] | None


@dataclass
class VerifyReport:
    source_count: int
    destination_count: int
    missing: int = 0
    missing_ids: list[str] = field(default_factory=list)  # first ids in the source, not in the destination
    extra: int = 0
    extra_ids: list[str] = field(default_factory=list)  # first ids in the destination only
    skipped: int = 0  # records the migration skipped on purpose (see the report's skipped list)
    changed: dict[str, str] = field(default_factory=dict)  # sampled id -> what differs
    sampled: int = 0
    waited: float = 0.0  # seconds spent waiting for an eventually consistent destination

    @property
    def ok(self) -> bool:
        # Records that were in the destination before (extra ids) are reported, not a failure.
        return (
            not self.missing
            and not self.changed
            and self.destination_count == self.source_count - self.skipped + self.extra
        )

    def summary(self) -> str:
        skipped = f", {self.skipped} skipped on purpose" if self.skipped else ""
        if self.ok:
            extra = f" ({self.extra} other records were already there)" if self.extra else ""
            return (
                f"verified: {self.source_count - self.skipped} records, every id present, "
                f"{self.sampled} sampled records identical{extra}{skipped}"
            )
        parts = [f"source {self.source_count} records{skipped}, destination {self.destination_count}"]
        if self.missing:
            parts.append(f"{self.missing} missing (e.g. {self.missing_ids[:5]})")
        if self.extra:
            parts.append(f"{self.extra} not in the source (e.g. {self.extra_ids[:5]})")
        if self.changed:
            first = list(self.changed.items())[:5]
            parts.append(f"{len(self.changed)} of {self.sampled} sampled differ: {first}")
        return "verification FAILED: " + "; ".join(parts)


def _same_vector(a: list[float], b: list[float], metric: Metric, atol: float) -> bool:
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.shape != y.shape:
        return False
    if metric is Metric.COSINE:  # cosine stores may keep only the direction
        x = x / (np.linalg.norm(x) or 1.0)
        y = y / (np.linalg.norm(y) or 1.0)
    scale = max(1.0, float(np.abs(x).max(initial=0.0)))
    return bool(np.allclose(x, y, atol=atol * scale, rtol=0))


def wait_for_count(
    store: Store, name: str, expected: int, timeout: float, status: Status, tenant: str | None = None
) -> tuple[int, float]:
    """Poll ``count`` until it reaches ``expected`` or ``timeout`` passes; (last count, seconds)."""
    start = time.monotonic()
    delay = 0.2
    while True:
        n = store.count(name, tenant=tenant)
        waited = time.monotonic() - start
        if n >= expected or waited >= timeout:
            return n, waited
        if status is not None:
            status(f"waiting for the destination to show every record ({n} of {expected}, {waited:.0f} s)")
        time.sleep(min(delay, max(0.0, timeout - waited)))
        delay = min(delay * 2, 5.0)


def verify_copy(
    state: MigrationState,
    destination: Store,
    to_collection: str,
    *,
    metric: Metric,
    transform: Callable[[list[Record]], list[Record]] | None = None,
    atol: float = 2e-3,  # halfvec storage keeps ~3 significant digits
    wait_timeout: float = 120.0,
    status: Status = None,
    tenant: str | None = None,
) -> VerifyReport:
    """Compare what ``state`` says was copied with ``to_collection`` in ``destination``."""
    copied = state.source_count()
    skipped = len(state.skipped())
    waited = 0.0
    if destination.capabilities.eventually_consistent:
        _, waited = wait_for_count(destination, to_collection, copied - skipped, wait_timeout, status, tenant)
    if status is not None:
        status("verifying: reading the destination's ids")
    state.clear_destination_ids()
    for page in destination.scan(to_collection, batch_size=1000, include_vectors=False, tenant=tenant):
        state.add_destination_ids(r.id for r in page.records)
    missing, missing_ids = state.missing_ids(20)
    extra, extra_ids = state.extra_ids(20)
    report = VerifyReport(
        source_count=copied,
        destination_count=destination.count(to_collection, tenant=tenant),
        missing=missing,
        missing_ids=missing_ids,
        extra=extra,
        extra_ids=extra_ids,
        skipped=skipped,
        waited=waited,
    )
    sample = state.sample()
    report.sampled = len(sample)
    expected = transform(sample) if transform and sample else sample
    got = {r.id: r for r in destination.get(to_collection, [r.id for r in expected], tenant=tenant)}
    for want in expected:
        have = got.get(want.id)
        if have is None:
            report.changed[want.id] = "missing"
        elif have.text != want.text:
            report.changed[want.id] = "text differs"
        elif have.metadata != want.metadata:
            report.changed[want.id] = f"metadata differs: {want.metadata!r} -> {have.metadata!r}"[:300]
        elif not _same_vector(list(want.vector), list(have.vector), metric, atol):
            report.changed[want.id] = "vector differs"
    return report
