"""``--engine ray`` on the CLI: ``ingest``, ``migrate``, ``export`` and ``import``.

The usage checks and the "no Ray without --engine" check run in the default test run (no cluster).
The jobs are marked ``ray``: the first runs the installed CLI in a subprocess that starts its own
local Ray instance (as a user's command does) and has one of its workers killed; the others run
the CLI in this process on one local cluster (``ray.init(num_cpus=2)``) and compare what each
command wrote with what the same command wrote without ``--engine``.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from vecbridge.cli.app import app

runner = CliRunner()

DIM = 8


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VECBRIDGE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VECBRIDGE_STORE", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    return tmp_path


def _docs(folder: Path) -> Path:
    docs = folder / "docs"
    docs.mkdir()
    lines = [
        json.dumps({"id": f"d{i:03d}", "text": f"note {i} about topic {i % 7}", "metadata": {"i": i}})
        for i in range(60)
    ]
    (docs / "notes.jsonl").write_text("\n".join(lines) + "\n")
    (docs / "a.md").write_text("# Tea\n\nGreen tea is steeped at eighty degrees.")
    return docs


# ----- usage: no cluster needed ---------------------------------------------------------------


def _command_lines(env: Path) -> dict[str, list[str]]:
    export_file = env / "out.parquet"
    import_file = env / "in.parquet"
    import_file.write_bytes(b"not read: the command line is checked first")
    store = f"qdrant+edge://{env / 'store'}"
    return {
        "ingest": ["ingest", str(env), "-c", "docs", "--store", store, "--embedder", "hashing"],
        "migrate": ["migrate", store, f"qdrant+edge://{env / 'other'}", "-c", "docs"],
        "export": ["export", str(export_file), "-c", "docs", "--store", store],
        "import": ["import", str(import_file), "--store", store],
    }


@pytest.mark.parametrize("command", ["ingest", "migrate", "export", "import"])
@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--engine", "spark"], "unknown engine 'spark'"),
        (["--engine", "RAY"], "unknown engine 'RAY'"),
        (["--workers", "2"], "--workers goes with --engine ray"),
        (["--address", "auto"], "--address goes with --engine ray"),
        (["--address", "auto", "--workers", "2"], "--address and --workers go with --engine ray"),
        (["--engine", "ray", "--workers", "0"], "--workers"),
    ],
    ids=["unknown", "case", "workers-alone", "address-alone", "both-alone", "zero-workers"],
)
def test_engine_options_are_usage_errors(env: Path, command: str, extra: list[str], says: str) -> None:
    args = _command_lines(env)[command] + extra
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], result.output
    assert not (env / "store").exists() and not (env / "out.parquet").exists()  # nothing opened or written
    code = runner.invoke(app, [*args, "--json"])
    error = json.loads(code.stdout)["error"]
    assert (code.exit_code, error["type"], error["exit_code"]) == (2, "UsageError", 2)


def test_a_bad_address_is_a_usage_error(env: Path) -> None:
    pytest.importorskip("ray")
    result = runner.invoke(app, [*_command_lines(env)["export"], "--engine", "ray", "--address", "http://head:1"])
    assert result.exit_code == 2, result.output
    assert "is not a Ray address" in result.output and len(result.output.strip().splitlines()) == 1


def test_the_batch_api_does_not_go_with_an_engine(env: Path) -> None:
    pytest.importorskip("ray")
    result = runner.invoke(app, [*_command_lines(env)["ingest"], "--engine", "ray", "--batch-api"])
    assert result.exit_code == 2 and "--batch-api" in result.output, result.output


def test_commands_without_engine_never_import_ray(env: Path) -> None:
    """Every command that takes --engine, run for real in a fresh interpreter without it."""
    docs = _docs(env)
    code = textwrap.dedent(
        f"""
        import sys
        from vecbridge.cli.app import app
        store, other = "qdrant+edge://{env / "s"}", "qdrant+edge://{env / "o"}"
        runs = [
            ["ingest", "{docs}", "-c", "docs", "--store", store, "--embedder", "hashing", "--dimension", "16"],
            ["migrate", store, other, "-c", "docs"],
            ["export", "{env / "d.parquet"}", "-c", "docs", "--store", other],
            ["import", "{env / "d.parquet"}", "-c", "copy", "--store", store],
        ]
        codes = [app(args, standalone_mode=False) for args in runs]
        print(codes, sorted(m for m in sys.modules if m.split(".")[0] == "ray"))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=os.environ)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[0, 0, 0, 0] []"


# ----- jobs on a local Ray instance -----------------------------------------------------------


