"""What the CLI prints, printed literally.

Rich reads ``[...]`` as markup and ``:name:`` as emoji codes, so a message such as
``pip install 'vecbridge[qdrant]'``, a JSON list in a filter or an ``[::1]`` host would lose its
brackets. Both consoles have markup, emoji and highlighting switched off and never wrap a line,
and text that came from the user or a store (ids, texts, paths, messages) has its control
characters escaped, so stored data cannot move the cursor or retitle the terminal.
"""

from __future__ import annotations

import json
import os
import unicodedata
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from vecbridge.core import Hit

__all__ = ["err", "hits_table", "literal", "out", "print_json", "progress", "say", "table"]

out = Console(markup=False, emoji=False, highlight=False)
err = Console(stderr=True, markup=False, emoji=False, highlight=False)


# Control characters (Cc), lone surrogates (Cs: not encodable, would crash the print), line and
# paragraph separators (Zl, Zp: a second line) and the bidirectional overrides that reorder what
# a terminal shows ("Trojan Source"). Other format characters (the joiners that Persian or emoji
# sequences need) are text and stay.
_UNSAFE_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}
_BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES or ch in _BIDI_CONTROLS


def literal(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters, separators and bidi overrides shown as escapes (``\\x1b``)."""
    return "".join(
        ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        if _unsafe(ch) and not (keep_newlines and ch == "\n")
        else ch
        for ch in text
    )


def say(line: str, *, stderr: bool = False) -> None:
    """One line, as is (the caller escapes what came from outside with :func:`literal`). Through
    the console, so that a line printed while a progress bar runs lands above the bar."""
    (err if stderr else out).print(line, soft_wrap=True)


def print_json(value: Any) -> None:
    """One JSON document on stdout: what scripts read with ``--json``."""
    typer.echo(json.dumps(value, ensure_ascii=False))


def table(title: str | None, columns: list[str], rows: list[list[str]], *, right: tuple[str, ...] = ()) -> Table:
    """A table whose cells are literal text (never markup)."""
    result = Table(title=Text(literal(title)) if title else None, title_justify="left")
    for col in columns:
        result.add_column(col, justify="right" if col in right else "left", overflow="fold")
    for row in rows:
        result.add_row(*(Text(literal(cell, keep_newlines=True)) for cell in row))
    return result


def hits_table(title: str, hits: list[Hit]) -> Table:
    rows = [
        [str(i), f"{h.score:.4f}", h.id, (h.text or "")[:200], json.dumps(h.metadata, ensure_ascii=False)]
        for i, h in enumerate(hits, 1)
    ]
    result = table(title, ["#", "score", "id", "text", "metadata"], rows, right=("#", "score"))
    result.columns[3].max_width = 70
    result.columns[4].max_width = 40
    return result


def progress() -> Progress:
    """A progress bar on stderr, shown on a terminal (or when VECBRIDGE_PROGRESS=1)."""
    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal and os.environ.get("VECBRIDGE_PROGRESS") != "1",
    )


def progress_task(bar: Progress, description: str, total: int | None) -> TaskID:
    return bar.add_task(literal(description), total=total)
