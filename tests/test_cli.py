"""The CLI end to end, on the in-memory store and on an embedded Qdrant Edge store (no server, no key)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vecbridge.cli.app import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VECBRIDGE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VECBRIDGE_STORE", raising=False)
    return tmp_path


@pytest.fixture(params=["memory", "qdrant+edge"])
def store(request: pytest.FixtureRequest, env: Path) -> str:
    """A fresh store URL: the in-memory store (shared by name inside this process, as CliRunner
    runs the CLI in-process) and the embedded default."""
    if request.param == "memory":
        return f"memory://cli-{uuid.uuid4().hex[:12]}"
    return f"qdrant+edge://{env / 'store'}"


def _run(*args: str) -> tuple[int, str]:
    """Exit code and output; with --json only stdout, which must be pure JSON for scripts."""
    res = runner.invoke(app, list(args))
    return res.exit_code, res.stdout if "--json" in args else res.output


def _docs(env: Path) -> Path:
    docs = env / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Cats sleep most of the day.\n\nDogs love long walks in the park.")
    (docs / "b.md").write_text("# Tea\n\nGreen tea is steeped at eighty degrees.")
    (docs / "c.jsonl").write_text(
        json.dumps({"id": "x1", "text": "Volcanoes erupt molten rock.", "metadata": {"lang": "en", "year": 2021}})
        + "\n"
        + json.dumps({"id": "x2", "text": "Vulkane spucken Lava.", "metadata": {"lang": "de", "year": 2019}})
        + "\n"
    )
    return docs


def test_demo_ingests_the_sample_and_finds_relevant_hits(env: Path) -> None:
    code, output = _run("demo", "--json")
    assert code == 0, output
    result = json.loads(output)
    assert result["count"] == 30
    assert result["embedder"]["provider"] in ("hashing", "sentence-transformers", "gemini")
    by_query = {q["query"]: q for q in result["queries"]}
    assert by_query["baking bread with sourdough"]["hits"][0]["id"] == "bread"
    assert by_query["how do vector databases filter search results"]["hits"][0]["metadata"]["topic"] == "databases"
    filtered = by_query["planets and telescopes"]
    assert filtered["hits"] and all(h["metadata"]["year"] >= 2020 for h in filtered["hits"])
    # The demo can run again (it starts fresh) and prints tables without --json.
    code, output = _run("demo")
    assert code == 0 and "ingested 30 sample documents" in output


def test_ingest_query_collections_drop(store: str, env: Path) -> None:
    docs = _docs(env)
    code, output = _run(
        "ingest", str(docs), "--store", store, "-c", "notes", "--embedder", "hashing", "--dimension", "128", "--json"
    )
    assert code == 0, output
    info = json.loads(output)
    assert info["written"] == info["count"] == 4
    # Re-ingesting the same files overwrites: the count does not grow. The collection's own
    # embedder is used when none is named.
    code, output = _run("ingest", str(docs), "--store", store, "--collection", "notes", "--json")
    assert code == 0, output
    assert json.loads(output)["count"] == 4

    code, output = _run("query", "volcano lava rock", "--store", store, "-c", "notes", "-k", "2", "--json")
    assert code == 0, output
    assert json.loads(output)[0]["id"] == "x1"
    code, output = _run("query", "volcano", "--store", store, "-c", "notes", "--filter", '{"lang": "de"}', "--json")
    assert [h["id"] for h in json.loads(output)] == ["x2"]

    code, output = _run("collections", "--store", store, "--json")
    (row,) = json.loads(output)
    assert (row["name"], row["dimension"], row["count"]) == ("notes", 128, 4)
    assert row["embedder"]["provider"] == "hashing"

    # Another embedder on the same collection is refused before anything is written.
    code, output = _run(
        "ingest", str(docs / "a.txt"), "--store", store, "-c", "notes", "--embedder", "hashing", "--dimension", "64"
    )
    assert code == 1 and "dimension" in output.lower()

    code, output = _run("drop", "--store", store, "-c", "notes", "--yes", "--json")
    assert code == 0 and json.loads(output) == {"collection": "notes", "dropped": True}
    code, output = _run("drop", "--store", store, "-c", "notes", "--yes")
    assert code == 0 and "did not exist" in output
    code, output = _run("collections", "--store", store, "--json")
    assert json.loads(output) == []


def test_export_and_import_take_the_store_as_an_option(store: str, env: Path) -> None:
    pytest.importorskip("pyarrow")
    docs = _docs(env)
    assert _run("ingest", str(docs), "-s", store, "-c", "notes", "--embedder", "hashing", "--dimension", "32")[0] == 0
    file = env / "notes.parquet"
    code, output = _run("export", str(file), "-s", store, "-c", "notes", "--json")
    assert code == 0, output
    assert json.loads(output) == {"collection": "notes", "file": str(file), "records": 4}
    code, output = _run("import", str(file), "-s", store, "-c", "copy", "--json")
    assert code == 0, output
    assert json.loads(output) == {"collection": "copy", "file": str(file), "records": 4}
    code, output = _run("import", str(file), "-s", store, "-c", "copy2")
    assert code == 0 and "imported 4 records into 'copy2'" in output
    rows = {r["name"]: r["count"] for r in json.loads(_run("collections", "-s", store, "--json")[1])}
    assert rows == {"notes": 4, "copy": 4, "copy2": 4}


def test_every_command_takes_store_and_json() -> None:
    """One interface: no command takes its store as a positional argument (migrate takes two)."""
    for command in ("ingest", "query", "collections", "drop", "demo", "export", "import"):
        res = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert res.exit_code == 0, res.output
        assert "--store" in res.output and "--json" in res.output, command
    res = runner.invoke(app, ["migrate", "--help"], env={"COLUMNS": "200"})
    assert "--json" in res.output and "--store" not in res.output  # SOURCE and DESTINATION are its stores


def test_default_store_is_the_embedded_one_under_vecbridge_home(env: Path) -> None:
    docs = _docs(env)
    code, output = _run("ingest", str(docs / "a.txt"), "-c", "notes", "--embedder", "hashing", "--dimension", "16")
    assert code == 0, output
    assert (env / "home" / "qdrant").is_dir()
    res = runner.invoke(app, ["collections"])
    assert res.exit_code == 0 and "notes" in res.output
    assert f"collections in qdrant+edge://{env / 'home' / 'qdrant'}" in res.output
