"""vecbridge on a real local Ray cluster (``ray.init(num_cpus=2)``, started once for this module).

Marked ``ray`` (a cluster start and a dozen jobs take minutes on two shared cores): run with
``pytest -m ray``. Stores: every local backend that runs here, by URL, as a user's job meets them.
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ray = pytest.importorskip("ray")
psutil = pytest.importorskip("psutil")

from tests.emulators.gemini import Fault, GeminiEmulator, expected_values  # noqa: E402
from tests.emulators.gemini.fixtures import TEST_KEY  # noqa: E402
from vecbridge.core import CollectionSpec, Record, connect, load_embedder  # noqa: E402
from vecbridge.core.errors import DimensionMismatch, InvalidInput, VecbridgeError  # noqa: E402
from vecbridge.core.migration import migrate as migrate_in_process  # noqa: E402
from vecbridge.core.parquet import export_parquet, read_parquet  # noqa: E402
from vecbridge.integrations.ray import (  # noqa: E402
    RateLimiter,
    embed,
    export_collection,
    import_file,
    ingest_texts,
    migrate,
    read_collection,
    write_collection,
)
from vecbridge.integrations.ray.cli import Engine, migrate_command  # noqa: E402
from vecbridge.integrations.ray.rate_limit import RateLimit  # noqa: E402

pytestmark = pytest.mark.ray

DIM = 8


@pytest.fixture(scope="module")
def gemini() -> Iterator[GeminiEmulator]:
    with GeminiEmulator(api_keys=[TEST_KEY], latency=0.05) as emu:
        yield emu


@pytest.fixture(scope="module", autouse=True)
def cluster(gemini: GeminiEmulator) -> Iterator[None]:
    # Workers find the Gemini emulator and its key in their environment, as on a real cluster.
    env = {"GEMINI_API_KEY": TEST_KEY, "GOOGLE_GEMINI_BASE_URL": gemini.base_url}
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.ERROR,
        runtime_env={"env_vars": env},
    )
    yield
    ray.shutdown()


# ----- stores -------------------------------------------------------------------------------


def _memory() -> str:
    return f"memory://ray-{uuid.uuid4().hex[:8]}"


def _available(reason: str | None) -> None:
    if reason:
        pytest.skip(reason)


def _pgvector() -> str:
    from tests.backends import pgvector

    _available(pgvector._skip_without_pgserver())
    return pgvector.embedded_url()


def _edge() -> str:
    return "qdrant+edge://" + tempfile.mkdtemp(prefix="vb-ray-edge-")


def _qdrant_local() -> str:
    pytest.importorskip("qdrant_client")
    return "qdrant+local://" + tempfile.mkdtemp(prefix="vb-ray-qlocal-")


def _milvus_lite() -> str:
    from tests.backends import milvus

    _available(milvus._skip_without_milvus())
    return milvus.lite_url()


def _pinecone() -> str:
    from tests.backends import pinecone

    _available(pinecone._sdk_missing())
    return pinecone.emulator().url


def _weaviate() -> str:
    pytest.importorskip("weaviate")
    from tests.backends import weaviate

    emulator = weaviate.shared_emulator()
    weaviate.offline_for_session(emulator)
    return emulator.url


BACKENDS: dict[str, Callable[[], str]] = {
    "memory": _memory,
    "pgvector-embedded": _pgvector,
    "qdrant-edge": _edge,
    "qdrant-local": _qdrant_local,
    "milvus-lite": _milvus_lite,
    "pinecone-emulator": _pinecone,
    "weaviate-emulator": _weaviate,
}


#: In-process engines: one process at a time may open them, so Ray jobs read and write them in
#: the driver. Their drivers must say so.
IN_PROCESS = {"memory", "qdrant-edge", "qdrant-local", "milvus-lite"}


def _check_declared(backend: str, url: str) -> None:
    with connect(url) as store:
        declared = store.capabilities.multi_process
    assert declared is (backend not in IN_PROCESS), (
        f"the {backend} driver declares Capabilities(multi_process={declared}); it is "
        f"{'an in-process engine: it must declare multi_process=False' if declared else 'a server'}"
    )


def _name(prefix: str = "c") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def _source_records(n: int, *, flat: bool = False) -> list[Record]:
    rng = np.random.default_rng(7)
    out = []
    for i in range(n):
        meta: dict[str, Any] = {"n": i, "f": i / 7, "tag": f"t{i % 3}", "ok": i % 2 == 0}
        if not flat:
            meta["nested"] = {"k": [i, "x"]}
        out.append(Record(f"r{i:04d}", rng.standard_normal(DIM).astype(np.float32).tolist(), f"text number {i}", meta))
    return out


def _fill(url: str, collection: str, records: list[Record], dim: int = DIM) -> None:
    with connect(url) as store:
        store.create_collection(CollectionSpec(collection, dim))
        store.upsert(collection, records)


def _contents(url: str, collection: str) -> dict[str, tuple[np.ndarray, str | None, dict[str, Any]]]:
    from vecbridge.core.verify import wait_for_count

    with connect(url) as store:
        if store.capabilities.eventually_consistent:
            wait_for_count(store, collection, 1, 30.0, None)
        found = {}
        for page in store.scan(collection, batch_size=500):
            for r in page.records:
                found[r.id] = (np.asarray(r.vector, dtype=np.float64), r.text, r.metadata)
        return found


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v) or 1.0)


def _assert_same(got: dict[str, Any], want: list[Record], *, atol: float = 1e-6) -> None:
    assert sorted(got) == sorted(r.id for r in want)
    for r in want:
        vector, text, metadata = got[r.id]
        assert text == r.text
        assert metadata == r.metadata
        # Cosine stores may keep only the direction.
        assert np.allclose(_unit(vector), _unit(np.asarray(r.vector, dtype=np.float64)), atol=atol), r.id


# ----- read and write on every local backend ------------------------------------------------


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_read_and_write_round_trip(backend: str) -> None:
    url = BACKENDS[backend]()
    _check_declared(backend, url)
    source, copy = _name("src"), _name("dst")
    records = _source_records(60, flat=backend == "pinecone-emulator")
    _fill(url, source, records)
    data = read_collection(url, source, batch_size=16, parallelism=3)
    rows = {row["id"]: row for row in data.take_all()}
    assert sorted(rows) == sorted(r.id for r in records)
    written = write_collection(data, url, copy, spec=CollectionSpec(copy, DIM), batch_size=16, workers=2)
    assert written == len(records)
    _assert_same(_contents(url, copy), records)


# ----- migration ----------------------------------------------------------------------------


def test_migration_pgvector_to_edge_and_back(tmp_path: Path) -> None:
    pg, edge = _pgvector(), _edge()
    _check_declared("qdrant-edge", edge)
    name = _name("m")
    records = _source_records(300)
    _fill(pg, name, records)
    there = migrate(pg, edge, name, batch_size=40, workers=2, checkpoint=tmp_path / "there.ckpt")
    assert there.ok and there.written == 300, there.verification
    back = migrate(edge, pg, name, to_collection=f"{name}_back", batch_size=40, workers=2, checkpoint=tmp_path / "b")
    assert back.ok and back.written == 300, back.verification
    _assert_same(_contents(pg, name + "_back"), records)


def test_re_embedding_migration_matches_the_single_process_one(tmp_path: Path) -> None:
    src, dst, ref = _memory(), _memory(), _memory()
    records = _source_records(200)
    _fill(src, "docs", records)
    emb = load_embedder("hashing", dimension=32)
    report = migrate(src, dst, "docs", re_embedder=emb, batch_size=30, workers=2, checkpoint=tmp_path / "r.ckpt")
    assert report.ok and report.written == 200
    assert report.plan.destination.embedder == emb.fingerprint
    with connect(src) as s, connect(ref) as r:
        migrate_in_process(s, r, "docs", re_embedder=emb, checkpoint=tmp_path / "single.ckpt")
    got, want = _contents(dst, "docs"), _contents(ref, "docs")
    assert sorted(got) == sorted(want)
    for rid, (vector, text, metadata) in want.items():
        assert got[rid][1:] == (text, metadata)
        assert np.allclose(got[rid][0], vector, atol=1e-6)


def _memory_to_pgvector(prefix: str, n: int) -> tuple[str, str, str, list[Record]]:
    """A fresh source (in memory, read by the driver) of ``n`` records and a pgvector destination
    (written by Ray tasks): (source URL, destination URL, collection, records)."""
    src, dst, name = _memory(), _pgvector(), _name(prefix)
    records = _source_records(n)
    _fill(src, name, records)
    return src, dst, name, records


@contextmanager
def _kill_once(title: str) -> Iterator[list[int]]:
    """While the block runs, SIGKILL the first Ray worker process whose title (Ray names a
    worker after the task or actor method it is executing) contains ``title``. Only this test's
    own workers: descendants of this process (its Ray instance, or a command it runs), never those
    of another Ray instance on the machine."""
    killed: list[int] = []
    done = threading.Event()
    me = psutil.Process()

    def watch() -> None:
        while not done.is_set() and not killed:
            for proc in me.children(recursive=True):
                command = ""
                with suppress(psutil.Error):  # gone meanwhile
                    command = " ".join(proc.cmdline())
                if title in command:
                    with suppress(ProcessLookupError):  # it finished just now: look again
                        os.kill(proc.pid, signal.SIGKILL)
                        killed.append(proc.pid)
                        return
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield killed
    finally:
        done.set()
        watcher.join()


def test_a_worker_killed_mid_job_leaves_an_exact_copy(tmp_path: Path) -> None:
    src, dst, name, records = _memory_to_pgvector("k", 600)
    emb = load_embedder("hashing", dimension=DIM)
    # An embedding actor in the middle of a batch ("...EmbedStage)).submit").
    with _kill_once("MapBatches(EmbedStage)).submit") as killed:
        report = migrate(src, dst, name, re_embedder=emb, batch_size=20, workers=2, checkpoint=tmp_path / "k.ckpt")
    assert killed, "no embedding worker was found to kill"
    assert report.ok and report.written == 600, report.verification
    vectors = emb.embed_documents([r.text or "" for r in records])
    expected = [Record(r.id, v, r.text, r.metadata) for r, v in zip(records, vectors, strict=True)]
    _assert_same(_contents(dst, name), expected)


def test_a_writer_killed_mid_job_leaves_an_exact_copy(tmp_path: Path) -> None:
    src, dst, name, records = _memory_to_pgvector("w", 600)
    with _kill_once("MapBatches(write_receipts_task)") as killed:  # a writer in the middle of a batch
        report = migrate(src, dst, name, batch_size=10, workers=2, checkpoint=tmp_path / "w.ckpt")
    assert killed, "no write task was running to kill"
    assert report.ok and report.written == 600, report.verification
    _assert_same(_contents(dst, name), records)


def _ctrl_c_after(records: int) -> Callable[[int, int], None]:
    """A progress callback that presses Ctrl-C once ``records`` are copied and checkpointed."""

    def progress(done: int, total: int) -> None:
        if done >= records:
            raise KeyboardInterrupt

    return progress


def _frontiers(checkpoint: Path) -> list[str | None]:
    """The partitions' frontiers the checkpoint file holds (read as a plain SQLite file)."""
    import json
    import sqlite3

    db = sqlite3.connect(checkpoint)
    try:
        (raw,) = db.execute("SELECT value FROM meta WHERE key = 'ray.partitions'").fetchone()
    finally:
        db.close()
    return [p["frontier"] for p in json.loads(raw)]