@pytest.mark.ray
def test_migrate_command_starts_ray_and_survives_a_killed_worker(env: Path) -> None:
    """``vecbridge migrate SRC DST -c C --engine ray`` as a user runs it: Ray started by the command
    on this machine, a write task killed by its pid mid-job, and still a verified, exact copy."""
    pytest.importorskip("ray")
    from tests.test_ray_cluster import _assert_same, _contents, _edge, _fill, _kill_once, _pgvector, _source_records

    src, dst = _edge(), _pgvector()  # read by the command's driver, written by Ray tasks
    name = f"k{uuid.uuid4().hex[:8]}"
    records = _source_records(600)
    _fill(src, name, records)
    args = ["migrate", src, dst, "-c", name, "--batch-size", "10", "--engine", "ray", "--workers", "2", "--json"]
    command = [sys.executable, "-c", "from vecbridge.cli.app import main; main()", *args]
    with _kill_once("MapBatches(write_receipts_task)") as killed:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=os.environ)
    assert done.returncode == 0, done.stderr + done.stdout
    assert killed, "no write task was running to kill"
    report = json.loads(done.stdout)
    assert report["ok"] and report["written"] == 600 and report["verification"]["ok"], report
    _assert_same(_contents(dst, name), records)


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield
    ray.shutdown()


def _ok(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    value: dict[str, Any] = json.loads(result.stdout)
    return value


def _vectors(url: str, collection: str) -> dict[str, tuple[list[float], str | None, dict[str, object]]]:
    from vecbridge.core import connect

    with connect(url) as store:
        return {
            r.id: (np.asarray(r.vector, dtype=np.float32).tolist(), r.text, r.metadata)
            for page in store.scan(collection)
            for r in page.records
        }


@pytest.mark.ray
def test_ingest_export_import_and_migrate_match_the_single_process_commands(env: Path, cluster: None) -> None:
    from tests.test_ray_cluster import _pgvector

    docs = _docs(env)
    pg, edge = _pgvector(), f"qdrant+edge://{env / 'edge'}"
    ours, theirs = f"r{uuid.uuid4().hex[:8]}", f"s{uuid.uuid4().hex[:8]}"
    embedder = ["--embedder", "hashing", "--dimension", str(DIM)]

    on_ray = _ok("ingest", str(docs), "-c", ours, "--store", pg, *embedder, "--engine", "ray", "--workers", "2")
    single = _ok("ingest", str(docs), "-c", theirs, "--store", pg, *embedder)
    assert on_ray["written"] == on_ray["count"] == single["written"] == 61
    assert on_ray["embedder"] == single["embedder"]
    assert _vectors(pg, ours) == _vectors(pg, theirs)

    exported = env / "ray.parquet"
    assert _ok("export", str(exported), "-c", ours, "--store", pg, "--engine", "ray")["records"] == 61
    imported = _ok("import", str(exported), "-c", "back", "--store", edge, "--engine", "ray", "--workers", "2")
    assert (imported["collection"], imported["records"]) == ("back", 61)
    assert _vectors(edge, "back") == _vectors(pg, ours)

    moved = f"m{uuid.uuid4().hex[:8]}"
    report = _ok(
        "migrate", edge, pg, "-c", "back", "--to-collection", moved, "--re-embed", "--embedder", "hashing",
        "--dimension", "16", "--engine", "ray", "--workers", "2", "--batch-size", "20",
    )  # fmt: skip
    assert report["ok"] and report["written"] == 61, report
    reference = _ok(
        "migrate", edge, pg, "-c", "back", "--to-collection", f"{moved}_single", "--re-embed", "--embedder",
        "hashing", "--dimension", "16",
    )  # fmt: skip
    # The same spec and embedder fingerprint, under its own name.
    assert {**report["destination"], "name": moved} == {**reference["destination"], "name": moved}
    assert _vectors(pg, moved) == _vectors(pg, f"{moved}_single")


@pytest.mark.ray
def test_migrate_an_adopted_table_on_ray(env: Path, cluster: None) -> None:
    """``--adopt`` with ``--engine ray``: the reader tasks open the source table with the same layout."""
    psycopg = pytest.importorskip("psycopg")
    from psycopg import sql

    from tests.backends.pgvector import embedded_conninfo
    from tests.test_ray_cluster import _pgvector

    pg, edge = _pgvector(), f"qdrant+edge://{env / 'edge'}"
    table = f"items_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(embedded_conninfo(), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (item_id bigint PRIMARY KEY, emb vector(4) NOT NULL, body text, price numeric)"
            ).format(sql.Identifier(table))
        )
        for i in range(1, 41):
            conn.execute(
                sql.SQL("INSERT INTO {} VALUES (%s, %s::vector, %s, %s)").format(sql.Identifier(table)),
                [i, str([float(i), 0.5, 1.0, -0.25]), f"item {i}", i * 1.5],
            )
    layout = ["--adopt", "custom", "--native", table, "--id-field", "item_id", "--vector-field", "emb"]
    layout += ["--text-field", "body", "--metadata-fields", "price"]
    report = _ok("migrate", pg, edge, "-c", "items", *layout, "--engine", "ray", "--workers", "2", "--batch-size", "8")
    assert report["ok"] and report["written"] == 40, report
    single = _ok("migrate", pg, edge, "-c", "items", "--to-collection", "single", *layout)
    assert single["ok"] and single["written"] == 40, single
    copied = _vectors(edge, "items")
    assert copied == _vectors(edge, "single")
    vector, text, metadata = copied["7"]
    assert (text, metadata) == ("item 7", {"price": 10.5})
    want = np.array([7.0, 0.5, 1.0, -0.25])
    assert np.allclose(vector, want / np.linalg.norm(want), atol=1e-6)  # a cosine collection keeps the direction
