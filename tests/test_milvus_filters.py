"""Milvus filters on a real engine (Milvus Lite): hostile keys and values are matched verbatim or
refused, never interpreted, and random filters agree with the reference semantics ``matches``."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("vecbridge.connectors.milvus", reason="pip install 'vecbridge[milvus]'")

from tests.backends.milvus import _skip_without_milvus, lite_url
from vecbridge.connectors.milvus.filters import MilvusFilterCompiler, literal
from vecbridge.connectors.milvus.shadow import LONG_STRING
from vecbridge.core import CollectionSpec, Metric, Record, connect, matches
from vecbridge.core.filters import parse_filter

if (_reason := _skip_without_milvus()) is not None:
    pytest.skip(_reason, allow_module_level=True)

DIM = 4
ATTACKS = [
    'x" or id != "',
    "x' or id != '",
    '\\" or true or \\"',
    "a\\",
    "\\",
    'line\nbreak" or 1 == 1 or "',
    "tab\there\r",
    '"]) or exists vb_filter["t"] or json_contains(vb_filter["t"], ["',
    "json_contains(vb_filter[\"t\"], \"x\")",
    "$meta",
    "日本語 \u2028 é",
    "{v}",
    "% s %(x)s",
]


@pytest.fixture(scope="module")
def store() -> Iterator[Any]:
    s = connect(lite_url())
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def victim(store: Any) -> Iterator[str]:
    """Records whose keys and values are all attacks; each must be found only by itself."""
    name = "victim"
    store.create_collection(CollectionSpec(name, DIM, Metric.EUCLIDEAN))
    recs = [
        Record(f"v{i}", [float(i), 1.0, 0.0, 0.0], attack, {"value": attack, attack: i, "tags": [attack, "common"]})
        for i, attack in enumerate(ATTACKS)
    ]
    store.upsert(name, recs)
    yield name
    assert store.count(name) == len(ATTACKS), "the victim collection lost records"
    store.drop_collection(name)


def test_literals_escape_what_ends_or_breaks_a_string() -> None:
    assert literal('a"b\\c\nd\te\rf') == '"a\\"b\\\\c\\nd\\te\\rf"'
    assert literal("日本") == '"日本"'


def test_key_paths_hold_only_hex() -> None:
    """A key never reaches a JSON path as text: ranges use its hexadecimal form."""
    expression = MilvusFilterCompiler().compile({'k"] or true or ["': {"$gt": 1}})
    assert expression is not None
    assert '"] or true' not in expression
    assert b'k"] or true or ["'.hex() in expression


@pytest.mark.parametrize("attack", ATTACKS)
def test_hostile_values_and_keys_match_verbatim(store: Any, victim: str, attack: str) -> None:
    i = ATTACKS.index(attack)
    vec = [float(i), 1.0, 0.0, 0.0]
    by_value: list[dict[str, Any]] = [{"value": attack}, {"tags": attack}]
    by_key: list[dict[str, Any]] = [{attack: i}, {attack: {"$gte": i}}, {attack: {"$exists": True}}]
    for flt in by_value + (by_key if not attack.startswith("$") else []):  # "$..." names an operator
        hits = store.query(victim, vec, k=50, filter=flt)
        assert [h.id for h in hits] == [f"v{i}"], f"filter {flt!r}"
        assert store.count(victim, filter=flt) == 1
    assert store.count(victim, filter={"value": {"$ne": attack}}) == len(ATTACKS) - 1
    assert store.count(victim, filter={"value": {"$in": [attack, "nothing"]}}) == 1
    (got,) = store.get(victim, [f"v{i}"])
    assert got.text == attack and got.metadata["value"] == attack


def test_ids_with_quotes_and_backslashes(store: Any) -> None:
    """pymilvus quotes VARCHAR ids with ' and no escaping (``ids=`` in get/delete) and pastes the last
    id into its query iterator's expression: ids holding quotes or backslashes break both. The
    driver writes its own escaped expressions."""
    name = "quoted_ids"
    store.create_collection(CollectionSpec(name, DIM))
    ids = ["a'b", 'c"d', "e\\f", "g\\", "h'); drop", "plain"]
    store.upsert(name, [Record(i, [1.0, float(n), 0.5, 0.0], i) for n, i in enumerate(ids)])
    try:
        assert sorted(r.id for r in store.get(name, ids)) == sorted(ids)
        scanned = [r.id for page in store.scan(name, batch_size=2) for r in page.records]
        assert scanned == sorted(ids)  # primary-key order, every id once
        store.delete(name, ["a'b", "e\\f"])
        assert sorted(r.id for r in store.get(name, ids)) == sorted(set(ids) - {"a'b", "e\\f"})
        assert store.count(name) == len(ids) - 2
    finally:
        store.drop_collection(name)


def test_long_strings_compare_exactly(store: Any) -> None:
    """Strings past LONG_STRING are indexed by their digest: equal values match, near ones do not."""
    name = "long_strings"
    store.create_collection(CollectionSpec(name, DIM))
    base = "x" * (LONG_STRING + 10)
    values = [base, base[:-1] + "y", base + "x", base[: LONG_STRING - 1], base[:LONG_STRING], base[: LONG_STRING + 1]]
    store.upsert(name, [Record(f"s{i}", [1.0, float(i), 0.5, 0.0], None, {"s": v}) for i, v in enumerate(values)])
    try:
        for i, v in enumerate(values):
            assert [h.id for h in store.query(name, [1.0, 0.0, 0.0, 0.0], k=10, filter={"s": v})] == [f"s{i}"]
    finally:
        store.drop_collection(name)


# ----- random filters against the reference semantics --------------------------------------

KEYS = ["a", "b", "tags", "when", "weird key \"'\\", "ключ"]
SCALARS: list[Any] = [0, 1, 2, 2.0, -1.5, 1e16, True, False, "1", "a", "b", "", "2024-01-01", "2024-06-15T12:00:00Z"]


def _value(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.1:
        return None
    if roll < 0.15:
        return []
    if roll < 0.35:
        return rng.sample(SCALARS, rng.randint(1, 3))
    if roll < 0.4:
        return {"nested": rng.choice(SCALARS)}
    return rng.choice(SCALARS)


def _metadata(rng: random.Random) -> dict[str, Any]:
    return {k: _value(rng) for k in KEYS if rng.random() < 0.7}


def _comparison(rng: random.Random) -> dict[str, Any]:
    key = rng.choice(KEYS)
    op = rng.choice(["$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$exists"])
    if op == "$exists":
        return {key: {op: rng.random() < 0.5}}
    if op in ("$in", "$nin"):
        values = rng.sample([v for v in SCALARS if v != ""], rng.randint(1, 3))
        return {key: {op: values}}
    if op in ("$eq", "$ne"):
        return {key: {op: rng.choice(SCALARS)}}
    bound: Any = rng.choice([0, 1, 1.5, -2, 1e16, "2024-03-01", "2024-01-01T00:00:00+01:00"])
    return {key: {op: bound}}


def _filter(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    roll = rng.random()
    if depth >= 3 or roll < 0.5:
        return _comparison(rng)
    if roll < 0.7:
        return {"$not": _filter(rng, depth + 1)}
    op = "$and" if roll < 0.85 else "$or"
    return {op: [_filter(rng, depth + 1) for _ in range(rng.randint(2, 3))]}


def test_random_filters_agree_with_the_reference(store: Any) -> None:
    rng = random.Random(20261130)
    name = "random_filters"
    store.create_collection(CollectionSpec(name, DIM))
    recs = [Record(f"m{i:03d}", [1.0, rng.random(), rng.random(), 0.5], None, _metadata(rng)) for i in range(120)]
    store.upsert(name, recs)
    try:
        checked = 0
        for _ in range(150):
            flt = _filter(rng)
            node = parse_filter(flt)
            want = {r.id for r in recs if matches(node, r.metadata)}
            got = {h.id for h in store.query(name, [1.0, 0.0, 0.0, 0.0], k=len(recs), filter=flt)}
            assert got == want, f"filter {flt!r}"
            assert store.count(name, filter=flt) == len(want), f"count {flt!r}"
            checked += bool(want) and len(want) < len(recs)
        assert checked > 50, "the random filters should mostly select proper subsets"
    finally:
        store.drop_collection(name)
