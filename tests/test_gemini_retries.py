"""Retries, fail-fast errors, partial results, and the API key staying secret."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

pytest.importorskip("google.genai")

from tests.emulators.gemini import Fault
from tests.emulators.gemini.fixtures import TEST_KEY, emulator_fixture, fast_retry, make_embedder, unit_expected  # noqa: F401
from vecbridge.core.errors import EmbeddingFailed
from vecbridge.embedders.gemini import GeminiAPIError, GeminiRetryPolicy, GeminiTransientError


def test_429_waits_as_long_as_retry_info_says(emulator):
    emulator.inject(Fault.rate_limited("0.3s"))
    # Its own backoff starts at 1 ms and is capped at 5 s: any wait near 0.3 s came from the server.
    emb = make_embedder(emulator, retry=GeminiRetryPolicy(attempts=3, initial_wait=0.001, max_wait=5.0))
    start = time.monotonic()
    [vec] = emb.embed_documents(["hello"])
    elapsed = time.monotonic() - start

    assert [c.status for c in emulator.embed_calls()] == [429, 200]
    calls = emulator.embed_calls()
    assert calls[1].started - calls[0].ended >= 0.29
    assert elapsed < 1.0
    np.testing.assert_allclose(vec, unit_expected("hello", task="RETRIEVAL_DOCUMENT", dimension=768), atol=1e-7)


def test_server_delay_is_capped_by_max_wait(emulator):
    emulator.inject(Fault.rate_limited("30s"))
    emb = make_embedder(emulator, retry=GeminiRetryPolicy(attempts=3, initial_wait=0.001, max_wait=0.2))
    start = time.monotonic()
    emb.embed_documents(["hello"])
    assert time.monotonic() - start < 2.0
    assert [c.status for c in emulator.embed_calls()] == [429, 200]


@pytest.mark.parametrize("code", [500, 503])
def test_server_errors_are_retried(emulator, code):
    emulator.inject(Fault.server_error(code), Fault.server_error(code))
    emb = make_embedder(emulator)
    assert len(emb.embed_documents(["a", "b"])) == 2
    assert [c.status for c in emulator.embed_calls()] == [code, code, 200]


def test_retries_stop_after_the_policy_attempts(emulator):
    emulator.inject(*[Fault.server_error(503)] * 10)
    emb = make_embedder(emulator, retry=fast_retry(attempts=3))
    with pytest.raises(EmbeddingFailed) as info:
        emb.embed_documents(["a"])
    assert isinstance(info.value.cause, GeminiTransientError)
    assert "503 UNAVAILABLE" in str(info.value) and "overloaded" in str(info.value)
    assert len(emulator.embed_calls()) == 3


@pytest.mark.parametrize("code", [400, 403])
def test_permanent_errors_fail_fast_with_the_api_message(emulator, code):
    emulator.reject_text("poison", code=code)
    emb = make_embedder(emulator)
    with pytest.raises(EmbeddingFailed) as info:
        emb.embed_documents(["poison pill"])
    assert isinstance(info.value.cause, GeminiAPIError)
    assert info.value.cause.code == code
    assert "Request contains an invalid argument" in str(info.value)
    assert len(emulator.embed_calls()) == 1  # no retry


def test_daily_quota_is_not_retried(emulator):
    emulator.inject(Fault("daily_quota", 429))
    emb = make_embedder(emulator)
    with pytest.raises(GeminiAPIError, match="daily quota"):
        emb.embed_query("x")
    assert len(emulator.embed_calls()) == 1


def test_a_run_that_fails_half_way_keeps_what_it_got(emulator):
    texts = [f"text {i}" for i in range(300)]
    texts[150] = "poison 150"
    emulator.reject_text("poison")
    emb = make_embedder(emulator, max_concurrency=1)
    with pytest.raises(EmbeddingFailed) as info:
        emb.embed_documents(texts)

    err = info.value
    assert err.embedded_indexes == list(range(100))
    assert err.failed_indexes == list(range(100, 300))
    assert err.vectors[100] is None and err.vectors[299] is None
    np.testing.assert_allclose(err.vectors[42], unit_expected("text 42", task="RETRIEVAL_DOCUMENT", dimension=768),
                               atol=1e-7)
    assert "1 request(s) failed, 1 not sent after the first failure" in str(err)
    assert len(emulator.embed_calls()) == 2  # the third batch was not sent after the permanent failure


def test_embed_query_raises_the_api_error_itself(emulator):
    emulator.reject_text("poison")
    with pytest.raises(GeminiAPIError, match="400 INVALID_ARGUMENT"):
        make_embedder(emulator).embed_query("poison")


def test_the_api_key_never_leaks(emulator, caplog):
    caplog.set_level(logging.DEBUG)
    emb = make_embedder(emulator)
    emulator.inject(Fault.rate_limited("0.01s"), Fault.server_error(500))
    emb.embed_documents(["a"])  # retries log their reason
    emulator.reject_text("poison")
    with pytest.raises(EmbeddingFailed) as failed:
        emb.embed_documents(["poison"])
    emulator.api_keys = {"another-key"}  # now the server rejects TEST_KEY as invalid
    with pytest.raises(GeminiAPIError) as rejected:
        emb.embed_query("x")

    assert "API key not valid" in str(rejected.value) and "GEMINI_API_KEY" in str(rejected.value)
    assert emulator.embed_calls()[-1].headers["x-goog-api-key"] == TEST_KEY  # it was sent, in the header only
    texts = [str(failed.value), repr(failed.value), str(rejected.value), repr(rejected.value), repr(emb),
             str(emb.fingerprint.to_dict()), caplog.text]
    assert any("retry" in t for t in texts)  # the log did record the retries ...
    for text in texts:
        assert TEST_KEY not in text  # ... without the key


def test_malformed_reply_then_good_reply_is_accepted_once(emulator):
    emulator.inject(Fault.malformed("bad_json"))
    emb = make_embedder(emulator)
    assert len(emb.embed_documents(["x", "y"])) == 2
    assert len(emulator.embed_calls()) == 2
