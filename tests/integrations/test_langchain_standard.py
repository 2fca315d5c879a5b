"""LangChain's own standard suites, unmodified, on every backend (vector store) and on the
vecbridge embedders that run offline (embeddings)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

pytest.importorskip("langchain_tests")

from langchain_tests.integration_tests import EmbeddingsIntegrationTests, VectorStoreIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from vecbridge.core.store import VectorStore
from vecbridge.integrations.langchain import VecbridgeEmbeddings, VecbridgeVectorStore


class TestVectorStoreStandard(VectorStoreIntegrationTests):
    """25 standard tests (sync and async twins) per backend, each on a fresh collection."""

    @pytest.fixture
    def vectorstore(self, vb_store: VectorStore, collection_name: str) -> Iterator[VecbridgeVectorStore]:
        yield VecbridgeVectorStore(vb_store, collection_name, self.get_embeddings())


HASHING_PARAMS: dict[str, Any] = {"embedder": "hashing", "dimension": 64}


class TestHashingEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[VecbridgeEmbeddings]:
        return VecbridgeEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return HASHING_PARAMS


class TestHashingEmbeddingsStandard(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[VecbridgeEmbeddings]:
        return VecbridgeEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return HASHING_PARAMS


class _GeminiEmulated:
    """Gemini through the real google-genai SDK against the in-process emulator (no network)."""

    emulator_url: ClassVar[str] = ""

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _emulator(cls) -> Iterator[None]:
        pytest.importorskip("google.genai")
        from tests.emulators.gemini import GeminiEmulator

        with GeminiEmulator(api_keys=["test-key"]) as emu:
            cls.emulator_url = emu.base_url
            yield

    @property
    def embeddings_class(self) -> type[VecbridgeEmbeddings]:
        return VecbridgeEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"embedder": "gemini", "api_key": "test-key", "base_url": self.emulator_url, "dimension": 768}


class TestGeminiEmbeddingsUnit(_GeminiEmulated, EmbeddingsUnitTests):
    pass


class TestGeminiEmbeddingsStandard(_GeminiEmulated, EmbeddingsIntegrationTests):
    pass
