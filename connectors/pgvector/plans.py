"""What the pgvector drivers run, without running it.

Every driver operation is a *plan*: a generator that yields the SQL it needs (:class:`Query`,
:class:`Copy`) and receives each result, then returns the operation's value. The sync driver runs
plans on psycopg's ``Connection``, the async one on ``AsyncConnection``; the SQL, the decisions and
the conversions are written once, here and in the modules that build plans.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from psycopg import sql

__all__ = ["Copy", "Failed", "Plan", "Query", "Step", "Walk", "Work", "run_one"]

T = TypeVar("T")


@dataclass(frozen=True)
class Query:
    """One statement. ``fetch``: what the plan gets back (all rows, the first row, or nothing)."""

    statement: sql.SQL | sql.Composed | str
    params: Any = None
    fetch: Literal["all", "one", "none"] = "all"
    binary: bool = False
    #: psycopg's prepare flag: None lets it prepare a statement used often; False plans every call
    #: with its actual values (filtered searches: the filter's selectivity decides the plan).
    prepare: bool | None = None


@dataclass(frozen=True)
class Copy:
    """A binary ``COPY ... FROM STDIN`` of ``rows`` with column ``types``."""

    statement: sql.Composed
    types: Sequence[str]
    rows: Iterable[tuple[Any, ...]]


Step = Query | Copy
Plan = Generator[Step, Any, T]


@dataclass(frozen=True)
class Work(Generic[T]):
    """A plan and how to run it: inside one transaction or not, and in pipeline mode (several
    statements per round trip; never with COPY). ``collection`` names the collection whose cached
    layout is dropped if its table turns out to be missing."""

    plan: Plan[T]
    collection: str | None = None
    transaction: bool = False
    pipeline: bool = False


@dataclass(frozen=True)
class Failed:
    """What a runner hands back for a step that raised: the plan gets ``error`` thrown into it."""

    error: Exception


class Walk(Generic[T]):
    """The steps of a plan, for a runner: ``for step in walk: walk.result = <run step>``, then
    ``walk.value``. A result that is a :class:`Failed` is thrown into the plan (which may catch it)."""

    def __init__(self, plan: Plan[T]) -> None:
        self._plan = plan
        self.result: Any = None
        self.value: T | None = None

    def __iter__(self) -> Iterator[Step]:
        try:
            step = next(self._plan)
            while True:
                yield step
                result, self.result = self.result, None
                step = self._plan.throw(result.error) if isinstance(result, Failed) else self._plan.send(result)
        except StopIteration as done:
            self.value = done.value


def run_one(query: Query) -> Plan[Any]:
    """A plan of a single statement, returning its result."""
    result = yield query
    return result
