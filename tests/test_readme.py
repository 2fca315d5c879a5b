"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]


def _blocks(page: Path) -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)
    return [b for b in blocks if "import" in b]


RUNNABLE = [(page, code) for page in PAGES for code in _blocks(page)]


def test_readme_has_examples() -> None:
    assert len(_blocks(README)) >= 2


@pytest.mark.parametrize(
    ("page", "code"), RUNNABLE, ids=[f"{p.name}-{i}" for i, (p, _) in enumerate(RUNNABLE)]
)
def test_documented_example_runs(page: Path, code: str) -> None:
    exec(compile(code, str(page), "exec"), {"__name__": "docs_example"})
