"""The sans-I/O plumbing shared by the sync and the async driver.

Every driver operation (``collections.py``, ``data.py``) is a generator that yields :class:`Io`
steps: "call this on the client". weaviate-client's sync and async clients have the same API, the
async one returning awaitables, so one step serves both: the sync driver calls it, the async
driver calls it and awaits the result. Client exceptions are thrown back into the generator, which
may handle them (a 404 meaning "absent") or let them pass to the store, which hands them to
``translate``. So the logic of each operation exists once and only the I/O shell differs.

:class:`Session` is what the operations remember about one server: its version (read once) and
the properties of each class, refreshed whenever a needed one is missing and forgotten when the
class turns out to be gone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .options import WeaviateSettings

if TYPE_CHECKING:
    from vecbridge.core.driver import Adoption
    from vecbridge.core.models import CollectionSpec

    from .foreign import ForeignClass

__all__ = ["Io", "Session", "Stepper", "Steps"]

T = TypeVar("T")


@dataclass(frozen=True)
class Io:
    """One client call: ``call(client)`` returns the result (sync client) or an awaitable (async)."""

    call: Callable[[Any], Any]


Steps = Generator[Io, Any, T]


class Stepper:
    """Walks an operation's generator: hands out its next step and feeds back each outcome."""

    def __init__(self, steps: Steps[Any]) -> None:
        self._steps = steps
        self._result: Any = None
        self._error: BaseException | None = None
        self.value: Any = None

    def advance(self) -> Io | None:
        """The next step, or None when the operation returned (its value is then ``.value``)."""
        error, self._error = self._error, None
        try:
            return self._steps.throw(error) if error is not None else self._steps.send(self._result)
        except StopIteration as done:
            self.value = done.value
            return None

    def succeeded(self, result: Any) -> None:
        self._result = result

    def failed(self, error: BaseException) -> None:
        self._result, self._error = None, error


class Session:
    """Per-driver knowledge of the server. Thread-safe.

    It also holds the layouts of adopted classes (``foreign``): fixed when adopted, so an adopted
    collection is read the same way until it is adopted again."""

    def __init__(self, settings: WeaviateSettings) -> None:
        self.settings = settings
        self.version: tuple[int, ...] | None = None
        self._properties: dict[str, dict[str, str]] = {}
        self._adopted: dict[str, tuple[ForeignClass, CollectionSpec, Adoption]] = {}
        self._lock = threading.Lock()

    def adopted(self, name: str) -> tuple[ForeignClass, CollectionSpec, Adoption] | None:
        """The layout, spec and adoption of the adopted collection ``name`` (None: not adopted)."""
        with self._lock:
            return self._adopted.get(name)

    def foreign(self, name: str) -> ForeignClass | None:
        found = self.adopted(name)
        return found[0] if found is not None else None

    def remember_adopted(self, name: str, layout: ForeignClass, spec: CollectionSpec, adoption: Adoption) -> None:
        with self._lock:
            self._adopted[name] = (layout, spec, adoption)

    def properties(self, cls: str) -> dict[str, str] | None:
        """Name -> data type of the class's properties as last read (None: not read yet)."""
        with self._lock:
            known = self._properties.get(cls)
            return dict(known) if known is not None else None

    def remember(self, cls: str, properties: dict[str, str]) -> None:
        with self._lock:
            self._properties[cls] = dict(properties)

    def add_property(self, cls: str, name: str, data_type: str) -> None:
        with self._lock:
            self._properties.setdefault(cls, {})[name] = data_type

    def forget(self, cls: str) -> None:
        with self._lock:
            self._properties.pop(cls, None)