def test_ctrl_c_then_rerun_copies_only_what_is_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vecbridge.testing.memory import MemoryDriver

    src, dst, name, records = _memory_to_pgvector("i", 400)
    checkpoint = tmp_path / "i.ckpt"
    with pytest.raises(KeyboardInterrupt):
        migrate(src, dst, name, batch_size=25, workers=2, checkpoint=checkpoint, progress=_ctrl_c_after(100))
    # The source (in memory: read by this process) is one range; the checkpoint says how far it is done.
    (frontier,) = _frontiers(checkpoint)
    assert frontier is not None, "no page was checkpointed before Ctrl-C"
    left = sorted(r.id for r in records if r.id > frontier)
    read: list[str] = []
    scan_page = MemoryDriver.scan_page

    def counted(self: MemoryDriver, *args: Any, **kwargs: Any) -> Any:
        page = scan_page(self, *args, **kwargs)
        read.extend(r.id for r in page.records)
        return page

    monkeypatch.setattr(MemoryDriver, "scan_page", counted)
    report = migrate(src, dst, name, batch_size=25, workers=2, checkpoint=checkpoint)
    assert sorted(read) == left  # the rerun read only what the checkpoint did not cover, once
    assert 100 <= report.resumed_from < 400
    assert report.resumed_from + report.written == 400
    assert report.ok, report.verification
    _assert_same(_contents(dst, name), records)


