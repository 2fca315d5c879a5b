"""``vecbridge migrate`` end to end: records the destination cannot keep, --skip-invalid, --hybrid,
phases reported, and --adopt with a store that cannot adopt."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vecbridge.cli.app import app
from vecbridge.core import CollectionSpec, Record, connect, register_connector
from vecbridge.testing.memory import MemoryDriver

runner = CliRunner()


class PickyDriver(MemoryDriver):
    """A store that refuses nested metadata (as Pinecone does)."""

    def check_record(self, record: Record) -> list[str]:
        return [f"metadata field {k!r} is nested" for k, v in record.metadata.items() if isinstance(v, dict)]

    @classmethod
    def from_url(cls, url: str, **options: object) -> PickyDriver:
        return cls(url.split("://", 1)[1] or None)


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("VECBRIDGE_HOME", str(tmp_path / "home"))
    register_connector("picky", PickyDriver, clobber=True)
    url = f"memory://src-{uuid.uuid4().hex[:8]}"
    src = connect(url)
    src.create_collection(CollectionSpec("docs", 4))
    src.upsert(
        "docs",
        [
            Record(f"r{i:02d}", [1.0, i, 0.0, 0.0], f"text {i}", {"n": {"x": 1}} if i == 12 else {"i": i})
            for i in range(30)
        ],
    )
    return url


def test_a_record_the_destination_cannot_keep_stops_then_skip_invalid_copies_the_rest(source: str) -> None:
    dest = f"picky://dst-{uuid.uuid4().hex[:8]}"
    first = runner.invoke(app, ["migrate", source, dest, "--collection", "docs", "--batch-size", "10", "--json"])
    assert first.exit_code == 1
    error = json.loads(first.stdout)["error"]
    assert "r12" in error["message"] and "--skip-invalid" in error["message"]
    assert connect(dest).count("docs") == 10
    again = runner.invoke(
        app, ["migrate", source, dest, "--collection", "docs", "--batch-size", "10", "--skip-invalid", "--json"]
    )
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert report["ok"] and report["resumed_from"] == 10 and report["written"] == 19
    assert list(report["skipped"]) == ["r12"]
    assert connect(dest).count("docs") == 29


def test_into_a_hybrid_collection_and_phases_are_reported(source: str) -> None:
    dest = f"memory://dst-{uuid.uuid4().hex[:8]}"
    res = runner.invoke(app, ["migrate", source, dest, "--collection", "docs", "--to-collection", "kw", "--hybrid"])
    assert res.exit_code == 0, res.output
    assert "verifying" in res.output and "verified: 30 records" in res.output
    store = connect(dest)
    assert store.describe_collection("kw").hybrid
    assert store.query("kw", text="text 7", mode="keyword", k=1)[0].id == "r07"


def test_adopt_on_a_store_that_cannot_adopt(source: str) -> None:
    res = runner.invoke(
        app, ["migrate", source, "memory://x", "--collection", "docs", "--adopt", "langchain", "--json"]
    )
    assert res.exit_code == 1
    assert json.loads(res.stdout)["error"]["type"] == "UnsupportedFeature"
    bad = runner.invoke(app, ["migrate", source, "memory://x", "--collection", "docs", "--adopt", "nonsense"])
    assert bad.exit_code == 2 and "langchain" in bad.output
