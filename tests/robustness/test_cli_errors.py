"""Every CLI failure is one literal line (or one JSON object with --json), with the right exit
status, and never a traceback — whatever was raised underneath."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from vecbridge.core import registry
from vecbridge.core.errors import CollectionNotFound, MissingExtra

from .cli_helpers import Run, memory_store, run_cli


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VECBRIDGE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VECBRIDGE_STORE", raising=False)
    monkeypatch.delenv("VECBRIDGE_DEBUG", raising=False)
    return tmp_path / "home"


INTERRUPT_MESSAGE = (
    "interrupted: run the same command again; writes are idempotent, so nothing is duplicated "
    "(migrate continues from its checkpoint)"
)


def _raise_on_connect(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    def fail(url: str) -> Any:
        raise exc

    monkeypatch.setattr(registry, "_driver_class", fail)


def _one_error_line(run: Run) -> str:
    assert "Traceback" not in run.stderr + run.stdout
    assert len(run.error_lines) == 1, run.stderr
    return run.error_lines[0]


def test_a_missing_extra_keeps_its_brackets(monkeypatch: pytest.MonkeyPatch) -> None:
    # Old code printed errors as rich markup: "Run: pip install 'vecbridge'" (the [qdrant] eaten).
    _raise_on_connect(monkeypatch, MissingExtra("the 'qdrant+edge' connector", "qdrant"))
    run = run_cli("demo")
    assert run.code == 1
    assert "Run: pip install 'vecbridge[qdrant]'" in _one_error_line(run)


def test_a_filter_error_keeps_its_json_list() -> None:
    run = run_cli("query", "x", "--store", memory_store(), "-c", "docs", "--filter", '{"a": {"$gt": [1]}}')
    assert run.code == 2
    line = _one_error_line(run)
    assert line.startswith("error: Invalid value for '--filter'") and "got [1]" in line


def test_an_ipv6_host_keeps_its_brackets() -> None:
    run = run_cli("collections", "--store", "memory://[::1]:99999")
    assert run.code == 2
    assert "memory://[::1]:99999" in _one_error_line(run)


def test_markup_and_control_characters_in_messages_are_shown_as_text(tmp_path: Path) -> None:
    missing = tmp_path / "[bold]x[/bold]\x1b[2J.txt"
    run = run_cli("ingest", str(missing), "--store", memory_store(), "-c", "docs")
    assert run.code == 1
    line = _one_error_line(run)
    assert "[bold]x[/bold]\\x1b[2J.txt" in line and "\x1b" not in line


@pytest.mark.parametrize(
    "args",
    [
        ["query", "x", "-c", "docs", "-k", "0"],
        ["query", "x", "-c", "docs", "--no-such-option"],
        ["query", "-c", "docs"],
        ["no-such-command"],
        ["collections", "--store", "mongodb://localhost"],
    ],
    ids=["k0", "unknown-option", "missing-argument", "unknown-command", "unknown-scheme"],
)
def test_usage_errors_exit_2_and_say_where_help_is(args: list[str]) -> None:
    run = run_cli(*args)
    line = _one_error_line(run)
    if args[0] == "collections":  # a store URL with no connector is the store failing, not the command line
        assert run.code == 1 and "no connector for scheme 'mongodb'" in line
    else:
        assert run.code == 2 and line.startswith("error: ") and "--help'" in line


def test_failures_exit_1() -> None:
    run = run_cli("query", "x", "--store", memory_store(), "-c", "missing")
    assert run.code == 1
    assert _one_error_line(run).startswith("error: collection 'missing' does not exist")


@pytest.mark.parametrize(
    "args",
    [
        ["query", "x", "-c", "missing"],
        ["query", "x", "-c", "docs", "-k", "0"],
        ["collections"],
        ["drop", "-c", "missing"],
        ["export", "/nonexistent-folder/x.parquet", "-c", "docs"],
        ["import", "/nonexistent.parquet"],
        ["ingest", "/nonexistent.txt", "-c", "docs"],
        ["migrate", "memory://a", "memory://b", "-c", "missing"],
        ["demo", "-c", "bad name"],
    ],
)
def test_json_errors_are_one_json_object_on_stdout(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    if args[0] == "collections":
        _raise_on_connect(monkeypatch, CollectionNotFound("nothing [here]"))
    elif "--store" not in args and args[0] not in ("migrate", "import", "export"):
        args = [*args, "--store", memory_store()]
    run = run_cli(*args, "--json")
    assert run.code in (1, 2), run.stdout + run.stderr
    error = json.loads(run.stdout)["error"]
    assert set(error) == {"type", "message", "exit_code"}
    assert error["exit_code"] == run.code
    assert error["type"] == ("UsageError" if run.code == 2 else error["type"]) and error["message"]
    assert run.stderr == ""


@pytest.mark.parametrize(
    "exc, code, expected",
    [
        (PermissionError(13, "Permission denied", "/some/file"), 1, "error: Permission denied: /some/file"),
        (UnicodeDecodeError("utf-8", b"\xe9", 0, 1, "invalid continuation byte"), 1, "vecbridge reads UTF-8"),
        (RecursionError("maximum recursion depth exceeded"), 1, "nested too deeply"),
        (KeyboardInterrupt(), 130, "interrupted: run the same command again"),
        (RuntimeError("boom [x]"), 1, "error: internal error: RuntimeError: boom [x] (please report it"),
    ],
    ids=["oserror", "unicode", "recursion", "ctrl-c", "unexpected"],
)
def test_anything_raised_becomes_one_line(
    monkeypatch: pytest.MonkeyPatch, exc: BaseException, code: int, expected: str
) -> None:
    _raise_on_connect(monkeypatch, exc)
    run = run_cli("collections", "--store", memory_store())
    assert run.code == code
    assert expected in _one_error_line(run)


def test_vecbridge_debug_adds_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    _raise_on_connect(monkeypatch, RuntimeError("boom"))
    run = run_cli("collections", "--store", memory_store(), env={"VECBRIDGE_DEBUG": "1"})
    assert run.code == 1
    assert run.stderr.startswith("error: internal error: RuntimeError: boom")
    assert "Traceback (most recent call last)" in run.stderr and "_driver_class" not in run.stdout


def test_ctrl_c_during_an_ingest_exits_130_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vecbridge.embedders.hashing import HashingEmbedder

    calls = []

    def interrupted(self: Any, texts: Any, **kw: Any) -> Any:
        calls.append(len(texts))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, texts, **kw)

    original = HashingEmbedder.embed_documents
    monkeypatch.setattr(HashingEmbedder, "embed_documents", interrupted)
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": f"d{i}", "text": f"text {i}"}) + "\n" for i in range(30)))
    store = memory_store()
    run = run_cli(
        "ingest", str(docs), "-s", store, "-c", "docs", "--embedder", "hashing", "--batch-size", "10", "--no-cache"
    )
    assert run.code == 130
    assert [line for line in run.error_lines if not line.startswith("embedder:")] == [INTERRUPT_MESSAGE]
    assert "Traceback" not in run.stderr
    # What landed before Ctrl-C is there; running the command again completes it.
    assert json.loads(run_cli("collections", "-s", store, "--json").stdout)[0]["count"] == 10
    monkeypatch.setattr(HashingEmbedder, "embed_documents", original)
    run = run_cli("ingest", str(docs), "-s", store, "-c", "docs", "--no-cache", "--json")
    assert run.code == 0 and json.loads(run.stdout)["count"] == 30


def test_no_arguments_shows_the_help() -> None:
    run = run_cli()
    assert run.code == 2
    assert "Usage" in run.stdout + run.stderr and "error" not in run.stderr.lower()


CTRL_C_SCRIPT = """
import os, signal, sys, time
from vecbridge.embedders.hashing import HashingEmbedder
from vecbridge.testing.memory import MemoryDriver

