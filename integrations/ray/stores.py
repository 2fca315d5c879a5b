"""Opening a store from Ray tasks: by URL, once per worker process.

A task cannot be handed an open store (clients, pools and file locks do not travel between
processes), so tasks get a :class:`StoreAddress` and open the store themselves; a worker process
keeps it open for the tasks it runs after (Ray reuses worker processes), so a job opens one client
per worker, not one per batch.

Stores whose ``capabilities.multi_process`` is False (Qdrant Edge, qdrant-client's local mode,
Milvus Lite, ``memory://``) are never opened here: the driver process reads and writes them.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any

from vecbridge.core.driver import Adoption
from vecbridge.core.registry import connect
from vecbridge.core.store import Store
from vecbridge.core.urls import redact_url

__all__ = ["StoreAddress", "worker_store"]


@dataclass(frozen=True)
class StoreAddress:
    """A store URL and its connect options, as tasks receive them, and the collections to open
    with ``Store.adopt`` (made by another tool; their layout lives in each process's driver). Its
    repr (what Ray shows in task names, logs and the dashboard) carries the redacted URL only."""

    url: str = field(repr=False)
    options: tuple[tuple[str, Any], ...] = field(default=(), repr=False)
    adopted: tuple[tuple[str, Adoption], ...] = field(default=(), repr=False)

    def connect(self) -> Store:
        store = connect(self.url, **dict(self.options))
        try:
            for name, adoption in self.adopted:
                store.adopt(name, adoption)
        except BaseException:
            store.close()
            raise
        return store

    def __repr__(self) -> str:
        return f"StoreAddress({redact_url(self.url)})"


_open: dict[StoreAddress, Store] = {}
_lock = threading.Lock()


def worker_store(address: StoreAddress) -> Store:
    """The store at ``address``, opened once in this worker process."""
    with _lock:
        store = _open.get(address)
        if store is None:
            store = address.connect()
            _open[address] = store
        return store


@atexit.register
def _close_all() -> None:
    with _lock:
        stores = list(_open.values())
        _open.clear()
    for store in stores:
        with contextlib.suppress(Exception):  # a worker exiting: nothing to do about a failed close
            store.close()
