"""Export to one Parquet file and import it back, through the API and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from vecbridge.cli.app import app
from vecbridge.core import CollectionSpec, EmbedderFingerprint, InvalidInput, Metric, Record, connect, iter_records
from vecbridge.core.parquet import export_parquet, import_parquet, read_parquet_spec


def _records(n: int) -> list[Record]:
    rng = np.random.default_rng(2)
    return [
        Record(
            f"r{i}",
            rng.normal(size=12).tolist(),
            None if i % 4 == 0 else f"t{i} ☕",
            {"i": i, "nested": {"a": [1, None]}, "s": "é"} if i % 2 else {},
        )
        for i in range(n)
    ]


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    fp = EmbedderFingerprint("gemini", "gemini-embedding-001", 12, "RETRIEVAL_DOCUMENT")
    src = connect(f"qdrant+edge://{tmp_path / 'a'}")
    src.create_collection(CollectionSpec("docs", 12, Metric.EUCLIDEAN, fp))
    recs = _records(2500)
    src.upsert("docs", recs)
    out = tmp_path / "docs.parquet"
    assert export_parquet(src, "docs", out, batch_size=1000) == 2500
    src.close()

    table = pq.read_table(out)
    assert table.schema.field("vector").type == pa.list_(pa.float32(), 12)
    assert table.num_rows == 2500 and table.column("id").null_count == 0
    row = table.slice(0, 1).to_pylist()[0]
    assert isinstance(json.loads(row["metadata"]), dict)
    assert read_parquet_spec(out) == CollectionSpec("docs", 12, Metric.EUCLIDEAN, fp)

    dst = connect("qdrant+local://:memory:")
    spec, n = import_parquet(out, dst, collection="copy")
    assert n == 2500 and spec.name == "copy" and dst.describe_collection("copy").embedder == fp
    got = {r.id: r for r in iter_records(dst, "copy")}
    for r in recs:
        assert got[r.id].text == r.text and got[r.id].metadata == r.metadata
        assert np.allclose(got[r.id].vector, r.vector, atol=1e-6)
    assert not list(tmp_path.glob("*.partial"))


def test_foreign_parquet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"a": [1]}), path)
    with pytest.raises(InvalidInput, match="vecbridge export"):
        import_parquet(path, connect("qdrant+local://:memory:"))
    (tmp_path / "y.parquet").write_text("not parquet")
    with pytest.raises(InvalidInput, match="not a readable Parquet"):
        read_parquet_spec(tmp_path / "y.parquet")


def test_cli_export_import_and_migrate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VECBRIDGE_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    a, b = f"qdrant+edge://{tmp_path / 'a'}", f"qdrant+edge://{tmp_path / 'b'}"
    store = connect(a)
    store.create_collection(CollectionSpec("docs", 12))
    store.upsert("docs", _records(300))
    store.close()

    res = runner.invoke(app, ["export", str(tmp_path / "d.parquet"), "--store", a, "-c", "docs"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["import", str(tmp_path / "d.parquet"), "--store", b, "-c", "imported"])
    assert res.exit_code == 0 and "imported 300" in res.output

    res = runner.invoke(app, ["migrate", a, b, "-c", "docs", "--to-collection", "moved", "--dry-run", "--json"])
    plan = json.loads(res.output)
    assert res.exit_code == 0 and plan["records"] == 300 and plan["dry_run"] and not plan["destination_exists"]
    res = runner.invoke(app, ["migrate", a, b, "-c", "docs", "--to-collection", "moved", "--json"])
    result = json.loads(res.output)
    assert res.exit_code == 0 and result["ok"] and result["written"] == 300
    assert result["verification"]["ok"]

    res = runner.invoke(app, ["migrate", a, b, "-c", "docs", "--to-collection", "moved", "--dimension", "4"])
    assert res.exit_code == 1 and "truncation" in res.output
