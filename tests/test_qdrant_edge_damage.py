"""Damaged Qdrant Edge files end in ``StoreDamaged`` when the collection is opened — or in a full,
correct read. Never in a silent partial read: Qdrant Edge itself loads a shard whose id tracker was
truncated with no error and fewer points (7,424 of 13,824 in one run), and one whose vectors were
zeroed with every point present.

Each case copies a cleanly closed collection (unoptimized: one appendable segment; optimized: an
HNSW-indexed segment), damages one file, then opens it through vecbridge.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import qdrant_edge as qe

from vecbridge.core import CollectionSpec, Record, connect
from vecbridge.core.errors import StoreDamaged

N = 3000
DIM = 8


def _records() -> list[Record]:
    rng = np.random.default_rng(5)
    return [Record(f"r{i}", rng.normal(size=DIM).tolist(), f"text {i}", {"i": i, "f": i / 7}) for i in range(N)]


def _build(root: Path, optimized: bool) -> Path:
    with connect(f"qdrant+edge://{root}") as store:
        store.create_collection(CollectionSpec("docs", DIM))
        store.upsert("docs", _records())
    shard_dir = root / "docs" / "shard"
    if optimized:  # index it with Edge itself, the way a load above the threshold would
        config = qe.EdgeConfig(
            vectors=qe.EdgeVectorParams(size=DIM, distance=qe.Distance.Cosine),
            optimizers=qe.EdgeOptimizersConfig(indexing_threshold=10),
        )
        shard = qe.EdgeShard.load(str(shard_dir), config)
        assert shard.optimize() and shard.info().indexed_vectors_count == N
        shard.close()
    return root


_BUILT: dict[str, Path] = {}


def _clean_store(layout: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One clean store per layout for the module: ``appendable`` (as written) or ``optimized``."""
    if layout not in _BUILT:
        _BUILT[layout] = _build(tmp_path_factory.mktemp(layout), layout == "optimized")
    return _BUILT[layout]


def _copy(source: Path, target: Path) -> None:
    """Edge preallocates 32 MB files that are mostly holes: keep them sparse where cp can."""
    if shutil.which("cp") and sys.platform.startswith("linux"):
        subprocess.run(["cp", "-r", "--sparse=always", str(source), str(target)], check=True)
    else:
        shutil.copytree(source, target)


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _zero(path: Path) -> None:
    path.write_bytes(bytes(path.stat().st_size))


def _garbage(path: Path) -> None:
    path.write_bytes(b"{not what was here")


def _delete(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()


#: (name, files to damage (globs under the collection folder), how). Appendable segments keep
#: vectors in ``vectors/chunk_*.mmap``; optimized ones in ``matrix.dat`` with an HNSW graph.
DAMAGE: list[tuple[str, str, Callable[[Path], None]]] = [
    ("truncate id tracker", "shard/segments/*/*id_tracker.mappings", _truncate),
    ("delete id tracker", "shard/segments/*/*id_tracker.mappings", _delete),
    ("zero id tracker", "shard/segments/*/*id_tracker.mappings", _zero),
    ("garbage id versions", "shard/segments/*/*id_tracker.versions", _garbage),
    ("zero vectors", "shard/segments/*/vector_storage/vectors/chunk_0.mmap", _zero),
    ("zero vector matrix", "shard/segments/*/vector_storage/matrix.dat", _zero),
    ("truncate vector matrix", "shard/segments/*/vector_storage/matrix.dat", _truncate),
    ("delete vector status", "shard/segments/*/vector_storage/vectors/status.dat", _delete),
    ("garbage vector status", "shard/segments/*/vector_storage/vectors/status.dat", _garbage),
    ("zero payloads", "shard/segments/*/payload_storage/page_0.dat", _zero),
    ("zero payload tracker", "shard/segments/*/payload_storage/tracker.dat", _zero),
    ("delete payload page", "shard/segments/*/payload_storage/page_0.dat", _delete),
    ("delete version.info", "shard/segments/*/version.info", _delete),
    ("garbage segment.json", "shard/segments/*/segment.json", _garbage),
    ("garbage HNSW links", "shard/segments/*/vector_index/links_compressed.bin", _garbage),
    ("delete segments", "shard/segments", _delete),
    ("garbage edge config", "shard/edge_config.json", _garbage),
    ("zero WAL index", "shard/wal/first-index", _zero),
    ("delete shard", "shard", _delete),
]


_ONLY_IN = {
    "chunk_0.mmap": "appendable",
    "matrix.dat": "optimized",
    "links_compressed.bin": "optimized",
}
CASES = [
    pytest.param(layout, *entry, id=f"{layout}-{entry[0]}")
    for layout in ("appendable", "optimized")
    for entry in DAMAGE
    if _ONLY_IN.get(entry[1].rsplit("/", 1)[-1], layout) == layout
]


@pytest.mark.parametrize(("layout", "damage", "pattern", "how"), CASES)
def test_damage_is_reported_or_everything_reads_back(
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    layout: str,
    damage: str,
    pattern: str,
    how: Callable[[Path], None],
) -> None:
    root = tmp_path / "copy"
    _copy(_clean_store(layout, tmp_path_factory), root)
    targets = list((root / "docs").glob(pattern))
    assert targets, f"the {layout} layout has no {pattern}: Edge's layout changed, update DAMAGE"
    for path in targets:
        how(path)
    records = _records()
    try:
        with connect(f"qdrant+edge://{root}") as store:
            count = store.count("docs")
            back = {r.id: r for r in store.get("docs", [r.id for r in records])}
    except StoreDamaged as exc:
        assert str(root / "docs") in str(exc)
        return
    assert count == N and len(back) == N, f"{damage}: a partial read ({count} of {N}) without StoreDamaged"
    for r in records:
        got = back[r.id]
        assert got.metadata == r.metadata and got.text == r.text, damage
        assert np.allclose(got.vector / np.linalg.norm(got.vector), np.asarray(r.vector) / np.linalg.norm(r.vector))
