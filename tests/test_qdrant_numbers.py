"""Numbers on Qdrant: exact round trips and exact comparisons, although Qdrant's payload storage
reads about one float in five back 1-2 ulps off (connectors/qdrant/numbers.py).

Ground truth is core's reference evaluator ``matches``; the engines are real (Qdrant Edge,
qdrant-client's local mode; a server under ``-m integration`` with VECBRIDGE_QDRANT_URL).
"""

from __future__ import annotations

import math
import os
import random
import struct
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
import qdrant_edge as qe

from vecbridge.connectors.qdrant.numbers import (
    BOUND_ULPS,
    PARSE_ULPS,
    equal_to,
    float_of,
    kept_exactly,
    range_plan,
    stored_key,
)
from vecbridge.core import CollectionSpec, Record, connect, matches
from vecbridge.core.store import VectorStore


def _ulps(a: float, b: float) -> int:
    def key(x: float) -> int:
        bits: int = struct.unpack("<q", struct.pack("<d", x))[0]
        return bits if bits >= 0 else -(bits & 0x7FFFFFFFFFFFFFFF)

    return abs(key(a) - key(b))


def _floats(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    out = [rng.uniform(-1e6, 1e6) for _ in range(n // 2)]
    out += [math.ldexp(rng.random() + 0.5, rng.randint(-60, 60)) for _ in range(n - len(out))]
    return out


def _edge_round_trip(values: list[float]) -> list[float]:
    """The values as Qdrant Edge reads them back from its payload storage (no vecbridge between)."""
    shard = qe.EdgeShard.create(
        tempfile.mkdtemp() + "/s", qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=1, distance=qe.Distance.Dot))
    )
    shard.update(qe.UpdateOperation.upsert_points([qe.Point(i, [1.0], {"x": v}) for i, v in enumerate(values)]))
    points = shard.retrieve(list(range(len(values))), with_payload=True, with_vector=False)
    shard.close()
    back = {int(p.id): p.payload["x"] for p in points}
    return [back[i] for i in range(len(values))]


def test_edge_moves_some_floats_by_at_most_parse_ulps() -> None:
    """What numbers.py is built on, measured on the engine itself: Edge changes some floats'
    last digits (so a plain comparison would be wrong), never by more than PARSE_ULPS."""
    values = _floats(4000, seed=1)
    moved = [_ulps(v, b) for v, b in zip(values, _edge_round_trip(values), strict=True) if b != v]
    assert moved, "Edge stored every float exactly: numbers.py's workaround may no longer be needed"
    assert max(moved) <= PARSE_ULPS


def test_floats_kept_exactly_are_kept_exactly_by_edge() -> None:
    """kept_exactly decides which floats need a key: it must never claim one Edge moves."""
    rng = random.Random(4)
    values = [*_floats(6000, seed=4), *(round(rng.random() * 1000, rng.randint(0, 6)) for _ in range(3000))]
    values += (
        [i / 7 for i in range(3000)]
        + [10.0**k for k in range(-25, 25)]
        + [math.ldexp(1, k) for k in range(-1074, 1024, 9)]
    )
    back = _edge_round_trip(values)
    claimed = [(v, b) for v, b in zip(values, back, strict=True) if kept_exactly(v)]
    assert len(claimed) > len(values) // 4
    assert [(v, b) for v, b in claimed if repr(v) != repr(b)] == []


def _digit_rule(value: float) -> bool:
    """kept_exactly as first written, from the digits alone: what stored collections were keyed by."""
    text = repr(value).lstrip("-")
    mantissa, _, power = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0") or "0"
    exponent = (int(power) if power else 0) - len(fraction)
    return (len(text) <= 16 and "e" not in text) or (int(digits) <= 2**53 and -22 <= exponent <= 22)


def test_kept_exactly_answers_as_the_digit_rule_it_was_written_with() -> None:
    """A float's key is written when kept_exactly says no, and filters look for keys the same way:
    its answers must never change, or collections written before would stop matching. Its fast
    paths agree with the digit rule on every kind of float."""
    rng = random.Random(11)
    values = _floats(20000, seed=11) + [i / 7 for i in range(5000)]
    values += [round(rng.uniform(0, 1e5), k) for k in range(14) for _ in range(500)]
    values += [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(20000)]
    values += [10.0**k for k in range(-30, 30)] + [1e15, 1e16, 2.0**53, 2.0**53 + 2, 123456789012345678.0]
    values = [v for v in values if math.isfinite(v)]
    assert [v for v in values if kept_exactly(v) != _digit_rule(v)] == []


def _neighbours(x: float) -> list[float]:
    out = [x]
    for direction in (math.inf, -math.inf):
        y = x
        for _ in range(BOUND_ULPS + 3 * PARSE_ULPS):
            y = math.nextafter(y, direction)
            out.append(y)
    return [v for v in out if math.isfinite(v)]


@pytest.mark.parametrize(
    "value", [0.0, -0.0, 1.0, 0.5, 1 / 3, -2.5, 1e308, -1e308, 5e-324, 2**53 - 1, 2.0**52, 123456789.123456789]
)
@pytest.mark.parametrize("op", ["gt", "gte", "lt", "lte"])
def test_range_plan_is_exact_whatever_the_parse_errors(value: float, op: str) -> None:
    """Every x near the value, stored as Qdrant may store it, against a bound parsed up to
    PARSE_ULPS off either way, is decided as x <op> value: a float with a key stored up to
    PARSE_ULPS off; a float kept exactly, or an integer, stored exactly."""
    plan = range_plan(op, value)
    for candidate in _neighbours(float(value)):
        want = matches({"x": {f"${op}": value}}, {"x": candidate})
        for bound_shift in range(-PARSE_ULPS, PARSE_ULPS + 1):
            bound = None if plan.bound is None else _shift(plan.bound, bound_shift)

            def beyond(stored: float, bound: float | None = bound) -> bool:
                return bound is not None and (stored > bound if plan.bound_op == "gt" else stored < bound)

            for stored_shift in range(-PARSE_ULPS, PARSE_ULPS + 1):
                keyed = beyond(_shift(candidate, stored_shift)) or stored_key(candidate) in plan.near.keys
                assert keyed == want, ("keyed", candidate, stored_shift, bound_shift)
            if kept_exactly(candidate):
                spans = any(low <= candidate <= high for low, high in plan.near.spans)
                assert (beyond(candidate) or spans) == want, ("kept exactly", candidate, bound_shift)
            if candidate.is_integer() and abs(candidate) < 2**53:
                assert (beyond(candidate) or int(candidate) in plan.near.ints) == want, ("integer", candidate)


def _shift(x: float, ulps: int) -> float:
    direction = math.inf if ulps > 0 else -math.inf
    for _ in range(abs(ulps)):
        x = math.nextafter(x, direction)
    return x


def test_equality_compares_like_the_reference() -> None:
    assert stored_key(2.0) in equal_to(2).keys and 2 in equal_to(2.0).ints
    assert stored_key(-0.0) in equal_to(0.0).keys and stored_key(0.0) in equal_to(-0.0).keys
    assert stored_key(-0.0) != stored_key(0.0)  # reads keep the sign
    assert stored_key(True) not in equal_to(1).keys and 1 not in equal_to(True).ints
    assert stored_key(False) not in equal_to(0).keys
    assert stored_key(0.1) not in equal_to(math.nextafter(0.1, 1.0)).keys
    assert equal_to(2.5).ints == () and equal_to(2**60).ints == ()
    assert equal_to(0.5).spans == ((0.5, 0.5),) and equal_to(123456789.123456789).spans == ()  # may move
    assert float_of(stored_key(123456789.123456789)) == 123456789.123456789
    assert len({stored_key(True), stored_key(False), *(stored_key(x) for x in (0.0, -0.0, 1.0, -1.0, 2.5))}) == 7


# ----- on the engines ---------------------------------------------------------------------------


def _stores() -> list[Any]:
    params = [
        pytest.param(lambda: connect("qdrant+edge://" + tempfile.mkdtemp()), id="edge"),
        pytest.param(lambda: connect("qdrant+local://:memory:"), id="local"),
    ]
    url = os.environ.get("VECBRIDGE_QDRANT_URL")
    params.append(
        pytest.param(
            lambda: connect(url or ""),
            id="server",
            marks=[pytest.mark.integration, pytest.mark.skipif(not url, reason="VECBRIDGE_QDRANT_URL is not set")],
        )
    )
    return params


@pytest.fixture(params=_stores(), scope="module")
def numbers(request: pytest.FixtureRequest) -> Iterator[tuple[VectorStore, str, list[Record]]]:
    store = request.param()
    name = "numbers_" + os.urandom(4).hex()
    store.create_collection(CollectionSpec(name, 2))
    values: list[Any] = [*_floats(300, seed=2), 0.1, -0.0, 0.0, 3, 3.0, 2**53 - 1, 1e16, 5e-324, True, "3.0"]
    records = [
        Record(
            f"n{i}",
            [1.0, (i % 7) / 7 + 0.1],
            None,
            {"x": v, "pair": [v, -v] if type(v) is float else [v], "deep": {"v": [v, {"w": v}]}, "s": "text"},
        )
        for i, v in enumerate(values)
    ]
    store.upsert(name, records)
    yield store, name, records
    store.drop_collection(name)
    store.close()


def test_every_number_reads_back_exactly(numbers: tuple[VectorStore, str, list[Record]]) -> None:
    store, name, records = numbers
    back = {r.id: r.metadata for r in store.get(name, [r.id for r in records], include_vectors=False)}
    for r in records:
        x = back[r.id]["x"]
        assert type(x) is type(r.metadata["x"]) and repr(x) == repr(r.metadata["x"]), r.metadata
        assert back[r.id] == r.metadata
        assert [repr(v) for v in back[r.id]["pair"]] == [repr(v) for v in r.metadata["pair"]]
        assert repr(back[r.id]["deep"]) == repr(r.metadata["deep"])


def test_comparisons_at_every_stored_value_match_the_reference(numbers: tuple[VectorStore, str, list[Record]]) -> None:
    """Ranges and equality whose bound is exactly a stored value, or its neighbour, on the field
    and on a list field: where a parse error of one ulp would flip the answer."""
    store, name, records = numbers
    floats = [r.metadata["x"] for r in records if type(r.metadata["x"]) is float]
    moved = [v for v, back in zip(floats, _edge_round_trip(floats), strict=True) if back != v]
    kept = [v for v in floats if v not in moved]
    for v in [*moved[:4], *kept[:2], 0.0, 3, 2**53 - 1]:
        for bound in (v, math.nextafter(v, math.inf), math.nextafter(v, -math.inf)):
            for flt in (
                {"x": bound},
                {"x": {"$ne": bound}},
                {"x": {"$in": [bound, "3.0", True]}},
                {"pair": bound},
                *({"x": {op: bound}} for op in ("$gt", "$gte", "$lt", "$lte")),
                {"pair": {"$gte": bound}},
                {"$not": {"pair": {"$lt": bound}}},
            ):
                want = sum(matches(flt, r.metadata) for r in records)
                assert store.count(name, filter=flt) == want, flt
