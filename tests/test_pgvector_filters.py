"""The pgvector filter compiler against the reference semantics (``vecbridge.core.filters.matches``).

Hundreds of random filters over records whose metadata holds every awkward shape (missing keys,
nulls, empty and nested lists, objects, ints vs floats vs booleans vs numeric-looking strings,
unicode and quote-laden keys) run on a real PostgreSQL; every answer must equal ``matches``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("vecbridge.connectors.pgvector", reason="pip install 'vecbridge[pgvector]'")

import numpy as np

from tests.backends.pgvector import _skip_without_pgserver, embedded_store
from tests.random_filters import FILTERS, KEYS, dataset
from vecbridge.connectors.pgvector.filters import compile_filter
from vecbridge.core import CollectionSpec, InvalidFilter, Metric, Record, matches, parse_filter
from vecbridge.core.filters import Comparison

if (_reason := _skip_without_pgserver()) is not None:
    pytest.skip(_reason, allow_module_level=True)


@pytest.fixture(scope="module")
def loaded() -> Iterator[tuple[Any, str, list[Record]]]:
    store = embedded_store(index="none")
    name = "filters_ref"
    store.drop_collection(name)
    store.create_collection(CollectionSpec(name, 8, Metric.EUCLIDEAN))
    records = dataset()
    store.upsert(name, records)
    try:
        yield store, name, records
    finally:
        store.drop_collection(name)
        store.close()


def test_dataset_exercises_the_edges() -> None:
    """The random data must really contain what the semantics are about, or the test proves little."""
    values = [v for r in dataset() for v in r.metadata.values()]
    assert any(v is None for v in values) and any(v == [] for v in values)
    assert any(isinstance(v, list) and v and isinstance(v[0], list) for v in values)
    assert any(isinstance(v, dict) for v in values)
    assert any(v is True for v in values) and any(v == 1 and v is not True for v in values)
    assert any(v == "1" for v in values)
    assert all(k in {key for r in dataset() for key in r.metadata} for k in KEYS)


def test_random_filters_match_the_reference(loaded: tuple[Any, str, list[Record]]) -> None:
    store, name, records = loaded
    nonempty = 0
    for flt in FILTERS:
        expected = {r.id for r in records if matches(flt, r.metadata)}
        assert store.count(name, filter=flt) == len(expected), flt
        got = {h.id for h in store.query(name, [0.0] * 8, k=len(records), filter=flt)}
        assert got == expected, flt
        nonempty += 0 < len(expected) < len(records)
    # Most filters must split the data, or equality of sets would be too easy to reach.
    assert nonempty > len(FILTERS) // 2


@pytest.mark.parametrize(
    "flt",
    [
        {"n": 2},  # 2 == 2.0, any element of a list
        {"n": 1},  # 1 is not True
        {"b": True},
        {"s": "1"},  # "1" is not 1
        {"n": {"$ne": 2}},  # matches missing, null and []
        {"tags": {"$exists": False}},
        {'we\'ird "key"': {"$in": ["O'Brien", "%s"]}},
        {"emoji🚀": {"$nin": ["日本語"]}},
        {"%s": {"$gte": 2}},
        {"$not": {"$or": [{"n": {"$lt": 0}}, {"s": "a"}]}},
    ],
)
def test_edge_filters(loaded: tuple[Any, str, list[Record]], flt: dict[str, Any]) -> None:
    store, name, records = loaded
    expected = {r.id for r in records if matches(flt, r.metadata)}
    assert {h.id for h in store.query(name, [0.0] * 8, k=len(records), filter=flt)} == expected


def test_delete_by_filter_follows_the_same_semantics(loaded: tuple[Any, str, list[Record]]) -> None:
    store, _, records = loaded
    name = "filters_delete"
    store.drop_collection(name)
    store.create_collection(CollectionSpec(name, 8, Metric.EUCLIDEAN))
    try:
        store.upsert(name, records)
        flt = {"$or": [{"n": {"$ne": 2}}, {"tags": "a"}]}
        store.delete(name, filter=flt)
        left = {r.id for page in store.scan(name) for r in page.records}
        assert left == {r.id for r in records if not matches(flt, r.metadata)}
        assert 0 < len(left) < len(records)
    finally:
        store.drop_collection(name)


def test_nul_in_filter_keys_and_values_means_absent(loaded: tuple[Any, str, list[Record]]) -> None:
    """Core refuses NUL in filter dicts; a hand-built AST can still carry one. PostgreSQL cannot
    store NUL, so no record holds it: such a key is absent, such a value unequal."""
    store, name, records = loaded
    with pytest.raises(InvalidFilter):
        store.count(name, filter={"n\x00": 1})
    assert store.count(name, filter=Comparison("n\x00", "eq", 1)) == 0
    assert store.count(name, filter=Comparison("n\x00", "exists", False)) == len(records)
    assert store.count(name, filter=Comparison("s", "ne", "a\x00")) == len(records)
    with_a = {r.id for r in records if matches({"s": {"$in": ["a"]}}, r.metadata)}
    assert store.count(name, filter=Comparison("s", "in", ("a", "x\x00"))) == len(with_a)


def test_sql_text_carries_no_keys_or_values() -> None:
    """Keys and values travel as parameters: the SQL text is the same whatever they are."""
    canary_key, canary_value = "key'); DROP TABLE x; --", "value'); DROP TABLE y; --"
    flt = {
        "$or": [
            {canary_key: canary_value},
            {canary_key: {"$in": [canary_value, 5]}},
            {canary_key: {"$gt": 3}},
            {canary_key: {"$exists": True}},
        ]
    }
    cond = compile_filter(parse_filter(flt))
    assert cond is not None
    text = cond.clause.as_string(None)
    assert "DROP" not in text and canary_key not in text
    assert any(canary_key in str(v) for v in cond.params.values())
    plain = {"$or": [{"k": "v"}, {"k": {"$in": ["v", 5]}}, {"k": {"$gt": 3}}, {"k": {"$exists": True}}]}
    other = compile_filter(parse_filter(plain))
    assert other is not None and other.clause.as_string(None) == text


def test_a_filter_few_rows_pass_returns_every_passing_row() -> None:
    """An HNSW index scan checking a filter stops after hnsw.max_scan_tuples (20,000): with 10 rows
    of 40,000 passing it returned 3 to 7 of them. A short answer is checked exactly."""
    store = embedded_store()
    name = "few_pass"
    store.drop_collection(name)
    store.create_collection(CollectionSpec(name, 4))
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(40_000, 4)).astype(np.float32)
    try:
        with store.bulk_load(name, expected=len(vectors)):
            store.upsert(
                name,
                [Record(f"r{i}", vectors[i], None, {"cat": f"c{i % 4000}"}) for i in range(len(vectors))],
                batch_size=5000,
            )
        passing = {f"r{i}" for i in range(7, 40_000, 4000)}
        for q in rng.normal(size=(5, 4)):
            assert {h.id for h in store.query(name, q, k=10, filter={"cat": "c7"})} == passing
            # k above the passing rows: all of them, nothing else
            assert {h.id for h in store.query(name, q, k=50, filter={"cat": "c7"})} == passing
    finally:
        store.drop_collection(name)
        store.close()
