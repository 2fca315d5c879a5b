"""The largest filters core lets through compile to SQL PostgreSQL can run: a ``$in``/``$nin`` of
1,024 values (core's limit) runs even on a database whose ``max_stack_depth`` is PostgreSQL's
smallest (100kB), where a flat chain of 1,024 jsonpath alternatives overflows the stack."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

pytest.importorskip("vecbridge.connectors.pgvector", reason="pip install 'vecbridge[pgvector]'")

from tests.backends.pgvector import _skip_without_pgserver, embedded_conninfo
from vecbridge.core import CollectionSpec, Record, Store, connect, matches
from vecbridge.core.limits import MAX_FILTER_LIST

if (_reason := _skip_without_pgserver()) is not None:
    pytest.skip(_reason, allow_module_level=True)


@pytest.fixture(scope="module")
def small_stack() -> Iterator[tuple[Store, str]]:
    """A store on a database whose sessions run with max_stack_depth = 100kB."""
    db = "stack_" + uuid.uuid4().hex[:8]
    with psycopg.connect(embedded_conninfo(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
        admin.execute(sql.SQL("ALTER DATABASE {} SET max_stack_depth = '100kB'").format(sql.Identifier(db)))
    params = conninfo_to_dict(embedded_conninfo())
    store = connect(f"pgvector://postgres:{params['password']}@/{db}?host={params['host']}")
    try:
        yield store, db
    finally:
        store.close()
        with psycopg.connect(embedded_conninfo(), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(db)))


def test_the_database_really_has_a_small_stack(small_stack: tuple[Store, str]) -> None:
    with psycopg.connect(embedded_conninfo(), dbname=small_stack[1]) as conn:
        assert conn.execute("SHOW max_stack_depth").fetchone() == ("100kB",)


@pytest.mark.parametrize("op", ["$in", "$nin"])
def test_the_largest_in_list_runs(small_stack: tuple[Store, str], op: str) -> None:
    store = small_stack[0]
    name = "t" + uuid.uuid4().hex[:10]
    store.create_collection(CollectionSpec(name, 4))
    vecs = np.random.default_rng(0).normal(size=(300, 4)).astype(np.float32)
    records = [Record(f"r{i}", vecs[i], None, {"n": i * 7, "s": f"v{i}"}) for i in range(300)]
    store.upsert(name, records)
    values: list[Any] = [i * 3 for i in range(MAX_FILTER_LIST // 2)] + [
        f"v{2 * i}" for i in range(MAX_FILTER_LIST // 2)
    ]
    assert len(values) == MAX_FILTER_LIST
    for key in ("n", "s"):
        flt = {key: {op: values}}
        expected = {r.id for r in records if matches(flt, r.metadata)}
        assert 0 < len(expected) < len(records)
        assert store.count(name, filter=flt) == len(expected)
        hits = store.query(name, vecs[0], k=len(records), filter=flt)
        assert {h.id for h in hits} == expected
    store.drop_collection(name)
