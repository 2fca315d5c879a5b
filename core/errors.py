"""One exception hierarchy for every store and embedder.

Connectors translate their SDK's exceptions into these at the boundary, so user code can catch
``CollectionNotFound`` whether the store is Qdrant, Weaviate, Pinecone or PostgreSQL. Every message
says what was wrong *and* what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    "StoreError",
    "TransientError",
    "UnsupportedFilter",
    "UpsertFailed",
    "VecbridgeError",
]


class VecbridgeError(Exception):
    """Base class of every error vecbridge raises on purpose."""


class InvalidInput(VecbridgeError, ValueError):
    """The caller passed something that cannot be stored or queried (bad vector, id, name ...)."""


class InvalidFilter(InvalidInput):
    """A filter dict is not valid in the portable filter language."""


class UnsupportedFilter(VecbridgeError):
    """A valid portable filter that this store cannot express natively.

    Raised instead of silently dropping the condition, which would return wrong results.
    """


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


class TransientError(VecbridgeError):
    """A temporary failure (rate limit, timeout, 5xx): retrying later may succeed."""


class UpsertFailed(VecbridgeError):
    """Some records did not land. ``failed_ids`` names them; ``written_ids`` those that did."""

    def __init__(
        self,
        message: str,
        failed_ids: Sequence[str],
        written_ids: Sequence[str] = (),
        cause: BaseException | None = None,
    ) -> None:
        self.failed_ids = list(failed_ids)
        self.written_ids = list(written_ids)
        self.cause = cause
        shown = ", ".join(repr(i) for i in self.failed_ids[:10])
        more = f" and {len(self.failed_ids) - 10} more" if len(self.failed_ids) > 10 else ""
        super().__init__(
            f"{message}: {len(self.failed_ids)} record(s) not written ({shown}{more}); "
            f"{len(self.written_ids)} written. Re-run the upsert for the failed ids: "
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