def test_a_single_process_checkpoint_is_resumed_on_ray(tmp_path: Path) -> None:
    src, dst, name, records = _memory_to_pgvector("s", 300)
    checkpoint = tmp_path / "s.ckpt"
    interrupt = _ctrl_c_after(100)
    with connect(src) as s, connect(dst) as d, pytest.raises(KeyboardInterrupt):
        migrate_in_process(
            s, d, name, batch_size=50, checkpoint=checkpoint, progress=interrupt, source_name=src, destination_name=dst
        )
    report = migrate(src, dst, name, batch_size=50, workers=2, checkpoint=checkpoint)
    assert report.resumed_from == 100 and report.written == 200  # on from the single-process cursor
    assert report.ok, report.verification
    _assert_same(_contents(dst, name), records)


def test_the_cli_entry_point_reuses_the_running_cluster(tmp_path: Path) -> None:
    src, dst = _memory(), _memory()
    records = _source_records(50)
    _fill(src, "docs", records)
    report = migrate_command(src, dst, "docs", engine=Engine(workers=2), checkpoint=tmp_path / "c.ckpt", batch_size=20)
    assert report.ok and ray.is_initialized()
    _assert_same(_contents(dst, "docs"), records)
    with pytest.raises(InvalidInput, match="--address"):
        Engine(address="http://not a ray address")


