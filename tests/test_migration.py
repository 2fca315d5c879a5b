"""Migration between every pair of stores available in the run, resume after SIGKILL, bad input."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from vecbridge.embedders.hashing import HashingEmbedder
from vecbridge.core import (
    CollectionNotFound,
    CollectionSpec,
    DimensionMismatch,
    EmbedderFingerprint,
    InvalidInput,
    Metric,
    Record,
    VectorStore,
    connect,
    iter_records,
)
from vecbridge.core.migration import migrate
from vecbridge.testing import Backend

from .conformance.backends import BACKENDS

LOCAL_BACKENDS = [b for b in BACKENDS if not b.integration]


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
def stores() -> Iterator[dict[str, VectorStore]]:
    opened: dict[str, VectorStore] = {}
    for b in BACKENDS:
        if b.skip_reason() is None:
            opened[b.id] = b.factory()
    yield opened
    for s in opened.values():
        s.close()


def _name() -> str:
    return "m" + uuid.uuid4().hex[:10]


EDGE = next(b for b in LOCAL_BACKENDS if b.id == "qdrant-edge")
# Every pair of the stores that run here; and each real server (``pytest -m integration``, with its
# VECBRIDGE_*_URL set) to and from Qdrant Edge and itself.
PAIRS = [(a, b) for a in LOCAL_BACKENDS for b in LOCAL_BACKENDS] + [
    pair
    for server in BACKENDS
    if server.integration
    for pair in ((server, EDGE), (EDGE, server), (server, server))
]


def _pair_param(a: Backend, b: Backend) -> object:
    marks = [pytest.mark.integration] if (a.integration or b.integration) else []
    return pytest.param(a, b, id=f"{a.id}->{b.id}", marks=marks)


@pytest.mark.parametrize("src_b, dst_b", [_pair_param(a, b) for a, b in PAIRS])
def test_every_pair_copies_intact(
    stores: dict[str, VectorStore], src_b: Backend, dst_b: Backend, tmp_path: Path
) -> None:
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
            checkpoint=tmp_path / "ck.json",
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


# ----- resume after a crash -----------------------------------------------------------------

KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from vecbridge.connectors.qdrant import QdrantEdgeStore
    from vecbridge.core.migration import migrate

    class SlowStore(QdrantEdgeStore):
        # Slow the writes down so the test can kill the process part-way through.
        def _upsert_batch(self, spec, records):
            time.sleep(0.01)
            super()._upsert_batch(spec, records)

    src, dst, ckpt = sys.argv[1:4]
    migrate(QdrantEdgeStore(src), SlowStore(dst), "big", batch_size=100, checkpoint=ckpt, verify=False)
    print("finished")
    """
)


def test_sigkill_then_rerun_ends_with_exactly_the_source(tmp_path: Path) -> None:
    src_dir, dst_dir, ckpt = tmp_path / "src", tmp_path / "dst", tmp_path / "ck.json"
    src = connect(f"qdrant+edge://{src_dir}")
    src.create_collection(CollectionSpec("big", 8, Metric.COSINE))
    rng = np.random.default_rng(5)
    vecs = rng.normal(size=(20_000, 8))
    src.upsert("big", (Record(f"r{i}", vecs[i].tolist(), None, {"i": i}) for i in range(20_000)), batch_size=2000)
    src.close()

    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(src_dir), str(dst_dir), str(ckpt)])
    deadline = time.monotonic() + 120
    written = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if ckpt.exists():
            try:
                written = json.loads(ckpt.read_text())["written"]
            except (ValueError, KeyError):
                written = 0  # being replaced right now
            if written >= 4000:
                break
        time.sleep(0.02)
    assert proc.poll() is None, "the migration finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 4000 <= written < 20_000

    src, dst = connect(f"qdrant+edge://{src_dir}"), connect(f"qdrant+edge://{dst_dir}")
    try:
        report = migrate(src, dst, "big", batch_size=500, checkpoint=ckpt)
        assert report.resumed_from >= 4000
        assert report.written == 20_000 - report.resumed_from
        assert report.ok, report.verification.summary() if report.verification else ""
        assert dst.count("big") == 20_000
        assert {r.id for r in iter_records(dst, "big")} == {f"r{i}" for i in range(20_000)}
    finally:
        src.close()
        dst.close()


# ----- bad input: clear errors, nothing written -------------------------------------------


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[VectorStore, VectorStore]]:
    src, dst = connect("qdrant+local://:memory:"), connect(f"qdrant+edge://{tmp_path / 'dst'}")
    src.create_collection(CollectionSpec("docs", 16))
    src.upsert("docs", portable_records(30))
    yield src, dst
    src.close()
    dst.close()


def test_destination_with_another_dimension(pair: tuple[VectorStore, VectorStore], tmp_path: Path) -> None:
    src, dst = pair
    dst.create_collection(CollectionSpec("docs", 32))
    with pytest.raises(DimensionMismatch):
        migrate(src, dst, "docs", checkpoint=tmp_path / "ck.json")
    assert dst.count("docs") == 0 and not (tmp_path / "ck.json").exists()


def test_missing_source_collection(pair: tuple[VectorStore, VectorStore], tmp_path: Path) -> None:
    src, dst = pair
    with pytest.raises(CollectionNotFound):
        migrate(src, dst, "nope", checkpoint=tmp_path / "ck.json")
    assert dst.list_collections() == []


@pytest.mark.parametrize("content", ["{not json", '{"version": 99}', '["a"]', ""])
def test_unreadable_checkpoint(pair: tuple[VectorStore, VectorStore], tmp_path: Path, content: str) -> None:
    src, dst = pair
    ck = tmp_path / "ck.json"
    ck.write_text(content)
    with pytest.raises(InvalidInput, match="unreadable"):
        migrate(src, dst, "docs", checkpoint=ck)
    assert dst.list_collections() == []


