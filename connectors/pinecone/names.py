"""Where a vecbridge collection lives in Pinecone, and the index tags that remember it.

Index names
    Pinecone index names are 1-45 characters of lowercase letters, digits and '-', not starting
    or ending with '-'. vecbridge's portable names (letters, digits, '_', '-', starting with a
    letter, up to 63 characters) map onto them deterministically (:func:`index_name_for`):

    * a name that already is a valid index name is used unchanged (``docs-v2`` -> ``docs-v2``);
    * any other name (uppercase letters, '_', longer than 45 characters, a trailing '-') becomes
      its lowercased form with '_' turned into '-', cut to 34 characters, plus '-' and the first
      10 hex digits of the SHA-256 of the original name (``My_Docs`` -> ``my-docs-<10 hex>``).
      The digest keeps distinct names apart: ``Docs``, ``docs`` and ``DOCS`` are three indexes.

    The user's own name is kept in the index tag ``vecbridge-name``, so ``list_collections`` and
    ``describe_collection`` answer with it.

Index tags
    ``vecbridge``: the layout the index serves (``collection``: one collection per index;
    ``namespaces``: a shared index whose namespaces are collections). ``vecbridge-name``: the
    collection's name. ``vecbridge-flags`` (only when there is one): ``hybrid`` (the index keeps
    sparse keyword vectors), ``tenants`` (records live in one namespace per tenant), ``unit``
    (a cosine collection kept as unit vectors on a dotproduct index, see ``layout``).
    ``vecbridge-embedder-0``, ``-1`` ...: the embedder fingerprint as URL-safe base64 of its JSON,
    in 120-character pieces (Pinecone's limit per tag value; at most 20 tags per index, so a
    fingerprint may take about 1.5 KB of JSON).

Namespaces
    One index per collection: the default namespace, or with tenants one namespace per tenant,
    named after it (tenant names never start with '_', so never ``__default__``).

    A shared index (``?index=NAME``): collection ``docs`` is namespace ``docs``, or ``P/docs``
    with ``&namespace=P``; its tenant ``acme`` is ``docs/@acme`` (``P/docs/@acme``). Collection
    names start with a letter and hold no '/', so the mapping is one-to-one. Specs are records of
    the reserved namespace ``__vecbridge__`` (``P/__vecbridge__``), one per collection, whose id is
    the collection name.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping

from vecbridge.core.errors import InvalidInput
from vecbridge.core.models import EmbedderFingerprint

__all__ = [
    "CATALOG_NAMESPACE",
    "FLAG_HYBRID",
    "FLAG_TENANTS",
    "FLAG_UNIT",
    "LAYOUT_COLLECTION",
    "LAYOUT_NAMESPACES",
    "TAG_FLAGS",
    "TAG_LAYOUT",
    "TAG_NAME",
    "catalog_namespace",
    "check_index_name",
    "check_prefix",
    "embedder_from_tags",
    "embedder_tags",
    "flags_from_tags",
    "flags_tag",
    "index_name_for",
    "is_index_name",
    "namespace_for",
    "tenant_prefix",
]

INDEX_NAME_MAX = 45
_INDEX_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,43}[a-z0-9])?$")
_STEM_LENGTH = 34  # 34 + '-' + 10 hex digits = 45
_DIGEST_LENGTH = 10

TAG_LAYOUT = "vecbridge"
TAG_NAME = "vecbridge-name"
TAG_FLAGS = "vecbridge-flags"
_TAG_EMBEDDER = "vecbridge-embedder-"
FLAG_HYBRID = "hybrid"
FLAG_TENANTS = "tenants"
FLAG_UNIT = "unit"
LAYOUT_COLLECTION = "collection"
LAYOUT_NAMESPACES = "namespaces"

MAX_TAGS = 20
MAX_TAG_VALUE = 120
#: Tags vecbridge itself needs besides the embedder pieces (layout, name, flags).
_FIXED_TAGS = 3

CATALOG_NAMESPACE = "__vecbridge__"
MAX_NAMESPACE_LENGTH = 512


def is_index_name(name: str) -> bool:
    """Whether ``name`` is a valid Pinecone index name."""
    return bool(_INDEX_NAME_RE.fullmatch(name))


def index_name_for(collection: str) -> str:
    """The Pinecone index that holds collection ``collection`` (see the module docstring)."""
    if is_index_name(collection):
        return collection
    digest = hashlib.sha256(collection.encode("utf-8")).hexdigest()[:_DIGEST_LENGTH]
    stem = collection.lower().replace("_", "-")[:_STEM_LENGTH].rstrip("-")
    return f"{stem}-{digest}"


def check_index_name(name: str, *, what: str = "index") -> str:
    if not isinstance(name, str) or not is_index_name(name):
        raise InvalidInput(
            f"{what} {name!r} is not a valid Pinecone index name: use 1-{INDEX_NAME_MAX} lowercase "
            "letters, digits or '-', not starting or ending with '-' (e.g. 'shared-docs')"
        )
    return name


def check_prefix(prefix: str) -> str:
    """A namespace prefix (``&namespace=``): printable ASCII without '/', short enough to leave
    room for a collection and a tenant name inside Pinecone's 512-character namespace names."""
    limit = MAX_NAMESPACE_LENGTH - 64 - 66 - 2
    if (
        not isinstance(prefix, str)
        or not prefix
        or len(prefix) > limit
        or "/" in prefix
        or not all(0x21 <= ord(c) <= 0x7E for c in prefix)
    ):
        raise InvalidInput(
            f"namespace prefix {prefix!r} is not usable: use 1-{limit} printable ASCII characters "
            "without spaces or '/' (e.g. 'tenant-42')"
        )
    return prefix


