"""pytest fixtures and helpers for tests that talk to the Gemini emulator.

Import what a test module needs: ``from tests.emulators.gemini.fixtures import emulator_fixture, make_embedder``
(the fixture is then requested as ``emulator``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from .server import GeminiEmulator
from .vectors import expected_values

#: A recognisable key, so a test can assert it never shows up in messages, reprs or logs.
TEST_KEY = "AIzaTEST-key-DO-NOT-LEAK-0123456789"

_made: list[Any] = []


@pytest.fixture(name="emulator")
def emulator_fixture() -> Iterator[GeminiEmulator]:
    """A running emulator that accepts TEST_KEY (import ``emulator_fixture``; request ``emulator``)."""
    with GeminiEmulator(api_keys=[TEST_KEY]) as emu:
        yield emu
        while _made:  # close the embedders this test made, so no connection outlives it
            _made.pop().close()


def fast_retry(attempts: int = 4) -> Any:
    from vecbridge.embedders.gemini import GeminiRetryPolicy

    return GeminiRetryPolicy(attempts=attempts, initial_wait=0.001, max_wait=0.05)


def make_embedder(emu: GeminiEmulator, **options: Any) -> Any:
    """A GeminiEmbedder pointed at ``emu`` through the SDK's HttpOptions(base_url=...)."""
    from vecbridge.embedders.gemini import GeminiEmbedder

    options.setdefault("api_key", TEST_KEY)
    options.setdefault("retry", fast_retry())
    options.setdefault("dimension", 768)
    emb = GeminiEmbedder(base_url=emu.base_url, **options)
    _made.append(emb)
    return emb


def unit_expected(text: str, **kw: Any) -> np.ndarray:
    """The emulator's vector for ``text``, normalised as the embedder must return it."""
    v = np.asarray(expected_values(text, **kw))
    return v / np.linalg.norm(v)
