"""Reading files for ``vecbridge ingest``: text, Markdown and JSONL, chunked with overlap.

Chunk ids are ``<path>#<n>`` (or the JSONL record's own ``id``), so ingesting the same files again
overwrites the same records instead of adding copies — which is also what makes an interrupted
ingest safe to simply run again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vecbridge.core.errors import InvalidInput

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


def _jsonl(path: Path, size: int, overlap: int) -> Iterator[Chunk]:
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
                raise InvalidInput(f'{path}:{lineno}: each line needs a non-empty "text" field')
            metadata = obj.get("metadata") or {}
            if not isinstance(metadata, dict):
                raise InvalidInput(f'{path}:{lineno}: "metadata" must be an object')
            base_id = str(obj["id"]) if obj.get("id") is not None else f"{path.name}:{lineno}"
            pieces = chunk_text(obj["text"], size, overlap)
            for n, piece in enumerate(pieces):
                if len(pieces) == 1:  # a record that fits stays exactly as the user wrote it
                    yield Chunk(base_id, piece, dict(metadata))
                else:
                    yield Chunk(f"{base_id}#{n}", piece, {**metadata, "chunk": n})


def read_sources(paths: Iterable[str | Path], *, chunk_size: int = 1000, overlap: int = 200) -> Iterator[Chunk]:
    """Chunks of every file under ``paths`` (folders are searched for .txt/.md/.jsonl files)."""
    for path in _expand(paths):
        suffix = path.suffix.lower()
        if suffix in JSONL_SUFFIXES:
            yield from _jsonl(path, chunk_size, overlap)
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"{path}: not UTF-8 text; convert it or leave it out") from None
        for n, piece in enumerate(chunk_text(text, chunk_size, overlap)):
            yield Chunk(f"{path}#{n}", piece, {"source": str(path), "chunk": n})
