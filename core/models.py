"""The data shared by every connector and embedder: records in, hits out, collection specs.

Plain dataclasses with no store SDK behind them, so the same objects travel between stores
(migration) and between the sync and async APIs.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import InvalidInput

__all__ = [
    "MAX_DIMENSION",
    "CollectionSpec",
    "EmbedderFingerprint",
    "Hit",
    "Metric",
    "Record",
    "ScanPage",
    "TaskType",
    "Vector",
    "validate_collection_name",
]

#: Largest vector dimension vecbridge accepts: pgvector stores up to 16,000 and Qdrant 65,536,
#: but no store here indexes more than 16,000, and a bigger value is almost always a mistake.
MAX_DIMENSION = 16_000

#: A vector as users hand it over: a list, tuple or 1-d numpy array of floats.
Vector = Sequence[float]


class Metric(str, enum.Enum):
    """Similarity metric of a collection.

    Scores of :class:`Hit` are normalised so that higher is always more similar:
    ``cosine`` gives cosine similarity in [-1, 1], ``dot`` the inner product, and
    ``euclidean`` the *negated* L2 distance (0 is identical, more negative is further).
    """

    COSINE = "cosine"
    DOT = "dot"
    EUCLIDEAN = "euclidean"

    @classmethod
    def parse(cls, value: str | Metric) -> Metric:
        if isinstance(value, Metric):
            return value
        aliases = {"cos": "cosine", "ip": "dot", "inner_product": "dot", "l2": "euclidean", "euclid": "euclidean"}
        key = str(value).strip().lower()
        key = aliases.get(key, key)
        try:
            return cls(key)
        except ValueError:
            raise InvalidInput(
                f"unknown metric {value!r}: use one of 'cosine', 'dot' or 'euclidean'"
            ) from None


class TaskType(str, enum.Enum):
    """What an embedding is for. The eight task types of Gemini's embedding API.

    Embedders that have no notion of task ignore it; embedders that do pick
    ``RETRIEVAL_DOCUMENT`` for stored text and ``RETRIEVAL_QUERY`` for searches by default.
    """

    SEMANTIC_SIMILARITY = "SEMANTIC_SIMILARITY"
    CLASSIFICATION = "CLASSIFICATION"
    CLUSTERING = "CLUSTERING"
    RETRIEVAL_DOCUMENT = "RETRIEVAL_DOCUMENT"
    RETRIEVAL_QUERY = "RETRIEVAL_QUERY"
    CODE_RETRIEVAL_QUERY = "CODE_RETRIEVAL_QUERY"
    QUESTION_ANSWERING = "QUESTION_ANSWERING"
    FACT_VERIFICATION = "FACT_VERIFICATION"

    @classmethod
    def parse(cls, value: str | TaskType) -> TaskType:
        if isinstance(value, TaskType):
            return value
        try:
            return cls(str(value).strip().upper())
        except ValueError:
            names = ", ".join(t.value for t in cls)
            raise InvalidInput(f"unknown task type {value!r}: use one of {names}") from None


@dataclass(frozen=True)
class EmbedderFingerprint:
    """Identifies the vector space a collection lives in.

    Stored with the collection so that opening it with another model, dimension or task
    fails before anything is written. ``provider`` is the embedder's registry name
    (``hashing``, ``gemini`` ...), so the CLI can rebuild the same embedder later;
    ``options`` holds whatever else that needs (never secrets).
    """

    provider: str
    model: str
    dimension: int
    task: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "dimension": self.dimension,
            "task": self.task,
            "options": dict(self.options),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmbedderFingerprint:
        return cls(
            provider=str(data["provider"]),
            model=str(data["model"]),
            dimension=int(data["dimension"]),
            task=data.get("task"),
            options=dict(data.get("options") or {}),
        )

    def compatible_with(self, other: EmbedderFingerprint) -> bool:
        """Same vector space: provider, model, dimension and document task all agree."""
        return (self.provider, self.model, self.dimension, self.task) == (
            other.provider,
            other.model,
            other.dimension,
            other.task,
        )

    def describe(self) -> str:
        task = f", task {self.task}" if self.task else ""
        return f"{self.provider}:{self.model} ({self.dimension}-d{task})"


# Collection names must be safe as a Qdrant collection, a directory name, a PostgreSQL table
# (after quoting), a Weaviate class (after capitalising) and a Pinecone index (after lowercasing
# and replacing '_'): letters, digits, '_' and '-', starting with a letter, at most 63 chars.
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")


def validate_collection_name(name: str) -> str:
    """Return ``name`` if it is a safe portable collection name, else raise ``InvalidInput``."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise InvalidInput(
            f"invalid collection name {name!r}: use 1-63 characters, letters, digits, '_' or '-', "
            "starting with a letter (e.g. 'docs_v2')"
        )
    return name


