"""The control plane's indexes (db_control OpenAPI: create, describe, list, delete, configure),
in both wire shapes: 2026-07 (``schema`` + ``deployment``, what SDK 10 speaks) and the older
``dimension``/``metric``/``spec`` shape (SDK <= 9, Pinecone Local's 2025-01)."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from . import limits
from .data import IndexData
from .errors import ApiFailure

__all__ = ["EmulatedIndex", "parse_create", "parse_configure"]

_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,43}[a-z0-9])?$")
_TAG_KEY_RE = re.compile(r"^[a-zA-Z0-9_-]{1,80}$")
#: The only schema field the vector API (upsert/query/...) serves: a legacy-shaped dense index.
DENSE_FIELD = "_values"


@dataclass
class EmulatedIndex:
    name: str
    dimension: int
    metric: str
    cloud: str
    region: str
    tags: dict[str, str] = field(default_factory=dict)
    deletion_protection: str = "disabled"
    host: str = ""
    ready_at: float = 0.0
    data: IndexData = field(init=False)

    def __post_init__(self) -> None:
        self.data = IndexData(self.dimension, self.metric)

    @property
    def ready(self) -> bool:
        return time.monotonic() >= self.ready_at

    def render(self, version: str) -> dict[str, Any]:
        status = {"ready": self.ready, "state": "Ready" if self.ready else "Initializing"}
        tags: dict[str, str] | None = dict(self.tags) or None
        if version in limits.SCHEMA_VERSIONS:
            return {
                "name": self.name,
                "host": self.host,
                "status": status,
                "schema": {
                    "fields": {
                        DENSE_FIELD: {"type": "dense_vector", "dimension": self.dimension, "metric": self.metric}
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


def _bad(message: str) -> ApiFailure:
    return ApiFailure(400, message)


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


def parse_create(body: Any, version: str) -> EmulatedIndex:
    """An index from a create request in either shape (what the request version speaks)."""
    if not isinstance(body, dict):
        raise ApiFailure(422, "Failed to deserialize the JSON body into the target type")
    name = body.get("name") or f"index-{secrets.token_hex(4)}"  # 2026-07: the server names it
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise _bad(
            f"Name {name!r} is invalid: it must consist of lowercase alphanumeric characters or '-', "
            f"start and end with an alphanumeric character, and be at most {limits.MAX_INDEX_NAME} characters"
        )
    if version in limits.SCHEMA_VERSIONS:
        fields = (body.get("schema") or {}).get("fields") if isinstance(body.get("schema"), dict) else None
        if not isinstance(fields, dict) or not fields:
            raise ApiFailure(422, "Failed to deserialize the JSON body into the target type: missing field `schema`")
        dense = fields.get(DENSE_FIELD)
        if set(fields) != {DENSE_FIELD} or not isinstance(dense, dict) or dense.get("type") != "dense_vector":
            raise ApiFailure(
                501,
                "the vecbridge Pinecone emulator serves dense vector indexes only (schema {'_values': dense_vector}); "
                "document, sparse and full-text schemas are not implemented",
            )
        dimension, metric = _dense(dense.get("dimension"), dense.get("metric", "cosine"))
        deployment = body.get("deployment") or {"deployment_type": "managed", "cloud": "aws", "region": "us-east-1"}
        if not isinstance(deployment, dict) or deployment.get("deployment_type") != "managed":
            raise ApiFailure(501, "pod and BYOC deployments are not implemented by the vecbridge Pinecone emulator")
        cloud, region = _place(deployment.get("cloud"), deployment.get("region"))
    else:
        spec = body.get("spec")
        if not isinstance(spec, dict) or not spec:
            raise ApiFailure(422, "Failed to deserialize the JSON body into the target type: missing field `spec`")
        serverless = spec.get("serverless")
        if not isinstance(serverless, dict):
            raise ApiFailure(501, "pod and BYOC indexes are not implemented by the vecbridge Pinecone emulator")
        if body.get("vector_type", "dense") != "dense":
            raise ApiFailure(501, "sparse indexes are not implemented by the vecbridge Pinecone emulator")
        dimension, metric = _dense(body.get("dimension"), body.get("metric", "cosine"))
        cloud, region = _place(serverless.get("cloud"), serverless.get("region"))
    protection = body.get("deletion_protection") or "disabled"
    if protection not in ("enabled", "disabled"):
        raise _bad("deletion_protection must be 'enabled' or 'disabled'")
    return EmulatedIndex(
        name=name,
        dimension=dimension,
        metric=metric,
        cloud=cloud,
        region=region,
        tags=check_tags(body.get("tags")),
        deletion_protection=protection,
    )


def parse_configure(index: EmulatedIndex, body: Any) -> None:
    """Apply a configure (PATCH) request: tags are merged (an empty value removes a tag) and
    deletion protection switched; scaling and schema changes are not emulated."""
    if not isinstance(body, dict) or not body:
        raise _bad("at least one configuration parameter must be provided")
    unknown = set(body) - {"tags", "deletion_protection"}
    if unknown:
        raise ApiFailure(501, f"configuring {sorted(unknown)} is not implemented by the vecbridge Pinecone emulator")
    if "deletion_protection" in body:
        if body["deletion_protection"] not in ("enabled", "disabled"):
            raise _bad("deletion_protection must be 'enabled' or 'disabled'")
        index.deletion_protection = body["deletion_protection"]
    if "tags" in body:
        merged = {**index.tags, **check_tags(body["tags"])}
        index.tags = check_tags({k: v for k, v in merged.items() if v != ""})
