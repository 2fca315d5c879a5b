"""Pinecone's two planes as plan steps: the control plane (indexes) and each index's data plane.

Each index is served by its own host, read from its description. :class:`Planes` remembers the
host of every index it described, and forgets it as soon as a call to it fails the way a deleted
(or re-created) index fails — a 404 or a refused connection — so the next attempt looks it up
again instead of calling a stale host forever.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from vecbridge.core.errors import CollectionNotFound, StoreError, TransientError, VecbridgeError

from .errors import is_gone, is_not_found
from .plan import Clients, Io, Plan, Together
from .sdk import host_url, index_state

__all__ = ["Planes", "state_problem"]

Call = tuple[str, Mapping[str, Any]]


def state_problem(index: str, model: Any) -> VecbridgeError | None:
    """Why an existing index cannot serve a collection now, with what to do (None: it can)."""
    _, state = index_state(model)
    if state == "Disabled":
        return StoreError(
            f"Pinecone index {index!r} exists but is Disabled: it serves no reads or writes. Re-enable it "
            "in the Pinecone console (the project's plan, billing or read capacity may have paused it), "
            "or drop the collection to free the name"
        )
    if state in ("InitializationFailed", "Failed"):
        return StoreError(
            f"Pinecone index {index!r} is in state {state}: drop the collection (or delete the index in "
            "the Pinecone console) and create it again"
        )
    if state == "Terminating":
        return TransientError(f"Pinecone index {index!r} is being deleted: try again once it is gone")
    return None


def _data_call(host: str, method: str, kwargs: Mapping[str, Any]) -> Callable[[Clients], Any]:
    return lambda clients: getattr(clients.data(host), method)(**kwargs)


class Planes:
    """Control-plane calls, and data-plane calls routed to each index's host. Thread-safe."""

    def __init__(self, plain_http: bool) -> None:
        self._plain_http = plain_http
        self._hosts: dict[str, str] = {}
        self._lock = threading.Lock()

    def forget(self, index: str) -> None:
        with self._lock:
            self._hosts.pop(index, None)

    def _remember(self, index: str, model: Any) -> None:
        host = getattr(model, "host", None)
        if host:
            with self._lock:
                self._hosts[index] = host_url(str(host), self._plain_http)

    # ----- control plane ------------------------------------------------------------------

    def control(self, method: str, *args: Any, **kwargs: Any) -> Plan[Any]:
        """``pc.indexes.<method>(*args, **kwargs)``."""
        return (yield Io(lambda clients: getattr(clients.control.indexes, method)(*args, **kwargs)))

    def describe(self, index: str) -> Plan[Any | None]:
        """The index's description, or None if there is none."""
        try:
            model = yield from self.control("describe", index)
        except Exception as exc:
            if not is_not_found(exc):
                raise
            self.forget(index)
            return None
        self._remember(index, model)
        return model

    def list_indexes(self) -> Plan[list[Any]]:
        models: list[Any] = yield Io(lambda clients: clients.control.indexes.list(), collect=True)
        return models

    # ----- data planes --------------------------------------------------------------------

    def serving(self, index: str) -> Plan[Any]:
        """The description of an index that can serve calls now; ``CollectionNotFound`` if there
        is none, or why it cannot serve (``state_problem``)."""
        model = yield from self.describe(index)
        if model is None:
            raise CollectionNotFound(f"Pinecone index {index!r} does not exist")
        problem = state_problem(index, model)
        if problem is not None:
            raise problem
        return model

    def host(self, index: str) -> Plan[str]:
        with self._lock:
            known = self._hosts.get(index)
        if known:
            return known
        yield from self.serving(index)
        with self._lock:
            found = self._hosts.get(index)
        if not found:
            raise TransientError(f"Pinecone index {index!r} has no data-plane host yet: it is still initializing")
        return found

    def data(self, index: str, method: str, **kwargs: Any) -> Plan[Any]:
        """``index.<method>(**kwargs)`` on the index's data plane."""
        host = yield from self.host(index)
        try:
            return (yield Io(_data_call(host, method, kwargs)))
        except Exception as exc:
            if is_gone(exc):
                self.forget(index)
            raise

    def data_together(self, index: str, calls: Sequence[Call]) -> Plan[list[Any]]:
        """Several data-plane calls at once; one outcome each (a result or an exception)."""
        if not calls:
            return []
        host = yield from self.host(index)
        outcomes: list[Any] = yield Together(tuple(_data_call(host, m, kw) for m, kw in calls))
        if any(isinstance(o, BaseException) and is_gone(o) for o in outcomes):
            self.forget(index)
        return outcomes
