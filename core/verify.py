"""Verification after a copy: counts, every id, and a sample of records compared in full."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .models import Metric, Record
from .store import VectorStore, iter_records

__all__ = ["VerifyReport", "verify_copy"]


@dataclass
class VerifyReport:
    source_count: int
    destination_count: int
    missing_ids: list[str] = field(default_factory=list)  # in the source, not in the destination
    extra_ids: list[str] = field(default_factory=list)  # in the destination only
    changed: dict[str, str] = field(default_factory=dict)  # sampled id -> what differs
    sampled: int = 0

    @property
    def ok(self) -> bool:
        # Records that were in the destination before (extra ids) are reported, not a failure.
        return (
            not self.missing_ids
            and not self.changed
            and self.destination_count == self.source_count + len(self.extra_ids)
        )

    def summary(self) -> str:
        if self.ok:
            extra = f" ({len(self.extra_ids)} other records were already there)" if self.extra_ids else ""
            return (
                f"verified: {self.source_count} records, every id present, "
                f"{self.sampled} sampled records identical{extra}"
            )
        parts = [f"source {self.source_count} records, destination {self.destination_count}"]
        if self.missing_ids:
            parts.append(f"{len(self.missing_ids)} missing (e.g. {self.missing_ids[:5]})")
        if self.extra_ids:
            parts.append(f"{len(self.extra_ids)} not in the source (e.g. {self.extra_ids[:5]})")
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


def verify_copy(
    source: VectorStore,
    collection: str,
    destination: VectorStore,
    to_collection: str,
    *,
    metric: Metric,
    sample_size: int = 100,
    transform: Callable[[list[Record]], list[Record]] | None = None,
    atol: float = 2e-3,  # halfvec storage keeps ~3 significant digits
    seed: int = 0,
) -> VerifyReport:
    """Compare ``collection`` in ``source`` with ``to_collection`` in ``destination``.

    Ids are compared in full (memory: one set of ids); records are compared on a reservoir sample
    of ``sample_size`` (text, metadata exactly; vectors within ``atol``, after ``transform`` if the
    copy changed them).
    """
    rng = random.Random(seed)
    src_ids: set[str] = set()
    sample: list[Record] = []
    for n, rec in enumerate(iter_records(source, collection)):
        src_ids.add(rec.id)
        if len(sample) < sample_size:
            sample.append(rec)
        else:
            j = rng.randrange(n + 1)
            if j < sample_size:
                sample[j] = rec
    dst_ids = {r.id for r in iter_records(destination, to_collection)}
    report = VerifyReport(
        source_count=source.count(collection),
        destination_count=destination.count(to_collection),
        missing_ids=sorted(src_ids - dst_ids),
        extra_ids=sorted(dst_ids - src_ids),
        sampled=len(sample),
    )
    expected = transform(sample) if transform else sample
    got = {r.id: r for r in destination.get(to_collection, [r.id for r in expected])}
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
