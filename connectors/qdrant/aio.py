"""``AsyncQdrantDriver``: the async twin of ``QdrantDriver``, over ``AsyncQdrantClient`` (server
or local mode). Each driver method of ``PLANNED`` runs the same plan as the sync driver
(operations.py) with awaits; nothing else differs. Obtain it with ``connect_async(url)``. The
client is built on the first call, inside the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from qdrant_client import AsyncQdrantClient

from vecbridge.core.driver import AsyncDriverDefaults, ScanRange, Target

from .operations import PLANNED, ClientOperations, Pause, Plan
from .scan import uuid_ranges
from .store import ClientShell

__all__ = ["AsyncQdrantDriver"]

T = TypeVar("T")


class AsyncQdrantDriver(ClientShell, AsyncDriverDefaults):
    """Qdrant through ``AsyncQdrantClient``."""

    async def _run(self, plan: Plan[T]) -> T:
        client = self._built(AsyncQdrantClient)
        try:
            step = next(plan)
            while True:
                if isinstance(step, Pause):
                    await asyncio.sleep(step.seconds)
                    step = plan.send(None)
                else:
                    step = plan.send(await getattr(client, step.method)(**step.kwargs))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def scan_ranges(self, target: Target, parts: int) -> list[ScanRange]:
        return uuid_ranges(parts)

    async def close(self) -> None:
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            await client.close()


def _planned(name: str) -> Callable[..., Any]:
    plan = getattr(ClientOperations, name)

    @wraps(plan)
    async def method(self: AsyncQdrantDriver, *args: Any) -> Any:
        return await self._run(plan(self.ops, *args))

    return method


for _name in PLANNED:
    setattr(AsyncQdrantDriver, _name, _planned(_name))
