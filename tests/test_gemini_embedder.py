"""GeminiEmbedder against the in-process emulator: what the server receives, and what comes back."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("google.genai")

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from tests.emulators.gemini import Fault, expected_values
from tests.emulators.gemini.fixtures import TEST_KEY, emulator_fixture, make_embedder, unit_expected  # noqa: F401
from vecbridge.core import TaskType, embedder_from_fingerprint, load_embedder
from vecbridge.core.errors import EmbeddingFailed, InvalidInput
from vecbridge.embedders.gemini import GeminiEmbedder, MalformedReply

TEXTS = [f"document number {i} about topic {i % 7}" for i in range(250)]


def test_documents_and_queries_get_their_task_pair(emulator):
    emb = make_embedder(emulator)
    docs = emb.embed_documents(["alpha", "beta"])
    query = emb.embed_query("what is alpha?")

    doc_call, query_call = emulator.embed_calls()
    assert doc_call.task_types == ["RETRIEVAL_DOCUMENT", "RETRIEVAL_DOCUMENT"]
    assert query_call.task_types == ["RETRIEVAL_QUERY"]
    for call in (doc_call, query_call):
        assert call.headers["x-goog-api-key"] == TEST_KEY
        assert call.model == "gemini-embedding-001"
        assert call.action == "batchEmbedContents"
        assert call.dimensions == [768] * len(call.texts)
    np.testing.assert_allclose(docs[1], unit_expected("beta", task="RETRIEVAL_DOCUMENT", dimension=768), atol=1e-7)
    np.testing.assert_allclose(query, unit_expected("what is alpha?", task="RETRIEVAL_QUERY", dimension=768), atol=1e-7)


@pytest.mark.parametrize("task", list(TaskType))
def test_every_task_type_reaches_the_server(emulator, task):
    emb = make_embedder(emulator)
    [vec] = emb.embed_documents(["same text"], task=task)
    assert emulator.embed_calls()[0].task_types == [task.value]
    np.testing.assert_allclose(vec, unit_expected("same text", task=task.value, dimension=768), atol=1e-7)


def test_titles_travel_with_documents_grouped_one_title_per_request(emulator):
    emb = make_embedder(emulator)
    texts = ["a1", "b1", "a2", "none1", "b2"]
    titles = ["Doc A", "Doc B", "Doc A", None, "Doc B"]
    vectors = emb.embed_documents(texts, titles=titles)

    calls = emulator.embed_calls()
    assert len(calls) == 3  # one request per distinct title: the SDK sends one title per call
    for call in calls:
        assert len(set(call.titles)) == 1
    sent = {t: call.titles[0] for call in calls for t in call.texts}
    assert sent == {"a1": "Doc A", "a2": "Doc A", "b1": "Doc B", "b2": "Doc B", "none1": None}
    for text, title, vec in zip(texts, titles, vectors, strict=True):
        np.testing.assert_allclose(
            vec, unit_expected(text, task="RETRIEVAL_DOCUMENT", title=title, dimension=768), atol=1e-7
        )


def test_titles_are_refused_for_tasks_that_ignore_them(emulator):
    emb = make_embedder(emulator)
    with pytest.raises(InvalidInput, match="RETRIEVAL_DOCUMENT"):
        emb.embed_documents(["x"], task="CLUSTERING", titles=["T"])
    with pytest.raises(InvalidInput, match="2 titles for 1 texts"):
        emb.embed_documents(["x"], titles=["T", "U"])
    assert emulator.requests == []


@pytest.mark.parametrize("dimension", [128, 768, 1536, 3072])
def test_vectors_are_unit_length_at_every_dimension(emulator, dimension):
    raw = np.asarray(expected_values("hello", task="RETRIEVAL_DOCUMENT", dimension=dimension))
    if dimension < 3072:
        assert np.linalg.norm(raw) < 0.99  # the server sends truncated vectors un-normalised ...
    emb = make_embedder(emulator, dimension=dimension)
    [vec] = emb.embed_documents(["hello"])
    assert len(vec) == dimension
    assert np.linalg.norm(vec) == pytest.approx(1.0, abs=1e-12)  # ... and the embedder fixes that
    assert emulator.embed_calls()[0].dimensions == [dimension]


@pytest.mark.parametrize("bad", [127, 3073, 0, "768", True, 768.0])
def test_dimension_outside_the_model_range_is_refused(emulator, bad):
    with pytest.raises(InvalidInput, match="128 to 3072"):
        make_embedder(emulator, dimension=bad)


def test_batches_stay_within_the_limit_in_order_one_vector_each(emulator):
    emb = make_embedder(emulator)
    vectors = emb.embed_documents(TEXTS)

    calls = emulator.embed_calls()
    assert sorted(len(c.texts) for c in calls) == [50, 100, 100]
    sent = [t for c in sorted(calls, key=lambda c: TEXTS.index(c.texts[0])) for t in c.texts]
    assert sent == TEXTS  # every text exactly once, none lost or duplicated
    assert len(vectors) == len(TEXTS)
    for i in (0, 99, 100, 199, 200, 249):
        np.testing.assert_allclose(vectors[i], unit_expected(TEXTS[i], task="RETRIEVAL_DOCUMENT", dimension=768),
                                   atol=1e-7)


def test_batch_size_cannot_exceed_the_api_limit(emulator):
    with pytest.raises(InvalidInput, match="at most 100 texts per request"):
        make_embedder(emulator, batch_size=101)
    emb = make_embedder(emulator, batch_size=40)
    emb.embed_documents(TEXTS[:100])
    assert sorted(len(c.texts) for c in emulator.embed_calls()) == [20, 40, 40]


def test_emulator_enforces_the_real_per_request_limit(emulator):
    """The emulator itself must reject 101 texts like the real API (else the tests above prove nothing)."""
    client = genai.Client(api_key=TEST_KEY, http_options=types.HttpOptions(base_url=emulator.base_url))
    with pytest.raises(genai_errors.ClientError) as info:
        client.models.embed_content(model="gemini-embedding-001", contents=[f"t{i}" for i in range(101)])
    assert info.value.code == 400
    assert info.value.status == "INVALID_ARGUMENT"
    assert "at most 100 requests can be in one batch" in info.value.message


def test_concurrency_is_bounded(emulator):
    emulator.latency = 0.05
    emb = make_embedder(emulator, batch_size=10, max_concurrency=3)
    emb.embed_documents(TEXTS[:100])
    assert len(emulator.embed_calls()) == 10
    assert emulator.max_in_flight == 3  # parallel, but never more than asked


def test_a_short_reply_is_retried_not_accepted(emulator):
    emulator.inject(Fault.malformed("wrong_count"))
    emb = make_embedder(emulator)
    vectors = emb.embed_documents(["a", "b", "c"])
    assert len(vectors) == 3
    assert [c.status for c in emulator.embed_calls()] == [200, 200]  # the short reply was sent again
    np.testing.assert_allclose(vectors[2], unit_expected("c", task="RETRIEVAL_DOCUMENT", dimension=768), atol=1e-7)


@pytest.mark.parametrize("kind", ["wrong_count", "empty_values", "wrong_dimension", "bad_json"])
def test_a_reply_that_stays_malformed_is_an_error(emulator, kind):
    emulator.inject(*[Fault.malformed(kind)] * 4)
    emb = make_embedder(emulator)
    with pytest.raises(EmbeddingFailed) as info:
        emb.embed_documents(["a", "b", "c"])
    assert isinstance(info.value.cause, MalformedReply)
    assert info.value.failed_indexes == [0, 1, 2]
    assert len(emulator.embed_calls()) == 4  # retried up to the policy's attempts, then refused


def test_gemini_embedding_2_gets_task_prefixes_and_one_vector_per_text(emulator):
    emb = make_embedder(emulator, model="gemini-embedding-2")
    docs = emb.embed_documents(["the sky is blue", "grass is green"], titles=["Colours", None])
    query = emb.embed_query("why is the sky blue")

    doc_calls, query_call = emulator.embed_calls()[:-1], emulator.embed_calls()[-1]
    sent = sorted(t for c in doc_calls for t in c.texts)
    assert sent == ["title: Colours | text: the sky is blue", "title: none | text: grass is green"]
    assert query_call.texts == ["task: search result | query: why is the sky blue"]
    assert all(t is None for c in emulator.embed_calls() for t in c.task_types)  # taskType is not sent
    assert all(t is None for c in emulator.embed_calls() for t in c.titles)
    assert len(docs) == 2  # each text its own Content: no merged vector
    np.testing.assert_allclose(
        docs[1], unit_expected("title: none | text: grass is green", model="gemini-embedding-2", dimension=768),
        atol=1e-7,
    )
    assert len(query) == 768


def test_empty_texts_are_named_by_index(emulator):
    emb = make_embedder(emulator)
    with pytest.raises(InvalidInput, match=r"index \[1, 3\]"):
        emb.embed_documents(["ok", "", "fine", "   "])
    assert emulator.requests == []


def test_fingerprint_records_model_dimension_and_document_task(emulator):
    emb = make_embedder(emulator, dimension=1536, document_task="SEMANTIC_SIMILARITY")
    fp = emb.fingerprint
    assert (fp.provider, fp.model, fp.dimension, fp.task) == ("gemini", "gemini-embedding-001", 1536,
                                                              "SEMANTIC_SIMILARITY")
    assert fp.options == {"query_task": "SEMANTIC_SIMILARITY"}  # symmetric task: queries use it too
    emb.embed_query("q")
    assert emulator.embed_calls()[-1].task_types == ["SEMANTIC_SIMILARITY"]


def test_from_fingerprint_rebuilds_with_the_key_from_the_environment(emulator, monkeypatch):
    original = make_embedder(emulator, dimension=1536, query_task="QUESTION_ANSWERING")
    monkeypatch.setenv("GEMINI_API_KEY", TEST_KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", emulator.base_url)  # the SDK's own env var keeps working
    rebuilt = embedder_from_fingerprint(original.fingerprint)

    assert isinstance(rebuilt, GeminiEmbedder)
    assert rebuilt.fingerprint == original.fingerprint
    rebuilt.embed_query("who?")
    call = emulator.embed_calls()[-1]
    assert call.task_types == ["QUESTION_ANSWERING"] and call.dimensions == [1536]
    assert call.headers["x-goog-api-key"] == TEST_KEY


def test_missing_key_names_gemini_api_key(monkeypatch):
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(InvalidInput, match="GEMINI_API_KEY"):
        GeminiEmbedder()
    from vecbridge.core.models import EmbedderFingerprint

    with pytest.raises(InvalidInput, match="GEMINI_API_KEY"):
        fp = EmbedderFingerprint("gemini", "gemini-embedding-001", 768, "RETRIEVAL_DOCUMENT")
        GeminiEmbedder.from_fingerprint(fp)


def test_key_comes_from_gemini_api_key_then_google_api_key(emulator, monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.setenv("GOOGLE_API_KEY", TEST_KEY)
    GeminiEmbedder(dimension=768, base_url=emulator.base_url).embed_query("x")
    monkeypatch.setenv("GEMINI_API_KEY", TEST_KEY)
    monkeypatch.setenv("GOOGLE_API_KEY", "some-other-key")
    GeminiEmbedder(dimension=768, base_url=emulator.base_url).embed_query("y")
    assert [c.headers["x-goog-api-key"] for c in emulator.embed_calls()] == [TEST_KEY, TEST_KEY]


def test_registry_builds_the_gemini_embedder(emulator):
    emb = load_embedder("gemini", api_key=TEST_KEY, base_url=emulator.base_url, dimension=768)
    assert isinstance(emb, GeminiEmbedder)
    assert emb.dimension == 768


def test_vertex_ai_allows_250_texts_and_refuses_silent_truncation(monkeypatch):
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    emb = GeminiEmbedder(vertexai=True, project="my-project", location="us-central1", dimension=768)
    assert emb.vertexai and emb.batch_size == 250
    assert emb._config(TaskType.RETRIEVAL_DOCUMENT, None).auto_truncate is False  # server refuses, never cuts
    with pytest.raises(InvalidInput, match="1-250"):
        GeminiEmbedder(vertexai=True, project="p", location="us-central1", batch_size=251)
    # Vertex also caps a request at 20,000 tokens: 300 texts of ~334 estimated tokens -> 59 per request.
    plan = emb._prepare(["word " * 200] * 300, TaskType.RETRIEVAL_DOCUMENT, None).batches
    assert [len(b.indexes) for b in plan] == [59, 59, 59, 59, 59, 5]
    short = emb._prepare(["short text"] * 300, TaskType.RETRIEVAL_DOCUMENT, None).batches
    assert [len(b.indexes) for b in short] == [250, 50]
    with pytest.raises(InvalidInput, match="vertexai=True"):
        GeminiEmbedder(api_key="k", project="p")
