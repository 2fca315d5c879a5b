"""The lifecycle of one Pinecone index: create it and wait until it is ready, delete it and wait
until it is gone. Waiting is polling the index's description, with the driver's own timeout and
a message that says what to do (the SDK's own wait polls every 5 s and has neither)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from vecbridge.core.errors import StoreError, TransientError

from .errors import is_not_found, status_of, translate
from .plan import Pause, Plan
from .planes import Planes, state_problem
from .sdk import SDK_MAJOR, create_index_kwargs, index_state

__all__ = ["create_index", "delete_index", "wait_ready"]

#: Longest pause between two looks at an index that is not ready (or not gone) yet.
POLL_INTERVAL = 0.5
#: Added to a refused index creation on pinecone+local with SDK 10: the likely cause.
_LOCAL_HINT = (
    "If this server is Pinecone Local: it speaks API 2025-01, which pinecone SDK 10 (API 2026-07) "
    "cannot use; install pinecone>=9,<10 to work with it"
)


def _pauses() -> Any:
    delay = 0.05
    while True:
        yield delay
        delay = min(delay * 2, POLL_INTERVAL)


def wait_ready(planes: Planes, index: str, timeout: float) -> Plan[Any]:
    """The index's description once it is ready; ``StoreError`` if it fails or takes too long."""
    deadline = time.monotonic() + timeout
    for delay in _pauses():
        model = yield from planes.describe(index)
        if model is None:
            raise StoreError(f"index {index!r} disappeared while vecbridge waited for it to become ready")
        ready, state = index_state(model)
        if ready:
            return model
        problem = state_problem(index, model)
        if problem is not None and not isinstance(problem, TransientError):
            raise problem
        if time.monotonic() >= deadline:
            raise StoreError(
                f"index {index!r} was not ready after {timeout:g} s (state {state or 'unknown'}): "
                "Pinecone may be busy; open the collection again later (it is reused once ready) "
                "or raise ready_timeout"
            )
        yield Pause(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def create_index(
    planes: Planes,
    index: str,
    *,
    dimension: int,
    metric: str,
    sparse: bool,
    cloud: str,
    region: str,
    tags: Mapping[str, str],
    timeout: float,
    local: bool,
) -> Plan[Any]:
    """Create a vectors-API serverless index and wait until it is ready. A 409 (the name is
    taken) is raised as the SDK raised it, for the caller to tell who took it."""
    kwargs = create_index_kwargs(
        name=index, dimension=dimension, metric=metric, sparse=sparse, cloud=cloud, region=region, tags=tags
    )
    try:
        yield from planes.control("create", **kwargs)
    except Exception as exc:
        if local and SDK_MAJOR >= 10 and status_of(exc) in (400, 422):
            raise StoreError(f"{translate(exc) or exc}. {_LOCAL_HINT}") from exc
        raise
    model = yield from wait_ready(planes, index, timeout)
    return model


def delete_index(planes: Planes, index: str, timeout: float) -> Plan[bool]:
    """Delete an index and wait until it is gone (or being deleted). False if it did not exist."""
    planes.forget(index)
    try:
        yield from planes.control("delete", index, timeout=-1)
    except Exception as exc:
        if is_not_found(exc):
            return False
        raise
    deadline = time.monotonic() + timeout
    for delay in _pauses():
        model = yield from planes.describe(index)
        if model is None or index_state(model)[1] == "Terminating":
            planes.forget(index)
            return True
        if time.monotonic() >= deadline:
            raise StoreError(f"index {index!r} was still there {timeout:g} s after its deletion was accepted")
        yield Pause(delay)
    raise AssertionError("unreachable")  # pragma: no cover
