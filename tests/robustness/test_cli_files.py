"""vecbridge's own files are private (folders 0700, files 0600, whatever the umask), are never
written through a planted link, and no folder it did not create changes mode."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from vecbridge.core.cache import EmbeddingCache
from vecbridge.core.errors import InvalidInput
from vecbridge.core.paths import private_dir, private_file, write_private

from .cli_helpers import memory_store, run_cli


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def test_ingest_keeps_the_cache_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: int) -> None:
    user = tmp_path / "user"
    user.mkdir(mode=0o755)
    os.chmod(user, 0o755)
    home = user / "vb-home"
    monkeypatch.setenv("VECBRIDGE_HOME", str(home))
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"id": "a", "text": "apples"}) + "\n")
    run = run_cli("ingest", str(docs), "-s", memory_store(), "-c", "docs", "--embedder", "hashing")
    assert run.code == 0, run.stderr
    assert _mode(home) == 0o700 and _mode(home / "cache") == 0o700
    files = sorted(p.name for p in (home / "cache").iterdir())
    assert "embeddings.sqlite" in files
    assert {name: _mode(home / "cache" / name) for name in files} == dict.fromkeys(files, 0o600)
    assert _mode(user) == 0o755  # the user's own folder above VECBRIDGE_HOME is left alone


def test_an_existing_home_keeps_its_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "project"
    home.mkdir()
    os.chmod(home, 0o750)
    monkeypatch.setenv("VECBRIDGE_HOME", str(home))
    docs = tmp_path / "docs.txt"
    docs.write_text("apples")
    assert run_cli("ingest", str(docs), "-s", memory_store(), "-c", "docs", "--embedder", "hashing").code == 0
    assert _mode(home) == 0o750 and _mode(home / "cache") == 0o700


def test_the_default_store_folder_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VECBRIDGE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VECBRIDGE_STORE", raising=False)
    run = run_cli("collections", "--json")
    assert run.code == 0, run.stdout + run.stderr
    assert _mode(tmp_path / "home") == 0o700 and _mode(tmp_path / "home" / "qdrant") == 0o700


def test_a_planted_link_at_the_cache_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "embeddings.sqlite").symlink_to(victim)
    with pytest.raises(InvalidInput, match="symbolic link"):
        EmbeddingCache(tmp_path / "cache" / "embeddings.sqlite")
    assert victim.read_text() == "keep me"


def test_write_private_replaces_a_link_instead_of_writing_through_it(tmp_path: Path, umask: int) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    state = tmp_path / "state" / "job.json"
    state.parent.mkdir()
    state.symlink_to(victim)
    write_private(state, '{"ok": true}')
    assert victim.read_text() == "keep me"
    assert not state.is_symlink() and state.read_text() == '{"ok": true}' and _mode(state) == 0o600
    write_private(state, b"second")  # replacing an existing file keeps it private
    assert state.read_bytes() == b"second" and _mode(state) == 0o600
    assert [p.name for p in state.parent.iterdir()] == ["job.json"]  # no temporary file left


def test_write_private_creates_private_folders(tmp_path: Path, umask: int) -> None:
    write_private(tmp_path / "a" / "b" / "f", "x")
    assert _mode(tmp_path / "a") == _mode(tmp_path / "a" / "b") == 0o700
    assert _mode(tmp_path / "a" / "b" / "f") == 0o600


def test_refusals(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidInput, match="is not a folder"):
        private_dir(tmp_path / "file" / "sub")
    with pytest.raises(InvalidInput, match="is a folder"):
        write_private(tmp_path, "x")
    with pytest.raises(InvalidInput, match="is a folder"):
        private_file(tmp_path)
    (tmp_path / "link").symlink_to(tmp_path / "file")
    with pytest.raises(InvalidInput, match="symbolic link"):
        private_file(tmp_path / "link")
    assert (tmp_path / "file").read_text() == "x"


def test_private_file_leaves_an_existing_file_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "mine.sqlite"
    path.write_bytes(b"data")
    os.chmod(path, 0o640)
    private_file(path)
    assert path.read_bytes() == b"data" and _mode(path) == 0o640


def test_migration_checkpoints_are_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("VECBRIDGE_HOME", str(home))
    docs = tmp_path / "docs.txt"
    docs.write_text("apples")
    source = memory_store()
    assert run_cli("ingest", str(docs), "-s", source, "-c", "docs", "--embedder", "hashing").code == 0
    run = run_cli("migrate", source, memory_store(), "-c", "docs")
    assert run.code == 0, run.stderr
    written = list((home / "migrations").rglob("*"))
    assert written
    modes = {str(p.relative_to(home)): _mode(p) for p in [home / "migrations", *written]}
    assert modes == {name: 0o700 if (home / name).is_dir() else 0o600 for name in modes}
