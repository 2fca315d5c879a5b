"""Migration: every pair of stores, the source read once, resume after SIGKILL (copy and
verification), bad input, eventually consistent destinations, private checkpoints."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vecbridge.core import (
    Capabilities,
    CollectionNotFound,
    CollectionSpec,
    DimensionMismatch,
    EmbedderFingerprint,
    InvalidInput,
    Metric,
    Record,
    Store,
    connect,
    iter_records,
)
from vecbridge.core.migration import default_checkpoint_path, migrate
from vecbridge.embedders.hashing import HashingEmbedder
from vecbridge.testing import Backend
from vecbridge.testing.memory import MemoryDriver

from .conformance.backends import BACKENDS

LOCAL_BACKENDS = [b for b in BACKENDS if not b.integration and not b.asynchronous]


def portable_records(n: int, dim: int = 16, seed: int = 1) -> list[Record]:
    """Metadata every store keeps as is: flat strings, numbers, booleans, lists of strings."""
    rng = np.random.default_rng(seed)
    vecs = rng.normal(size=(n, dim))
    return [
        Record(
            f"doc-{i}" if i % 3 else f"ünï/{i}",
            vecs[i].tolist(),
            f"text number {i}",
            {"i": i, "tag": ["a", "b", "c"][i % 3], "score": i / 4, "flag": i % 2 == 0, "tags": ["x", f"t{i % 5}"]},
        )
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def stores() -> Iterator[dict[str, Store]]:
    opened: dict[str, Store] = {}
    for b in BACKENDS:
        if not b.asynchronous and b.skip_reason() is None:
            opened[b.id] = b.factory()  # type: ignore[assignment]
    yield opened
    for s in opened.values():
        s.close()


def _name() -> str:
    return "m" + uuid.uuid4().hex[:10]


def memory() -> Store:
    return Store(MemoryDriver())


EDGE = next((b for b in LOCAL_BACKENDS if b.id == "qdrant-edge"), LOCAL_BACKENDS[0])
# Every pair of the stores that run here; and each real server (``pytest -m integration``, with its
# VECBRIDGE_*_URL set) to and from Qdrant Edge and itself.
PAIRS = [(a, b) for a in LOCAL_BACKENDS for b in LOCAL_BACKENDS] + [
    pair
    for server in BACKENDS
    if server.integration and not server.asynchronous
    for pair in ((server, EDGE), (EDGE, server), (server, server))
]


def _pair_param(a: Backend, b: Backend) -> object:
    marks = [pytest.mark.integration] if (a.integration or b.integration) else []
    return pytest.param(a, b, id=f"{a.id}->{b.id}", marks=marks)


@pytest.mark.parametrize("src_b, dst_b", [_pair_param(a, b) for a, b in PAIRS])
def test_every_pair_copies_intact(stores: dict[str, Store], src_b: Backend, dst_b: Backend, tmp_path: Path) -> None:
    if src_b.id not in stores or dst_b.id not in stores:
        pytest.skip(src_b.skip_reason() or dst_b.skip_reason() or "backend unavailable")
    src, dst = stores[src_b.id], stores[dst_b.id]
    a, b = _name(), _name()
    fp = EmbedderFingerprint("hashing", "hashing-v1-w1-c35", 16, None, {"ngram_min": 3, "ngram_max": 5})
    src.create_collection(CollectionSpec(a, 16, Metric.DOT, fp))
    try:
        recs = portable_records(120)
        src.upsert(a, recs)
        src_b.settle()
        seen: list[int] = []
        report = migrate(
            src,
            dst,
            a,
            to_collection=b,
            batch_size=50,
            checkpoint=tmp_path / "ck",
            sample_size=120,
            progress=lambda done, total: seen.append(done),
        )
        dst_b.settle()
        assert report.ok, report.verification.summary() if report.verification else report.plan.problems
        assert report.written == 120 and seen[-1] == 120
        assert dst.describe_collection(b) == CollectionSpec(b, 16, Metric.DOT, fp)
        got = {r.id: r for r in iter_records(dst, b)}
        assert set(got) == {r.id for r in recs}
        for r in recs[:10]:
            assert got[r.id].metadata == r.metadata and got[r.id].text == r.text
            assert np.allclose(got[r.id].vector, r.vector, atol=max(src_b.tolerance, dst_b.tolerance) * 30)
    finally:
        src.drop_collection(a)
        dst.drop_collection(b)


# ----- the source is read once ------------------------------------------------------------


class RecordingDriver(MemoryDriver):
    """Remembers every scan page asked for, with or without vectors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pages: list[bool] = []

    def scan_page(self, target: Any, cursor: Any, limit: int, include_vectors: bool, stop: Any = None) -> Any:
        self.pages.append(include_vectors)
        return super().scan_page(target, cursor, limit, include_vectors, stop)


