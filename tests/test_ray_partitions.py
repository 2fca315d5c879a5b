"""Resuming a Ray migration: the page ledger moves each partition's frontier only past pages whose
every record was written, and the checkpoint keeps ids, sample and frontiers together."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("ray")

from vecbridge.core.checkpoint import MigrationKey
from vecbridge.core.driver import ScanRange
from vecbridge.core.errors import InvalidInput
from vecbridge.core.models import Record
from vecbridge.integrations.ray.partitions import PageLedger, Partition, PartitionState

KEY = MigrationKey("memory://a", "memory://b", "docs", "docs")


def _two_partitions() -> list[Partition]:
    return [Partition.first(0, ScanRange(None, "m")), Partition.first(1, ScanRange("l", None))]


def test_a_frontier_moves_only_over_complete_pages_from_the_start() -> None:
    parts = _two_partitions()
    ledger = PageLedger(parts)
    # Page 1 of partition 0 finishes first: page 0 is not done, so nothing moves.
    for rid in ("c", "d"):
        ledger.add(0, 1, 2, "d", rid)
    ledger.advance()
    assert (parts[0].frontier, parts[0].done) == (None, False)
    # Half of page 0, and the same record again (a retried task): still not complete.
    ledger.add(0, 0, 2, "b", "a")
    ledger.add(0, 0, 2, "b", "a")
    ledger.advance()
    assert parts[0].frontier is None
    ledger.add(0, 0, 2, "b", "b")
    ledger.advance()
    assert (parts[0].frontier, parts[0].done) == ("d", False)  # pages 0 and 1 both folded in
    assert (parts[1].frontier, parts[1].done) == ("l", False)  # untouched: resumes at its start


def test_the_last_page_of_a_range_marks_it_done() -> None:
    parts = _two_partitions()
    ledger = PageLedger(parts)
    ledger.add(1, 0, 1, None, "x")
    ledger.advance()
    assert parts[1].done
    ledger.add(1, 0, 1, None, "x")  # a late duplicate of a folded page changes nothing
    ledger.advance()
    assert parts[1].done and not parts[0].done
    ledger.finish()
    assert all(p.done for p in parts)


def test_the_checkpoint_keeps_ids_sample_and_frontiers_together(tmp_path: Path) -> None:
    path = tmp_path / "m.ckpt"
    parts = _two_partitions()
    with PartitionState.open(path, KEY) as state:
        assert state.partitions() is None
        state.save_partitions(parts)
        parts[0].frontier = "b"
        total = state.commit_pages(["a", "b"], {"z": "too big"}, [Record("a", [0.5, 0.25], "t", {"n": 1})], 10, parts)
        assert total == 2
        assert state.commit_pages(["b"], {}, [], 10, parts) == 2  # an id written again counts once
    with PartitionState.open(path, KEY) as state:
        saved = state.partitions()
        assert saved is not None
        assert [(p.index, p.frontier, p.done) for p in saved] == [(0, "b", False), (1, "l", False)]
        assert state.written == 2
        assert state.skipped() == {"z": "too big"}
        assert state.source_count() == 3
        assert [(r.id, r.vector, r.metadata) for r in state.sample()] == [("a", [0.5, 0.25], {"n": 1})]
    with PartitionState.open(path, KEY, restart=True) as state:  # --restart: partitions go too
        assert state.partitions() is None and state.written == 0


def test_damaged_partitions_say_how_to_start_over(tmp_path: Path) -> None:
    path = tmp_path / "m.ckpt"
    with PartitionState.open(path, KEY) as state:
        state._set({"ray.partitions": '[{"nope": 1}]'})
        with pytest.raises(InvalidInput, match="--restart"):
            state.partitions()
