"""One exception hierarchy for every store and embedder.

Connectors translate their SDK's exceptions into these at the boundary, so user code can catch
``CollectionNotFound`` whether the store is Qdrant, Weaviate, Pinecone or PostgreSQL. Every message
says what was wrong *and* what to do about it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = [
    "CollectionExists",
    "CollectionNotFound",
    "ConnectorNotFound",
    "DimensionMismatch",
    "EmbedderMismatch",
    "EmbeddingFailed",
    "InvalidFilter",
    "InvalidInput",
    "MetricMismatch",
    "MissingExtra",
    "QuotaExceeded",
    "StoreDamaged",
    "StoreError",
    "StoreInUse",
    "TransientError",
    "UnsupportedFeature",
    "UnsupportedFilter",
    "UpsertFailed",
    "VecbridgeError",
]


class VecbridgeError(Exception):
    """Base class of every error vecbridge raises on purpose."""

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled errors (a Ray task's, a subprocess's) come back whole: rebuilt from their args and
        # attributes without calling __init__, whose parameters differ from ``args`` in subclasses
        # such as UpsertFailed (which would otherwise not unpickle at all).
        return (_restore, (type(self), self.args, self.__dict__))


def _restore(cls: type[VecbridgeError], args: tuple[object, ...], state: dict[str, object]) -> VecbridgeError:
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class InvalidInput(VecbridgeError, ValueError):
    """The caller passed something that cannot be stored or queried (bad vector, id, name ...)."""


class InvalidFilter(InvalidInput):
    """A filter dict is not valid in the portable filter language."""


class UnsupportedFilter(VecbridgeError):
    """A valid portable filter that this store cannot express natively.

    Raised instead of silently dropping the condition, which would return wrong results.
    """


class UnsupportedFeature(VecbridgeError):
    """A valid request this store (or this collection) cannot serve: a tenant on a store without
    tenancy, a keyword search on a collection created without a keyword index ..."""


class DimensionMismatch(InvalidInput):
    """A vector or an existing collection has another dimension than expected."""


class MetricMismatch(InvalidInput):
    """An existing collection uses another distance metric than requested."""


class EmbedderMismatch(InvalidInput):
    """The collection was built with another embedder (model, dimension or task) than given."""


class CollectionNotFound(VecbridgeError, KeyError):
    """The named collection does not exist in this store."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain.
        return str(self.args[0]) if self.args else ""


class CollectionExists(VecbridgeError):
    """A collection with that name already exists (and ``exist_ok`` was false)."""


class ConnectorNotFound(VecbridgeError):
    """No connector or embedder is registered under that URL scheme or name."""


class MissingExtra(VecbridgeError, ImportError):
    """An optional dependency is not installed; the message names the pip command."""

    def __init__(self, what: str, extra: str, cause: BaseException | None = None) -> None:
        self.extra = extra
        hint = f"pip install 'vecbridge[{extra}]'"
        detail = f" ({cause})" if cause else ""
        super().__init__(f"{what} needs the '{extra}' extra, which is not installed{detail}. Run: {hint}")


class StoreError(VecbridgeError):
    """The store refused an operation for a reason that retrying will not fix."""


class QuotaExceeded(StoreError):
    """A usage limit or quota of the service is reached (a monthly plan limit, an instance's object
    limit): retrying cannot lift it, so it is never retried. Raise the limit, or wait for it to
    reset."""


class StoreInUse(StoreError):
    """An embedded store's files are locked by another process (e.g. an ingest still running)."""


class StoreDamaged(StoreError):
    """An embedded store's files are damaged or incomplete; the message says what to do.
    Raised when the store is opened, never instead of returning fewer records later."""


class TransientError(VecbridgeError):
    """A temporary failure (rate limit, timeout, 5xx): retrying later may succeed.

    ``retry_after`` (seconds) is the server's own hint (``Retry-After``, ``RetryInfo``); the retry
    policy waits at least that long before the next attempt.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpsertFailed(VecbridgeError):
    """Some records did not land. Every id handed to the call is in exactly one list:

    * ``written_ids``: confirmed written by the store;
    * ``failed_ids``: sent (or refused before sending) and not confirmed written — ``reasons``
      says why for each;
    * ``not_attempted_ids``: never sent, because an earlier batch failed.

    With a stream (a generator) the records after the failing batch were not read:
    ``unread_input`` is then True. ``cause`` is the error that stopped the write.
    """

    def __init__(
        self,
        message: str,
        failed_ids: Sequence[str],
        written_ids: Sequence[str] = (),
        cause: BaseException | None = None,
        *,
        not_attempted_ids: Sequence[str] = (),
        reasons: Mapping[str, str] | None = None,
        unread_input: bool = False,
    ) -> None:
        self.failed_ids = list(failed_ids)
        self.written_ids = list(written_ids)
        self.not_attempted_ids = list(not_attempted_ids)
        self.reasons = dict(reasons or {})
        self.unread_input = unread_input
        self.cause = cause
        shown = ", ".join(repr(i) for i in self.failed_ids[:10])
        more = f" and {len(self.failed_ids) - 10} more" if len(self.failed_ids) > 10 else ""
        rest = f"; {len(self.not_attempted_ids)} not attempted" if self.not_attempted_ids else ""
        unread = "; the rest of the input stream was not read" if unread_input else ""
        super().__init__(
            f"{message}: {len(self.failed_ids)} record(s) not written ({shown}{more}); "
            f"{len(self.written_ids)} written{rest}{unread}. Re-run the upsert for the ids not written: "
            "upserts are idempotent, so nothing is duplicated."
        )


class EmbeddingFailed(VecbridgeError):
    """Some texts got no vector. Nothing is lost: ``vectors[i]`` holds the vector of text ``i``
    or ``None``; ``failed_indexes`` names the texts to embed again, ``embedded_indexes`` the rest.

    Raised by embedders that call a remote API in several requests, so that a run which fails
    half-way keeps (and can cache or store) the vectors it already paid for.
    """

    def __init__(
        self,
        message: str,
        vectors: Sequence[list[float] | None],
        cause: BaseException | None = None,
    ) -> None:
        self.vectors: list[list[float] | None] = list(vectors)
        self.failed_indexes = [i for i, v in enumerate(self.vectors) if v is None]
        self.embedded_indexes = [i for i, v in enumerate(self.vectors) if v is not None]
        self.cause = cause
        shown = ", ".join(str(i) for i in self.failed_indexes[:10])
        more = f" and {len(self.failed_indexes) - 10} more" if len(self.failed_indexes) > 10 else ""
        super().__init__(
            f"{message}: {len(self.failed_indexes)} of {len(self.vectors)} text(s) not embedded "
            f"(indexes {shown}{more}); {len(self.embedded_indexes)} embedded and kept in .vectors. "
            "Embed the failed indexes again once the cause is fixed."
        )
