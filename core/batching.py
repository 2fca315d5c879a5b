"""Split work into batches that respect a store's per-request limits (count and bytes)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TypeVar

from .errors import InvalidInput
from .models import Record

__all__ = ["batched", "batched_by_size", "estimate_record_bytes"]

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Yield lists of at most ``size`` items, lazily (memory stays bounded by one batch)."""
    if size < 1:
        raise InvalidInput(f"batch size must be at least 1, got {size}")
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def estimate_record_bytes(record: Record) -> int:
    """Rough JSON size of a record on the wire: ~12 bytes per float plus text and metadata."""
    size = 64 + len(record.id.encode()) + 12 * len(record.vector)
    if record.text:
        size += len(record.text.encode()) + 16
    if record.metadata:
        size += len(json.dumps(record.metadata, ensure_ascii=False, default=str).encode())
    return size


def batched_by_size(
    items: Iterable[T],
    *,
    max_count: int,
    max_bytes: int,
    size_of: Callable[[T], int],
    describe: Callable[[T], str] = repr,
) -> Iterator[list[T]]:
    """Yield batches with at most ``max_count`` items whose ``size_of`` sum is <= ``max_bytes``.

    An item that alone exceeds ``max_bytes`` can never be sent: raises ``InvalidInput`` naming it
    (before that batch is yielded), instead of letting the store reject a whole request.
    """
    if max_count < 1 or max_bytes < 1:
        raise InvalidInput("max_count and max_bytes must be positive")
    batch: list[T] = []
    total = 0
    for item in items:
        n = size_of(item)
        if n > max_bytes:
            raise InvalidInput(
                f"{describe(item)} is about {n} bytes, more than the {max_bytes}-byte request limit: "
                "shorten its text or metadata"
            )
        if batch and (len(batch) >= max_count or total + n > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += n
    if batch:
        yield batch
