"""Chunking for ingest: bounded size, overlap at cuts, nothing lost."""

from __future__ import annotations

import re

import pytest

from vecbridge.cli.sources import chunk_text
from vecbridge.core import InvalidInput


def test_chunks_are_bounded_and_cover_every_word() -> None:
    words = [f"w{i}" for i in range(3000)]
    text = " ".join(words[:1000]) + "\n\n" + "short paragraph" + "\n\n" + " ".join(words[1000:])
    chunks = chunk_text(text, size=500, overlap=100)
    assert all(len(c) <= 500 for c in chunks)
    seen = set(re.findall(r"w\d+", " ".join(chunks)))
    assert seen == set(words)
    # Neighbouring windows of a long paragraph share text.
    assert set(chunks[0].split()[-5:]) & set(chunks[1].split())


def test_small_paragraphs_are_packed_together() -> None:
    text = "\n\n".join(f"para {i}" for i in range(10))
    assert chunk_text(text, size=1000, overlap=0) == ["\n\n".join(f"para {i}" for i in range(10))]


@pytest.mark.parametrize("size, overlap", [(0, 0), (100, 100), (100, -1)])
def test_bad_chunk_settings(size: int, overlap: int) -> None:
    with pytest.raises(InvalidInput):
        chunk_text("x", size, overlap)