@dataclass(frozen=True)
class CollectionSpec:
    """What a collection is: its name, vector dimension, metric and embedder fingerprint.

    ``hybrid``: the collection also keeps a keyword index of each record's text, so it can be
    searched with ``mode="keyword"`` or ``"hybrid"``. ``multi_tenant``: records belong to tenants,
    and every data call names one (``tenant=``); a tenant never sees another's records.
    """

    name: str
    dimension: int
    metric: Metric = Metric.COSINE
    embedder: EmbedderFingerprint | None = None
    hybrid: bool = False
    multi_tenant: bool = False

    def __post_init__(self) -> None:
        validate_collection_name(self.name)
        if isinstance(self.dimension, bool) or not isinstance(self.dimension, int) or self.dimension < 1:
            raise InvalidInput(f"dimension must be a positive integer, got {self.dimension!r}")
        if self.dimension > MAX_DIMENSION:
            raise InvalidInput(
                f"dimension {self.dimension} is above vecbridge's limit of {MAX_DIMENSION} (no store here "
                "indexes more): reduce it, e.g. with a Matryoshka model's truncation"
            )
        object.__setattr__(self, "metric", Metric.parse(self.metric))
        for flag in ("hybrid", "multi_tenant"):
            if not isinstance(getattr(self, flag), bool):
                raise InvalidInput(f"{flag} must be True or False, got {getattr(self, flag)!r}")
        if self.embedder is not None and self.embedder.dimension != self.dimension:
            raise InvalidInput(
                f"collection {self.name!r} has dimension {self.dimension} but its embedder "
                f"{self.embedder.describe()} produces {self.embedder.dimension}-d vectors"
            )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "dimension": self.dimension,
            "metric": self.metric.value,
            "embedder": self.embedder.to_dict() if self.embedder else None,
        }
        # Written only when set, so specs stored before these existed read back unchanged.
        if self.hybrid:
            out["hybrid"] = True
        if self.multi_tenant:
            out["multi_tenant"] = True
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CollectionSpec:
        """Rebuild a spec from ``to_dict`` output; anything malformed raises ``InvalidInput``."""
        try:
            emb = data.get("embedder")
            return cls(
                name=str(data["name"]),
                dimension=int(data["dimension"]),
                metric=Metric.parse(data.get("metric", "cosine")),
                embedder=EmbedderFingerprint.from_dict(emb) if emb else None,
                hybrid=bool(data.get("hybrid", False)),
                multi_tenant=bool(data.get("multi_tenant", False)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, InvalidInput):
                raise
            raise InvalidInput(f"a stored collection spec is damaged ({type(exc).__name__}: {exc})") from None

    def renamed(self, name: str) -> CollectionSpec:
        return replace(self, name=name)


@dataclass
class Record:
    """What goes into a store. ``id`` is the user's own string id, kept on every store."""

    id: str
    vector: Vector
    text: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Hit:
    """One query result, best first. ``score``: higher is more similar (see :class:`Metric`)."""

    id: str
    score: float
    text: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    vector: list[float] | None = None


@dataclass
class ScanPage:
    """One page of a scan. Pass ``next_cursor`` back to ``scan`` to resume after this page."""

    records: list[Record]
    next_cursor: str | None
