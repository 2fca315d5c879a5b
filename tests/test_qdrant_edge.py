"""Qdrant Edge specifics beyond the conformance suite: where the folder is, what goes wrong with it,
one process at a time, and when Edge's index gets built."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import qdrant_edge as qe

from vecbridge.connectors.qdrant import EdgeDriver
from vecbridge.connectors.qdrant import edge_shards as shards_module
from vecbridge.core import CollectionSpec, InvalidInput, Record, Store, StoreError, connect
from vecbridge.core.driver import Batch, Target
from vecbridge.core.errors import StoreDamaged, StoreInUse


def _records(n: int, dim: int = 8, seed: int = 0) -> list[Record]:
    rng = np.random.default_rng(seed)
    return [Record(f"r{i}", rng.normal(size=dim).tolist(), f"text {i}", {"i": i}) for i in range(n)]


# ----- the folder -------------------------------------------------------------------------------


def test_the_path_is_read_verbatim_and_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with connect("qdrant+edge://MyStore/sub") as store:
        store.create_collection(CollectionSpec("docs", 4))
    assert (tmp_path / "MyStore" / "sub" / "docs" / "collection.json").is_file()
    assert not (tmp_path / "mystore").exists()
    with connect(f"qdrant+edge://{tmp_path}/MyStore/sub") as store:  # the same folder, absolute
        assert store.list_collections() == ["docs"]


def test_nothing_is_created_until_the_first_collection(tmp_path: Path) -> None:
    with connect(f"qdrant+edge://{tmp_path}/later") as store:
        assert store.list_collections() == []
        assert not store.has_collection("docs")
    assert not (tmp_path / "later").exists()


@pytest.mark.parametrize("url", ["qdrant+edge://", "qdrant+edge://:memory:"])
def test_a_folder_is_required(url: str) -> None:
    with pytest.raises(InvalidInput, match="needs a folder"):
        connect(url)


def test_a_file_instead_of_a_folder_says_so(tmp_path: Path) -> None:
    (tmp_path / "store").write_text("not a folder")
    with connect(f"qdrant+edge://{tmp_path}/store") as store:
        with pytest.raises(StoreError, match="is a file, not a folder"):
            store.list_collections()
        with pytest.raises(StoreError, match="is a file, not a folder"):
            store.create_collection(CollectionSpec("docs", 4))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /sys, which no one may write to")
def test_an_unwritable_folder_says_what_to_do() -> None:
    with (
        connect("qdrant+edge:///sys/vecbridge-test/store") as store,
        pytest.raises(StoreError, match=r"cannot create the Qdrant Edge folder .*choose a folder you can write to"),
    ):
        store.create_collection(CollectionSpec("docs", 4))


def test_a_damaged_sidecar_is_named(tmp_path: Path) -> None:
    with connect(f"qdrant+edge://{tmp_path}") as store:
        store.create_collection(CollectionSpec("docs", 4))
    (tmp_path / "docs" / "collection.json").write_text("{garbage")
    with (
        connect(f"qdrant+edge://{tmp_path}") as store,
        pytest.raises(StoreDamaged, match=r"collection\.json is damaged .*delete the folder"),
    ):
        store.describe_collection("docs")


# ----- one process at a time --------------------------------------------------------------------

_OTHER_PROCESS = textwrap.dedent(
    """
    import sys
    from vecbridge.core import connect
    from vecbridge.core.errors import StoreInUse
    try:
        with connect("qdrant+edge://" + sys.argv[1]) as store:
            store.count("docs")
    except StoreInUse as exc:
        print("StoreInUse:", exc)
    """
)


def test_a_second_process_gets_store_in_use_naming_the_folder(tmp_path: Path) -> None:
    with connect(f"qdrant+edge://{tmp_path}") as store:
        store.create_collection(CollectionSpec("docs", 4))
        store.upsert("docs", _records(3, dim=4))
        other = subprocess.run(
            [sys.executable, "-c", _OTHER_PROCESS, str(tmp_path)], capture_output=True, text=True, timeout=120
        )
        assert other.returncode == 0, other.stderr
        assert other.stdout.startswith("StoreInUse:") and str(tmp_path / "docs") in other.stdout
        assert store.count("docs") == 3  # the first store is unaffected
    # Closed: now the other process may open it.
    other = subprocess.run(
        [sys.executable, "-c", _OTHER_PROCESS, str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert other.returncode == 0 and other.stdout == "", other.stdout + other.stderr


def test_a_second_store_in_the_same_process_gets_store_in_use(tmp_path: Path) -> None:
    with connect(f"qdrant+edge://{tmp_path}") as first, connect(f"qdrant+edge://{tmp_path}") as second:
        first.create_collection(CollectionSpec("docs", 4))
        with pytest.raises(StoreInUse, match="open in another process"):
            second.count("docs")
        with pytest.raises(StoreInUse):
            second.drop_collection("docs")
        assert first.count("docs") == 0


# ----- Edge's index ------------------------------------------------------------------------------


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> int:
    """Edge's indexing threshold, and vecbridge's, lowered to 64 KB so a test builds an index fast."""
    monkeypatch.setattr(shards_module, "INDEXING_BYTES", 64 * 1024)
    return 64 * 1024


def _indexed(root: Path, name: str) -> int:
    shard = qe.EdgeShard.load(str(root / name / "shard"))
    try:
        return int(shard.info().indexed_vectors_count)
    finally:
        shard.close()


def test_a_large_load_ends_optimized_and_a_small_one_does_not(tmp_path: Path, small_threshold: int) -> None:
    dim = 16
    large = small_threshold // (dim * 4) + 100
    with connect(f"qdrant+edge://{tmp_path}") as store:
        store.create_collection(CollectionSpec("small", dim))
        store.upsert("small", _records(50, dim))
        store.create_collection(CollectionSpec("large", dim))
        store.upsert("large", _records(large, dim))
    assert _indexed(tmp_path, "small") == 0
    assert _indexed(tmp_path, "large") == large


def test_close_builds_the_index_writes_left_without_one(tmp_path: Path, small_threshold: int) -> None:
    dim = 16
    n = small_threshold // (dim * 4) + 100
    driver = EdgeDriver(tmp_path)
    Store(driver).create_collection(CollectionSpec("docs", dim))
    records = _records(n, dim)
    batch = Batch(
        tuple(r.id for r in records),
        np.asarray([r.vector for r in records], dtype=np.float32),
        tuple(r.text for r in records),
        tuple(r.metadata for r in records),
    )
    driver.write(Target(CollectionSpec("docs", dim)), batch)  # no end_load: as after a failed load
    driver.close()
    assert _indexed(tmp_path, "docs") == n


def test_a_crash_leaves_every_acknowledged_write(tmp_path: Path) -> None:
    """A process killed while writing: the next open replays Edge's write-ahead log, finds the sidecar
    not clean (nothing to compare), reads every write acknowledged, and closes clean."""
    code = textwrap.dedent(
        """
        import os, sys
        import numpy as np
        from vecbridge.core import CollectionSpec, Record, connect
        store = connect("qdrant+edge://" + sys.argv[1])
        store.create_collection(CollectionSpec("docs", 4))
        rng = np.random.default_rng(0)
        for b in range(5):
            store.upsert("docs", [Record(f"{b}-{i}", rng.normal(size=4).tolist()) for i in range(100)])
        os._exit(9)  # no close: as if killed
        """
    )
    died = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert died.returncode == 9, died.stderr
    assert '"clean": false' in (tmp_path / "docs" / "collection.json").read_text()
    with connect(f"qdrant+edge://{tmp_path}") as store:
        assert store.count("docs") == 500
    assert '"clean": true' in (tmp_path / "docs" / "collection.json").read_text()


def test_verify_false_opens_a_damaged_collection_to_read_what_is_left(tmp_path: Path) -> None:
    with connect(f"qdrant+edge://{tmp_path}") as store:
        store.create_collection(CollectionSpec("docs", 4))
        store.upsert("docs", _records(2000, dim=4))
    (mappings,) = (tmp_path / "docs" / "shard" / "segments").glob("*/mutable_id_tracker.mappings")
    os.truncate(mappings, mappings.stat().st_size // 2)
    with connect(f"qdrant+edge://{tmp_path}") as store, pytest.raises(StoreDamaged, match="verify=False"):
        store.count("docs")
    with connect(f"qdrant+edge://{tmp_path}", verify=False) as store:
        assert 0 < store.count("docs") < 2000
