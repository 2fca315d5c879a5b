"""The persistent embedding cache: unchanged text is never embedded twice, for any embedder."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest

from vecbridge.core import Embedder, TaskType
from vecbridge.core.cache import CachedEmbedder, EmbeddingCache
from vecbridge.core.errors import EmbeddingFailed, InvalidInput
from vecbridge.embedders.hashing import HashingEmbedder


class CountingEmbedder(HashingEmbedder):
    """A hashing embedder that records every text it is asked to embed."""

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.seen: list[str] = []
        self._lock = threading.Lock()

    def _embed(self, texts: Sequence[str], task: TaskType, titles: Sequence[str | None] | None) -> list[list[float]]:
        with self._lock:
            self.seen.extend(texts)
        return super()._embed(texts, task, titles)


class FailingHalfWay(CountingEmbedder):
    """Embeds the first half of each call, then reports the rest as failed."""

    def embed_documents(self, texts, *, task=None, titles=None):  # type: ignore[no-untyped-def]
        vectors = super().embed_documents(texts, task=task, titles=titles)
        half = len(vectors) // 2
        raise EmbeddingFailed("quota ran out", vectors[:half] + [None] * (len(vectors) - half))


def test_a_second_ingest_costs_nothing_and_survives_restarts(tmp_path):
    path = tmp_path / "cache.sqlite"
    inner = CountingEmbedder(dimension=16)
    first = CachedEmbedder(inner, path).embed_documents(["a", "b", "c"])
    inner.seen.clear()

    again = CachedEmbedder(inner, path)  # a new process would open the same file
    second = again.embed_documents(["c", "a", "b"])
    assert inner.seen == []
    assert (again.hits, again.misses) == (3, 0)
    np.testing.assert_allclose(second, [first[2], first[0], first[1]], atol=1e-6)  # float32 storage


def test_only_new_texts_reach_the_embedder_and_duplicates_once(tmp_path):
    inner = CountingEmbedder(dimension=16)
    emb = CachedEmbedder(inner, tmp_path / "c.sqlite")
    emb.embed_documents(["a", "b"])
    vectors = emb.embed_documents(["a", "new", "b", "new"])
    assert inner.seen == ["a", "b", "new"]
    assert vectors[1] == vectors[3]
    np.testing.assert_allclose(vectors[1], inner.embed_documents(["new"])[0], atol=1e-6)


def test_it_keeps_the_wrapped_fingerprint_and_is_an_embedder(tmp_path):
    inner = HashingEmbedder(dimension=32)
    emb = CachedEmbedder(inner, tmp_path / "c.sqlite")
    assert isinstance(emb, Embedder)
    assert emb.fingerprint == inner.fingerprint
    assert (emb.dimension, emb.model_id) == (32, inner.model_id)
    with pytest.raises(InvalidInput, match="already cached"):
        CachedEmbedder(emb, tmp_path / "d.sqlite")


def test_other_vector_spaces_never_share_entries(tmp_path):
    cache = EmbeddingCache(tmp_path / "shared.sqlite")
    small, big = CountingEmbedder(dimension=16), CountingEmbedder(dimension=32)
    ngrams = CountingEmbedder(dimension=16, ngram_min=2, ngram_max=3)  # same model name family, other options
    for inner in (small, big, ngrams):
        CachedEmbedder(inner, cache).embed_documents(["same text"])
        assert inner.seen == ["same text"]
    emb = CachedEmbedder(small, cache)
    emb.embed_documents(["same text"], task="CLUSTERING")  # another task
    emb.embed_documents(["same text"], titles=["A title"])  # a title changes the input
    emb.embed_query("same text")  # queries are kept apart from documents
    assert small.seen == ["same text"] * 4
    assert len(cache) == 6


def test_partial_failure_caches_what_arrived_and_reports_your_indexes(tmp_path):
    path = tmp_path / "c.sqlite"
    CachedEmbedder(HashingEmbedder(dimension=16), path).embed_documents(["cached"])
    failing = FailingHalfWay(dimension=16)
    emb = CachedEmbedder(failing, path)
    with pytest.raises(EmbeddingFailed) as info:
        emb.embed_documents(["x1", "cached", "x2", "x3", "x4"])
    err = info.value
    # misses x1..x4 were sent; the first half (x1, x2) came back
    assert err.embedded_indexes == [0, 1, 2] and err.failed_indexes == [3, 4]
    assert "quota ran out" in str(err)

    failing.seen.clear()
    emb.embed_documents(["x1", "x2"])  # what arrived before the failure was kept
    assert failing.seen == []


def test_queries_are_cached_unless_told_not_to(tmp_path):
    inner = CountingEmbedder(dimension=16)
    emb = CachedEmbedder(inner, tmp_path / "c.sqlite")
    q1 = emb.embed_query("find me")
    q2 = emb.embed_query("find me")
    assert inner.seen == ["find me"]
    np.testing.assert_allclose(q1, q2, atol=1e-6)
    plain = CachedEmbedder(inner, tmp_path / "c.sqlite", cache_queries=False)
    plain.embed_query("find me")
    assert inner.seen == ["find me", "find me"]


async def test_async_forms_use_the_cache(tmp_path):
    inner = CountingEmbedder(dimension=16)
    emb = CachedEmbedder(inner, tmp_path / "c.sqlite")
    await emb.aembed_documents(["a", "b"])
    await emb.aembed_documents(["a", "b"])
    await emb.aembed_query("q")
    await emb.aembed_query("q")
    assert inner.seen == ["a", "b", "q"]


def test_concurrent_threads_share_one_cache(tmp_path):
    inner = CountingEmbedder(dimension=16)
    emb = CachedEmbedder(inner, tmp_path / "c.sqlite")
    texts = [f"t{i}" for i in range(50)]
    threads = [threading.Thread(target=emb.embed_documents, args=(texts,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(emb.cache) == 50
    assert set(inner.seen) == set(texts)


def test_embed_documents_with_routes_misses_through_any_function(tmp_path):
    inner = HashingEmbedder(dimension=16)
    calls: list[list[str]] = []

    def batch_api(texts: list[str], *, task=None, titles=None) -> list[list[float]]:  # type: ignore[no-untyped-def]
        calls.append(texts)
        return inner.embed_documents(texts, task=task, titles=titles)

    emb = CachedEmbedder(inner, tmp_path / "c.sqlite")
    emb.embed_documents_with(batch_api, ["a", "b"])
    emb.embed_documents(["a", "b", "c"])  # a and b are cached from the batch run
    assert calls == [["a", "b"]]
    assert emb.misses == 3 and emb.hits == 2


def test_cache_path_must_be_a_file(tmp_path):
    with pytest.raises(InvalidInput, match="is a directory"):
        CachedEmbedder(HashingEmbedder(dimension=8), tmp_path)


def test_cached_gemini_sends_nothing_the_second_time(tmp_path):
    pytest.importorskip("google.genai")
    from tests.emulators.gemini import GeminiEmulator
    from tests.emulators.gemini.fixtures import TEST_KEY, make_embedder

    with GeminiEmulator(api_keys=[TEST_KEY]) as emu:
        emb = CachedEmbedder(make_embedder(emu), tmp_path / "gemini.sqlite")
        texts = [f"doc {i}" for i in range(150)]
        first = emb.embed_documents(texts)
        assert len(emu.embed_calls()) == 2
        second = emb.embed_documents(texts)
        assert len(emu.embed_calls()) == 2  # re-ingesting unchanged text costs nothing
        np.testing.assert_allclose(first, second, atol=1e-6)
        assert emb.fingerprint.provider == "gemini" and emb.fingerprint.task == "RETRIEVAL_DOCUMENT"
