"""Checks shared by the tests that adopt collections written by other tools (Weaviate, Pinecone):
``rows`` maps each record id the other tool wrote to its (text, metadata, vector)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vecbridge.core import Record, UnsupportedFeature, connect, iter_records
from vecbridge.core.async_store import AsyncStore
from vecbridge.core.migration import migrate
from vecbridge.core.store import Store

Rows = dict[str, tuple[str, dict[str, Any], list[float]]]


def check_migration_into_edge(store: Store, name: str, rows: Rows, tmp_path: Path) -> None:
    """Migrate the adopted cosine collection ``name`` into Qdrant Edge and compare every record."""
    destination = connect(f"qdrant+edge://{tmp_path / 'edge'}")
    try:
        report = migrate(store, destination, name, checkpoint=tmp_path / "checkpoint.db")
        assert report.ok, report
        assert report.written == len(rows)
        copied = {r.id: r for r in iter_records(destination, name, include_vectors=True)}
        assert set(copied) == set(rows)
        for record_id, (text, metadata, vector) in rows.items():
            assert copied[record_id].text == text
            assert copied[record_id].metadata == metadata
            unit = np.asarray(vector) / np.linalg.norm(vector)  # Qdrant keeps cosine vectors normalised
            np.testing.assert_allclose(copied[record_id].vector, unit, rtol=1e-5, atol=1e-6)
        first = sorted(rows)[0]
        assert destination.query(name, rows[first][2], k=1, filter={"page": {"$gte": 0}})[0].id == first
    finally:
        destination.close()


async def check_async_adoption(store: AsyncStore, rows: Rows, dimension: int, **adoption: Any) -> None:
    """Adopt through the async store, then count, query with a filter, scan and refuse a write.
    The rows' metadata hold ``page`` (a number) and ``draft`` (true on half of them)."""
    try:
        spec = await store.adopt("docs", **adoption)
        assert spec.dimension == dimension
        drafts = sum(1 for _, metadata, _ in rows.values() if metadata["draft"] is True)
        assert await store.count("docs", filter={"draft": True}) == drafts
        hits = await store.query("docs", rows[sorted(rows)[0]][2], k=3, filter={"page": {"$lt": 6}})
        assert len(hits) == 3 and all(rows[h.id][1]["page"] < 6 for h in hits)
        scanned = {r.id async for page in store.scan("docs", batch_size=4) for r in page.records}
        assert scanned == set(rows)
        with pytest.raises(UnsupportedFeature):
            await store.upsert("docs", [Record("new", [1.0] * dimension, "x", {})])
    finally:
        await store.close()
