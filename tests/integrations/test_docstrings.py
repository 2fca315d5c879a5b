"""The adapters' docstring examples run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    ("name", "needs"),
    [
        ("vecbridge.integrations.langchain.embeddings", "langchain_core"),
        ("vecbridge.integrations.langchain.vectorstore", "langchain_core"),
        ("vecbridge.integrations.haystack.document_store", "haystack"),
    ],
)
def test_docstring_examples(name: str, needs: str) -> None:
    pytest.importorskip(needs)
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
