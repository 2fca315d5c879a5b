"""The async API (client.aio): same requests, bounded concurrency, same error semantics."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

pytest.importorskip("google.genai")

from tests.emulators.gemini import Fault
from tests.emulators.gemini.fixtures import emulator_fixture, make_embedder, unit_expected  # noqa: F401
from vecbridge.core.errors import EmbeddingFailed
from vecbridge.embedders.gemini import GeminiAPIError

TEXTS = [f"async text {i}" for i in range(120)]


async def test_aembed_documents_in_order_with_bounded_concurrency(emulator):
    emulator.latency = 0.05
    emb = make_embedder(emulator, batch_size=10, max_concurrency=4)
    vectors = await emb.aembed_documents(TEXTS)

    calls = emulator.embed_calls()
    assert len(calls) == 12 and all(len(c.texts) == 10 for c in calls)
    assert emulator.max_in_flight == 4
    assert sorted(t for c in calls for t in c.texts) == sorted(TEXTS)
    assert all(c.task_types == ["RETRIEVAL_DOCUMENT"] * 10 for c in calls)
    for i in (0, 57, 119):
        np.testing.assert_allclose(vectors[i], unit_expected(TEXTS[i], task="RETRIEVAL_DOCUMENT", dimension=768),
                                   atol=1e-7)
    await emb.aclose()


async def test_aembed_query_uses_the_query_task(emulator):
    emb = make_embedder(emulator)
    vec = await emb.aembed_query("find me")
    assert emulator.embed_calls()[0].task_types == ["RETRIEVAL_QUERY"]
    np.testing.assert_allclose(vec, unit_expected("find me", task="RETRIEVAL_QUERY", dimension=768), atol=1e-7)
    await emb.aclose()


async def test_async_retries_honour_rate_limits(emulator):
    emulator.inject(Fault.rate_limited("0.01s"), Fault.server_error(503))
    emb = make_embedder(emulator)
    assert len(await emb.aembed_documents(["a", "b"])) == 2
    assert [c.status for c in emulator.embed_calls()] == [429, 503, 200]
    await emb.aclose()


async def test_async_partial_failure_keeps_vectors(emulator):
    texts = list(TEXTS)
    texts[5] = "poison"
    emulator.reject_text("poison")
    emb = make_embedder(emulator, batch_size=10, max_concurrency=1)
    with pytest.raises(EmbeddingFailed) as info:
        await emb.aembed_documents(texts)
    assert info.value.failed_indexes[:10] == list(range(10))
    assert info.value.embedded_indexes == []  # the first batch failed and nothing else was sent
    assert len(emulator.embed_calls()) == 1
    with pytest.raises(GeminiAPIError):
        await emb.aembed_query("poison")
    await emb.aclose()


async def test_many_concurrent_callers_share_one_embedder(emulator):
    emb = make_embedder(emulator, max_concurrency=2)
    results = await asyncio.gather(*(emb.aembed_query(f"q{i}") for i in range(6)))
    for i, vec in enumerate(results):
        np.testing.assert_allclose(vec, unit_expected(f"q{i}", task="RETRIEVAL_QUERY", dimension=768), atol=1e-7)
    await emb.aclose()
