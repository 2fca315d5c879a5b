"""Secrets never appear: every CLI command, succeeding and failing, run with store URLs that hold
marker passwords and keys and with marker API keys in the environment; then stdout, stderr, the
exceptions behind each exit (str and repr, their whole chain), every log record at DEBUG and every
file written under VECBRIDGE_HOME and the working folder are searched for the markers."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.emulators.gemini.server import GeminiEmulator
from vecbridge.cli.app import app

PASSWORD = "MARKERPW4711"
KEY = "MARKERKEY4711"
GEMINI_KEY = "MARKERGEMINI4711"
BAD_GEMINI_KEY = "MARKERBADGEMINI4711"
MARKERS = (PASSWORD, KEY, GEMINI_KEY, BAD_GEMINI_KEY)

SOURCE = f"memory://user:{PASSWORD}@secret-src?api_key={KEY}"
DESTINATION = f"memory://user:{PASSWORD}@secret-dst?token={KEY}"
DEMO = f"memory://user:{PASSWORD}@secret-demo?api_key={KEY}"
POSTGRES = f"pgvector://user:{PASSWORD}@127.0.0.1:1/db"  # nothing listens there: a failing store
BROKEN = f"memory://user:{PASSWORD}@[::1]:99999"  # not a valid URL


def _commands(work: Path) -> list[tuple[list[str], dict[str, str]]]:
    docs, parquet = str(work / "docs.jsonl"), str(work / "out.parquet")
    bad_key = {"GEMINI_API_KEY": BAD_GEMINI_KEY}
    commands: list[tuple[list[str], dict[str, str]]] = [
        (["ingest", docs, "-s", SOURCE, "-c", "docs", "--embedder", "hashing", "--dimension", "32"], {}),
        (["ingest", docs, "-s", SOURCE, "-c", "gem", "--embedder", "gemini", "--dimension", "128"], {}),
        (
            [
                "ingest",
                docs,
                "-s",
                SOURCE,
                "-c",
                "batch",
                "--embedder",
                "gemini",
                "--dimension",
                "256",
                "--batch-api",
                "--poll-interval",
                "0.05",
            ],
            {},
        ),  # another dimension: not served by the cache
        (["ingest", docs, "-s", SOURCE, "-c", "gem3", "--embedder", "gemini", "--dimension", "128"], bad_key),
        (["query", "apples", "-s", SOURCE, "-c", "docs"], {}),
        (["query", "apples", "-s", SOURCE, "-c", "gem"], {}),
        (["query", "pears", "-s", SOURCE, "-c", "gem"], bad_key),
        (["query", "apples", "-s", SOURCE, "-c", "missing"], {}),
        (["collections", "-s", SOURCE], {}),
        (["collections"], {"VECBRIDGE_STORE": SOURCE}),
        (["collections", "-s", POSTGRES], {}),
        (["collections", "-s", POSTGRES], {"VECBRIDGE_DEBUG": "1"}),
        (["collections", "-s", BROKEN], {}),
        (["collections", "-s", f"qdrant+edge://user:{PASSWORD}@/{work}/edge?api_key={KEY}"], {}),
        (["demo", "--store", DEMO], {}),
        (["migrate", SOURCE, DESTINATION, "-c", "docs", "--dry-run"], {}),
        (["migrate", SOURCE, DESTINATION, "-c", "docs"], {}),
        (["migrate", SOURCE, POSTGRES, "-c", "docs"], {}),
        (["migrate", BROKEN, DESTINATION, "-c", "docs"], {}),
        (["export", parquet, "-s", SOURCE, "-c", "docs"], {}),
        (["import", parquet, "-s", DESTINATION, "-c", "imported"], {}),
        (["drop", "-s", DESTINATION, "-c", "imported", "--yes"], {}),
        (["drop", "-s", POSTGRES, "-c", "imported", "--yes"], {}),
    ]
    # Every command once more with --json (errors are then JSON on stdout).
    return commands + [([*args, "--json"], env) for args, env in commands]


def _exception_texts(exc: BaseException | None) -> Iterator[str]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield f"{exc!s} {exc!r} {exc.args!r}"
        exc = exc.__cause__ or exc.__context__


def _leaks(text: str) -> list[str]:
    return [m for m in MARKERS if m in text]


def test_no_secret_in_output_errors_logs_or_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    (work / "docs.jsonl").write_text(
        "".join(json.dumps({"id": f"d{i}", "text": f"apples and pears number {i}"}) + "\n" for i in range(12))
    )
    monkeypatch.chdir(work)
    monkeypatch.setenv("VECBRIDGE_HOME", str(home))
    monkeypatch.setenv("VECBRIDGE_PROGRESS", "1")  # the progress bars too
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    monkeypatch.delenv("VECBRIDGE_STORE", raising=False)
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    found: list[str] = []
    codes: dict[str, int] = {}
    with GeminiEmulator(api_keys=[GEMINI_KEY]) as emulator:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", emulator.base_url)
        for args, env in _commands(work):
            name = " ".join(args[:1] + [a for a in args[1:] if a.startswith("-")]) + f" {sorted(env)}"
            res = runner.invoke(app, args, env=env)
            codes[" ".join(args)] = res.exit_code
            for where, text in (
                ("stdout", res.stdout),
                ("stderr", res.stderr),
                ("exception", " ".join(_exception_texts(res.exception))),
            ):
                found += [f"{name}: {marker} in {where}" for marker in _leaks(text)]
    formatter = logging.Formatter()
    for record in caplog.records:
        text = f"{formatter.format(record)} {record.args!r}"
        found += [f"log record {record.name}: {m}" for m in _leaks(text)]
    for root in (home, work):
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                found += [f"file {path}: {m}" for m in MARKERS if m.encode() in data]
            found += [f"file name {path}: {m}" for m in _leaks(str(path))]
    assert not found, "\n".join(found)
    # The sweep saw both outcomes: commands that worked and commands that failed.
    assert codes[f"ingest {work / 'docs.jsonl'} -s {SOURCE} -c docs --embedder hashing --dimension 32"] == 0
    assert codes[f"demo --store {DEMO} --json"] == 0
    assert codes[f"query pears -s {SOURCE} -c gem"] == 1
    assert codes[f"collections -s {POSTGRES}"] == 1
    assert (home / "batch-jobs" / "batch.json").is_file()


def test_the_scrubber_knows_every_form_of_a_secret() -> None:
    from vecbridge.cli.errors import SecretScrubber

    scrub = SecretScrubber.from_command_line(
        ["collections", "--store=pgvector://u:MARKER%40PW@db:5432/x?sslkey=K&api_key=MARKER+KEY"],
        {"PINECONE_API_KEY": "MARKERPINE", "HOME": "/root", "SHORT_TOKEN": "ab"},
    )
    text = scrub(
        "as typed pgvector://u:MARKER%40PW@db, decoded MARKER@PW, key MARKER KEY and MARKER+KEY, "
        "env MARKERPINE, another URL memory://v:xy@host?token=zz, home /root"
    )
    assert "MARKER" not in text and "xy@" not in text and "token=zz" not in text
    assert "home /root" in text and "memory://v:***@host?token=***" in text


def test_abort_is_not_an_error() -> None:
    import typer

    from vecbridge.cli.errors import describe_failure

    failure = describe_failure(typer.Abort())
    assert (failure.type, failure.message, failure.exit_code) == ("Aborted", "aborted: nothing was changed", 1)
