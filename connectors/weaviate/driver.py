"""``WeaviateDriver`` (sync, over ``WeaviateClient``) and ``AsyncWeaviateDriver`` (over
``WeaviateAsyncClient``): thin I/O shells running the same operations (``collection_ops``,
``data_ops``), so the two differ only in how a client call is made."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, TypeVar

import weaviate
from weaviate.exceptions import WeaviateBaseError

from vecbridge.core.driver import (
    Adoption,
    AsyncDriverDefaults,
    Batch,
    Capabilities,
    DriverDefaults,
    SearchMode,
    SearchRequest,
    Target,
    WriteResult,
)
from vecbridge.core.errors import StoreError, VecbridgeError
from vecbridge.core.filters import FilterNode
from vecbridge.core.models import CollectionSpec, Hit, Record, ScanPage

from . import collection_ops, data_ops
from .errors import scrub, translate
from .options import WeaviateSettings, parse_settings
from .session import Session, Stepper, Steps

__all__ = ["AsyncWeaviateDriver", "WeaviateDriver"]

T = TypeVar("T")


def _capabilities(settings: WeaviateSettings, native_async: bool) -> Capabilities:
    return Capabilities(
        exact_search=False,  # HNSW
        search_modes=frozenset({SearchMode.DENSE, SearchMode.KEYWORD}),
        tenants=True,
        default_batch_size=settings.batch_size,
        query_options=frozenset({"consistency"}),
        native_async=native_async,
    )


class _Shell:
    """What both drivers share: settings, session, translation, repr."""

    def __init__(self, settings: WeaviateSettings, native_async: bool) -> None:
        self.settings = settings
        self.capabilities = _capabilities(settings, native_async)
        self._session = Session(settings)

    def translate(self, exc: BaseException) -> VecbridgeError | None:
        return translate(exc, self.settings.secrets, self.settings.location)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.settings.location})"


class WeaviateDriver(_Shell, DriverDefaults):
    """A Weaviate server or cluster through the sync client (see the package docstring)."""

    def __init__(self, settings: WeaviateSettings, client: weaviate.WeaviateClient) -> None:
        super().__init__(settings, native_async=False)
        self._client = client

    @classmethod
    def from_url(cls, url: str, **options: Any) -> WeaviateDriver:
        """Connect now (so a wrong address or key fails here). Options: see ``options.parse_settings``."""
        settings = parse_settings(url, options)
        try:
            client = settings.connect()
        except WeaviateBaseError as exc:
            raise _connect_error(settings, exc) from None
        return cls(settings, client)

    @classmethod
    def async_from_url(cls, url: str, **options: Any) -> AsyncWeaviateDriver:
        """The native async driver for ``url``; it connects on its first call."""
        return AsyncWeaviateDriver(parse_settings(url, options))

    def async_twin(self) -> AsyncWeaviateDriver:
        """``WeaviateAsyncClient`` to the same server (``Store.async_view``); it connects on its
        first call."""
        return AsyncWeaviateDriver(self.settings)

    def _run(self, steps: Steps[T]) -> T:
        stepper = Stepper(steps)
        while (io := stepper.advance()) is not None:
            try:
                stepper.succeeded(io.call(self._client))
            except Exception as exc:
                stepper.failed(exc)
        value: T = stepper.value
        return value

    def list_collections(self) -> list[str]:
        return self._run(collection_ops.list_collections(self._session))

    def describe(self, name: str) -> CollectionSpec | None:
        return self._run(collection_ops.describe(self._session, name))

    def create(self, spec: CollectionSpec) -> None:
        self._run(collection_ops.create(self._session, spec))

    def drop(self, name: str) -> bool:
        return self._run(collection_ops.drop(self._session, name))

    def adopt(self, name: str, adoption: Adoption) -> CollectionSpec:
        return self._run(collection_ops.adopt(self._session, name, adoption))

    def write(self, target: Target, batch: Batch) -> WriteResult:
        return self._run(data_ops.write(self._session, target, batch))

    def search(self, target: Target, request: SearchRequest) -> list[Hit]:
        return self._run(data_ops.search(self._session, target, request))

    def get(self, target: Target, ids: list[str], include_vectors: bool) -> list[Record]:
        return self._run(data_ops.get(self._session, target, ids, include_vectors))

    def delete_ids(self, target: Target, ids: list[str]) -> None:
        self._run(data_ops.delete_ids(self._session, target, ids))

    def delete_filter(self, target: Target, node: FilterNode) -> None:
        self._run(data_ops.delete_filter(self._session, target, node))

    def count(self, target: Target, node: FilterNode | None) -> int:
        return self._run(data_ops.count(self._session, target, node))

    def scan_page(
        self, target: Target, cursor: str | None, limit: int, include_vectors: bool, stop: str | None = None
    ) -> ScanPage:
        return self._run(data_ops.scan_page(self._session, target, cursor, limit, include_vectors, stop))

    def close(self) -> None:
        self._client.close()


class AsyncWeaviateDriver(_Shell, AsyncDriverDefaults):
    """The same driver over ``WeaviateAsyncClient``. Nothing is done on construction: the client
    is created, and connected, by the first call (inside the caller's event loop)."""

    def __init__(self, settings: WeaviateSettings) -> None:
        super().__init__(settings, native_async=True)
        self._client: weaviate.WeaviateAsyncClient | None = None
        self._connecting: asyncio.Lock | None = None
        self._closed = False

    async def _connected(self) -> weaviate.WeaviateAsyncClient:
        if self._client is not None:
            return self._client
        if self._closed:
            raise StoreError(f"{self!r} is closed: open the store again")
        self._connecting = self._connecting or asyncio.Lock()
        async with self._connecting:
            if self._client is None:
                client = self.settings.async_client()
                try:
                    await client.connect()
                except WeaviateBaseError as exc:
                    await client.close()
                    raise _connect_error(self.settings, exc) from None
                self._client = client
        return self._client

    async def _run(self, steps: Steps[T]) -> T:
        client = await self._connected()
        stepper = Stepper(steps)
        while (io := stepper.advance()) is not None:
            try:
                outcome = io.call(client)
                stepper.succeeded(await outcome if inspect.isawaitable(outcome) else outcome)
            except Exception as exc:
                stepper.failed(exc)
        value: T = stepper.value
        return value

    async def list_collections(self) -> list[str]:
        return await self._run(collection_ops.list_collections(self._session))

    async def describe(self, name: str) -> CollectionSpec | None:
        return await self._run(collection_ops.describe(self._session, name))

    async def create(self, spec: CollectionSpec) -> None:
        await self._run(collection_ops.create(self._session, spec))

    async def drop(self, name: str) -> bool:
        return await self._run(collection_ops.drop(self._session, name))

    async def adopt(self, name: str, adoption: Adoption) -> CollectionSpec:
        return await self._run(collection_ops.adopt(self._session, name, adoption))

    async def write(self, target: Target, batch: Batch) -> WriteResult:
        return await self._run(data_ops.write(self._session, target, batch))

    async def search(self, target: Target, request: SearchRequest) -> list[Hit]:
        return await self._run(data_ops.search(self._session, target, request))

    async def get(self, target: Target, ids: list[str], include_vectors: bool) -> list[Record]:
        return await self._run(data_ops.get(self._session, target, ids, include_vectors))

    async def delete_ids(self, target: Target, ids: list[str]) -> None:
        await self._run(data_ops.delete_ids(self._session, target, ids))

    async def delete_filter(self, target: Target, node: FilterNode) -> None:
        await self._run(data_ops.delete_filter(self._session, target, node))

    async def count(self, target: Target, node: FilterNode | None) -> int:
        return await self._run(data_ops.count(self._session, target, node))

    async def scan_page(
        self, target: Target, cursor: str | None, limit: int, include_vectors: bool, stop: str | None = None
    ) -> ScanPage:
        return await self._run(data_ops.scan_page(self._session, target, cursor, limit, include_vectors, stop))

    async def close(self) -> None:
        self._closed = True
        client, self._client = self._client, None
        if client is not None:
            await client.close()


def _connect_error(settings: WeaviateSettings, exc: BaseException) -> VecbridgeError:
    """Why connecting failed, with what to check (and no secret)."""
    text = scrub(str(exc), settings.secrets)
    lowered = text.lower()
    if any(word in lowered for word in ("401", "403", "unauthor", "anonymous access", "api key", "forbidden")):
        return StoreError(f"Weaviate at {settings.location} refused the connection: {text}. Check the API key.")
    return StoreError(
        f"could not connect to Weaviate at {settings.location}: {text}. Is it running, and are both its "
        "REST and gRPC ports reachable? (set grpc_port=... if gRPC is not on the default port)"
    )