embed, close, calls = HashingEmbedder.embed_documents, MemoryDriver.close, []

def embed_then_ctrl_c(self, texts, **kw):
    calls.append(len(texts))
    if len(calls) == 2:
        os.kill(os.getpid(), signal.SIGINT)  # as a terminal does on Ctrl-C
        time.sleep(30)  # interrupted by the KeyboardInterrupt
    return embed(self, texts, **kw)

def close_and_say_so(self):
    print("store closed", file=sys.stderr, flush=True)
    close(self)

HashingEmbedder.embed_documents = embed_then_ctrl_c
MemoryDriver.close = close_and_say_so
from vecbridge.cli.app import main
sys.argv = ["vecbridge", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_real_ctrl_c_is_announced_before_the_store_closes(tmp_path: Path, as_json: bool) -> None:
    """Closing a store can take long (Qdrant Edge optimises): the line comes first, once."""
    import subprocess
    import sys

    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"id": f"d{i}", "text": f"text {i}"}) + "\n" for i in range(30)))
    args = ["ingest", str(docs), "-s", "memory://x", "-c", "docs", "--embedder", "hashing", "--batch-size", "10"]
    env = {**os.environ, "VECBRIDGE_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-c", CTRL_C_SCRIPT, *args, "--no-cache", *(["--json"] if as_json else [])],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 130, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("embedder:")]
    if as_json:
        assert lines == ["store closed"]
        assert json.loads(proc.stdout)["error"] == {
            "type": "Interrupted",
            "message": INTERRUPT_MESSAGE,
            "exit_code": 130,
        }
    else:
        assert lines == [INTERRUPT_MESSAGE, "store closed"] and proc.stdout == ""
