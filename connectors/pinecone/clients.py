"""The SDK clients a driver calls: one control-plane client (``Pinecone`` or ``AsyncPinecone``) and
one data-plane client per index host, opened on first use, each with the SDK's retries switched off
(see ``sdk``). Building them does no I/O: the async clients connect on first use, inside the
caller's event loop."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .sdk import no_retries, without_retries
from .settings import Settings

__all__ = ["Clients", "async_clients", "sync_clients"]


class Clients:
    """``control`` and ``data(host)`` for the plans' steps. Thread-safe."""

    def __init__(self, control: Any, open_index: Callable[[Any, str], Any]) -> None:
        self.control = control
        self._open_index = open_index
        self._by_host: dict[str, Any] = {}
        self._lock = threading.Lock()

    def data(self, host: str) -> Any:
        with self._lock:
            if host not in self._by_host:
                self._by_host[host] = without_retries(self._open_index(self.control, host))
            return self._by_host[host]

    def release(self) -> list[Any]:
        """Forget every data-plane client and hand them over (for closing)."""
        with self._lock:
            handles, self._by_host = list(self._by_host.values()), {}
        return handles


def _options(settings: Settings) -> dict[str, Any]:
    # The key lives only inside the SDK clients, whose own reprs mask it.
    return {
        "api_key": settings.api_key,
        "host": settings.host,
        "timeout": settings.timeout,
        "retry_config": no_retries(),
    }


def sync_clients(settings: Settings) -> Clients:
    from pinecone import Pinecone

    return Clients(Pinecone(**_options(settings)), lambda control, host: control.index(host=host))


def async_clients(settings: Settings) -> Clients:
    from pinecone import AsyncPinecone

    return Clients(AsyncPinecone(**_options(settings)), lambda control, host: control.IndexAsyncio(host=host))
