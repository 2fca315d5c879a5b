"""Records as the Arrow tables a Ray dataset carries: exact both ways, and bad rows refused with the
same typed errors as ``Store.upsert`` (no Ray cluster needed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("ray")
import pyarrow as pa

from vecbridge.core import CollectionSpec, Record, Store
from vecbridge.core.errors import DimensionMismatch, InvalidInput, StoreError
from vecbridge.integrations.ray.tables import records_table, table_records
from vecbridge.testing.memory import MemoryDriver

RECORDS = [
    Record("a", [0.1, -0.0, 3.4e38], "héllo ✓", {"big": 2**53 - 1, "f": 0.1, "neg": -0.0, "nested": {"l": [1, "x"]}}),
    Record("b", [1.0, 2.0, 3.0], None, {}),
]


def test_records_round_trip_exactly() -> None:
    table = records_table(RECORDS, 3)
    assert table.schema.field("vector").type == pa.list_(pa.float32(), 3)
    back = table_records(table)
    assert [r.id for r in back] == ["a", "b"]
    assert [r.text for r in back] == ["héllo ✓", None]
    assert back[0].metadata == RECORDS[0].metadata
    assert str(back[0].metadata["neg"]) == "-0.0" and type(back[0].metadata["big"]) is int
    for got, want in zip(back, RECORDS, strict=True):
        assert np.array_equal(np.asarray(got.vector), np.asarray(want.vector, dtype=np.float32))


def test_a_store_vector_of_another_length_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="not all 3-d"):
        records_table([Record("a", [1.0, 2.0], None, {})], 3)


def _upsert(table: pa.Table) -> Store:
    store = Store(MemoryDriver())
    store.create_collection(CollectionSpec("c", 3))
    store.upsert("c", table_records(table))
    return store


def test_a_row_of_another_dimension_fails_as_upsert_does() -> None:
    table = pa.table({"id": ["a", "b"], "vector": [[1.0, 2.0, 3.0], [1.0, 2.0]]})
    with pytest.raises(DimensionMismatch, match="record 'b'"):
        _upsert(table)


def test_tensor_columns_from_numpy_batches_are_read() -> None:
    from ray.data.extensions import ArrowTensorArray

    matrix = np.arange(6, dtype=np.float64).reshape(2, 3) + 1
    table = pa.table({"id": ["a", "b"], "vector": ArrowTensorArray.from_numpy(matrix)})
    store = _upsert(table)
    assert store.get("c", ["b"])[0].vector == [4.0, 5.0, 6.0]


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"id": ["a"]}, "no 'vector' column"),
        ({"id": ["a"], "vector": pa.array([None], pa.list_(pa.float32()))}, "no vector"),
        ({"id": ["a"], "vector": ["1,2,3"]}, "not lists of numbers"),
        ({"id": ["a"], "vector": [[1.0, 2.0, 3.0]], "metadata": [{"k": 1}]}, "JSON object string"),
        ({"id": ["a"], "vector": [[1.0, 2.0, 3.0]], "metadata": ["{oops"]}, "record 'a'.*not valid JSON"),
        ({"id": ["a"], "vector": [[1.0, 2.0, 3.0]], "metadata": [json.dumps([1])]}, "not an object"),
        ({"id": [7], "vector": [[1.0, 2.0, 3.0]]}, "id must be a non-empty string"),
        ({"id": ["a"], "vector": [[1.0, float("nan"), 3.0]]}, "NaN"),
    ],
    ids=["no-vector-column", "null-vector", "text-vector", "struct-metadata", "bad-json", "json-list", "int-id", "nan"],
)
def test_bad_rows_raise_typed_errors(columns: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        _upsert(pa.table(columns))
