"""How a vecbridge collection is laid out in Milvus: its name, fields, indexes and stored spec.

Fields (one Milvus collection per vecbridge collection, no dynamic field):

``id``        VARCHAR primary key: the record's id, or ``<tenant>/<id>`` in a multi-tenant
              collection (tenant names hold no ``/``, so both parts are recovered exactly, and
              two tenants' records with the same id stay two records).
``vector``    FLOAT_VECTOR of the collection's dimension (COSINE, IP or L2 index).
``text``      VARCHAR (at most 65,535 bytes, Milvus's limit); ``""`` stands for "no text" (vecbridge
              never stores an empty text, it refuses it). With ``hybrid=True`` it has Milvus's
              analyzer and feeds a BM25 function.
``metadata``  JSON: the record's metadata as given.
``vb_filter`` JSON: the hidden filter index (``shadow.py``), never returned.
``tenant``    VARCHAR partition key (``multi_tenant=True`` only): every call filters on it.
``sparse``    SPARSE_FLOAT_VECTOR output of the BM25 function (``hybrid=True`` only).

The collection spec (dimension, metric, embedder fingerprint, hybrid, multi-tenant) is kept as JSON
in the collection property ``vecbridge.spec``. Collections are created with Strong consistency, so
every read sees the writes before it.

Names: Milvus takes letters, digits and ``_``. A vecbridge name without ``-`` is used as it is; one
with ``-`` becomes ``-`` -> ``_`` plus ``_`` and 10 hex digits of its SHA-256 (``docs-v2`` ->
``docs_v2_<hex>``), so ``docs-v2`` and ``docs_v2`` are two collections. The spec keeps the name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pymilvus import DataType, Function, FunctionType, MilvusClient

from vecbridge.core.errors import StoreError
from vecbridge.core.models import CollectionSpec, Metric

__all__ = [
    "FILTER_FIELD",
    "ID_FIELD",
    "INDEX_TYPES",
    "METADATA_FIELD",
    "MAX_TEXT_BYTES",
    "SPARSE_FIELD",
    "SPEC_PROPERTY",
    "TENANT_FIELD",
    "TEXT_FIELD",
    "VECTOR_FIELD",
    "collection_schema",
    "index_params",
    "milvus_metric",
    "milvus_name",
    "spec_from_description",
    "spec_properties",
    "stored_name",
]

ID_FIELD = "id"
VECTOR_FIELD = "vector"
TEXT_FIELD = "text"
METADATA_FIELD = "metadata"
FILTER_FIELD = "vb_filter"
TENANT_FIELD = "tenant"
SPARSE_FIELD = "sparse"
SPEC_PROPERTY = "vecbridge.spec"

#: Milvus's VARCHAR ceiling, in UTF-8 bytes.
MAX_TEXT_BYTES = 65_535
#: Room for a 512-character id (4 bytes per character at most) behind a 64-character tenant.
_ID_BYTES = 4_096
_TENANT_BYTES = 64

_METRICS = {Metric.COSINE: "COSINE", Metric.DOT: "IP", Metric.EUCLIDEAN: "L2"}

#: Vector index types a URL may ask for (``?index=``), with their build parameters.
INDEX_TYPES: dict[str, dict[str, Any]] = {
    "FLAT": {},
    "HNSW": {"M": 16, "efConstruction": 200},
    "AUTOINDEX": {},
}


def milvus_metric(metric: Metric) -> str:
    return _METRICS[metric]


def milvus_name(name: str) -> str:
    """The Milvus collection name of a vecbridge collection (see the module docstring)."""
    if "-" not in name:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
    return f"{name.replace('-', '_')}_{digest}"


def collection_schema(spec: CollectionSpec) -> Any:
    """The Milvus schema of ``spec``."""
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field(ID_FIELD, DataType.VARCHAR, is_primary=True, max_length=_ID_BYTES)
    schema.add_field(VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=spec.dimension)
    if spec.hybrid:
        schema.add_field(TEXT_FIELD, DataType.VARCHAR, max_length=MAX_TEXT_BYTES, enable_analyzer=True)
        schema.add_field(SPARSE_FIELD, DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name="vb_bm25",
                function_type=FunctionType.BM25,
                input_field_names=[TEXT_FIELD],
                output_field_names=[SPARSE_FIELD],
            )
        )
    else:
        schema.add_field(TEXT_FIELD, DataType.VARCHAR, max_length=MAX_TEXT_BYTES)
    schema.add_field(METADATA_FIELD, DataType.JSON)
    schema.add_field(FILTER_FIELD, DataType.JSON)
    if spec.multi_tenant:
        schema.add_field(TENANT_FIELD, DataType.VARCHAR, max_length=_TENANT_BYTES, is_partition_key=True)
    return schema


def index_params(spec: CollectionSpec, index_type: str) -> Any:
    """The vector index (and, for hybrid collections, the BM25 index) of ``spec``."""
    params = MilvusClient.prepare_index_params()
    params.add_index(
        field_name=VECTOR_FIELD,
        index_type=index_type,
        metric_type=milvus_metric(spec.metric),
        params=dict(INDEX_TYPES[index_type]),
    )
    if spec.hybrid:
        # BM25's constants as in vecbridge.core.keywords (k1 = 1.2, b = 0.75).
        params.add_index(
            field_name=SPARSE_FIELD,
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params={"bm25_k1": 1.2, "bm25_b": 0.75},
        )
    return params


def spec_properties(spec: CollectionSpec) -> dict[str, str]:
    return {SPEC_PROPERTY: json.dumps(spec.to_dict(), sort_keys=True, ensure_ascii=False)}


def stored_name(description: Mapping[str, Any]) -> str | None:
    """The vecbridge name in a Milvus collection's spec property; None if it has none (a collection
    made outside vecbridge)."""
    raw = (description.get("properties") or {}).get(SPEC_PROPERTY)
    try:
        name = json.loads(raw)["name"] if raw is not None else None
    except (TypeError, ValueError, KeyError):
        return None
    return name if isinstance(name, str) else None


def spec_from_description(description: Mapping[str, Any], name: str) -> CollectionSpec | None:
    """The spec kept in a collection's properties; None for a collection vecbridge did not create.

    Raises ``StoreError`` when the Milvus collection of ``name`` holds another vecbridge collection
    (a name collision of the mapping above, which needs a crafted name)."""
    raw = (description.get("properties") or {}).get(SPEC_PROPERTY)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise StoreError(f"Milvus collection {milvus_name(name)!r}: its vecbridge spec property is not a JSON object")
    spec = CollectionSpec.from_dict(data)
    if spec.name != name:
        raise StoreError(
            f"Milvus collection {milvus_name(name)!r} holds vecbridge collection {spec.name!r}, not {name!r}: "
            "use another collection name"
        )
    return spec
