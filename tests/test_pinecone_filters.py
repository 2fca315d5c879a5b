"""The filter compiler: what it sends, and that random filters (with $not) select exactly what
the core's reference semantics select, on Pinecone's own filter semantics (emulated)."""

from __future__ import annotations

import random
from typing import Any

import pytest

pytest.importorskip("pinecone")

from tests.emulators.pinecone import PineconeEmulator
from tests.emulators.pinecone.fixtures import emulator_fixture, raw_index, store_fixture, vectors  # noqa: F401
from vecbridge.connectors.pinecone.filters import PineconeFilterCompiler
from vecbridge.core import CollectionSpec, InvalidFilter, Record, UnsupportedFilter, matches, parse_filter
from vecbridge.core.filters import Comparison, Instant, Not
from vecbridge.core.store import Store
from vecbridge.testing.conformance import filter_dataset

compile_ = PineconeFilterCompiler().compile


def test_negations_also_match_missing_fields() -> None:
    assert compile_({"a": {"$ne": 1}}) == {"$or": [{"a": {"$ne": 1}}, {"a": {"$exists": False}}]}
    assert compile_({"a": {"$nin": ["x"]}}) == {"$or": [{"a": {"$nin": ["x"]}}, {"a": {"$exists": False}}]}


def test_booleans_leave_in_lists() -> None:
    assert compile_({"a": {"$in": ["x", 2, True]}}) == {
        "$or": [{"a": {"$in": ["x"]}}, {"a": {"$in": [2]}}, {"a": {"$eq": True}}]
    }


def test_not_is_pushed_down() -> None:
    assert compile_({"$not": {"$or": [{"a": 1}, {"b": {"$exists": True}}]}}) == {
        "$and": [{"$or": [{"a": {"$ne": 1}}, {"a": {"$exists": False}}]}, {"b": {"$exists": False}}]
    }
    assert compile_({"$not": {"$not": {"a": "x"}}}) == {"a": {"$eq": "x"}}
    negated_range = compile_({"$not": {"y": {"$gt": 3}}})
    assert negated_range["$or"][0] == {"y": {"$lte": 3}}
    assert "$not" not in repr(negated_range)


def test_what_pinecone_cannot_say_is_refused() -> None:
    with pytest.raises(InvalidFilter):
        compile_({"a": 2**60})  # refused by the core's parser already
    with pytest.raises(UnsupportedFilter, match="64-bit"):
        compile_(Comparison("a", "eq", 2**60))  # an AST built by hand skips the parser's value checks
    with pytest.raises(InvalidFilter, match="reserved"):
        compile_({"_vb_text": "x"})


def _random_filter(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    fields = {
        "year": [2015, 2018, 2020.0, 2024],
        "lang": ["en", "de", "日本語"],
        "tags": ["news", "sport", "none"],
        "score": [0.5, 2.5],
        "published": [True, False],
        "count": [1, True],
        "code": ["2018", 2018],
    }
    if depth < 3 and rng.random() < 0.45:
        kind = rng.choice(["$and", "$or", "$not"])
        if kind == "$not":
            return {"$not": _random_filter(rng, depth + 1)}
        return {kind: [_random_filter(rng, depth + 1) for _ in range(rng.randint(1, 3))]}
    field = rng.choice(list(fields))
    values = fields[field]
    op = rng.choice(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists"])
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return {field: {op: rng.choice([2016, 2019.5, 1.0, 3])}}
    if op in ("$in", "$nin"):
        return {field: {op: rng.sample(values, rng.randint(1, len(values)))}}
    if op == "$exists":
        return {field: {op: rng.random() < 0.5}}
    return {field: {op: rng.choice(values)}}


def test_random_filters_match_the_reference_semantics(store: Store) -> None:
    recs = filter_dataset(dim=8, nested=False, keep_null=True)
    store.create_collection(CollectionSpec("flt", 8))
    store.upsert("flt", recs)
    rng = random.Random(20260)
    probe = vectors(1, 8, seed=3)[0]
    for _ in range(150):
        flt = _random_filter(rng)
        expected = {r.id for r in recs if matches(flt, r.metadata)}
        got = {h.id for h in store.query("flt", probe, k=len(recs), filter=flt)}
        assert got == expected, flt


def test_negated_range_on_foreign_records(emulator: PineconeEmulator, store: Store) -> None:
    """Records written by other clients lack the type list: a negated range still matches their
    missing fields and their numbers on the right side (the documented limit: not their strings)."""
    store.create_collection(CollectionSpec("mixed", 8))
    store.upsert("mixed", [Record("ours", vectors(1, 8)[0], None, {"y": "text"})])
    v = vectors(3, 8, seed=5)
    raw_index(emulator, "mixed").upsert(
        vectors=[
            {"id": "low", "values": v[0], "metadata": {"y": 1}},
            {"id": "high", "values": v[1], "metadata": {"y": 9}},
            {"id": "none", "values": v[2], "metadata": {"z": 1}},
        ]
    )
    got = {h.id for h in store.query("mixed", v[0], k=10, filter={"$not": {"y": {"$gt": 5}}})}
    assert got == {"ours", "low", "none"}


def test_date_ranges_compile_to_the_instant_keys() -> None:
    moment = parse_filter({"when": {"$gte": "2024-01-01T00:00:00+01:00"}})
    assert isinstance(moment, Comparison) and isinstance(moment.value, Instant)
    seconds = moment.value.seconds
    assert compile_({"when": {"$gte": "2024-01-01T00:00:00+01:00"}}) == {"_vb_tmax_when": {"$gte": seconds}}
    assert compile_({"when": {"$lt": "2024-01-01T00:00:00+01:00"}}) == {"_vb_tmin_when": {"$lt": seconds}}
    assert compile_({"$not": {"when": {"$lt": "2024-01-01T00:00:00+01:00"}}}) == {
        "$or": [{"_vb_tmin_when": {"$gte": seconds}}, {"_vb_tmin_when": {"$exists": False}}]
    }
    assert compile_({"when": {"$gte": 2000}}) == {"when": {"$gte": 2000}}  # a number range stays on the field


def test_date_ranges_over_lists_and_foreign_values(emulator: PineconeEmulator, store: Store) -> None:
    """Any date of a list may match; strings that are no dates, numbers and other clients' records
    (no instants kept) never match a date range, and the negation matches exactly the rest."""
    store.create_collection(CollectionSpec("dates", 8))
    v = vectors(5, 8, seed=11)
    recs = [
        Record("list", v[0], None, {"when": ["2020-01-01", "2025-06-01T12:00:00Z", "soon"]}),
        Record("early", v[1], None, {"when": "1999-12-31T23:59:59-01:00"}),
        Record("word", v[2], None, {"when": "yesterday"}),
        Record("number", v[3], None, {"when": 2024}),
    ]
    store.upsert("dates", recs)
    raw_index(emulator, "dates").upsert(vectors=[{"id": "foreign", "values": v[4], "metadata": {"when": "2030-01-01"}}])
    for flt in (
        {"when": {"$gt": "2024-01-01"}},
        {"when": {"$lte": "2000-01-01T00:00:00Z"}},
        {"when": {"$gte": "2019-01-01", "$lt": "2021-01-01"}},
        {"$not": {"when": {"$gt": "2024-01-01"}}},
    ):
        expected = {r.id for r in recs if matches(flt, r.metadata)}
        if isinstance(parse_filter(flt), Not):
            expected.add("foreign")  # no instant kept: not a match of the range, so of its negation
        got = {h.id for h in store.query("dates", v[0], k=10, filter=flt)}
        assert got == expected, flt
