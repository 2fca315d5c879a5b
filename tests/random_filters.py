"""Records whose metadata holds every awkward shape, and random filters over them, shared by the
tests that check a store's filters against the reference semantics (``vecbridge.core.matches``):
missing keys, nulls, empty and nested lists, objects, ints vs floats vs booleans vs numeric-looking
strings, unicode and quote-laden keys."""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from vecbridge.core import Record

KEYS = ["n", "s", "b", "mix", "tags", 'we\'ird "key"', "emoji🚀", "%s"]
VALUES: list[Any] = [
    0,
    1,
    2,
    2.0,
    -3,
    2.5,
    1e16,
    True,
    False,
    "1",
    "2",
    "a",
    "b",
    "日本語",
    "O'Brien",
    "",
    "%s",
    "$v",
]


def _value(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.45:
        return rng.choice(VALUES)
    if roll < 0.55:
        return None
    if roll < 0.62:
        return []
    if roll < 0.85:
        return rng.sample(VALUES, rng.randint(1, 3))
    if roll < 0.92:
        return [[rng.choice(VALUES)]]  # nested list: never matched by a scalar test
    return {"a": rng.choice(VALUES)}  # object: never matched either


def dataset(n: int = 240, dim: int = 8, seed: int = 3) -> list[Record]:
    rng = random.Random(seed)
    vecs = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    records = []
    for i in range(n):
        md = {k: _value(rng) for k in KEYS if rng.random() < 0.7}
        records.append(Record(f"r{i}", vecs[i].tolist(), None, md))
    return records


def random_filter(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    roll = rng.random()
    if depth < 2 and roll < 0.25:
        op = rng.choice(["$and", "$or"])
        return {op: [random_filter(rng, depth + 1) for _ in range(rng.randint(1, 3))]}
    if depth < 2 and roll < 0.35:
        return {"$not": random_filter(rng, depth + 1)}
    key = rng.choice(KEYS)
    op = rng.choice(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "short"])
    scalar = rng.choice(VALUES)
    if op == "short":
        return {key: scalar}
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return {key: {op: rng.choice([0, 1, 2, 2.0, 1.5, -3, 1e16])}}
    if op in ("$in", "$nin"):
        return {key: {op: rng.sample(VALUES, rng.randint(1, 4))}}
    if op == "$exists":
        return {key: {op: rng.random() < 0.5}}
    return {key: {op: scalar}}


FILTERS = [random_filter(random.Random(seed)) for seed in range(300)]
