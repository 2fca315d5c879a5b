"""The Pinecone API key never shows in reprs, error messages or logs, and is not accepted in URLs."""

from __future__ import annotations

import asyncio
import logging
import traceback

import pytest

pytest.importorskip("pinecone")

from tests.emulators.pinecone import PineconeEmulator
from tests.emulators.pinecone.fixtures import (  # noqa: F401
    TEST_KEY,
    emulator_fixture,
    make_async_store,
    make_store,
    records,
)
from vecbridge.core import CollectionSpec, InvalidInput, StoreError, connect

WRONG_KEY = "pcsk_WRONG-key-also-secret-9876543210"


def _visible(exc: BaseException) -> str:
    """Everything a user might print about an exception: message, repr, chained causes, traceback."""
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


def test_key_is_used_but_never_shown(emulator: PineconeEmulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = make_store(emulator)
    try:
        store.create_collection(CollectionSpec("safe", 8))
        store.upsert("safe", records(3, 8))
        assert store.count("safe") == 3
        # The key really travelled (so not seeing it below means something) ...
        assert {r.headers.get("Api-Key") for r in emulator.requests} == {TEST_KEY}
        # ... and shows nowhere a user looks.
        assert TEST_KEY not in repr(store) and TEST_KEY not in str(store)
        assert TEST_KEY[-8:] not in repr(store)
        assert TEST_KEY not in caplog.text
    finally:
        store.close()


def test_rejected_key_error_does_not_contain_it(emulator: PineconeEmulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = make_store(emulator, api_key=WRONG_KEY)
    try:
        with pytest.raises(StoreError, match=r"401.*PINECONE_API_KEY") as info:
            store.list_collections()
        assert WRONG_KEY not in _visible(info.value)
        assert TEST_KEY not in _visible(info.value)
        assert WRONG_KEY not in caplog.text
    finally:
        store.close()


def test_key_in_url_is_refused(emulator: PineconeEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    for url in (
        f"pinecone://:{WRONG_KEY}@",
        f"pinecone://?api_key={WRONG_KEY}",
        f"pinecone+local://u:{WRONG_KEY}@h:5080",
    ):
        with pytest.raises(InvalidInput, match="PINECONE_API_KEY") as info:
            connect(url)
        assert WRONG_KEY not in str(info.value)


def test_missing_key_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PINECONE_API_KEY", raising=False)
    with pytest.raises(InvalidInput, match="PINECONE_API_KEY"):
        connect("pinecone://")


def test_key_from_environment(emulator: PineconeEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINECONE_API_KEY", TEST_KEY)
    store = connect(emulator.url)
    try:
        assert store.list_collections() == []
        assert TEST_KEY not in repr(store)
    finally:
        store.close()


def test_async_driver_never_shows_the_key(emulator: PineconeEmulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    async def scenario() -> list[str]:
        seen: list[str] = []
        good, bad = make_async_store(emulator), make_async_store(emulator, api_key=WRONG_KEY)
        try:
            await good.create_collection(CollectionSpec("quiet", 8))
            await good.upsert("quiet", records(3, 8))
            seen += [repr(good), str(good), repr(good.driver), repr(good.driver.settings)]
            with pytest.raises(StoreError, match="401") as info:
                await bad.count("quiet")
            seen.append(_visible(info.value))
        finally:
            await good.close()
            await bad.close()
        return seen

    shown = "\n".join(asyncio.run(scenario()))
    assert TEST_KEY not in shown and TEST_KEY[-8:] not in shown and WRONG_KEY not in shown
    assert TEST_KEY not in caplog.text and WRONG_KEY not in caplog.text
