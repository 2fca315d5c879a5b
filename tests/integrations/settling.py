"""A driver wrapper that waits for eventually consistent stores after every write.

The peers' standard suites read right after they write and offer no hook in between; the
conformance ``Backend.settle`` is that hook, so the adapters under test get a store whose driver
calls it after each write (and whose async twin does the same). Every other call goes straight
through to the store's own driver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vecbridge.core.store import Store

_WRITES = ("create", "drop", "write", "delete_ids", "delete_filter", "end_load")


class SettlingDriver:
    def __init__(self, inner: Any, settle: Callable[[], None]) -> None:
        self.inner = inner
        self._settle = settle

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in _WRITES:
            return attr

        def settled(*args: Any) -> Any:
            out = attr(*args)
            self._settle()
            return out

        return settled

    def async_twin(self) -> Any:
        twin = getattr(self.inner, "async_twin", lambda: None)()
        return None if twin is None else AsyncSettlingDriver(twin, self._settle)

    def __repr__(self) -> str:
        return repr(self.inner)


class AsyncSettlingDriver:
    def __init__(self, inner: Any, settle: Callable[[], None]) -> None:
        self.inner = inner
        self._settle = settle

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in _WRITES:
            return attr

        async def settled(*args: Any) -> Any:
            out = await attr(*args)
            self._settle()
            return out

        return settled

    def __repr__(self) -> str:
        return repr(self.inner)


def settling_store(store: Store, settle: Callable[[], None]) -> Store:
    """``store`` seen through a driver that settles after writes (sharing its retry policy)."""
    return Store(SettlingDriver(store.driver, settle), retry=store.retry_policy, label=store.policy.label)  # type: ignore[arg-type]