# ----- bad input: the single-process path's typed errors, nothing written --------------------


def test_a_bad_row_raises_the_upsert_error_and_writes_nothing() -> None:
    url = _pgvector()
    name = _name("b")
    rows = [{"id": f"r{i}", "vector": [1.0] * DIM, "text": "t", "metadata": "{}"} for i in range(20)]
    rows[13]["vector"] = [1.0] * (DIM - 1)
    with connect(url) as store:
        store.create_collection(CollectionSpec(name, DIM))
        with pytest.raises(DimensionMismatch) as single:
            store.upsert(name, [Record(r["id"], r["vector"], "t", {}) for r in rows])  # type: ignore[arg-type]
    # One block is validated whole before any of it is written; check_first covers every block.
    for data, options in (
        (ray.data.from_items(rows, override_num_blocks=1), {}),
        (ray.data.from_items(rows, override_num_blocks=5), {"check_first": True}),
    ):
        with pytest.raises(DimensionMismatch) as distributed:
            write_collection(data, url, name, **options)
        assert str(distributed.value) == str(single.value)
        with connect(url) as store:
            assert store.count(name) == 0


def test_an_incompatible_destination_raises_before_anything_is_written(tmp_path: Path) -> None:
    src, dst = _memory(), _pgvector()
    name = _name("x")
    _fill(src, name, _source_records(30))
    _fill(dst, name, [Record("other", [1.0] * 4, None, {})], dim=4)
    with pytest.raises(DimensionMismatch):
        migrate(src, dst, name, workers=2, checkpoint=tmp_path / "x.ckpt")
    with connect(dst) as store:
        assert [r.id for p in store.scan(name) for r in p.records] == ["other"]


def test_a_record_without_text_to_re_embed_is_refused_like_in_process(tmp_path: Path) -> None:
    src, dst, ref = _memory(), _memory(), _memory()
    records = _source_records(20)
    records[5] = Record(records[5].id, records[5].vector, None, records[5].metadata)
    _fill(src, "docs", records)
    emb = load_embedder("hashing", dimension=16)
    with connect(src) as s, connect(ref) as r, pytest.raises(InvalidInput) as single:
        migrate_in_process(s, r, "docs", re_embedder=emb, checkpoint=tmp_path / "s.ckpt")
    with pytest.raises(InvalidInput) as distributed:
        migrate(src, dst, "docs", re_embedder=emb, batch_size=50, workers=2, checkpoint=tmp_path / "d.ckpt")
    for error in (single.value, distributed.value):
        assert "record 'r0005': no text to re-embed" in str(error)
    with connect(dst) as store:
        assert store.count("docs") == 0  # one batch held it: nothing of it was written
    skipped = migrate(src, dst, "docs", re_embedder=emb, skip_invalid=True, workers=2, checkpoint=tmp_path / "d.ckpt")
    assert skipped.ok and skipped.skipped == {"r0005": "no text to re-embed"}


