"""Pinecone's control plane as the store needs it: indexes, their readiness, their hosts.

One ``Pinecone`` client talks to the control plane; each index is served by its own data-plane
host (from describe_index), for which an ``Index`` handle is opened once and reused. Against
Pinecone Local (and vecbridge's emulator) both planes are plain HTTP.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from vecbridge.core.errors import StoreError

from .sdk import create_index_kwargs, index_state, is_not_found, pinecone_errors

__all__ = ["ControlPlane"]

_GONE_STATES = frozenset({"Terminating", "Disabled"})
_FAILED_STATES = frozenset({"InitializationFailed"})


class ControlPlane:
    """Index management over one ``pinecone.Pinecone`` client (never shows its API key)."""

    def __init__(
        self,
        client: Any,
        *,
        plain_http: bool,
        ready_timeout: float,
        poll_interval: float = 0.5,
        refusal_hint: str = "",
    ) -> None:
        self._client = client
        self._refusal_hint = refusal_hint
        self._plain_http = plain_http
        self._ready_timeout = ready_timeout
        self._poll_interval = poll_interval
        self._handles: dict[str, Any] = {}
        self._lock = threading.Lock()

    def describe(self, index: str) -> Any | None:
        """The index's description, or None if there is none (or it is being deleted)."""
        try:
            with pinecone_errors(f"describe index {index!r}"):
                model = self._client.indexes.describe(index)
        except StoreError as exc:
            if exc.__cause__ is not None and is_not_found(exc.__cause__):
                return None
            raise
        _, state = index_state(model)
        return None if state in _GONE_STATES else model

    def list(self) -> list[Any]:
        with pinecone_errors("list indexes"):
            return [m for m in self._client.indexes.list() if index_state(m)[1] not in _GONE_STATES]

    def create(
        self, index: str, *, dimension: int, metric: str, cloud: str, region: str, tags: Mapping[str, str]
    ) -> Any:
        """Create a dense serverless index and wait until it is ready (or raise ``StoreError``)."""
        kwargs = create_index_kwargs(
            name=index, dimension=dimension, metric=metric, cloud=cloud, region=region, tags=tags
        )
        try:
            with pinecone_errors(f"create index {index!r}"):
                self._client.indexes.create(**kwargs)
        except StoreError as exc:
            status = getattr(exc.__cause__, "status_code", None)
            if self._refusal_hint and status in (400, 422):
                raise StoreError(f"{exc}. {self._refusal_hint}") from exc.__cause__
            raise
        return self.wait_ready(index)

    def wait_ready(self, index: str) -> Any:
        deadline = time.monotonic() + self._ready_timeout
        delay = min(self._poll_interval, 0.1)
        while True:
            model = self.describe(index)
            if model is None:
                raise StoreError(f"index {index!r} disappeared while vecbridge waited for it to become ready")
            ready, state = index_state(model)
            if ready:
                return model
            if state in _FAILED_STATES:
                raise StoreError(
                    f"index {index!r} failed to initialize (state {state}): delete it in the Pinecone "
                    "console or with drop_collection, then create it again"
                )
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"index {index!r} was not ready after {self._ready_timeout:g} s (state {state or 'unknown'}): "
                    "Pinecone may be busy; open the collection again later (it is reused once ready) "
                    "or raise ready_timeout"
                )
            time.sleep(delay)
            delay = min(delay * 2, self._poll_interval)

    def delete(self, index: str) -> bool:
        """Delete an index and wait until it is gone. False if it did not exist."""
        self.forget(index)
        try:
            with pinecone_errors(f"delete index {index!r}"):
                self._client.indexes.delete(index, timeout=-1)
        except StoreError as exc:
            if exc.__cause__ is not None and is_not_found(exc.__cause__):
                return False
            raise
        deadline = time.monotonic() + self._ready_timeout
        while self.describe(index) is not None:
            if time.monotonic() >= deadline:
                raise StoreError(f"index {index!r} was still being deleted after {self._ready_timeout:g} s")
            time.sleep(self._poll_interval)
        return True

    def data_plane(self, index: str, model: Any | None = None) -> Any:
        """The ``Index`` handle of ``index`` (opened once; ``model`` saves a describe call)."""
        with self._lock:
            handle = self._handles.get(index)
        if handle is not None:
            return handle
        model = model if model is not None else self.describe(index)
        host = getattr(model, "host", None) if model is not None else None
        if not host:
            raise StoreError(f"index {index!r} has no data-plane host yet: it is still initializing")
        with pinecone_errors(f"open index {index!r}"):
            handle = self._client.index(host=self._host_url(str(host)))
        with self._lock:
            self._handles.setdefault(index, handle)
            return self._handles[index]

    def _host_url(self, host: str) -> str:
        # Pinecone Local (and the emulator) serve plain HTTP but report bare "host:port", which
        # the SDK would otherwise turn into https://.
        if self._plain_http:
            bare = host.split("://", 1)[-1]
            return f"http://{bare}"
        return host

    def forget(self, index: str) -> None:
        with self._lock:
            handle = self._handles.pop(index, None)
        if handle is not None:
            handle.close()

    def close(self) -> None:
        with self._lock:
            handles, self._handles = list(self._handles.values()), {}
        for handle in handles:
            handle.close()
        close = getattr(self._client, "close", None)
        if callable(close):
            close()
