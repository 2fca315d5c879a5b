"""connect(): scheme lookup, third-party entry points, and clear errors for missing extras."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vecbridge.core import ConnectorNotFound, InvalidInput, MissingExtra, connect, load_embedder, registry


def test_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(ConnectorNotFound, match="qdrant\\+edge"):
        connect("nosuchdb://host")
    with pytest.raises(InvalidInput, match="not a store URL"):
        connect("localhost:6333")


def test_missing_sdk_names_the_pip_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pkg = tmp_path / "fake_connector_mod.py"
    pkg.write_text("import sdk_that_is_not_installed_xyz\nclass Store: ...\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.register_connector("fakedb", "fake_connector_mod:Store", extra="fakedb")
    with pytest.raises(MissingExtra, match=r"pip install 'vecbridge\[fakedb\]'"):
        connect("fakedb://x")


def test_third_party_connector_registers_by_entry_point(tmp_path: Path) -> None:
    """A package that declares the entry point is found without touching vecbridge."""
    (tmp_path / "acme_store.py").write_text(
        textwrap.dedent(
            """
            from vecbridge.testing.memory import MemoryDriver

            class AcmeStore(MemoryDriver):
                @classmethod
                def from_url(cls, url, **options):
                    return cls()
            """
        )
    )
    dist = tmp_path / "acme_store-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-store\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[vecbridge.connectors]\nacme = acme_store:AcmeStore\n")
    code = (
        "from vecbridge.core import connect, available_connectors\n"
        "assert available_connectors()['acme'] == 'acme_store:AcmeStore'\n"
        "s = connect('acme://anything'); print(type(s).__name__, s.list_collections())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "Store []"


def test_core_imports_no_store_sdk_and_works_without_them() -> None:
    """`pip install vecbridge` alone: core imports, the hashing embedder works, and a store
    whose SDK is missing raises MissingExtra with the exact pip command."""
    code = textwrap.dedent(
        """
        import sys
        BLOCKED = ("qdrant_client", "weaviate", "pinecone", "psycopg", "google.genai",
                   "sentence_transformers", "pgserver", "pyarrow")
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.startswith(BLOCKED):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None
        sys.meta_path.insert(0, Block())
        import vecbridge.core as core
        from vecbridge.core import load_embedder, connect, MissingExtra
        loaded = [m for m in sys.modules if m.startswith(BLOCKED)]
        assert not loaded, loaded
        assert len(load_embedder("hashing", dimension=16).embed_query("hi")) == 16
        for url, extra in [("qdrant+local://:memory:", "qdrant"), ("pgvector://u@h/db", "pgvector"),
                           ("weaviate://h", "weaviate"), ("pinecone://", "pinecone")]:
            try:
                connect(url)
            except MissingExtra as exc:
                assert f"pip install 'vecbridge[{extra}]'" in str(exc), str(exc)
            else:
                raise AssertionError(url)
        print("ok")
        """
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_unknown_embedder() -> None:
    with pytest.raises(ConnectorNotFound, match="hashing"):
        load_embedder("word2vec")