def test_source_is_read_once_and_destination_ids_without_vectors(tmp_path: Path) -> None:
    src_driver, dst_driver = RecordingDriver(), RecordingDriver()
    src, dst = Store(src_driver), Store(dst_driver)
    src.create_collection(CollectionSpec("docs", 16))
    src.upsert("docs", portable_records(1000))
    report = migrate(src, dst, "docs", batch_size=100, checkpoint=tmp_path / "ck")
    assert report.ok, report.verification
    assert len(src_driver.pages) == 10, "one scan of the source, page by page"
    assert src_driver.calls.count("get") == 0
    assert dst_driver.pages and not any(dst_driver.pages), "destination ids are read without vectors"
    assert dst_driver.calls.count("get") == 1, "one get of the sample"


# ----- resume after a crash -----------------------------------------------------------------

KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from vecbridge.core import connect
    from vecbridge.core.migration import migrate

    src, dst, ckpt, phase = sys.argv[1:5]
    source, destination = connect("qdrant+edge://" + src), connect("qdrant+edge://" + dst)
    write = destination.driver.write

    def slow_write(*args):
        time.sleep(0.01)  # slow the copy down so the test can kill the process part-way through
        return write(*args)

    def status(text):
        if phase == "verify" and text.startswith("verifying"):
            print("verifying", flush=True)
            time.sleep(60)  # killed here

    destination.driver.write = slow_write
    migrate(source, destination, "big", batch_size=100, checkpoint=ckpt, status=status)
    print("finished")
    """
)


def _written(ckpt: Path) -> int:
    try:
        with sqlite3.connect(f"file:{ckpt}?mode=ro", uri=True, timeout=0.1) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'written'").fetchone()
        return int(row[0]) if row else 0
    except sqlite3.Error:
        return 0


@pytest.fixture
def big_source(tmp_path: Path) -> Path:
    src_dir = tmp_path / "src"
    src = connect(f"qdrant+edge://{src_dir}")
    src.create_collection(CollectionSpec("big", 8, Metric.COSINE))
    rng = np.random.default_rng(5)
    vecs = rng.normal(size=(20_000, 8))
    src.upsert("big", (Record(f"r{i}", vecs[i].tolist(), None, {"i": i}) for i in range(20_000)), batch_size=2000)
    src.close()
    return src_dir


def _start(tmp_path: Path, src_dir: Path, phase: str) -> tuple[subprocess.Popen[str], Path, Path]:
    dst_dir, ckpt = tmp_path / "dst", tmp_path / "ck"
    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(src_dir), str(dst_dir), str(ckpt), phase], stdout=subprocess.PIPE, text=True
    )
    return proc, dst_dir, ckpt


def test_sigkill_during_the_copy_then_rerun_ends_with_exactly_the_source(tmp_path: Path, big_source: Path) -> None:
    proc, dst_dir, ckpt = _start(tmp_path, big_source, "copy")
    deadline = time.monotonic() + 120
    written = 0
    while time.monotonic() < deadline and proc.poll() is None:
        written = _written(ckpt) if ckpt.exists() else 0
        if written >= 4000:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the migration finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 4000 <= written < 20_000

    src, dst = connect(f"qdrant+edge://{big_source}"), connect(f"qdrant+edge://{dst_dir}")
    try:
        report = migrate(src, dst, "big", batch_size=500, checkpoint=ckpt)
        assert report.resumed_from >= 4000
        assert report.written == 20_000 - report.resumed_from
        assert report.ok, report.verification.summary() if report.verification else ""
        assert dst.count("big") == 20_000
        assert {r.id for r in iter_records(dst, "big", include_vectors=False)} == {f"r{i}" for i in range(20_000)}
    finally:
        src.close()
        dst.close()


def test_sigkill_during_verification_resumes_at_verification(tmp_path: Path, big_source: Path) -> None:
    proc, dst_dir, ckpt = _start(tmp_path, big_source, "verify")
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the copy is done and verification starts
    assert line.strip() == "verifying"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    src, dst = connect(f"qdrant+edge://{big_source}"), connect(f"qdrant+edge://{dst_dir}")
    try:
        report = migrate(src, dst, "big", batch_size=500, checkpoint=ckpt)
        assert report.written == 0 and report.resumed_from == 20_000, "nothing is copied again"
        assert report.ok and report.verification is not None and report.verification.source_count == 20_000
    finally:
        src.close()
        dst.close()


# ----- bad input: clear errors, nothing written -------------------------------------------


@pytest.fixture
def pair() -> Iterator[tuple[Store, Store]]:
    src, dst = memory(), memory()
    src.create_collection(CollectionSpec("docs", 16))
    src.upsert("docs", portable_records(30))
    yield src, dst
    src.close()
    dst.close()


def test_destination_with_another_dimension(pair: tuple[Store, Store], tmp_path: Path) -> None:
    src, dst = pair
    dst.create_collection(CollectionSpec("docs", 32))
    with pytest.raises(DimensionMismatch):
        migrate(src, dst, "docs", checkpoint=tmp_path / "ck")
    assert dst.count("docs") == 0 and not (tmp_path / "ck").exists()


def test_missing_source_collection(pair: tuple[Store, Store], tmp_path: Path) -> None:
    src, dst = pair
    with pytest.raises(CollectionNotFound):
        migrate(src, dst, "nope", checkpoint=tmp_path / "ck")
    assert dst.list_collections() == []


@pytest.mark.parametrize("content", [b"{not json", b"SQLite format 3\x00garbage" * 20, b"\x00" * 100])
def test_unreadable_checkpoint(pair: tuple[Store, Store], tmp_path: Path, content: bytes) -> None:
    src, dst = pair
    ck = tmp_path / "ck"
    ck.write_bytes(content)
    with pytest.raises(InvalidInput, match="unreadable"):
        migrate(src, dst, "docs", checkpoint=ck)
    assert dst.list_collections() == []


def test_checkpoint_that_is_a_folder_or_a_link(pair: tuple[Store, Store], tmp_path: Path) -> None:
    src, dst = pair
    with pytest.raises(InvalidInput, match="folder"):
        migrate(src, dst, "docs", checkpoint=tmp_path)
    target = tmp_path / "victim"
    target.write_text("precious")
    link = tmp_path / "ck"
    link.symlink_to(target)
    with pytest.raises(InvalidInput, match="not a regular file"):
        migrate(src, dst, "docs", checkpoint=link)
    assert target.read_text() == "precious" and dst.list_collections() == []


def test_checkpoint_is_private_and_holds_no_secret(
    pair: tuple[Store, Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, dst = pair
    monkeypatch.setenv("VECBRIDGE_HOME", str(tmp_path / "home"))
    migrate(
        src, dst, "docs", source_name="pgvector://u:MARKERPW@h/db", destination_name="pinecone://?api_key=MARKERKEY"
    )
    path = default_checkpoint_path("pgvector://u:MARKERPW@h/db", "pinecone://?api_key=MARKERKEY", "docs", "docs")
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for f in (tmp_path / "home").rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert b"MARKERPW" not in data and b"MARKERKEY" not in data, f


def test_dry_run_writes_nothing(pair: tuple[Store, Store], tmp_path: Path) -> None:
    src, dst = pair
    report = migrate(src, dst, "docs", dry_run=True, checkpoint=tmp_path / "ck")
    assert report.dry_run and report.plan.records == 30 and not report.plan.problems
    assert dst.list_collections() == [] and not (tmp_path / "ck").exists()


class PickyDriver(MemoryDriver):
    def check_record(self, record: Record) -> list[str]:
        return [f"metadata field {k!r} is nested" for k, v in record.metadata.items() if isinstance(v, dict)]


def _picky_source(n: int, bad: set[int]) -> Store:
    src = memory()
    src.create_collection(CollectionSpec("docs", 4))
    src.upsert(
        "docs",
        [Record(f"r{i:03d}", [1, i, 0, 0], None, {"n": {"x": 1}} if i in bad else {"a": i}) for i in range(n)],
    )
    return src


def test_problems_in_the_first_page_write_nothing(tmp_path: Path) -> None:
    src, dst = _picky_source(10, {4}), Store(PickyDriver())
    plan = migrate(src, dst, "docs", dry_run=True).plan
    assert plan.problems == ["record 'r004': metadata field 'n' is nested"]
    with pytest.raises(InvalidInput, match="Nothing of this page was written") as info:
        migrate(src, dst, "docs", checkpoint=tmp_path / "ck")
    assert "r004" in str(info.value) and "0 record(s) were copied" in str(info.value)
    assert dst.count("docs") == 0


def test_problems_in_a_later_page_stop_there_and_skip_invalid_copies_the_rest(tmp_path: Path) -> None:
    src, dst = _picky_source(100, {55, 56}), Store(PickyDriver())
    with pytest.raises(InvalidInput, match="50 record"):
        migrate(src, dst, "docs", batch_size=25, checkpoint=tmp_path / "ck")
    assert dst.count("docs") == 50
    report = migrate(src, dst, "docs", batch_size=25, checkpoint=tmp_path / "ck", skip_invalid=True)
    assert report.resumed_from == 50 and report.written == 48
    assert sorted(report.skipped) == ["r055", "r056"] and "nested" in report.skipped["r055"]
    assert report.ok, report.verification
    assert dst.count("docs") == 98


# ----- dimension changes ------------------------------------------------------------------


def test_matryoshka_truncation_renormalises(tmp_path: Path) -> None:
    fp = EmbedderFingerprint("gemini", "gemini-embedding-001", 16, "RETRIEVAL_DOCUMENT")
    src, dst = memory(), memory()
    src.create_collection(CollectionSpec("docs", 16, Metric.DOT, fp))
    recs = portable_records(40)
    src.upsert("docs", recs)
    report = migrate(src, dst, "docs", dimension=8, checkpoint=tmp_path / "ck", sample_size=40)
    assert report.ok
    spec = dst.describe_collection("docs")
    assert spec.dimension == 8 and spec.embedder is not None and spec.embedder.dimension == 8
    assert spec.embedder.model == "gemini-embedding-001"
    (got,) = dst.get("docs", [recs[3].id])
    prefix = np.asarray(recs[3].vector[:8])
    assert np.allclose(got.vector, prefix / np.linalg.norm(prefix), atol=1e-5)
    assert np.isclose(np.linalg.norm(got.vector), 1.0, atol=1e-5)


def test_truncation_refused_for_models_that_do_not_allow_it(pair: tuple[Store, Store]) -> None:
    src, dst = pair
    with pytest.raises(InvalidInput, match="Re-embed"):
        migrate(src, dst, "docs", dimension=8)
    assert dst.list_collections() == []


def test_re_embed_from_stored_text(pair: tuple[Store, Store], tmp_path: Path) -> None:
    src, dst = pair
    emb = HashingEmbedder(dimension=32)
    report = migrate(src, dst, "docs", re_embedder=emb, checkpoint=tmp_path / "ck")
    assert report.ok
    spec = dst.describe_collection("docs")
    assert spec.dimension == 32 and spec.embedder == emb.fingerprint
    (got,) = dst.get("docs", ["doc-1"])
    assert np.allclose(got.vector, emb.embed_documents(["text number 1"])[0], atol=1e-5)


def test_re_embed_needs_text(tmp_path: Path) -> None:
    src, dst = memory(), memory()
    src.create_collection(CollectionSpec("docs", 4))
    src.upsert("docs", [Record("a", [1, 0, 0, 0], "has text"), Record("b", [0, 1, 0, 0])])
    with pytest.raises(InvalidInput, match="no text"):
        migrate(src, dst, "docs", re_embedder=HashingEmbedder(dimension=8), checkpoint=tmp_path / "ck")
    assert dst.count("docs") == 0


def test_into_a_hybrid_collection(pair: tuple[Store, Store], tmp_path: Path) -> None:
    src, dst = pair
    report = migrate(src, dst, "docs", hybrid=True, checkpoint=tmp_path / "ck")
    assert report.ok and dst.describe_collection("docs").hybrid
    hits = dst.query("docs", text="number 7", mode="keyword", k=3)
    assert hits and hits[0].text == "text number 7"


def test_memory_stays_bounded_by_batches() -> None:
    """The reader runs at most two pages ahead of the writer, whatever the collection size."""
    from vecbridge.core.migration import _read_ahead
    from vecbridge.core.models import ScanPage

    produced = 0

    def pages() -> Iterator[ScanPage]:
        nonlocal produced
        for i in range(1000):
            produced += 1
            yield ScanPage([], str(i))

    stop = threading.Event()
    it = _read_ahead(pages(), 2, stop)
    next(it)
    time.sleep(0.3)
    assert produced <= 4  # one handed over, two queued, one waiting to be put
    stop.set()


def test_checkpoint_from_another_migration_is_refused(pair: tuple[Store, Store], tmp_path: Path) -> None:
    src, dst = pair
    ck = tmp_path / "ck"
    other = memory()
    migrate(src, other, "docs", checkpoint=ck, source_name="A", destination_name="B")
    with pytest.raises(InvalidInput, match="another migration"):
        migrate(src, dst, "docs", checkpoint=ck, source_name="A", destination_name="C")


# ----- eventually consistent destinations ---------------------------------------------------


class LaggingDriver(MemoryDriver):
    """Reads (counts, scans) see a write only ``lag`` seconds after it, like Pinecone."""

    def __init__(self, lag: float) -> None:
        super().__init__(capabilities=Capabilities(eventually_consistent=True, default_batch_size=100))
        self.lag = lag
        self.visible_at: dict[str, float] = {}

    def write(self, target: Any, batch: Any) -> Any:
        result = super().write(target, batch)
        for rid in result.written:
            self.visible_at[rid] = time.monotonic() + self.lag
        return result

    def _rows(self, target: Any, node: Any) -> Any:
        now = time.monotonic()
        return [(rid, row) for rid, row in super()._rows(target, node) if self.visible_at.get(rid, 0) <= now]


def test_verification_waits_for_an_eventually_consistent_destination(pair: tuple[Store, Store], tmp_path: Path) -> None:
    src, _ = pair
    dst = Store(LaggingDriver(lag=1.0))
    messages: list[str] = []
    report = migrate(src, dst, "docs", checkpoint=tmp_path / "ck", status=messages.append)
    assert report.ok, report.verification
    assert report.verification is not None and report.verification.waited >= 0.5
    assert any("waiting for the destination" in m for m in messages)


def test_verification_gives_up_with_a_clear_report(pair: tuple[Store, Store], tmp_path: Path) -> None:
    src, _ = pair
    dst = Store(LaggingDriver(lag=60.0))
    report = migrate(src, dst, "docs", checkpoint=tmp_path / "ck", wait_timeout=0.5)
    assert not report.ok and report.verification is not None
    assert report.verification.missing == 30 and "30 missing" in report.verification.summary()


def test_what_pinecone_cannot_carry_is_listed_before_the_run(stores: dict[str, Store], tmp_path: Path) -> None:
    """Nested metadata fits Qdrant but not Pinecone's flat rules: the plan names each record."""
    if "pinecone-emulator" not in stores:
        pytest.skip("the Pinecone emulator backend is not available")
    src, dst = memory(), stores["pinecone-emulator"]
    src.create_collection(CollectionSpec("docs", 4))
    src.upsert(
        "docs",
        [
            Record("flat", [1, 0, 0, 0], "t", {"a": 1, "tags": ["x"]}),
            Record("nested", [0, 1, 0, 0], "t", {"a": {"b": 1}}),
            Record("numbers", [0, 0, 1, 0], "t", {"n": [1, 2]}),
        ],
    )
    to = _name()
    plan = migrate(src, dst, "docs", to_collection=to, dry_run=True).plan
    assert sorted(p.split(":")[0] for p in plan.problems) == ["record 'nested'", "record 'numbers'"]
    assert all("metadata field" in p for p in plan.problems)
    with pytest.raises(InvalidInput, match="Nothing of this page was written"):
        migrate(src, dst, "docs", to_collection=to, checkpoint=tmp_path / "ck")
    assert dst.count(to) == 0
    dst.drop_collection(to)


def test_checkpoint_files_are_never_group_readable(pair: tuple[Store, Store], tmp_path: Path) -> None:
    src, dst = pair
    old = os.umask(0o022)
    try:
        migrate(src, dst, "docs", checkpoint=tmp_path / "sub" / "ck")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "sub" / "ck").stat().st_mode) == 0o600
