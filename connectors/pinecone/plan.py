"""The sans-I/O plumbing shared by the sync and the async driver.

Every driver operation is a generator (a *plan*) that yields steps and gets each step's result
back, or its exception thrown in (which it may handle: a 404 meaning "absent", a failed request
among several). The ``pinecone`` SDK's sync and async clients have the same methods, the async ones
returning awaitables, so one step serves both shells: the sync driver performs it, the async driver
performs it and awaits. So each operation's logic exists once; only the I/O differs.

Steps:

* :class:`Io` — one client call, ``call(clients)``; ``collect`` gathers a paginator into a list;
* :class:`Together` — several calls at once (at most ``max_concurrency``); the result is one
  outcome per call, a value or the exception it raised, so a plan can tell what landed;
* :class:`Pause` — wait before polling again (index readiness, catalog visibility).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

__all__ = ["Clients", "Io", "Pause", "Plan", "Step", "Together", "Walk"]

T = TypeVar("T")


class Clients(Protocol):
    """What a step calls: the control-plane client and one data-plane client per index host."""

    @property
    def control(self) -> Any: ...
    def data(self, host: str) -> Any: ...


@dataclass(frozen=True)
class Io:
    call: Callable[[Clients], Any]
    collect: bool = False


@dataclass(frozen=True)
class Together:
    calls: tuple[Callable[[Clients], Any], ...]


@dataclass(frozen=True)
class Pause:
    seconds: float


Step = Io | Together | Pause
Plan = Generator[Step, Any, T]


class Walk:
    """Walks a plan: :meth:`step` hands out its next step (None once the plan returned, its value
    then in :attr:`value`); :meth:`answer` or :meth:`fail` say how that step went."""

    def __init__(self, plan: Plan[Any]) -> None:
        self._plan = plan
        self._resume: Callable[[], Step] = functools.partial(plan.send, None)
        self.value: Any = None

    def step(self) -> Step | None:
        try:
            return self._resume()
        except StopIteration as finished:
            self.value = finished.value
            return None

    def answer(self, result: Any) -> None:
        self._resume = functools.partial(self._plan.send, result)

    def fail(self, error: BaseException) -> None:
        self._resume = functools.partial(self._plan.throw, error)
