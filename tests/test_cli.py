"""The CLI end to end on an embedded Qdrant Edge store (no server, no key)."""

from __future__ import annotations

import json
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


def _run(*args: str) -> tuple[int, str]:
    """Exit code and output; with --json only stdout, which must be pure JSON for scripts."""
    res = runner.invoke(app, list(args))
    return res.exit_code, res.stdout if "--json" in args else res.output


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


def test_ingest_query_collections_drop(env: Path) -> None:
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
    store = f"qdrant+edge://{env / 'store'}"
    code, output = _run("ingest", str(docs), "--store", store, "--collection", "notes", "--embedder", "hashing",
                        "--dimension", "128", "--json")
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
    hits = json.loads(output)
    assert hits[0]["id"] == "x1"
    code, output = _run("query", "volcano", "--store", store, "-c", "notes", "--filter", '{"lang": "de"}', "--json")
    assert [h["id"] for h in json.loads(output)] == ["x2"]

    code, output = _run("collections", store, "--json")
    (row,) = json.loads(output)
    assert (row["name"], row["dimension"], row["count"]) == ("notes", 128, 4)
    assert row["embedder"]["provider"] == "hashing"

    # Another embedder on the same collection is refused before anything is written.
    code, output = _run("ingest", str(docs / "a.txt"), "--store", store, "-c", "notes", "--embedder", "hashing",
                        "--dimension", "64")
    assert code == 1 and "dimension" in output.lower()

    code, output = _run("drop", "--store", store, "-c", "notes", "--yes")
    assert code == 0 and "dropped" in output
    code, output = _run("collections", store, "--json")
    assert json.loads(output) == []


def test_errors_are_one_clear_line(env: Path) -> None:
    store = f"qdrant+edge://{env / 'store'}"
    code, output = _run("query", "x", "--store", store, "-c", "missing")
    assert code == 1 and "does not exist" in output
    code, output = _run("query", "x", "--store", store, "-c", "missing", "--filter", "{not json")
    assert code == 2 and "not valid JSON" in output
    code, output = _run("query", "x", "--store", store, "-c", "missing", "--filter", '{"a": {"$regex": "x"}}')
    assert code == 1 and "unknown operator" in output
    code, output = _run("ingest", str(env / "nothing.txt"), "--store", store, "-c", "c")
    assert code == 1 and "no such file" in output
    code, output = _run("collections", "mongodb://localhost")
    assert code == 1 and "no connector" in output