def test_dry_run_writes_nothing(pair: tuple[VectorStore, VectorStore], tmp_path: Path) -> None:
    src, dst = pair
    report = migrate(src, dst, "docs", dry_run=True, checkpoint=tmp_path / "ck.json")
    assert report.dry_run and report.plan.records == 30 and not report.plan.problems
    assert dst.list_collections() == [] and not (tmp_path / "ck.json").exists()


def test_problems_are_reported_before_anything_is_written(tmp_path: Path) -> None:
    class PickyStore(type(connect("qdrant+local://:memory:"))):  # type: ignore[misc]
        def check_record(self, record: Record) -> list[str]:
            return [f"metadata field {k!r} is nested" for k, v in record.metadata.items() if isinstance(v, dict)]

    src = connect("qdrant+local://:memory:")
    src.create_collection(CollectionSpec("docs", 4))
    src.upsert("docs", [Record("ok", [1, 0, 0, 0], None, {"a": 1}), Record("bad", [0, 1, 0, 0], None, {"n": {"x": 1}})])
    dst = PickyStore(connect("qdrant+local://:memory:").client)  # type: ignore[attr-defined]
    plan = migrate(src, dst, "docs", dry_run=True).plan
    assert plan.problems == ["record 'bad': metadata field 'n' is nested"]
    with pytest.raises(InvalidInput, match="nothing was written"):
        migrate(src, dst, "docs", checkpoint=tmp_path / "ck.json")
    assert not dst.has_collection("docs")


# ----- dimension changes ------------------------------------------------------------------


def test_matryoshka_truncation_renormalises(tmp_path: Path) -> None:
    fp = EmbedderFingerprint("gemini", "gemini-embedding-001", 16, "RETRIEVAL_DOCUMENT")
    src, dst = connect("qdrant+local://:memory:"), connect("qdrant+local://:memory:")
    src.create_collection(CollectionSpec("docs", 16, Metric.DOT, fp))
    recs = portable_records(40)
    src.upsert("docs", recs)
    report = migrate(src, dst, "docs", dimension=8, checkpoint=tmp_path / "ck.json", sample_size=40)
    assert report.ok
    spec = dst.describe_collection("docs")
    assert spec.dimension == 8 and spec.embedder is not None and spec.embedder.dimension == 8
    assert spec.embedder.model == "gemini-embedding-001"
    (got,) = dst.get("docs", [recs[3].id])
    prefix = np.asarray(recs[3].vector[:8])
    assert np.allclose(got.vector, prefix / np.linalg.norm(prefix), atol=1e-5)
    assert np.isclose(np.linalg.norm(got.vector), 1.0, atol=1e-5)


def test_truncation_refused_for_models_that_do_not_allow_it(pair: tuple[VectorStore, VectorStore]) -> None:
    src, dst = pair
    with pytest.raises(InvalidInput, match="Re-embed"):
        migrate(src, dst, "docs", dimension=8)
    assert dst.list_collections() == []


def test_re_embed_from_stored_text(pair: tuple[VectorStore, VectorStore], tmp_path: Path) -> None:
    src, dst = pair
    emb = HashingEmbedder(dimension=32)
    report = migrate(src, dst, "docs", re_embedder=emb, checkpoint=tmp_path / "ck.json")
    assert report.ok
    spec = dst.describe_collection("docs")
    assert spec.dimension == 32 and spec.embedder == emb.fingerprint
    (got,) = dst.get("docs", ["doc-1"])
    assert np.allclose(got.vector, emb.embed_documents(["text number 1"])[0], atol=1e-5)


def test_re_embed_needs_text(tmp_path: Path) -> None:
    src, dst = connect("qdrant+local://:memory:"), connect("qdrant+local://:memory:")
    src.create_collection(CollectionSpec("docs", 4))
    src.upsert("docs", [Record("a", [1, 0, 0, 0], "has text"), Record("b", [0, 1, 0, 0])])
    with pytest.raises(InvalidInput, match="no text"):
        migrate(src, dst, "docs", re_embedder=HashingEmbedder(dimension=8), checkpoint=tmp_path / "ck.json")
    assert not dst.has_collection("docs")


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


def test_checkpoint_from_another_migration_is_refused(pair: tuple[VectorStore, VectorStore], tmp_path: Path) -> None:
    src, dst = pair
    ck = tmp_path / "ck.json"
    other = connect("qdrant+local://:memory:")
    other.create_collection(CollectionSpec("docs", 16))
    migrate(src, other, "docs", checkpoint=ck, source_name="A", destination_name="B")
    ck_text = ck.read_text()
    ck.write_text(ck_text.replace('"done": true', '"done": false'))
    with pytest.raises(InvalidInput, match="another migration"):
        migrate(src, dst, "docs", checkpoint=ck, source_name="A", destination_name="C")


def test_what_pinecone_cannot_carry_is_listed_before_the_run(stores: dict[str, VectorStore], tmp_path: Path) -> None:
    """Nested metadata fits Qdrant but not Pinecone's flat rules: the plan names each record."""
    if "pinecone-emulator" not in stores:
        pytest.skip("the Pinecone emulator backend is not available")
    src, dst = connect("qdrant+local://:memory:"), stores["pinecone-emulator"]
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
    with pytest.raises(InvalidInput, match="nothing was written"):
        migrate(src, dst, "docs", to_collection=to, checkpoint=tmp_path / "ck.json")
    assert not dst.has_collection(to)
