"""The CLI with Gemini (through the emulator): the embedding cache and the Batch API."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.emulators.gemini.fixtures import TEST_KEY, emulator_fixture  # noqa: F401
from tests.emulators.gemini.server import GeminiEmulator
from vecbridge.cli.app import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emulator: GeminiEmulator) -> Path:
    monkeypatch.setenv("VECBRIDGE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GEMINI_API_KEY", TEST_KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", emulator.base_url)
    docs = tmp_path / "docs.jsonl"
    docs.write_text(
        "".join(
            json.dumps({"id": f"d{i}", "text": f"document number {i} about topic {i % 7}"}) + "\n" for i in range(150)
        )
    )
    return tmp_path


def _texts_sent(emulator: GeminiEmulator) -> int:
    return sum(len(r.texts) for r in emulator.requests)


def test_ingest_reuses_cached_embeddings(env: Path, emulator: GeminiEmulator) -> None:
    store = f"qdrant+edge://{env / 'store'}"
    args = [
        "ingest",
        str(env / "docs.jsonl"),
        "--store",
        store,
        "-c",
        "g",
        "--embedder",
        "gemini",
        "--dimension",
        "128",
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert _texts_sent(emulator) == 150
    assert {r.dimensions[0] for r in emulator.embed_calls()} == {128}
    assert all(len(r.texts) <= 100 for r in emulator.embed_calls())
    assert "150 computed" in res.output

    emulator.clear_log()
    res = runner.invoke(app, [*args[:-4]])  # the collection's recorded embedder, from the cache
    assert res.exit_code == 0, res.output
    assert _texts_sent(emulator) == 0 and "150 reused" in res.output
    assert TEST_KEY not in res.output

    res = runner.invoke(app, ["query", "topic 3", "--store", store, "-c", "g", "--json"])
    assert res.exit_code == 0, res.output
    assert [r.task_types for r in emulator.embed_calls()][-1] == ["RETRIEVAL_QUERY"]
    assert len(json.loads(res.stdout)) == 5


def test_ingest_through_the_batch_api(env: Path, emulator: GeminiEmulator) -> None:
    store = f"qdrant+edge://{env / 'store'}"
    res = runner.invoke(
        app,
        [
            "ingest",
            str(env / "docs.jsonl"),
            "--store",
            store,
            "-c",
            "b",
            "--embedder",
            "gemini",
            "--dimension",
            "128",
            "--batch-api",
            "--poll-interval",
            "0.05",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["count"] == 150
    paths = [r.path for r in emulator.requests]
    assert any("asyncBatchEmbedContent" in p for p in paths), paths
    assert not emulator.embed_calls(), "the Batch API run must not use the interactive endpoint"
    # The job names are kept to resume, in a private folder and file.
    jobs = env / "home" / "batch-jobs"
    assert stat.S_IMODE(jobs.stat().st_mode) == 0o700
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in jobs.iterdir()} == {"b.json": 0o600}
