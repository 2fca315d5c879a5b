"""The Batch API path: submit, poll with progress, resume after a crash, collect in input order."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("google.genai")

from tests.emulators.gemini.fixtures import emulator_fixture, make_embedder, unit_expected  # noqa: F401
from vecbridge.core.errors import EmbeddingFailed, InvalidInput
from vecbridge.embedders.gemini import BatchJobPending, BatchProgress
from vecbridge.embedders.gemini import batch_api as batch_module

TEXTS = [f"batch text {i}" for i in range(7)]


def creates(emu):
    return [r for r in emu.requests if r.action == "asyncBatchEmbedContent"]


def polls(emu):
    return [r for r in emu.requests if r.method == "GET"]


def test_batch_job_is_submitted_polled_and_collected_in_order(emulator, tmp_path):
    state = tmp_path / "batch.json"
    seen: list[BatchProgress] = []
    emb = make_embedder(emulator)
    vectors = emb.embed_documents_batch_api(TEXTS, state_path=state, poll_interval=0.01, progress=seen.append)

    [create] = creates(emulator)
    assert create.texts == TEXTS
    assert create.task_types == ["RETRIEVAL_DOCUMENT"] * 7 and create.dimensions == [768] * 7
    assert create.headers["x-goog-api-key"]
    assert len(polls(emulator)) == 2  # the emulator finishes a job on its second poll
    assert [p.jobs_done for p in seen] == [0, 1] and seen[-1].texts_total == 7 and not seen[-1].resumed
    assert emulator.embed_calls() == []  # nothing went through the interactive endpoint
    for i, vec in enumerate(vectors):
        np.testing.assert_allclose(vec, unit_expected(TEXTS[i], task="RETRIEVAL_DOCUMENT", dimension=768),
                                   atol=1e-7)
    assert json.loads(state.read_text())["runs"] == {}  # finished runs leave no state behind


def test_a_restarted_run_resumes_the_job_instead_of_paying_twice(emulator, tmp_path):
    state = tmp_path / "batch.json"

    def crash(progress: BatchProgress) -> None:
        raise KeyboardInterrupt  # the process dies while the job runs

    with pytest.raises(KeyboardInterrupt):
        make_embedder(emulator).embed_documents_batch_api(TEXTS, state_path=state, poll_interval=0.01,
                                                          progress=crash)
    [run] = json.loads(state.read_text())["runs"].values()
    assert run["jobs"][0]["name"] == "batches/emu000001"

    seen: list[BatchProgress] = []
    vectors = make_embedder(emulator).embed_documents_batch_api(TEXTS, state_path=state, poll_interval=0.01,
                                                                progress=seen.append)
    assert len(creates(emulator)) == 1  # the second run did not submit again
    assert seen[-1].resumed
    assert len(vectors) == 7


def test_other_inputs_get_their_own_job(emulator, tmp_path):
    state = tmp_path / "batch.json"
    emb = make_embedder(emulator)
    emb.embed_documents_batch_api(TEXTS, state_path=state, poll_interval=0)
    emb.embed_documents_batch_api(TEXTS[:3], state_path=state, poll_interval=0)
    emb.embed_documents_batch_api(TEXTS, state_path=state, poll_interval=0, task="CLUSTERING")
    assert [len(c.texts) for c in creates(emulator)] == [7, 3, 7]
    assert creates(emulator)[2].task_types == ["CLUSTERING"] * 7


def test_large_inputs_are_split_into_jobs_within_the_inline_limit(emulator, tmp_path, monkeypatch):
    monkeypatch.setattr(batch_module, "MAX_JOB_BYTES", 600)  # a few texts per job instead of ~18 MB
    texts = [f"text number {i:03d}" for i in range(10)]
    vectors = make_embedder(emulator).embed_documents_batch_api(texts, state_path=tmp_path / "s.json",
                                                                poll_interval=0)
    sizes = [len(c.texts) for c in creates(emulator)]
    assert len(sizes) > 1 and sum(sizes) == 10
    assert [t for c in creates(emulator) for t in c.texts] == texts
    np.testing.assert_allclose(vectors[9], unit_expected(texts[9], task="RETRIEVAL_DOCUMENT", dimension=768),
                               atol=1e-7)


def test_a_failed_job_is_resubmitted_on_the_next_run(emulator, tmp_path):
    state = tmp_path / "batch.json"
    emulator.batch_final_state = "BATCH_STATE_FAILED"
    emb = make_embedder(emulator)
    with pytest.raises(EmbeddingFailed, match="JOB_STATE_FAILED") as info:
        emb.embed_documents_batch_api(TEXTS, state_path=state, poll_interval=0)
    assert info.value.failed_indexes == list(range(7))
    emulator.batch_final_state = "BATCH_STATE_SUCCEEDED"
    assert len(emb.embed_documents_batch_api(TEXTS, state_path=state, poll_interval=0)) == 7
    assert len(creates(emulator)) == 2


def test_per_text_errors_keep_the_other_vectors(emulator, tmp_path):
    texts = list(TEXTS)
    texts[3] = "poison"
    emulator.reject_text("poison")
    with pytest.raises(EmbeddingFailed) as info:
        make_embedder(emulator).embed_documents_batch_api(texts, state_path=tmp_path / "s.json", poll_interval=0)
    assert info.value.failed_indexes == [3]
    assert info.value.vectors[4] is not None


def test_timeout_leaves_the_job_running_and_resumable(emulator, tmp_path):
    state = tmp_path / "batch.json"
    emulator.batch_polls_to_finish = 1000
    emb = make_embedder(emulator)
    with pytest.raises(BatchJobPending) as info:
        emb.embed_documents_batch_api(TEXTS, state_path=state, poll_interval=0.01, timeout=0.05)
    assert info.value.job_names == ["batches/emu000001"]
    assert "call again with the same texts to resume" in str(info.value)
    emulator.batch_polls_to_finish = 0
    assert len(emb.embed_documents_batch_api(TEXTS, state_path=state, poll_interval=0)) == 7
    assert len(creates(emulator)) == 1


def test_batch_api_refuses_mixed_titles(emulator, tmp_path):
    with pytest.raises(InvalidInput, match="one title for a whole job"):
        make_embedder(emulator).embed_documents_batch_api(["a", "b"], titles=["A", "B"],
                                                          state_path=tmp_path / "s.json")
    assert emulator.requests == []


def test_cache_in_front_of_the_batch_api_only_submits_new_texts(emulator, tmp_path):
    from vecbridge.core.cache import CachedEmbedder

    gemini = make_embedder(emulator)
    cached = CachedEmbedder(gemini, tmp_path / "cache.sqlite")

    def via_batch_api(texts, **kw):  # type: ignore[no-untyped-def]
        return gemini.embed_documents_batch_api(texts, state_path=tmp_path / "s.json", poll_interval=0, **kw)

    cached.embed_documents_with(via_batch_api, TEXTS[:5])
    vectors = cached.embed_documents_with(via_batch_api, TEXTS)
    assert [c.texts for c in creates(emulator)] == [TEXTS[:5], TEXTS[5:]]
    np.testing.assert_allclose(vectors[6], unit_expected(TEXTS[6], task="RETRIEVAL_DOCUMENT", dimension=768),
                               atol=1e-6)
