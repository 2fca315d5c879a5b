"""The layout of a vecbridge collection in Weaviate: class name, properties, spec in the description.

See the package docstring for why metadata is stored as JSON plus typed filter properties.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from weaviate.classes.config import (
    Configure,
    DataType,
    Property,
    StopwordsPreset,
    Tokenization,
    VectorDistances,
)

from vecbridge.core.errors import InvalidInput, StoreError
from vecbridge.core.models import CollectionSpec, Metric

__all__ = [
    "COMPRESSIONS",
    "ID_PROP",
    "KEYS_PROP",
    "META_PROP",
    "RETURN_PROPERTIES",
    "SPEC_MARKER",
    "TEXT_PROP",
    "VECTOR_NAME",
    "base_properties",
    "class_name",
    "decode_description",
    "encode_description",
    "expected_type",
    "filter_property",
    "filter_property_definition",
    "inverted_index_config",
    "metric_of",
    "multi_tenancy_config",
    "vector_config",
]

#: The one named vector of a vecbridge collection.
VECTOR_NAME = "default"

# Internal properties start with "vb_"; metadata filter properties with "m_" or "h_", so neither
# can collide with the other, nor with Weaviate's reserved names ("id", "_id", "_additional").
ID_PROP = "vb_id"
TEXT_PROP = "vb_text"
META_PROP = "vb_meta"
KEYS_PROP = "vb_keys"
#: What queries ask back: the typed filter properties are never needed to rebuild a record.
RETURN_PROPERTIES = [ID_PROP, TEXT_PROP, META_PROP]


def base_properties(hybrid: bool) -> list[Property]:
    """The properties every vecbridge class starts with.

    ``vb_text`` gets a BM25 index only in hybrid collections, with ``word`` tokenization: lowercased
    runs of letters and digits, exactly the words of ``core.keywords.tokenize``, so keyword search
    agrees with every other store. A part number such as "XK-7741" is then the two words ``xk`` and
    ``7741``, found whether it is written "XK-7741", "xk-7741," or "XK 7741". ``whitespace`` or
    ``lowercase`` tokenization would keep "XK-7741" whole but also glue punctuation to words
    ("winter." would not match "winter"), and ``field`` would index the whole text as one token.
    """
    return [
        # filterable so an object can be found by the user's id in Weaviate's own tools
        Property(name=ID_PROP, data_type=DataType.TEXT, tokenization=Tokenization.FIELD, index_searchable=False),
        Property(
            name=TEXT_PROP,
            data_type=DataType.TEXT,
            tokenization=Tokenization.WORD,
            index_filterable=False,
            index_searchable=hybrid,
        ),
        # the JSON copy is only read back, never searched: no inverted index at all
        Property(name=META_PROP, data_type=DataType.TEXT, index_filterable=False, index_searchable=False),
        Property(
            name=KEYS_PROP, data_type=DataType.TEXT_ARRAY, tokenization=Tokenization.FIELD, index_searchable=False
        ),
    ]


def inverted_index_config() -> Any:
    """No stopwords: Weaviate's default ("en") would drop words such as "a" or "before" from BM25,
    which no other store does (``core.keywords`` keeps every word)."""
    return Configure.inverted_index(stopwords_preset=StopwordsPreset.NONE)


def multi_tenancy_config(multi_tenant: bool) -> Any:
    """Weaviate's own multi-tenancy (one shard per tenant). Tenants are created on the first write
    to them and activated when used, so vecbridge never manages them by hand."""
    if not multi_tenant:
        return None
    return Configure.multi_tenancy(enabled=True, auto_tenant_creation=True, auto_tenant_activation=True)


#: Marker in the class description after which the spec follows as JSON.
SPEC_MARKER = "vecbridge-spec:"
_SPEC_FORMAT = 1

_DISTANCES = {
    Metric.COSINE: VectorDistances.COSINE,
    Metric.DOT: VectorDistances.DOT,
    Metric.EUCLIDEAN: VectorDistances.L2_SQUARED,
}


def class_name(name: str) -> str:
    """The Weaviate class for a (validated) vecbridge collection name: ``docs-v2`` -> ``Docs_v2``.

    Weaviate class names are ``[A-Z][_0-9A-Za-z]*``; vecbridge names may hold ``-`` and start lower
    case. The mapping is not injective (``docs-v2``/``docs_v2``); the driver detects such clashes
    through the user's name kept in the description.
    """
    return name[:1].upper() + name[1:].replace("-", "_")


def metric_of(distance: str) -> Metric | None:
    """The vecbridge metric of a Weaviate distance name, or None (hamming, manhattan)."""
    for metric, dist in _DISTANCES.items():
        if dist.value == distance:
            return metric
    return None


#: Vector compressions a store URL may ask for (``compression=``), as Weaviate's allow-list
#: (ALLOWED_COMPRESSION_TYPES) names them. "none" keeps scores exact and is the default.
COMPRESSIONS: dict[str, Any] = {
    "none": lambda: Configure.VectorIndex.Quantizer.none(),
    "rq-8": lambda: Configure.VectorIndex.Quantizer.rq(bits=8),
    "rq-1": lambda: Configure.VectorIndex.Quantizer.rq(bits=1),
    "sq": lambda: Configure.VectorIndex.Quantizer.sq(),
    "pq": lambda: Configure.VectorIndex.Quantizer.pq(),
    "bq": lambda: Configure.VectorIndex.Quantizer.bq(),
}


def check_compression(value: str) -> str:
    key = str(value).strip().lower()
    if key not in COMPRESSIONS:
        raise InvalidInput(f"compression must be one of {', '.join(COMPRESSIONS)}, got {value!r}")
    return key


def vector_config(metric: Metric, compression: str = "none") -> Any:
    """Self-provided vectors (no vectorizer), HNSW, the spec's distance, no compression by default.

    Weaviate >= 1.33 compresses new indexes by default (RQ); compressed distances are approximate,
    and vecbridge promises scores that are the true similarity, so compression is skipped unless the
    store URL asks for it (a cluster whose ALLOWED_COMPRESSION_TYPES refuses "none" needs that).
    """
    return Configure.Vectors.self_provided(
        name=VECTOR_NAME,
        vector_index_config=Configure.VectorIndex.hnsw(
            distance_metric=_DISTANCES[metric], quantizer=COMPRESSIONS[compression]()
        ),
    )


# --- metadata filter properties -------------------------------------------------------------

#: value kind -> (name suffix, Weaviate type). "date" holds the instants (seconds since the epoch)
#: of ISO-8601 strings (``core.dates``), so date ranges compare moments, not text.
_KINDS: dict[str, tuple[str, DataType]] = {
    "number": ("n", DataType.NUMBER_ARRAY),
    "text": ("s", DataType.TEXT_ARRAY),
    "bool": ("b", DataType.BOOL_ARRAY),
    "date": ("d", DataType.NUMBER_ARRAY),
}
_SIMPLE_KEY = re.compile(r"[a-z0-9_]{1,64}")


def filter_property(key: str, kind: str) -> str:
    """The typed property holding ``key``'s values of ``kind`` (``number``, ``text``, ``bool``, ``date``).

    Keys that are already safe, lower-case property names are kept readable (``m_year_n``); any
    other key is hashed (``h_<20 hex>_n``): the mapping stays injective and every name lower case,
    because Weaviate treats property names case-insensitively. The one-letter suffix also keeps
    names clear of Weaviate's reserved suffixes (``_temp``, ``_searchable`` ...).
    """
    suffix = _KINDS[kind][0]
    if _SIMPLE_KEY.fullmatch(key):
        return f"m_{key}_{suffix}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]
    return f"h_{digest}_{suffix}"


def filter_property_definition(name: str, kind: str) -> Property:
    """The schema entry of a typed filter property: filterable, never searchable."""
    data_type = _KINDS[kind][1]
    if data_type is DataType.TEXT_ARRAY:
        # "field" keeps the whole value as one token: exact, case-sensitive equality
        return Property(name=name, data_type=data_type, tokenization=Tokenization.FIELD, index_searchable=False)
    return Property(name=name, data_type=data_type)


def expected_type(kind: str) -> str:
    return _KINDS[kind][1].value


# --- the spec in the class description ------------------------------------------------------


def encode_description(spec: CollectionSpec) -> str:
    """A readable sentence followed by the spec as JSON (Weaviate keeps descriptions verbatim)."""
    payload = {"format": _SPEC_FORMAT, **spec.to_dict()}
    summary = f"vecbridge collection {spec.name!r} ({spec.dimension}-d, {spec.metric.value})"
    return f"{summary}. {SPEC_MARKER}{json.dumps(payload, ensure_ascii=False, sort_keys=True)}"


def decode_description(description: str | None) -> CollectionSpec | None:
    """The spec stored by :func:`encode_description`, or None for classes vecbridge did not make."""
    if not description or SPEC_MARKER not in description:
        return None
    raw = description.split(SPEC_MARKER, 1)[1]
    try:
        data = json.loads(raw)
        if not isinstance(data, Mapping):
            raise ValueError("not an object")
        return CollectionSpec.from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"the Weaviate class description carries a damaged vecbridge spec ({exc}): "
            "restore the description or recreate the collection"
        ) from exc
