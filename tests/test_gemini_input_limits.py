"""The 2,048-token input limit as an explicit policy: error (default) or truncate, never silent."""

from __future__ import annotations

import logging

import numpy as np
import pytest

pytest.importorskip("google.genai")

from tests.emulators.gemini.fixtures import emulator_fixture, make_embedder, unit_expected  # noqa: F401
from vecbridge.core.errors import InvalidInput
from vecbridge.embedders.gemini.input_limits import estimate_tokens

LONG = "word " * 1400  # 7,000 ASCII characters: ~1,750 real tokens, ~2,334 by the conservative estimate


def test_estimate_is_conservative_for_english_and_counts_cjk_per_character():
    assert estimate_tokens("a" * 300) == 100
    assert estimate_tokens("日本語のテキスト") == 8
    assert estimate_tokens("The quick brown fox jumps over the lazy dog.") >= 44 / 4


def test_too_long_inputs_are_refused_by_index_before_any_request(emulator):
    emb = make_embedder(emulator)
    with pytest.raises(InvalidInput) as info:
        emb.embed_documents(["short", LONG, "also short", LONG])
    message = str(info.value)
    assert "2 text(s) exceed gemini-embedding-001's 2048-token input limit" in message
    assert "index 1 (~2334 tokens), 3 (~2334 tokens)" in message
    assert "long_input='truncate'" in message
    assert emulator.requests == []  # refused before anything was sent (or paid for)


def test_truncate_policy_cuts_to_the_limit_and_says_so(emulator, caplog):
    caplog.set_level(logging.WARNING)
    emb = make_embedder(emulator, long_input="truncate")
    vectors = emb.embed_documents(["short", LONG])

    sent = emulator.embed_calls()[0].texts
    assert sent[0] == "short"
    assert LONG.startswith(sent[1]) and len(sent[1]) < len(LONG)
    assert estimate_tokens(sent[1]) <= 2048
    assert not sent[1].endswith(" wor")  # cut at a word boundary
    assert "truncated 1 text(s)" in caplog.text and "[1]" in caplog.text
    np.testing.assert_allclose(vectors[1], unit_expected(sent[1], task="RETRIEVAL_DOCUMENT", dimension=768),
                               atol=1e-7)


def test_an_exact_token_counter_and_limit_can_be_supplied(emulator):
    emb = make_embedder(emulator, token_counter=lambda t: len(t.split()), max_input_tokens=5)
    emb.embed_documents(["one two three four five"])
    with pytest.raises(InvalidInput, match="index 0 \\(~6 tokens\\)"):
        emb.embed_documents(["one two three four five six"])


def test_gemini_embedding_2_allows_8192_tokens_including_its_prefix(emulator):
    emb = make_embedder(emulator, model="gemini-embedding-2")
    emb.embed_documents([LONG])  # fits in 8,192
    with pytest.raises(InvalidInput, match="8192-token"):
        emb.embed_documents([LONG * 4])


def test_unknown_policy_is_refused(emulator):
    with pytest.raises(InvalidInput, match="'error' or 'truncate'"):
        make_embedder(emulator, long_input="silently")
