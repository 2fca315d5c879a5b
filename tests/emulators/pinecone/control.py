"""The control plane's indexes (db_control OpenAPI: create, describe, list, delete, configure),
in both wire shapes: 2026-07 (``schema`` + ``deployment``, what SDK 10 speaks) and the older
``dimension``/``metric``/``spec`` shape (SDK <= 9, Pinecone Local's 2025-01).

2026-07 rules followed here (``CreateIndexRequest`` and ``IndexSchema`` in db_control_2026-07):

* the request takes ``name`` (optional: the server names the index), ``schema`` (required),
  ``deployment``, ``read_capacity``, ``tags``, ``deletion_protection``, ``cmek_id`` and nothing
  else (``additionalProperties: false``);
* an index served by the vectors API declares the reserved fields ``_values`` (``dense_vector``
  with ``dimension`` and ``metric``) and/or ``_sparse_values`` (``sparse_vector``, which takes
  neither), with no other field; reserved fields take no ``description``;
* describing a dense vectors-API index reports both ``_values`` and ``_sparse_values``, however
  it was created; sparse writes are accepted only when ``_sparse_values`` was declared (2025-10
  and older: any ``dotproduct`` dense index accepted them).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from . import limits
from .data import IndexData
from .errors import ApiFailure

__all__ = ["EmulatedIndex", "parse_configure", "parse_create"]

_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,43}[a-z0-9])?$")
_TAG_KEY_RE = re.compile(r"^[a-zA-Z0-9_-]{1,80}$")
#: The reserved schema fields the vectors API (upsert/query/...) serves.
DENSE_FIELD = "_values"
SPARSE_FIELD = "_sparse_values"
_CREATE_KEYS = frozenset({"name", "schema", "deployment", "read_capacity", "tags", "deletion_protection", "cmek_id"})
_STATES = frozenset(
    {
        "Initializing",
        "InitializationFailed",
        "Failed",
        "ScalingUp",
        "ScalingDown",
        "ScalingUpPodSize",
        "Terminating",
        "Ready",
        "Disabled",
    }
)


@dataclass
class EmulatedIndex:
    name: str
    dimension: int
    metric: str
    cloud: str
    region: str
    sparse: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    deletion_protection: str = "disabled"
    host: str = ""
    ready_at: float = 0.0
    lag: float = 0.0
    #: A state set by a test (``PineconeEmulator.set_state``); None: Initializing, then Ready.
    forced_state: str | None = None
    data: IndexData = field(init=False)

    def __post_init__(self) -> None:
        self.data = IndexData(self.dimension, self.metric, sparse=self.sparse, lag=self.lag)

    @property
    def state(self) -> str:
        if self.forced_state is not None:
            return self.forced_state
        return "Ready" if time.monotonic() >= self.ready_at else "Initializing"

    @property
    def ready(self) -> bool:
        return self.state in ("Ready", "ScalingUp", "ScalingDown", "ScalingUpPodSize")

    def render(self, version: str) -> dict[str, Any]:
        status = {"ready": self.ready, "state": self.state}
        tags: dict[str, str] | None = dict(self.tags) or None
        if version in limits.SCHEMA_VERSIONS:
            return {
                "name": self.name,
                "host": self.host,
                "status": status,
                "schema": {
                    "fields": {
                        DENSE_FIELD: {"type": "dense_vector", "dimension": self.dimension, "metric": self.metric},
                        SPARSE_FIELD: {"type": "sparse_vector"},
                    }
                },
                "deployment": {"deployment_type": "managed", "cloud": self.cloud, "region": self.region},
                "read_capacity": {"mode": "OnDemand", "status": {"state": "Ready"}},
                "deletion_protection": self.deletion_protection,
                "tags": tags,
            }
        return {
            "name": self.name,
            "dimension": self.dimension,
            "metric": self.metric,
            "host": self.host,
            "status": status,
            "spec": {"serverless": {"cloud": self.cloud, "region": self.region}},
            "deletion_protection": self.deletion_protection,
            "tags": tags,
            "vector_type": "dense",
        }


def check_state(state: str) -> str:
    if state not in _STATES:
        raise ValueError(f"unknown index state {state!r}; Pinecone's are {sorted(_STATES)}")
    return state


def _bad(message: str) -> ApiFailure:
    return ApiFailure(400, message)


def _undecodable(message: str) -> ApiFailure:
    return ApiFailure(422, f"Failed to deserialize the JSON body into the target type: {message}")


def _unimplemented(what: str) -> ApiFailure:
    return ApiFailure(501, f"{what} not implemented by the vecbridge Pinecone emulator")


def check_tags(tags: Any) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, dict):
        raise _bad("tags must be an object of string keys and values")
    if len(tags) > limits.MAX_TAGS:
        raise _bad(f"tags exceeded the maximum of {limits.MAX_TAGS}. Got {len(tags)} tags.")
    for key, value in tags.items():
        if not _TAG_KEY_RE.fullmatch(key):
            raise _bad(f"Tag key {key!r} is invalid: keys are 1-80 alphanumeric characters, '_' or '-'")
        if not isinstance(value, str) or len(value) > limits.MAX_TAG_VALUE:
            raise _bad(f"Tag value for key {key!r} exceeds the {limits.MAX_TAG_VALUE}-character limit")
        if not all(0x20 <= ord(c) <= 0x7E for c in value):
            raise _bad(f"Tag value for key {key!r} contains invalid characters: only printable ASCII is allowed")
    return dict(tags)


def _dense(dimension: Any, metric: Any) -> tuple[int, str]:
    if not isinstance(dimension, int) or isinstance(dimension, bool) or not 1 <= dimension <= limits.MAX_DIMENSION:
        raise _bad(f"dimension must be an integer between 1 and {limits.MAX_DIMENSION}")
    if metric not in limits.METRICS:
        raise _bad(f"metric must be one of {', '.join(limits.METRICS)}")
    return dimension, metric


def _place(cloud: Any, region: Any) -> tuple[str, str]:
    if cloud not in limits.CLOUDS or not isinstance(region, str) or not region:
        raise ApiFailure(404, f"Resource cloud: {cloud} region: {region} not found.")
    return cloud, region


def _schema_2026(schema: Any) -> tuple[int, str, bool]:
    """(dimension, metric, sparse declared) of a vectors-API schema."""
    fields = schema.get("fields") if isinstance(schema, dict) else None
    if not isinstance(fields, dict):
        raise _undecodable("missing field `fields`")
    if not fields:
        raise _bad("schema.fields must declare at least one field")
    reserved = {DENSE_FIELD, SPARSE_FIELD}
    if not set(fields) <= reserved:
        underscored = sorted(f for f in fields if str(f).startswith("_") and f not in reserved)
        if underscored:
            raise _bad(f"Field names starting with '_' are reserved: {underscored}")
        if set(fields) & reserved:
            raise _bad("The reserved fields _values and _sparse_values cannot be combined with other fields")
        raise _unimplemented("document indexes (named dense, sparse and full-text fields) are")
    dense, sparse = fields.get(DENSE_FIELD), fields.get(SPARSE_FIELD)
    if dense is None:
        raise _unimplemented("sparse-only indexes are")
    if not isinstance(dense, dict) or dense.get("type") != "dense_vector":
        raise _bad(f"{DENSE_FIELD} must be a dense_vector field")
    if "description" in dense:
        raise _bad("Reserved fields do not accept a description")
    for key in ("dimension", "metric"):
        if key not in dense:
            raise _undecodable(f"missing field `{key}`")
    extra = set(dense) - {"type", "dimension", "metric"}
    if extra:
        raise _undecodable(f"unknown field `{sorted(extra)[0]}`")
    dimension, metric = _dense(dense.get("dimension"), dense.get("metric"))
    if sparse is not None:
        if not isinstance(sparse, dict) or sparse.get("type") != "sparse_vector":
            raise _bad(f"{SPARSE_FIELD} must be a sparse_vector field")
        if set(sparse) != {"type"}:
            raise _bad(f"a sparse_vector field takes no {sorted(set(sparse) - {'type'})}")
    return dimension, metric, sparse is not None


def _deployment_2026(deployment: Any) -> tuple[str, str]:
    if deployment is None:
        return "aws", "us-east-1"  # the documented default
    if not isinstance(deployment, dict):
        raise _undecodable("deployment must be an object")
    kind = deployment.get("deployment_type")
    if kind == "byoc":
        raise _unimplemented("BYOC deployments are")
    if kind != "managed":
        raise _undecodable(f"unknown variant `{kind}`, expected `managed` or `byoc`")
    extra = set(deployment) - {"deployment_type", "cloud", "region"}
    if extra:
        raise _undecodable(f"unknown field `{sorted(extra)[0]}`")
    return _place(deployment.get("cloud"), deployment.get("region"))


def parse_create(body: Any, version: str, *, lag: float = 0.0) -> EmulatedIndex:
    """An index from a create request in either shape (what the request version speaks); its
    writes become visible ``lag`` seconds after they are accepted."""
    if not isinstance(body, dict):
        raise _undecodable("expected an object")
    name = body.get("name") or f"index-{secrets.token_hex(4)}"  # 2026-07: the server names it
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise _bad(
            f"Name {name!r} is invalid: it must consist of lowercase alphanumeric characters or '-', "
            f"start and end with an alphanumeric character, and be at most {limits.MAX_INDEX_NAME} characters"
        )
    if version in limits.SCHEMA_VERSIONS:
        unknown = set(body) - _CREATE_KEYS
        if unknown:
            raise _undecodable(f"unknown field `{sorted(unknown)[0]}`")
        if "schema" not in body:
            raise _undecodable("missing field `schema`")
        if body.get("cmek_id") is not None:
            raise _unimplemented("customer-managed encryption keys are")
        capacity = body.get("read_capacity")
        if capacity is not None and (not isinstance(capacity, dict) or capacity.get("mode") != "OnDemand"):
            raise _unimplemented("dedicated read capacity is")
        dimension, metric, sparse = _schema_2026(body["schema"])
        cloud, region = _deployment_2026(body.get("deployment"))
    else:
        spec = body.get("spec")
        if not isinstance(spec, dict) or not spec:
            raise _undecodable("missing field `spec`")
        serverless = spec.get("serverless")
        if not isinstance(serverless, dict):
            raise _unimplemented("pod and BYOC indexes are")
        if body.get("vector_type", "dense") != "dense":
            raise _unimplemented("sparse indexes are")
        dimension, metric = _dense(body.get("dimension"), body.get("metric", "cosine"))
        cloud, region = _place(serverless.get("cloud"), serverless.get("region"))
        sparse = metric == "dotproduct"  # before 2026-07, dotproduct alone admitted sparse values
    protection = body.get("deletion_protection") or "disabled"
    if protection not in ("enabled", "disabled"):
        raise _bad("deletion_protection must be 'enabled' or 'disabled'")
    return EmulatedIndex(
        name, dimension, metric, cloud, region, sparse, check_tags(body.get("tags")), protection, lag=lag
    )


def parse_configure(index: EmulatedIndex, body: Any) -> None:
    """Apply a configure (PATCH) request: tags are merged (an empty value removes a tag) and
    deletion protection switched; scaling and schema changes are not emulated."""
    if not isinstance(body, dict) or not body:
        raise _bad("at least one configuration parameter must be provided")
    unknown = set(body) - {"tags", "deletion_protection"}
    if unknown:
        raise _unimplemented(f"configuring {sorted(unknown)} is")
    if "deletion_protection" in body:
        if body["deletion_protection"] not in ("enabled", "disabled"):
            raise _bad("deletion_protection must be 'enabled' or 'disabled'")
        index.deletion_protection = body["deletion_protection"]
    if "tags" in body:
        merged = {**index.tags, **check_tags(body["tags"])}
        index.tags = check_tags({k: v for k, v in merged.items() if v != ""})
