"""Pinecone's metadata rules and id rules, as the connector applies them before sending."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("pinecone")

from tests.emulators.pinecone import PineconeEmulator
from tests.emulators.pinecone.fixtures import emulator_fixture, records, store_fixture, vectors  # noqa: F401
from vecbridge.connectors.pinecone import PineconeStore
from vecbridge.connectors.pinecone.convert import pinecone_id
from vecbridge.core import CollectionSpec, InvalidInput, Record

DIM = 8


@pytest.mark.parametrize(
    "field, value, why",
    [
        ("nested", {"a": 1}, "nested object"),
        ("years", [2020, 2021], "list holding int"),
        ("mixed", ["a", None], "list holding NoneType"),
        ("huge", 2**60, "2\\*\\*53"),
        ("$where", "x", "starts with '\\$'"),
        ("_vb_text", "x", "reserved"),
    ],
)
def test_rule_violations_name_record_and_field_and_send_nothing(
    emulator: PineconeEmulator,
    store: PineconeStore,
    field: str,
    value: Any,
    why: str,
) -> None:
    store.create_collection(CollectionSpec("meta", DIM))
    good = records(1500, DIM)  # more than one request's worth: the check must precede any request
    bad = Record("bad-one", vectors(1, DIM, seed=9)[0], "t", {"ok": 1, field: value})
    with pytest.raises(InvalidInput, match=why) as info:
        store.upsert("meta", [*good, bad])
    assert "'bad-one'" in str(info.value) and repr(field) in str(info.value)
    assert emulator.received("/vectors/upsert") == []
    assert store.count("meta") == 0


def test_metadata_over_40kb_is_refused_naming_the_largest_field(
    emulator: PineconeEmulator, store: PineconeStore
) -> None:
    store.create_collection(CollectionSpec("meta", DIM))
    big_text = Record("long", vectors(1, DIM)[0], "x" * 41_000, {"small": "s"})
    with pytest.raises(InvalidInput, match=r"record 'long'.*40960.*field text"):
        store.upsert("meta", [big_text])
    big_field = Record("wide", vectors(1, DIM)[0], None, {"notes": "y" * 30_000, "more": "z" * 11_000})
    with pytest.raises(InvalidInput, match=r"record 'wide'.*field 'notes'"):
        store.upsert("meta", [big_field])
    assert emulator.received("/vectors/upsert") == []


def test_stream_is_checked_record_by_record(emulator: PineconeEmulator, store: PineconeStore) -> None:
    store.create_collection(CollectionSpec("meta", DIM))
    good = records(5, DIM)
    bad = Record("late", vectors(1, DIM)[0], None, {"obj": {"k": "v"}})
    with pytest.raises(InvalidInput, match=r"'late'.*'obj'"):
        store.upsert("meta", (r for r in [*good, bad]), batch_size=2)
    # As the core defines streams: earlier batches were written, the failing one was not.
    assert store.count("meta") == 4


def test_values_come_back_as_they_went_in(store: PineconeStore) -> None:
    store.create_collection(CollectionSpec("meta", DIM))
    md = {
        "int": 7,
        "float": 2.0,
        "frac": 0.25,
        "neg": -3,
        "t": True,
        "f": False,
        "s": "ü",
        "l": ["a", "b"],
        "none": None,
        "empty": [],
        "big": 2**53,
    }
    store.upsert("meta", [Record("r", vectors(1, DIM)[0], "hello", md)])
    (got,) = store.get("meta", ["r"])
    assert got.metadata == md and got.text == "hello"
    assert {k: type(v) for k, v in got.metadata.items()} == {k: type(v) for k, v in md.items()}
    # None and [] are absent for filters, exactly as the core says.
    assert store.count("meta", filter={"none": {"$exists": False}}) == 1
    assert store.count("meta", filter={"empty": {"$exists": True}}) == 0


@pytest.mark.parametrize("user_id", ["plain-id_1", "with space", "50%", "ユニコード", "tab\tid", "x" * 512, "ü" * 300])
def test_ids_round_trip_and_map_to_valid_pinecone_ids(store: PineconeStore, user_id: str) -> None:
    stored = pinecone_id(user_id)
    assert stored.isascii() and " " not in stored and 1 <= len(stored) <= 512
    store.create_collection(CollectionSpec("ids", DIM))
    store.upsert("ids", [Record(user_id, vectors(1, DIM)[0], None, {})])
    assert [r.id for r in store.get("ids", [user_id])] == [user_id]
    assert [h.id for h in store.query("ids", vectors(1, DIM)[0], k=1)] == [user_id]
    assert [r.id for p in store.scan("ids") for r in p.records] == [user_id]
    store.delete("ids", [user_id])
    assert store.count("ids") == 0


def test_id_mapping_is_one_to_one() -> None:
    ids = ["a b", "a%20b", "a%2520b", "ü", "%C3%BC", "%~" + "0" * 64, "x" * 600, "x" * 601]
    assert len({pinecone_id(i) for i in ids}) == len(ids)
    assert pinecone_id("ordinary-id:42") == "ordinary-id:42"
