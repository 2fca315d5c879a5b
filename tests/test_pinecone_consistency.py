"""Pinecone is eventually consistent: the driver says so, does not hide it, and can tell (from
Pinecone's LSNs) when reads reflect its writes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

pytest.importorskip("pinecone")

from tests.emulators.pinecone import PineconeEmulator
from tests.emulators.pinecone.fixtures import TEST_KEY, make_async_store, make_store, records
from vecbridge.connectors.pinecone.freshness import Freshness
from vecbridge.connectors.pinecone.layout import Place
from vecbridge.core import CollectionSpec
from vecbridge.core.driver import Target

LAG = 0.3


@pytest.fixture(name="emulator")
def lagging_emulator() -> Iterator[PineconeEmulator]:
    with PineconeEmulator(api_key=TEST_KEY, lag=LAG) as emu:
        yield emu


def test_reads_lag_writes_until_they_settle(emulator: PineconeEmulator) -> None:
    store = make_store(emulator)
    try:
        assert store.capabilities.eventually_consistent
        store.create_collection(CollectionSpec("late", 8))
        store.upsert("late", records(10, 8))
        assert store.count("late") == 0 and store.get("late", ["r0"]) == []  # not visible yet
        emulator.settle()
        assert store.count("late") == 10
        store.delete("late", ["r0", "r1"])
        assert store.count("late") == 10  # the delete lags too
        emulator.settle()
        assert store.count("late") == 8
    finally:
        store.close()


def test_caught_up_compares_the_lsns(emulator: PineconeEmulator) -> None:
    store = make_store(emulator)
    try:
        spec = store.create_collection(CollectionSpec("fresh", 8, multi_tenant=True))
        acme, globex = Target(spec, "acme"), Target(spec, "globex")
        driver = store.driver
        assert driver.caught_up(acme) is True  # nothing written: nothing to wait for
        store.upsert("fresh", records(5, 8), tenant="acme")
        assert driver.caught_up(acme) is False and driver.caught_up(globex) is True
        emulator.settle()
        assert driver.caught_up(acme) is True
    finally:
        store.close()


def test_caught_up_on_the_async_driver(emulator: PineconeEmulator) -> None:
    async def scenario() -> tuple[bool | None, bool | None]:
        store = make_async_store(emulator)
        try:
            spec = await store.create_collection(CollectionSpec("afresh", 8))
            await store.upsert("afresh", records(3, 8))
            before = await store.driver.caught_up(Target(spec))
            emulator.settle()
            return before, await store.driver.caught_up(Target(spec))
        finally:
            await store.close()

    assert asyncio.run(scenario()) == (False, True)


def test_without_lsns_freshness_is_unknown() -> None:
    """Pinecone Local and older servers send no LSN headers: the driver then cannot tell."""
    freshness = Freshness()
    place = Place("idx", "", "cosine", False, False)
    freshness.wrote(place, SimpleNamespace(response_info=SimpleNamespace(lsn_committed=None)))
    plan = freshness.caught_up(None, place, 4)  # type: ignore[arg-type]
    with pytest.raises(StopIteration) as done:
        next(plan)
    assert done.value.value is None
