"""Bad input to the CLI ends in one error line saying what to do, with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vecbridge.core import connect

from .cli_helpers import Run, memory_store, run_cli


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VECBRIDGE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VECBRIDGE_STORE", raising=False)
    return tmp_path / "home"


@pytest.fixture
def store() -> str:
    return memory_store()


def _collections(store: str) -> list[str]:
    with connect(store) as db:
        return db.list_collections()


def _refused(run: Run, code: int, *fragments: str) -> str:
    assert run.code == code, run.stdout + run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def _ingest(store: str, path: Path, *extra: str) -> Run:
    return run_cli("ingest", str(path), "--store", store, "-c", "docs", "--embedder", "hashing", *extra)


def _jsonl(tmp_path: Path, *lines: str | bytes) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join((line.encode() if isinstance(line, str) else line) + b"\n" for line in lines))
    return path


# --- --filter ---------------------------------------------------------------------------------


@pytest.fixture
def filled(store: str, tmp_path: Path) -> str:
    docs = _jsonl(tmp_path, json.dumps({"id": "a", "text": "apples", "metadata": {"lang": "en"}}))
    assert _ingest(store, docs, "--dimension", "16").code == 0
    return store


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("null", "got null"),  # ran unfiltered before
        ("[]", "got []"),
        ('"lang"', 'got "lang"'),
        ("3", "got 3"),
        ("", "not valid JSON"),
        ("{not json", "not valid JSON"),
        ('{"lang": "en", "lang": "de"}', "appears twice"),  # json keeps the last one silently
        ('{"year": NaN}', "NaN is not a JSON number"),
        ('{"lang": {"$regex": "x"}}', "unknown operator"),
    ],
)
def test_filter_must_be_a_json_object_in_the_filter_language(filled: str, value: str, fragment: str) -> None:
    run = run_cli("query", "apples", "--store", filled, "-c", "docs", "--filter", value)
    _refused(run, 2, "Invalid value for '--filter'", fragment)


# --- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--dimension", "0"],  # was silently a 384-d collection
        ["--dimension", "-3"],
        ["--dimension", "100000"],
        ["--batch-size", "0"],
        ["--chunk-size", "0"],
        ["--chunk-overlap", "-1"],
        ["--chunk-size", "100", "--chunk-overlap", "100"],
        ["--metric", "cosin"],
        ["--embedder", "no-such-embedder"],
    ],
)
def test_bad_ingest_options_write_nothing(store: str, tmp_path: Path, args: list[str]) -> None:
    docs = _jsonl(tmp_path, json.dumps({"id": "a", "text": "apples"}))
    _refused(_ingest(store, docs, *args), 2, "Invalid value for")
    assert _collections(store) == []


@pytest.mark.parametrize("k", ["0", "-1", "10001"])
def test_bad_k(filled: str, k: str) -> None:
    _refused(run_cli("query", "apples", "--store", filled, "-c", "docs", "-k", k), 2, "Invalid value for '-k'")


@pytest.mark.parametrize("name", ["bad name", "../etc", "a" * 64, "[x]"])
def test_bad_collection_names_are_usage_errors(store: str, tmp_path: Path, name: str) -> None:
    docs = _jsonl(tmp_path, json.dumps({"id": "a", "text": "apples"}))
    run = run_cli("ingest", str(docs), "--store", store, "-c", name, "--embedder", "hashing")
    _refused(run, 2, "invalid collection name")
    assert _collections(store) == []


# --- JSONL ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, fragment",
    [
        ('{"id": [1, 2], "text": "x"}', '"id" is a list [1, 2]'),  # was stored as the string "[1, 2]"
        ('{"id": 1.5, "text": "x"}', '"id" is a float'),
        ('{"id": true, "text": "x"}', '"id" is a boolean'),
        ('{"id": {"a": 1}, "text": "x"}', '"id" is an object'),
        ('{"id": "", "text": "x"}', '"id" is empty'),
        ('["id", "text"]', "must be a JSON object"),
        ('"just text"', "must be a JSON object"),
        ('{"id": "a"}', 'needs a "text" string'),
        ('{"id": "a", "text": 5}', 'needs a "text" string'),
        ('{"id": "a", "text": "  "}', '"text" is empty'),
        ('{"id": "a", "text": "x", "title": "T"}', "unknown field(s) 'title'"),  # was dropped silently
        ('{"id": "a", "text": "x", "metadata": []}', '"metadata" must be an object'),
        ('{"id": "a", "text": "x", "text": "y"}', "appears twice"),
        ('{"id": "a", "text": "x", "metadata": {"n": Infinity}}', "Infinity is not a JSON number"),
        ('{"id": "a", "text": "x", "metadata": {"n": 1e400}}', "too large"),
        ('{"id": "a", "text": "x",', "not valid JSON"),
    ],
)
def test_bad_jsonl_lines_name_the_file_and_line(store: str, tmp_path: Path, line: str, fragment: str) -> None:
    docs = _jsonl(tmp_path, json.dumps({"id": "ok", "text": "fine"}), line)
    _refused(_ingest(store, docs), 1, f"{docs}:2:", fragment)
    assert _collections(store) == []


def test_latin1_jsonl_is_a_decode_error_with_file_and_line(store: str, tmp_path: Path) -> None:
    docs = _jsonl(tmp_path, json.dumps({"id": "a", "text": "ok"}), '{"id": "b", "text": "caf\xe9"}'.encode("latin-1"))
    _refused(_ingest(store, docs), 1, f"{docs}:2: not UTF-8", "iconv")
    assert _collections(store) == []


def test_latin1_text_file(store: str, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes("caf\xe9 au lait".encode("latin-1"))
    _refused(_ingest(store, path), 1, f"{path}: not UTF-8")
    assert _collections(store) == []


def test_deeply_nested_jsonl(store: str, tmp_path: Path) -> None:
    deep = '{"id": "a", "text": "x", "metadata": {"m": ' + "[" * 3000 + "]" * 3000 + "}}"
    _refused(_ingest(store, _jsonl(tmp_path, deep)), 1, ":1: nested too deeply")
    assert _collections(store) == []


def test_a_utf8_bom_is_not_part_of_the_first_record(store: str, tmp_path: Path) -> None:
    docs = _jsonl(tmp_path, b"\xef\xbb\xbf" + json.dumps({"id": "a", "text": "apples"}).encode())
    assert _ingest(store, docs, "--json").code == 0
    with connect(store) as db:
        assert [r.text for r in db.get("docs", ["a"])] == ["apples"]


def test_integer_ids_are_their_decimal_string(store: str, tmp_path: Path) -> None:
    big = 2**70  # exact however large: no float on the way
    docs = _jsonl(tmp_path, json.dumps({"id": 7, "text": "seven"}), json.dumps({"id": big, "text": "big"}))
    assert _ingest(store, docs, "--json").code == 0
    with connect(store) as db:
        assert [r.text for r in db.get("docs", ["7", str(big)])] == ["seven", "big"]


def test_ids_default_to_the_path_and_line(store: str, tmp_path: Path) -> None:
    # Two files of the same name in two folders no longer share ids ("data.jsonl:1").
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "data.jsonl").write_text(json.dumps({"text": f"from {folder}"}) + "\n")
    assert _ingest(store, tmp_path / "a").code == 0
    assert _ingest(store, tmp_path / "b").code == 0
    with connect(store) as db:
        assert db.count("docs") == 2
        ids = [f"{tmp_path / f / 'data.jsonl'}:1" for f in ("a", "b")]
        assert [r.text for r in db.get("docs", ids)] == ["from a", "from b"]


def test_a_split_record_whose_metadata_has_chunk_is_refused(store: str, tmp_path: Path) -> None:
    line = json.dumps({"id": "a", "text": "word " * 100, "metadata": {"chunk": "mine"}})
    _refused(_ingest(store, _jsonl(tmp_path, line), "--chunk-size", "100", "--chunk-overlap", "10"), 1, '"chunk"')
    assert _collections(store) == []


# --- paths ------------------------------------------------------------------------------------


def test_store_pointing_at_a_file(tmp_path: Path) -> None:
    file = tmp_path / "not-a-folder"
    file.write_text("x")
    for args in (["collections"], ["query", "x", "-c", "docs"]):
        _refused(run_cli(*args, "--store", f"qdrant+edge://{file}"), 2, "Invalid value for '--store'", "is a folder")
    assert file.read_text() == "x"


def test_export_into_a_missing_folder_or_onto_a_folder(filled: str, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.parquet"
    _refused(
        run_cli("export", str(target), "-s", filled, "-c", "docs"), 2, f"the folder {target.parent} does not exist"
    )
    assert not target.parent.exists()
    _refused(run_cli("export", str(tmp_path), "-s", filled, "-c", "docs"), 2, f"{tmp_path} is a folder")


def test_import_of_a_missing_file_or_a_folder(store: str, tmp_path: Path) -> None:
    _refused(run_cli("import", str(tmp_path / "nope.parquet"), "-s", store), 2, "does not exist")
    _refused(run_cli("import", str(tmp_path), "-s", store), 2, "is a directory")


@pytest.mark.parametrize("checkpoint", ["/tmp", "FOLDER"])
def test_checkpoint_that_is_a_folder(filled: str, tmp_path: Path, checkpoint: str) -> None:
    path = str(tmp_path) if checkpoint == "FOLDER" else checkpoint
    run = run_cli("migrate", filled, memory_store(), "-c", "docs", "--checkpoint", path)
    line = _refused(run, 2, "Invalid value for '--checkpoint'", f"{path} is a folder")
    assert "delete" not in line  # the old message told the user to delete /tmp


def test_ingest_of_nothing(store: str, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    _refused(_ingest(store, tmp_path / "empty"), 2, "no .txt, .md or .jsonl text found")
    _refused(_ingest(store, tmp_path / "missing.txt"), 1, "no such file or folder")
    assert _collections(store) == []


def test_drop_without_yes_when_no_one_can_confirm(filled: str) -> None:
    _refused(run_cli("drop", "-s", filled, "-c", "docs"), 2, "pass --yes")
    assert _collections(filled) == ["docs"]
