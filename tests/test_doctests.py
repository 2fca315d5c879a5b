"""Docstring examples of the public API run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "vecbridge.core.collection",
    "vecbridge.core.registry",
    "vecbridge.embedders.hashing.embedder",
    "vecbridge.connectors.qdrant.edge",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
