"""Reading files for ``vecbridge ingest``: text, Markdown and JSONL, chunked with overlap.

Chunk ids are ``<path>#<n>`` (or the JSONL record's own ``id``), so ingesting the same files again
overwrites the same records instead of adding copies — which is also what makes an interrupted
ingest safe to simply run again.

JSONL: one object a line with ``text`` (a non-empty string), and optionally ``id`` and
``metadata`` (an object); any other field is refused rather than dropped. An ``id`` is a string,
or an integer taken as its decimal string (``7`` becomes ``"7"``); without one the id is
``<path>:<line>``. A text longer than the chunk size becomes records ``<id>#0``, ``<id>#1`` ...
with the chunk number in metadata ``chunk``. Files are UTF-8 (a byte-order mark is allowed); JSON
that Python would read loosely (a key twice, ``NaN``, ``1e400``) is refused with its line number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vecbridge.core.errors import InvalidInput

from .jsontext import JsonProblem, load_json

__all__ = ["Chunk", "chunk_text", "read_sources"]

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}


@dataclass
class Chunk:
    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def chunk_text(text: str, size: int = 1000, overlap: int = 200) -> list[str]:
    """Split ``text`` into pieces of at most ``size`` characters.

    Paragraphs are kept whole and packed together while they fit; a paragraph longer than ``size``
    is cut at whitespace into windows that overlap by about ``overlap`` characters, so a sentence
    cut at a boundary still appears whole in one chunk.
    """
    if size < 1 or overlap < 0 or overlap >= size:
        raise InvalidInput(f"need chunk size >= 1 and 0 <= overlap < size, got size={size}, overlap={overlap}")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    chunks: list[str] = []
    current = ""
    for para in paragraphs:
        if len(para) > size:
            if current:
                chunks.append(current)
                current = ""
            chunks.extend(_windows(para, size, overlap))
        elif not current:
            current = para
        elif len(current) + 2 + len(para) <= size:
            current = f"{current}\n\n{para}"
        else:
            chunks.append(current)
            current = para
    if current:
        chunks.append(current)
    return chunks


def _windows(text: str, size: int, overlap: int) -> list[str]:
    out: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = text.rfind(" ", start + size // 2, end)  # break at a space when there is one
            end = cut if cut > start else end
        out.append(text[start:end].strip())
        if end >= len(text):
            break
        nxt = end - overlap
        space = text.find(" ", nxt, end)
        start = space + 1 if space != -1 and space + 1 < end else max(nxt, start + 1)
    return [w for w in out if w]


def _expand(paths: Iterable[str | Path]) -> Iterator[Path]:
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            yield from sorted(
                f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in TEXT_SUFFIXES | JSONL_SUFFIXES
            )
        elif p.is_file():
            yield p
        else:
            raise InvalidInput(f"{raw}: no such file or folder")


JSONL_FIELDS = ("id", "text", "metadata")


def _record_id(value: Any, where: str, default: str) -> str:
    """A JSONL ``id``: a string as is; an integer as its decimal string (``7`` -> ``"7"``, exact
    for any size); absent or null: ``<path>:<line>``. Anything else is refused."""
    if value is None:
        return default
    if isinstance(value, str):
        if not value:
            raise InvalidInput(f'{where}: "id" is empty: give the record a non-empty id or leave "id" out')
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InvalidInput(
        f'{where}: "id" is {_kind(value)} {json.dumps(value)[:40]}: ids are strings (integers are '
        "taken as their decimal string)"
    )


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", float: "a float", int: "an integer"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _jsonl_line(raw: bytes, path: Path, lineno: int) -> dict[str, Any] | None:
    """One line of a JSONL file as an object with a non-empty text, None for a blank line."""
    where = f"{path}:{lineno}"
    try:
        line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")  # a BOM may open the file
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{where}: not UTF-8 (byte {exc.start + 1} of the line): convert the file to UTF-8, "
            f"e.g. iconv -f latin1 -t utf-8"
        ) from None
    if not line.strip():
        return None
    try:
        obj = load_json(line)
    except JsonProblem as exc:
        raise InvalidInput(f"{where}: {exc}") from None
    if not isinstance(obj, dict):
        raise InvalidInput(f'{where}: a line must be a JSON object like {{"id": "a", "text": "..."}}, not {_kind(obj)}')
    unknown = sorted(set(obj) - set(JSONL_FIELDS))
    if unknown:
        raise InvalidInput(
            f'{where}: unknown field(s) {", ".join(map(repr, unknown))}: a line has "id", "text" and "metadata"; '
            'put other fields inside "metadata"'
        )
    text = obj.get("text")
    if not isinstance(text, str):
        got = "no text" if "text" not in obj else _kind(text)
        raise InvalidInput(f'{where}: a line needs a "text" string to embed, got {got}')
    if not text.strip():
        raise InvalidInput(f'{where}: "text" is empty: every record needs text to embed')
    if obj.get("metadata") is not None and not isinstance(obj["metadata"], dict):
        raise InvalidInput(f'{where}: "metadata" must be an object, not {_kind(obj["metadata"])}')
    return obj


def _jsonl(path: Path, size: int, overlap: int) -> Iterator[Chunk]:
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            obj = _jsonl_line(raw, path, lineno)
            if obj is None:
                continue
            where = f"{path}:{lineno}"
            base_id = _record_id(obj.get("id"), where, where)
            metadata: dict[str, Any] = obj.get("metadata") or {}
            pieces = chunk_text(obj["text"], size, overlap)
            if len(pieces) == 1:  # a record that fits stays exactly as the user wrote it
                yield Chunk(base_id, pieces[0], dict(metadata))
                continue
            if "chunk" in metadata:
                raise InvalidInput(
                    f'{where}: the text is split into {len(pieces)} chunks, whose number goes in metadata "chunk", '
                    'but the record has its own "chunk": rename that key or raise --chunk-size'
                )
            for n, piece in enumerate(pieces):
                yield Chunk(f"{base_id}#{n}", piece, {**metadata, "chunk": n})


def read_sources(paths: Iterable[str | Path], *, chunk_size: int = 1000, overlap: int = 200) -> Iterator[Chunk]:
    """Chunks of every file under ``paths`` (folders are searched for .txt/.md/.jsonl files)."""
    for path in _expand(paths):
        suffix = path.suffix.lower()
        if suffix in JSONL_SUFFIXES:
            yield from _jsonl(path, chunk_size, overlap)
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"{path}: not UTF-8 text (byte {exc.start + 1}): convert it to UTF-8 or leave it out"
            ) from None
        for n, piece in enumerate(chunk_text(text, chunk_size, overlap)):
            yield Chunk(f"{path}#{n}", piece, {"source": str(path), "chunk": n})
