"""Pinecone's metadata rules and id rules, as the connector applies them before sending."""

from __future__ import annotations

import math
from typing import Any

import pytest

pytest.importorskip("pinecone")

from tests.emulators.pinecone import PineconeEmulator
from tests.emulators.pinecone.fixtures import emulator_fixture, records, store_fixture, vectors  # noqa: F401
from vecbridge.connectors.pinecone.ids import pinecone_id
from vecbridge.connectors.pinecone.metadata import decode, encode
from vecbridge.core import CollectionSpec, InvalidInput, Metric, Record, UpsertFailed
from vecbridge.core.store import Store

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
    store: Store,
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


def test_metadata_over_40kb_is_refused_naming_the_largest_field(emulator: PineconeEmulator, store: Store) -> None:
    store.create_collection(CollectionSpec("meta", DIM))
    big_text = Record("long", vectors(1, DIM)[0], "x" * 41_000, {"small": "s"})
    with pytest.raises(InvalidInput, match=r"record 'long'.*40960.*field text"):
        store.upsert("meta", [big_text])
    big_field = Record("wide", vectors(1, DIM)[0], None, {"notes": "y" * 30_000, "more": "z" * 11_000})
    with pytest.raises(InvalidInput, match=r"record 'wide'.*field 'notes'"):
        store.upsert("meta", [big_field])
    assert emulator.received("/vectors/upsert") == []


def test_stream_is_checked_record_by_record(emulator: PineconeEmulator, store: Store) -> None:
    store.create_collection(CollectionSpec("meta", DIM))
    good = records(5, DIM)
    bad = Record("late", vectors(1, DIM)[0], None, {"obj": {"k": "v"}})
    with pytest.raises(UpsertFailed) as info:
        store.upsert("meta", (r for r in [*good, bad]), batch_size=2)
    # As the core defines streams: earlier batches were written, the failing one was not.
    assert isinstance(info.value.cause, InvalidInput) and "'late'" in str(info.value.cause)
    assert "'obj'" in str(info.value.cause)
    assert info.value.written_ids == ["r0", "r1", "r2", "r3"] and sorted(info.value.failed_ids) == ["late", "r4"]
    assert store.count("meta") == 4


def test_values_come_back_as_they_went_in(store: Store) -> None:
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
        "big": 2**53 - 1,
    }
    store.upsert("meta", [Record("r", vectors(1, DIM)[0], "hello", md)])
    (got,) = store.get("meta", ["r"])
    assert got.metadata == md and got.text == "hello"
    assert {k: type(v) for k, v in got.metadata.items()} == {k: type(v) for k, v in md.items()}
    # None and [] are absent for filters, exactly as the core says.
    assert store.count("meta", filter={"none": {"$exists": False}}) == 1
    assert store.count("meta", filter={"empty": {"$exists": True}}) == 0


@pytest.mark.parametrize("user_id", ["plain-id_1", "with space", "50%", "ユニコード", "tab\tid", "x" * 512, "ü" * 300])
def test_ids_round_trip_and_map_to_valid_pinecone_ids(store: Store, user_id: str) -> None:
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


def test_numbers_survive_a_server_that_renders_them_differently() -> None:
    """Pinecone keeps numbers as 64-bit floats and may render 3.0 as 3 or -0.0 as 0: what the
    record held comes back all the same (type, value and the sign of zero)."""
    md = {"i": 7, "f": 3.0, "nz": -0.0, "z": 0.0, "big": 2**53 - 1, "x": 1 / 7, "e": 1e22}
    stored, _ = encode("n", None, md)
    rendered = {**stored, "i": 7.0, "f": 3, "nz": 0, "z": 0, "big": float(2**53 - 1), "e": 10**22}
    _, _, back = decode("n", rendered)
    assert back == md
    assert {k: type(v) for k, v in back.items()} == {k: type(v) for k, v in md.items()}
    assert math.copysign(1.0, back["nz"]) == -1.0 and math.copysign(1.0, back["z"]) == 1.0


def test_date_strings_get_hidden_instants(emulator: PineconeEmulator, store: Store) -> None:
    store.create_collection(CollectionSpec("meta", DIM))
    md = {"when": "2024-01-01T00:30:00+01:00", "span": ["2020-01-01", "not a date", "2025-01-01"], "n": "2024"}
    store.upsert("meta", [Record("d", vectors(1, DIM)[0], None, md)])
    kept = emulator.indexes["meta"].data.namespaces["__default__"]["d"].metadata
    assert kept["_vb_tmin_when"] == kept["_vb_tmax_when"] == 1704065400.0
    assert (kept["_vb_tmin_span"], kept["_vb_tmax_span"]) == (1577836800.0, 1735689600.0)
    assert "_vb_tmin_n" not in kept  # "2024" is not an ISO-8601 date
    (got,) = store.get("meta", ["d"])
    assert got.metadata == md  # the instants are never returned


def test_vectors_pinecone_counts_as_zero_are_refused(emulator: PineconeEmulator, store: Store) -> None:
    store.create_collection(CollectionSpec("dots", DIM, Metric.DOT))
    tiny = Record("tiny", [1e-9] * DIM)
    with pytest.raises(InvalidInput, match=r"'tiny'.*magnitude 1e-08"):
        store.upsert("dots", [*records(3, DIM), tiny])
    assert emulator.received("/vectors/upsert") == []