def namespace_for(collection: str, prefix: str | None, tenant: str | None = None) -> str:
    """The namespace of a collection (and tenant) in a shared index (see the module docstring)."""
    name = f"{prefix}/{collection}" if prefix else collection
    return f"{name}/@{tenant}" if tenant is not None else name


def tenant_prefix(collection: str, prefix: str | None) -> str:
    """What the namespaces of every tenant of a shared-index collection start with."""
    return namespace_for(collection, prefix) + "/@"


def catalog_namespace(prefix: str | None) -> str:
    return namespace_for(CATALOG_NAMESPACE, prefix)


def flags_tag(flags: set[str]) -> dict[str, str]:
    return {TAG_FLAGS: ",".join(sorted(flags))} if flags else {}


def flags_from_tags(tags: Mapping[str, str]) -> set[str]:
    return {f for f in tags.get(TAG_FLAGS, "").split(",") if f}


def embedder_tags(fingerprint: EmbedderFingerprint | None) -> dict[str, str]:
    """The fingerprint as index tags; raises ``InvalidInput`` when it cannot fit."""
    if fingerprint is None:
        return {}
    raw = json.dumps(fingerprint.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    encoded = base64.urlsafe_b64encode(raw.encode("ascii")).decode("ascii").rstrip("=")
    pieces = [encoded[i : i + MAX_TAG_VALUE] for i in range(0, len(encoded), MAX_TAG_VALUE)]
    if len(pieces) > MAX_TAGS - _FIXED_TAGS:
        room = (MAX_TAGS - _FIXED_TAGS) * MAX_TAG_VALUE * 3 // 4
        raise InvalidInput(
            f"the embedder fingerprint {fingerprint.describe()} is {len(raw)} bytes of JSON, but "
            f"Pinecone index tags hold about {room}: shorten the embedder's options, or keep the "
            "collection in a shared index (?index=...), where specs are stored as records"
        )
    return {f"{_TAG_EMBEDDER}{i}": piece for i, piece in enumerate(pieces)}


def embedder_from_tags(tags: Mapping[str, str] | None) -> EmbedderFingerprint | None:
    """Read back :func:`embedder_tags`; None when the index carries no fingerprint."""
    if not tags:
        return None
    pieces: list[str] = []
    while (piece := tags.get(f"{_TAG_EMBEDDER}{len(pieces)}")) is not None:
        pieces.append(piece)
    if not pieces:
        return None
    encoded = "".join(pieces)
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        return EmbedderFingerprint.from_dict(json.loads(raw))
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(
            f"the index tags {_TAG_EMBEDDER}* do not hold a readable embedder fingerprint ({exc}): "
            "they were edited outside vecbridge; restore them or recreate the collection"
        ) from exc
