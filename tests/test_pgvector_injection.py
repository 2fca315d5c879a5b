"""SQL injection attempts through collection names, schema names, ids, texts, metadata keys and
filter values: each is refused or stored verbatim, and the tables survive."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

pytest.importorskip("vecbridge.connectors.pgvector", reason="pip install 'vecbridge[pgvector]'")

from tests.backends.pgvector import _skip_without_pgserver, embedded_store
from vecbridge.core import CollectionSpec, InvalidInput, Metric, Record, matches

if (_reason := _skip_without_pgserver()) is not None:
    pytest.skip(_reason, allow_module_level=True)

DIM = 4
ATTACKS = [
    "x'; DROP TABLE victim; --",
    'x"; DROP TABLE victim; --',
    "x' OR '1'='1",
    "%s",
    "%(f0)s",
    "{}",
    "$1",
    "$v",
    "'\\",
    "); DELETE FROM victim WHERE (true",
    "lax $.* ? (@ == 1)",
    '") || true || ("',
    "x\" ? (true) || $.\"",
]


@pytest.fixture(scope="module")
def store() -> Iterator[Any]:
    s = embedded_store(index="none")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def victim(store: Any) -> Iterator[str]:
    """A collection that must come through every attack intact."""
    name = "victim"
    store.drop_collection(name)
    store.create_collection(CollectionSpec(name, DIM, Metric.EUCLIDEAN))
    store.upsert(name, [Record(f"v{i}", [float(i), 1.0, 0.0, 0.0], "safe", {"k": i}) for i in range(5)])
    yield name
    assert store.count(name) == 5, "the victim table lost rows"
    assert store.has_collection(name)
    store.drop_collection(name)


@pytest.mark.parametrize(
    "name",
    [
        "victim; DROP TABLE victim",
        'victim"; DROP TABLE victim; --',
        "victim' --",
        "pg_catalog.pg_class",
        "public.victim",
        "x" * 64,
        "",
        "1victim",
    ],
)
def test_hostile_collection_names_are_refused(store: Any, victim: str, name: str) -> None:
    with pytest.raises(InvalidInput):
        store.create_collection(CollectionSpec(name, DIM))
    with pytest.raises(InvalidInput):
        store.drop_collection(name)
    with pytest.raises(InvalidInput):
        store.count(name)


def test_reserved_names_are_refused(store: Any, victim: str) -> None:
    with pytest.raises(InvalidInput, match="reserved"):
        store.create_collection(CollectionSpec("vecbridge_collections", DIM))


@pytest.mark.parametrize("schema", ["public; DROP TABLE victim", 'x"y', "pg_catalog.x", ""])
def test_hostile_schema_names_are_refused(schema: str) -> None:
    with pytest.raises(InvalidInput, match="schema"):
        embedded_store(schema=schema)


def test_hostile_ids_texts_and_metadata_are_stored_verbatim(store: Any, victim: str) -> None:
    records = [
        Record(attack, [1.0, 0.0, float(i), 0.0], attack, {attack: attack, "k": attack, "n": i})
        for i, attack in enumerate(ATTACKS)
    ]
    store.upsert(victim, records)
    got = {r.id: r for r in store.get(victim, ATTACKS)}
    assert set(got) == set(ATTACKS)
    for rec in records:
        assert got[rec.id].text == rec.text and got[rec.id].metadata == rec.metadata
    store.delete(victim, ATTACKS)
    assert store.get(victim, ATTACKS) == []


def _as_field(attack: str) -> str:
    """The attack as a legal field name of the portable language (no leading '$', no dots)."""
    key = attack.replace(".", "_")
    return "_" + key if key.startswith("$") else key


@pytest.mark.parametrize("attack", ATTACKS)
def test_hostile_filter_keys_and_values(store: Any, victim: str, attack: str) -> None:
    key = _as_field(attack)
    records = [
        Record("a", [1.0, 0.0, 0.0, 0.0], None, {key: attack, "k": attack}),
        Record("b", [0.0, 1.0, 0.0, 0.0], None, {key: [attack, 1], "k": 2}),
        Record("c", [0.0, 0.0, 1.0, 0.0], None, {"k": "other"}),
    ]
    name = "hostile"
    store.drop_collection(name)
    store.create_collection(CollectionSpec(name, DIM, Metric.EUCLIDEAN))
    try:
        store.upsert(name, records)
        filters: list[dict[str, Any]] = [
            {key: attack},
            {"k": attack},
            {key: {"$ne": attack}},
            {key: {"$in": [attack, "zz"]}},
            {key: {"$nin": [attack]}},
            {key: {"$exists": True}},
            {key: {"$gt": 0}},
            {"$not": {key: attack}},
        ]
        for flt in filters:
            expected = {r.id for r in records if matches(flt, r.metadata)}
            assert {h.id for h in store.query(name, [1.0, 1.0, 1.0, 1.0], k=10, filter=flt)} == expected, flt
            assert store.count(name, filter=flt) == len(expected), flt
        assert any(0 < store.count(name, filter=f) < 3 for f in filters), "the filters must select something"
        store.delete(name, filter={key: attack})
        assert sorted(r.id for p in store.scan(name) for r in p.records) == ["c"]
    finally:
        store.drop_collection(name)


def test_hostile_scan_cursor_is_just_a_value(store: Any, victim: str) -> None:
    pages = list(store.scan(victim, cursor="v2' OR '1'='1"))
    # Byte order: "v2' OR..." sorts after "v2" and before "v3": the rest is v3, v4.
    assert [r.id for p in pages for r in p.records] == ["v3", "v4"]


def test_query_vector_cannot_carry_sql(store: Any, victim: str) -> None:
    with pytest.raises(InvalidInput):
        store.query(victim, ["1); DROP TABLE victim; --", 0, 0, 0])  # type: ignore[list-item]
    hits = store.query(victim, np.array([4.0, 1.0, 0.0, 0.0]), k=1)
    assert [h.id for h in hits] == ["v4"]
