"""Options of the pgvector connector: how new collections are laid out, how queries search and how
bulk loads build their index.

Options come from the URL's query string (``pgvector://u@h/db?schema=rag&index=ivfflat``) or from
keyword arguments to ``connect(url, ...)`` (keywords win). Query-string keys vecbridge does not
know are handed to libpq as connection parameters (``sslmode``, ``connect_timeout`` ...).
``ef_search`` and ``probes`` are also per-call search options (``store.query(..., ef_search=200)``).

pgvector's documented limits decide the vector column type (``storage="auto"``):

* ``vector`` holds up to 16,000 dimensions, but HNSW and IVFFlat index it only up to 2,000;
* ``halfvec`` (half precision, pgvector >= 0.7) is indexed up to 4,000 dimensions.

So an indexed collection of 2,001-4,000 dimensions (Gemini's default 3,072) is stored as ``halfvec``,
and an indexed collection above 4,000 dimensions is refused with a message naming the ways out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from vecbridge.core.errors import InvalidInput

__all__ = [
    "HALFVEC_INDEX_MAX_DIM",
    "MAX_DIM",
    "VECTOR_INDEX_MAX_DIM",
    "CollectionLayout",
    "LAYOUT_FORMAT",
    "PgVectorOptions",
    "SearchKnobs",
    "choose_layout",
    "memory_setting",
]

#: Largest dimension of a ``vector`` column that HNSW/IVFFlat can index (pgvector docs).
VECTOR_INDEX_MAX_DIM = 2000
#: Largest dimension of a ``halfvec`` column that HNSW/IVFFlat can index (pgvector >= 0.7).
HALFVEC_INDEX_MAX_DIM = 4000
#: Largest dimension of either column type.
MAX_DIM = 16000

INDEX_KINDS = ("hnsw", "ivfflat", "none")
STORAGE_KINDS = ("auto", "vector", "halfvec")
ITERATIVE_SCAN_MODES = ("relaxed_order", "strict_order", "off")
#: Version of the table layout this connector writes (2: exact json metadata, its jsonb copy for
#: filters, a date shadow, optional tenant and keyword columns). Format 1 (jsonb metadata) tables
#: were made by development versions before 0.1 and are refused with a message.
LAYOUT_FORMAT = 2
#: pgvector's own bounds for the per-query knobs.
EF_SEARCH_RANGE = (1, 1000)
PROBES_RANGE = (1, 32768)


def _int_in(name: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"pgvector option {name}={value!r} is not an integer") from None
    if isinstance(value, (bool, float)) or not low <= number <= high:
        raise InvalidInput(f"pgvector option {name}={value!r}: use an integer from {low} to {high}")
    return number


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in allowed:
        raise InvalidInput(f"pgvector option {name}={value!r}: use one of {', '.join(allowed)}")
    return text


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise InvalidInput(f"pgvector option {name}={value!r}: use true or false")


@dataclass(frozen=True)
class PgVectorOptions:
    """Everything the connector can be told besides where the server is.

    ``index``/``storage``/``m``/``ef_construction``/``lists`` apply to collections created by this
    store (an existing collection keeps the layout recorded in the catalog). ``ef_search`` and
    ``probes`` are query-time defaults, overridable per query. ``defer_index`` (default on) lets a
    bulk load drop the vector index and build it once after the data (see ``loads.py``);
    ``maintenance_work_mem`` (e.g. ``"2GB"``; default: sized to the index) and ``build_workers``
    (parallel workers; default: the embedded server's cores, a server's own setting) tune that
    build.
    """

    schema: str = "public"
    index: str = "hnsw"
    storage: str = "auto"
    m: int = 16
    ef_construction: int = 64
    lists: int = 100
    ef_search: int | None = None  # None: the server's hnsw.ef_search (pgvector default 40)
    probes: int | None = None  # None: sqrt(lists) of the collection, at least 1
    iterative_scan: str = "relaxed_order"
    pool_max_size: int = 10
    pool_timeout: float = 30.0
    create_extension: bool = True
    defer_index: bool = True
    maintenance_work_mem: str | None = None
    build_workers: int | None = None

    def __post_init__(self) -> None:
        from vecbridge.core.models import validate_collection_name

        # The schema becomes an identifier like a table name: the same safe alphabet.
        try:
            validate_collection_name(self.schema)
        except InvalidInput:
            raise InvalidInput(
                f"pgvector option schema={self.schema!r}: use 1-63 letters, digits, '_' or '-', starting with a letter"
            ) from None
        object.__setattr__(self, "index", _choice("index", self.index, INDEX_KINDS))
        object.__setattr__(self, "storage", _choice("storage", self.storage, STORAGE_KINDS))
        object.__setattr__(self, "iterative_scan", _choice("iterative_scan", self.iterative_scan, ITERATIVE_SCAN_MODES))
        # Ranges are pgvector's own bounds for these parameters.
        object.__setattr__(self, "m", _int_in("m", self.m, 2, 100))
        object.__setattr__(self, "ef_construction", _int_in("ef_construction", self.ef_construction, 4, 1000))
        if self.ef_construction < 2 * self.m:
            raise InvalidInput(
                f"pgvector option ef_construction={self.ef_construction} must be at least 2 * m = {2 * self.m}"
            )
        object.__setattr__(self, "lists", _int_in("lists", self.lists, 1, 32768))
        if self.ef_search is not None:
            object.__setattr__(self, "ef_search", _int_in("ef_search", self.ef_search, *EF_SEARCH_RANGE))
        if self.probes is not None:
            object.__setattr__(self, "probes", _int_in("probes", self.probes, *PROBES_RANGE))
        object.__setattr__(self, "pool_max_size", _int_in("pool_max_size", self.pool_max_size, 1, 1000))
        try:
            timeout = float(self.pool_timeout)
        except (TypeError, ValueError):
            raise InvalidInput(f"pgvector option pool_timeout={self.pool_timeout!r} is not a number") from None
        if not timeout > 0:
            raise InvalidInput("pgvector option pool_timeout must be a positive number of seconds")
        object.__setattr__(self, "pool_timeout", timeout)
        object.__setattr__(self, "create_extension", _bool("create_extension", self.create_extension))
        object.__setattr__(self, "defer_index", _bool("defer_index", self.defer_index))
        if self.maintenance_work_mem is not None:
            object.__setattr__(self, "maintenance_work_mem", memory_setting(self.maintenance_work_mem))
        if self.build_workers is not None:
            object.__setattr__(self, "build_workers", _int_in("build_workers", self.build_workers, 0, 64))

    @classmethod
    def split(cls, query: Mapping[str, str], overrides: Mapping[str, Any]) -> tuple[PgVectorOptions, dict[str, str]]:
        """Options from a URL query and keyword overrides; the rest of the query goes to libpq."""
        known = {f.name for f in fields(cls)}
        unknown_kw = sorted(set(overrides) - known)
        if unknown_kw:
            raise InvalidInput(f"unknown pgvector option(s) {', '.join(unknown_kw)}; known: {', '.join(sorted(known))}")
        chosen: dict[str, Any] = {k: v for k, v in query.items() if k in known}
        chosen.update(overrides)
        libpq = {k: v for k, v in query.items() if k not in known}
        return cls(**chosen), libpq


@dataclass(frozen=True)
class CollectionLayout:
    """How one collection's table is built; recorded in the catalog next to its spec."""

    storage: str  # "vector" or "halfvec"
    index: str  # "hnsw", "ivfflat" or "none"
    m: int | None = None
    ef_construction: int | None = None
    lists: int | None = None
    format: int = LAYOUT_FORMAT

    def __post_init__(self) -> None:
        # A layout read back from the catalog picks SQL keywords (type, index method): only known ones.
        if self.storage not in ("vector", "halfvec") or self.index not in INDEX_KINDS:
            raise InvalidInput(f"unknown pgvector collection layout {self.storage!r}/{self.index!r} in the catalog")

    def to_dict(self) -> dict[str, Any]:
        return {
            "storage": self.storage,
            "index": self.index,
            "m": self.m,
            "ef_construction": self.ef_construction,
            "lists": self.lists,
            "format": self.format,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CollectionLayout:
        return cls(
            storage=str(data["storage"]),
            index=str(data["index"]),
            m=data.get("m"),
            ef_construction=data.get("ef_construction"),
            lists=data.get("lists"),
            format=int(data.get("format", 1)),
        )

    @property
    def default_probes(self) -> int:
        """IVFFlat lists to visit when the caller does not say: sqrt(lists), pgvector's advice."""
        return max(1, round(math.sqrt(self.lists or 1)))


def choose_layout(dimension: int, options: PgVectorOptions, *, index: str | None = None) -> CollectionLayout:
    """The column type and index for a new collection of ``dimension``, or a clear refusal."""
    kind = _choice("index", index, INDEX_KINDS) if index is not None else options.index
    if dimension > MAX_DIM:
        raise InvalidInput(
            f"pgvector stores at most {MAX_DIM} dimensions per vector, got {dimension}: "
            "embed with a smaller output dimension"
        )
    storage = options.storage
    if storage == "auto":
        storage = "halfvec" if kind != "none" and dimension > VECTOR_INDEX_MAX_DIM else "vector"
    if kind != "none":
        limit = VECTOR_INDEX_MAX_DIM if storage == "vector" else HALFVEC_INDEX_MAX_DIM
        if dimension > limit:
            hint = "storage='halfvec' (up to 4,000 dimensions), " if storage == "vector" and dimension <= 4000 else ""
            raise InvalidInput(
                f"pgvector cannot build a {kind} index on {storage}({dimension}): its limit is {limit} "
                f"dimensions. Use {hint}index='none' (exact search), or a smaller embedding dimension"
            )
    if kind == "hnsw":
        return CollectionLayout(storage, kind, m=options.m, ef_construction=options.ef_construction)
    if kind == "ivfflat":
        return CollectionLayout(storage, kind, lists=options.lists)
    return CollectionLayout(storage, kind)


_MEMORY = re.compile(r"^\s*(\d+)\s*(kB|MB|GB|TB)?\s*$", re.IGNORECASE)
_UNITS = {"kb": "kB", "mb": "MB", "gb": "GB", "tb": "TB"}


def memory_setting(value: Any) -> str:
    """A PostgreSQL memory size (``"512MB"``, ``"2GB"``; a bare number is megabytes), checked so it
    can be sent as a setting."""
    match = _MEMORY.match(str(value)) if not isinstance(value, bool) else None
    if match is None:
        raise InvalidInput(f"pgvector option maintenance_work_mem={value!r}: use a size such as '512MB' or '2GB'")
    number, unit = int(match.group(1)), _UNITS[(match.group(2) or "MB").lower()]
    if number < 1:
        raise InvalidInput("pgvector option maintenance_work_mem must be positive")
    return f"{number}{unit}"


@dataclass(frozen=True)
class SearchKnobs:
    """The per-call search options of ``SearchRequest.options``, checked."""

    ef_search: int | None = None
    probes: int | None = None

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> SearchKnobs:
        """Core has already refused names outside ``Capabilities.query_options``; values here."""
        ef = options.get("ef_search")
        probes = options.get("probes")
        return cls(
            None if ef is None else _int_in("ef_search", ef, *EF_SEARCH_RANGE),
            None if probes is None else _int_in("probes", probes, *PROBES_RANGE),
        )
