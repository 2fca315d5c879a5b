"""``QdrantDriver``: a Qdrant server or qdrant-client's local mode, through ``QdrantClient``.

URLs: see urls.py (``qdrant://``, ``qdrants://``, ``qdrant+local://``). The operations themselves
are the plans of operations.py (``ClientOperations``, where their signatures and documentation
live); this shell defines each driver method of ``PLANNED`` as "run that plan with plain calls".
``async_from_url`` gives the async twin (aio.py) over ``AsyncQdrantClient``, which has a local
mode too.

Local mode is brute-force numpy search in one process (it locks its folder) and warns past
20,000 points: for an embedded store of real size, use ``qdrant+edge://``. The collection spec is
kept in Qdrant's collection metadata (Qdrant >= 1.16).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from vecbridge.core.driver import Batch, DriverDefaults, ScanRange, Target
from vecbridge.core.errors import MissingExtra, VecbridgeError

try:
    from qdrant_client import QdrantClient
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("the qdrant connector", "qdrant", exc) from exc

from vecbridge.core.models import CollectionSpec, Record

from .errors import translate
from .operations import PLANNED, ClientOperations, Pause, Plan
from .scan import uuid_ranges
from .urls import ClientConfig, client_config

__all__ = ["ClientShell", "QdrantDriver"]

T = TypeVar("T")


class ClientShell:
    """What the sync and async client drivers share besides the plans: configuration,
    capabilities, error translation and the lazily built client."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        # Floats reach Qdrant exactly in local mode and over gRPC; REST's JSON may move them.
        exact_floats = config.local or bool(config.kwargs.get("prefer_grpc"))
        self.ops = ClientOperations(local=config.local, exact_floats=exact_floats)
        self.capabilities = self.ops.capabilities
        self._client: Any = None
        self._client_lock = threading.Lock()

    def __repr__(self) -> str:  # the label is a redacted URL: never the API key
        return f"{type(self).__name__}({self.config.label!r})"

    def translate(self, exc: BaseException) -> VecbridgeError | None:
        return translate(exc, self.config.label)

    def check_record(self, record: Record) -> list[str]:
        return []

    def check_batch(self, spec: CollectionSpec, batch: Batch) -> list[str]:
        return self.ops.check_batch(spec, batch)

    def _built(self, factory: Any) -> Any:
        """The client, built on first use (local mode opens and locks its folder then)."""
        with self._client_lock:
            if self._client is None:
                self._client = factory(**self.config.kwargs)
            return self._client


class QdrantDriver(ClientShell, DriverDefaults):
    """Qdrant through ``QdrantClient`` (see the module docstring)."""

    @classmethod
    def from_url(cls, url: str, **options: Any) -> QdrantDriver:
        return cls(client_config(url, options))

    @classmethod
    def async_from_url(cls, url: str, **options: Any) -> Any:
        from .aio import AsyncQdrantDriver

        return AsyncQdrantDriver(client_config(url, options))

    def async_twin(self) -> Any:
        """``AsyncQdrantClient`` to the same server (``Store.async_view``). None for local mode:
        its folder (or memory) belongs to this client, so the async view runs it in threads."""
        if self.config.local:
            return None
        from .aio import AsyncQdrantDriver

        return AsyncQdrantDriver(self.config)

    def _run(self, plan: Plan[T]) -> T:
        client = self._built(QdrantClient)
        try:
            step = next(plan)
            while True:
                if isinstance(step, Pause):
                    time.sleep(step.seconds)
                    step = plan.send(None)
                else:
                    step = plan.send(getattr(client, step.method)(**step.kwargs))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    def scan_ranges(self, target: Target, parts: int) -> list[ScanRange]:
        return uuid_ranges(parts)

    def close(self) -> None:
        with self._client_lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


def _planned(name: str) -> Callable[..., Any]:
    plan = getattr(ClientOperations, name)

    @wraps(plan)
    def method(self: QdrantDriver, *args: Any) -> Any:
        return self._run(plan(self.ops, *args))

    return method


for _name in PLANNED:
    setattr(QdrantDriver, _name, _planned(_name))
