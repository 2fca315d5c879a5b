"""Specs, fingerprints, metrics, ids and batching helpers."""

from __future__ import annotations

import uuid

import pytest

from vecbridge.core import (
    CollectionSpec,
    EmbedderFingerprint,
    InvalidInput,
    Metric,
    Record,
    TaskType,
    batched,
    batched_by_size,
    point_uuid,
)
from vecbridge.core.batching import estimate_record_bytes


def test_metric_parse_and_aliases() -> None:
    assert Metric.parse("COSINE") is Metric.COSINE
    assert Metric.parse("l2") is Metric.EUCLIDEAN
    assert Metric.parse("ip") is Metric.DOT
    with pytest.raises(InvalidInput, match="cosine"):
        Metric.parse("hamming")


def test_task_type_has_the_eight_gemini_tasks() -> None:
    assert {t.value for t in TaskType} == {
        "SEMANTIC_SIMILARITY",
        "CLASSIFICATION",
        "CLUSTERING",
        "RETRIEVAL_DOCUMENT",
        "RETRIEVAL_QUERY",
        "CODE_RETRIEVAL_QUERY",
        "QUESTION_ANSWERING",
        "FACT_VERIFICATION",
    }
    assert TaskType.parse("retrieval_query") is TaskType.RETRIEVAL_QUERY
    with pytest.raises(InvalidInput):
        TaskType.parse("SEARCH")


def test_spec_round_trip_and_checks() -> None:
    fp = EmbedderFingerprint("gemini", "gemini-embedding-001", 768, "RETRIEVAL_DOCUMENT", {"x": 1})
    spec = CollectionSpec("docs", 768, "dot", fp)  # type: ignore[arg-type]
    assert spec.metric is Metric.DOT
    assert CollectionSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(InvalidInput, match="produces 768"):
        CollectionSpec("docs", 512, Metric.COSINE, fp)
    with pytest.raises(InvalidInput):
        CollectionSpec("docs", True)  # type: ignore[arg-type]
    assert not fp.compatible_with(EmbedderFingerprint("gemini", "gemini-embedding-001", 768, "CLUSTERING"))
    assert fp.compatible_with(EmbedderFingerprint("gemini", "gemini-embedding-001", 768, "RETRIEVAL_DOCUMENT"))


def test_point_uuid_is_deterministic_and_injective() -> None:
    assert point_uuid("doc-1") == point_uuid("doc-1")
    assert point_uuid("doc-1") != point_uuid("doc-2")
    assert uuid.UUID(point_uuid("doc-1")).version == 5
    # Ids that look like UUIDs are mapped too: passing them through let an id equal to another
    # id's point UUID overwrite that record.
    victim = point_uuid("victim")
    assert point_uuid(victim) != victim
    u = str(uuid.uuid4())
    assert point_uuid(u) != u


def test_batched_is_lazy_and_exact() -> None:
    assert [len(b) for b in batched(range(10), 4)] == [4, 4, 2]
    gen = batched(iter(range(10**9)), 3)
    assert next(gen) == [0, 1, 2]
    with pytest.raises(InvalidInput):
        list(batched([1], 0))


def test_batched_by_size_respects_count_and_bytes() -> None:
    recs = [Record(f"r{i}", [0.1] * (i % 50 + 1), "t" * (i * 7 % 300)) for i in range(500)]
    batches = list(batched_by_size(recs, max_count=40, max_bytes=5_000, size_of=estimate_record_bytes))
    assert [r.id for b in batches for r in b] == [r.id for r in recs]
    for b in batches:
        assert len(b) <= 40
        assert sum(estimate_record_bytes(r) for r in b) <= 5_000
    big = Record("huge", [0.1] * 10, "x" * 10_000)
    with pytest.raises(InvalidInput, match="huge"):
        list(
            batched_by_size(
                [big], max_count=10, max_bytes=5_000, size_of=estimate_record_bytes, describe=lambda r: r.id
            )
        )


def test_validation_names_the_bad_record_in_a_batch() -> None:
    from vecbridge.core.validation import validate_records

    good = [Record(f"r{i}", [0.5, 0.5]) for i in range(5)]
    for bad, fragment in [
        (Record("big", [1e39, 0.5]), "float32"),
        (Record("nan", [float("nan"), 0.5]), "NaN"),
        (Record("ragged", [0.5]), "2"),
        (Record("text", ["a", "b"]), "numbers"),  # type: ignore[list-item]
        (Record("zero", [0.0, 0.0]), "zeros"),
    ]:
        with pytest.raises(InvalidInput, match=fragment) as info:
            validate_records([*good, bad, *good[:0]], 2, Metric.COSINE)
        assert repr(bad.id) in str(info.value)
    out = validate_records(good, 2, Metric.COSINE)
    assert [list(r.vector) for r in out] == [[0.5, 0.5]] * 5