def test_import_checks_the_whole_file_before_writing(tmp_path: Path) -> None:
    src, dst = _memory(), _pgvector()
    records = _source_records(90)
    _fill(src, "docs", records)
    good = tmp_path / "good.parquet"
    with connect(src) as store:
        export_parquet(store, "docs", good, batch_size=20)
    # The same file with the last row's vector broken, in five row groups: the bad one is read last.
    bad = tmp_path / "bad.parquet"
    table = pq.read_table(good)
    vectors = table.column("vector").to_pylist()
    vectors[-1] = [float("nan")] * DIM
    table = table.set_column(1, "vector", pa.array(vectors, table.schema.field("vector").type))
    pq.write_table(table.replace_schema_metadata(pq.read_schema(good).metadata), bad, row_group_size=20)
    name = _name("imp")
    with pytest.raises(InvalidInput, match="NaN"):
        import_file(bad, dst, collection=name, workers=2)
    with connect(dst) as store:
        assert not store.has_collection(name)  # checked before even the collection was created
    spec, n = import_file(good, dst, collection=name, workers=2)
    assert (spec.name, n) == (name, 90)
    _assert_same(_contents(dst, name), records)


def test_export_writes_the_single_process_file(tmp_path: Path) -> None:
    url = _pgvector()
    name = _name("e")
    records = _source_records(120)
    _fill(url, name, records)
    ours, theirs = tmp_path / "ray.parquet", tmp_path / "single.parquet"
    assert export_collection(url, name, ours, batch_size=25, workers=2) == 120
    with connect(url) as store:
        export_parquet(store, name, theirs)
    assert oct(ours.stat().st_mode & 0o777) == "0o600"

    def rows(path: Path) -> dict[str, Any]:
        # Vectors come back as float32 rows: compared as lists, value for value.
        return {r.id: (np.asarray(r.vector).tolist(), r.text, r.metadata) for part in read_parquet(path) for r in part}

    assert rows(ours) == rows(theirs)


def test_ingest_checks_every_text_before_embedding() -> None:
    url = _pgvector()
    name = _name("ing")
    emb = load_embedder("hashing", dimension=DIM)
    ids = [f"doc#{i}" for i in range(40)]
    texts = [f"chunk {i}" for i in range(40)]
    texts[31] = "   "
    with pytest.raises(InvalidInput, match="text 31"):
        ingest_texts(url, name, ids, texts, [{} for _ in ids], emb, workers=2)
    with connect(url) as store:
        assert store.count(name) == 0
    texts[31] = "chunk 31"
    assert ingest_texts(url, name, ids, texts, [{"i": i} for i in range(40)], emb, workers=2, batch_size=8) == 40
    vectors = emb.embed_documents(texts)
    expected = [Record(i, v, t, {"i": n}) for n, (i, t, v) in enumerate(zip(ids, texts, vectors, strict=True))]
    _assert_same(_contents(url, name), expected)


# ----- one rate limiter for the cluster -----------------------------------------------------


def test_a_429_seen_by_one_worker_pauses_every_worker(gemini: GeminiEmulator) -> None:
    from vecbridge.embedders.gemini import GeminiEmbedder

    gemini.clear_log()
    gemini.inject(Fault.rate_limited("2s"))
    emb = GeminiEmbedder(api_key=TEST_KEY, base_url=gemini.base_url, dimension=128, batch_size=10)
    texts = [f"text {i}" for i in range(120)]
    limiter = RateLimiter.remote(RateLimit(), keep_log=True)
    data = ray.data.from_items([{"id": str(i), "text": t} for i, t in enumerate(texts)], override_num_blocks=12)
    rows = embed(data, emb, workers=2, batch_size=10, limiter=limiter).take_all()
    got = {row["id"]: np.asarray(row["vector"]) for row in rows}
    for i, text in enumerate(texts):
        want = _unit(np.asarray(expected_values(text, task="RETRIEVAL_DOCUMENT", dimension=128)))
        assert np.allclose(got[str(i)], want, atol=1e-6)
    statuses = [c.status for c in gemini.embed_calls()]
    assert statuses.count(429) == 1 and statuses.count(200) == 12  # the 429'd request, once more
    grants, pauses = ray.get(limiter.log.remote())
    assert len(pauses) == 1 and pauses[0].until - pauses[0].at == pytest.approx(2.0, abs=0.01)
    # The other worker asked during the pause and was held until it ended.
    held = [g for g in grants if g.worker != pauses[0].worker and pauses[0].at <= g.asked < pauses[0].until]
    assert held and all(g.start >= pauses[0].until for g in held)
    assert len({g.worker for g in grants}) == 2


def test_errors_are_vecbridge_errors_not_ray_wrappers(tmp_path: Path) -> None:
    with pytest.raises(VecbridgeError) as caught:
        read_collection(_memory(), "missing")
    assert type(caught.value).__module__.startswith("vecbridge")
