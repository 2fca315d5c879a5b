"""Resuming a distributed migration: the source's scan partitions and how far each one got.

The source is split once into scan ranges (``Store.scan_ranges``; one range where it cannot
split). Each range is read page by page, and pages finish out of order across the cluster, so for
every range the checkpoint keeps a *frontier*: the cursor after the longest run of pages, from the
range's start, whose every record was written (or skipped on purpose). A rerun reads each range
again from its frontier and skips ranges that are done. Records written after a frontier before a
crash are written again: ids are deterministic, so that is an overwrite, never a duplicate.

The ranges live in the migration state (``core/checkpoint.py``) itself, committed in the same
transaction as the ids and sample of the pages they cover, so a crash leaves both before or both
after a batch; restarting the state (``--restart``, a finished migration run again) clears them too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from vecbridge.core.checkpoint import MigrationKey, MigrationState
from vecbridge.core.driver import ScanRange
from vecbridge.core.errors import InvalidInput
from vecbridge.core.models import Record

__all__ = ["PageLedger", "Partition", "PartitionState"]

_KEY = "ray.partitions"


@dataclass
class Partition:
    """One scan range of the source and how far it was copied."""

    index: int
    start: str | None
    stop: str | None
    #: Read again from here (the scan resumes after this cursor); starts as ``start``.
    frontier: str | None
    done: bool = False

    @classmethod
    def first(cls, index: int, scan: ScanRange) -> Partition:
        return cls(index, scan.start, scan.stop, scan.start)


class PartitionState(MigrationState):
    """A migration state that also records the source's partitions (see the module docstring)."""

    @classmethod
    def open(cls, path: str | os.PathLike[str], key: MigrationKey, *, restart: bool = False) -> PartitionState:
        state = super().open(path, key, restart=restart)
        assert isinstance(state, PartitionState)
        return state

    def __enter__(self) -> PartitionState:
        return self

    def partitions(self) -> list[Partition] | None:
        raw = self.get(_KEY)
        if raw is None:
            return None
        try:
            return [Partition(**item) for item in json.loads(raw)]
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                f"checkpoint {self.path} has damaged partitions ({exc}): rerun with --restart to copy from the "
                "start (records already copied are overwritten, not duplicated)"
            ) from None

    def save_partitions(self, partitions: Sequence[Partition]) -> None:
        with self._transaction():
            self._set({_KEY: _dump(partitions)})

    def commit_pages(
        self,
        written: Iterable[str],
        skipped: dict[str, str],
        sample: list[Record],
        sample_size: int,
        partitions: Sequence[Partition],
    ) -> int:
        """Record written and skipped ids, sample candidates and the partitions' frontiers in one
        transaction; returns the total of records written so far."""
        with self._transaction():
            cursor = self._db.executemany("INSERT OR IGNORE INTO source_ids (id) VALUES (?)", ((i,) for i in written))
            new = max(cursor.rowcount, 0)
            self._db.executemany("INSERT OR IGNORE INTO source_ids (id) VALUES (?)", ((i,) for i in skipped))
            self._db.executemany("INSERT OR REPLACE INTO skipped (id, reason) VALUES (?, ?)", list(skipped.items()))
            self._add_sample(sample, sample_size)
            total = self.written + new
            self._set({"written": total, _KEY: _dump(partitions)})
        return total


def _dump(partitions: Sequence[Partition]) -> str:
    return json.dumps([asdict(p) for p in partitions])


@dataclass
class _Page:
    rows: int
    next_cursor: str | None
    ids: set[str] = field(default_factory=set)


class PageLedger:
    """Which pages of each partition are fully written, and so how far each frontier moves.

    Pages are numbered from 0 per partition in the order the partition's reader produced them
    (from its frontier). A page is complete when as many distinct ids of it were written or
    skipped as it holds records; a record written twice (a retried task) counts once.
    """

    def __init__(self, partitions: Sequence[Partition]) -> None:
        self.partitions = {p.index: p for p in partitions}
        self._pages: dict[tuple[int, int], _Page] = {}
        self._next: dict[int, int] = {p.index: 0 for p in partitions}

    def add(self, part: int, page: int, rows: int, next_cursor: str | None, record_id: str) -> None:
        entry = self._pages.get((part, page))
        if entry is None:
            if page < self._next[part]:  # a page already folded into the frontier, seen again
                return
            entry = self._pages[(part, page)] = _Page(rows, next_cursor)
        entry.ids.add(record_id)

    def advance(self) -> None:
        """Move every frontier past the complete pages at its head."""
        for index, partition in self.partitions.items():
            number = self._next[index]
            while (entry := self._pages.get((index, number))) is not None and len(entry.ids) >= entry.rows:
                del self._pages[(index, number)]
                partition.frontier = entry.next_cursor
                partition.done = entry.next_cursor is None
                number += 1
            self._next[index] = number

    def finish(self) -> None:
        """Every partition was read to its end and every record written: all are done."""
        self._pages.clear()
        for partition in self.partitions.values():
            partition.done = True
