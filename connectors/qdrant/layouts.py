"""Payload layouts of Qdrant collections written by other tools, for ``adopt`` (core.driver.Adoption).

A layout says where a point keeps the record's text, metadata and id. Presets, as the real packages
write them (checked against langchain-qdrant 1.1, llama-index-vector-stores-qdrant 0.10 and
qdrant-haystack 13.1)::

    langchain   page_content (text), metadata (object); the record id is the point id (a UUID)
    llamaindex  _node_content (the node as JSON: its text and metadata), metadata keys copied to the
                top level (filters address those), ref_doc_id / doc_id / document_id (the source
                document, "None" when there is none); the record id is the point id (the node id)
    haystack    id (the document id), content (text), meta (object); the point id is a uuid5 of id

A custom layout names ``text`` (a payload key holding a string), ``metadata`` (a payload key holding
an object; without it every payload key but the text and id keys is metadata), ``metadata_fields``
(top-level keys gathered into the metadata) and ``id`` (a payload key holding the record id; without
it the point id, as text, is the record id).

Filters address each metadata field where the layout keeps it (``path``); a field the layout does
not keep as metadata (LlamaIndex's own keys, the text and id keys of a top-level layout) is refused,
never guessed.

Writing (``writable=True``) keeps the layout and its point ids: LangChain's and other point-id
layouts take record ids that are point ids (a UUID in canonical form or an unsigned integer, as
they read back); layouts with an id key overwrite the point already holding that id, and put a new
id at Haystack's point id (``uuid5`` of Haystack's namespace) or, in a custom layout, vecbridge's
(core.ids). A record the layout has no room for (a text without a text key, a metadata key the
layout keeps for itself; no text in LangChain's layout, whose reader needs one) is refused before
anything is written, and so is, on a server, a float
Qdrant may store a few ulps off (numbers.py: another tool's layout has no room for the exact keys
vecbridge keeps beside its own floats). LlamaIndex's layout (a node as JSON) is written by
LlamaIndex only.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vecbridge.core.driver import Adoption
from vecbridge.core.errors import InvalidInput, StoreError, UnsupportedFeature, UnsupportedFilter
from vecbridge.core.ids import point_uuid
from vecbridge.core.models import Record

from .convert import dense_vector, field_path
from .numbers import kept_exactly

__all__ = [
    "HAYSTACK_NAMESPACE",
    "LLAMAINDEX_KEYS",
    "PayloadLayout",
    "layout_of",
    "payload_integer_or_none",
    "pick_vector",
    "point_id_or_none",
]

#: Keys LlamaIndex writes beside a node's metadata (llama_index.core.vector_stores.utils).
LLAMAINDEX_KEYS = ("_node_content", "_node_type", "document_id", "doc_id", "ref_doc_id")
#: The one of them a record keeps in its metadata: the node's source document, as written.
LLAMAINDEX_SOURCE = "ref_doc_id"
_LLAMAINDEX_NODE = "_node_content"
#: LlamaIndex's key of a node's text in layouts written before ``_node_content`` existed.
_LLAMAINDEX_LEGACY_TEXT = "text"
#: qdrant-haystack's namespace of point ids (``uuid5(namespace, document id)``, converters.py there).
HAYSTACK_NAMESPACE = uuid.UUID("3896d314-1e95-4a3a-b45a-945f9f0b541d")
#: The payload keys qdrant-haystack writes besides id, content and meta (``Document.to_dict``).
_HAYSTACK_EMPTY = ("blob", "score", "sparse_embedding")


@dataclass(frozen=True)
class PayloadLayout:
    """Where points keep the record's parts (see the module docstring)."""

    preset: str | None
    text: str | None
    metadata: str | None
    metadata_fields: tuple[str, ...]
    id: str | None
    #: Whether top-level keys not named elsewhere are metadata (a custom layout without ``metadata``).
    top_level: bool

    @property
    def label(self) -> str:
        return f"the {self.preset} layout" if self.preset else "the layout given"

    def reserved(self) -> frozenset[str]:
        """Top-level keys that are never metadata in a top-level layout."""
        if self.preset == "llamaindex":
            return frozenset(k for k in (*LLAMAINDEX_KEYS, _LLAMAINDEX_LEGACY_TEXT) if k != LLAMAINDEX_SOURCE)
        return frozenset(k for k in (self.text, self.id) if k is not None)

    def path(self, field: str) -> str:
        """Qdrant's payload path of a metadata field, for filters."""
        if '"' in field:
            raise UnsupportedFilter(f"Qdrant cannot filter on a metadata key containing a double quote: {field!r}")
        if field in self.metadata_fields or (self.top_level and field not in self.reserved()):
            return f'"{field}"'
        if self.metadata is not None:
            return field_path(self.metadata, field)
        if self.top_level:
            raise UnsupportedFilter(f"{field!r} is a key {self.label} keeps for itself, not metadata")
        fields = ", ".join(repr(f) for f in self.metadata_fields)
        raise UnsupportedFilter(f"{field!r} is not a metadata field of {self.label}: its metadata fields are {fields}")

    # ----- reading ------------------------------------------------------------------------

    def record_id(self, point_id: Any, payload: Mapping[str, Any]) -> str:
        """The record id: the id key's value (points without it keep their point id)."""
        if self.id is not None:
            value = payload.get(self.id)
            if type(value) is str or type(value) is int:
                return str(value)
        return str(point_id)

    def _text(self, point_id: Any, payload: Mapping[str, Any]) -> str | None:
        if self.preset == "llamaindex":
            node = _llama_node(point_id, payload)
            value = node.get("text") if node is not None else payload.get(_LLAMAINDEX_LEGACY_TEXT)
            key = _LLAMAINDEX_NODE if node is not None else _LLAMAINDEX_LEGACY_TEXT
        elif self.text is None:
            return None
        else:
            key, value = self.text, payload.get(self.text)
        if value is not None and type(value) is not str:
            raise StoreError(
                f"point {point_id} holds a {type(value).__name__} where {self.label} keeps the text ({key!r}): "
                "adopt with another text= key"
            )
        return value

    def _metadata(self, point_id: Any, payload: Mapping[str, Any]) -> dict[str, Any]:
        metadata: dict[str, Any] = {}
        if self.preset == "llamaindex":
            node = _llama_node(point_id, payload)
            found = node.get("metadata") if node is not None else None
            if isinstance(found, dict):
                metadata.update(found)
            else:
                reserved = self.reserved()
                metadata.update((k, v) for k, v in payload.items() if k not in reserved)
            if LLAMAINDEX_SOURCE in payload:
                metadata[LLAMAINDEX_SOURCE] = payload[LLAMAINDEX_SOURCE]
            return metadata
        if self.metadata is not None:
            found = payload.get(self.metadata)
            if isinstance(found, dict):
                metadata.update(found)
        elif self.top_level:
            reserved = self.reserved()
            metadata.update((k, v) for k, v in payload.items() if k not in reserved)
        metadata.update((k, payload[k]) for k in self.metadata_fields if k in payload)
        return metadata

    def record(self, point_id: Any, payload: Mapping[str, Any] | None, vector: Any, using: str | None) -> Record:
        """A point read back as a record (``using``: the named vector, None for the unnamed one)."""
        payload = payload or {}
        found = dense_vector(vector, using or "")
        return Record(
            self.record_id(point_id, payload),
            found or [],
            self._text(point_id, payload),
            self._metadata(point_id, payload),
        )

    # ----- checking a sample --------------------------------------------------------------

    def check_sample(self, name: str, payloads: list[Mapping[str, Any]]) -> None:
        """Refuse a layout the collection's first points do not have (a wrong preset or a misspelt
        key): each key the layout names must occur in some point, with a value of the right type."""
        if not payloads:
            return
        expected: dict[str, tuple[type, ...]] = {}
        if self.preset == "llamaindex":
            if not any(_LLAMAINDEX_NODE in p or _LLAMAINDEX_LEGACY_TEXT in p for p in payloads):
                raise self._mismatch(name, payloads, f"{_LLAMAINDEX_NODE!r} or {_LLAMAINDEX_LEGACY_TEXT!r}")
            expected[_LLAMAINDEX_NODE] = (str,)
        else:
            if self.text is not None:
                expected[self.text] = (str, type(None))
            if self.metadata is not None:
                expected[self.metadata] = (dict, type(None))
            if self.id is not None:
                expected[self.id] = (str, int)
        for key, kinds in expected.items():
            values = [p[key] for p in payloads if key in p]
            if not values and self.preset != "llamaindex":
                raise self._mismatch(name, payloads, repr(key))
            wrong = next((v for v in values if type(v) not in kinds), None)
            if wrong is not None:
                raise InvalidInput(
                    f"collection {name!r} keeps a {type(wrong).__name__} under {key!r}, where {self.label} expects "
                    f"{' or '.join(k.__name__ for k in kinds if k is not type(None))}: adopt it with another layout"
                )

    # ----- writing ------------------------------------------------------------------------

    def new_point_id(self, record_id: str) -> int | str:
        """Where a record not yet in the collection goes (``problems`` found nothing)."""
        if self.id is None:
            found = point_id_or_none(record_id)
            if found is None:
                raise InvalidInput(f"record {record_id!r}: in {self.label} a record id is the point id (a UUID)")
            return found
        if self.preset == "haystack":
            return str(uuid.uuid5(HAYSTACK_NAMESPACE, record_id))
        return point_uuid(record_id)

    def problems(self, record: Record, floats_kept: bool) -> list[str]:
        """Why ``record`` cannot be written in this layout (empty: it can, exactly)."""
        found = []
        if self.id is None and point_id_or_none(record.id) is None:
            found.append(
                f"record {record.id!r}: in {self.label} a record id is the point id, a UUID in canonical form "
                "(e.g. str(uuid.uuid4())) or an unsigned integer"
            )
        if record.text is not None and self.text is None:
            found.append(f"record {record.id!r} has a text, and {self.label} has no text key (adopt with text=)")
        if record.text is None and self.preset == "langchain":  # LangChain cannot read a point without one
            found.append(f"record {record.id!r} has no text, which every point of {self.label} needs")
        if self.metadata is None:
            reserved = self.reserved()
            kept = self.metadata_fields if not self.top_level else None
            for key in record.metadata:
                if key in reserved or (kept is not None and key not in kept):
                    found.append(f"record {record.id!r}: {self.label} has no place for the metadata key {key!r}")
        if not floats_kept:
            moved = next((v for v in _floats(record.metadata) if not kept_exactly(v)), None)
            if moved is not None:
                found.append(
                    f"record {record.id!r}: Qdrant may store the float {moved!r} a few ulps off, and {self.label} has "
                    "no place for vecbridge's exact copy: round it to at most 15 significant digits"
                )
        return found

    def payload(self, record_id: str, text: str | None, metadata: Mapping[str, Any]) -> dict[str, Any]:
        """A record's payload in this layout (``problems`` found nothing)."""
        payload: dict[str, Any] = dict.fromkeys(_HAYSTACK_EMPTY) if self.preset == "haystack" else {}
        if self.metadata is not None:
            payload[self.metadata] = {k: v for k, v in metadata.items() if k not in self.metadata_fields}
            payload.update((k, v) for k, v in metadata.items() if k in self.metadata_fields)
        else:
            payload.update(metadata)
        if self.text is not None:
            payload[self.text] = text
        if self.id is not None:
            payload[self.id] = record_id
        return payload

    def _mismatch(self, name: str, payloads: list[Mapping[str, Any]], wanted: str) -> InvalidInput:
        keys = sorted({k for p in payloads for k in p})[:20]
        return InvalidInput(
            f"collection {name!r} does not have {self.label}: none of its first {len(payloads)} points has the "
            f"payload key {wanted} (they have {', '.join(map(repr, keys)) or 'no payload'}); pick the preset that "
            "wrote it, or name its keys with text=, metadata=, id="
        )


def _floats(value: Any) -> list[float]:
    kind = type(value)
    if kind is float:
        return [value]
    if kind is dict:
        return [f for v in value.values() for f in _floats(v)]
    if kind is list:
        return [f for v in value for f in _floats(v)]
    return []


def _llama_node(point_id: Any, payload: Mapping[str, Any]) -> dict[str, Any] | None:
    raw = payload.get(_LLAMAINDEX_NODE)
    if raw is None:
        return None
    try:
        node = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        node = None
    if not isinstance(node, dict):
        raise StoreError(f"point {point_id} holds no LlamaIndex node JSON under {_LLAMAINDEX_NODE!r}")
    return node


_PRESETS = {
    "langchain": PayloadLayout("langchain", "page_content", "metadata", (), None, False),
    "llamaindex": PayloadLayout("llamaindex", None, None, (), None, True),
    "haystack": PayloadLayout("haystack", "content", "meta", (), "id", False),
}


def layout_of(adoption: Adoption) -> PayloadLayout:
    """The layout an ``Adoption`` describes; a preset's keys may be renamed (LangChain and Haystack
    take other key names), LlamaIndex's may not."""
    if adoption.group is not None:
        raise InvalidInput("Qdrant keeps one collection per Qdrant collection: drop group= (it is for pgvector)")
    if adoption.writable and adoption.preset == "llamaindex":
        raise UnsupportedFeature(
            "LlamaIndex's layout (each node as JSON) is written by LlamaIndex only: adopt it without writable=True "
            "(to read and migrate it), or write through LlamaIndex"
        )
    preset = adoption.preset
    named = {"id": adoption.id, "text": adoption.text, "metadata": adoption.metadata}
    if preset is None:
        if not any(named.values()) and not adoption.metadata_fields:
            raise InvalidInput(
                "adopting a Qdrant collection needs a preset (langchain, llamaindex, haystack) or its payload keys: "
                "text=, metadata= (an object) or metadata_fields=, id="
            )
        return PayloadLayout(
            None,
            adoption.text,
            adoption.metadata,
            tuple(adoption.metadata_fields),
            adoption.id,
            adoption.metadata is None and not adoption.metadata_fields,
        )
    base = _PRESETS.get(preset)
    if base is None:
        raise InvalidInput(f"preset {preset!r} is not a Qdrant layout: use langchain, llamaindex or haystack")
    given = {k: v for k, v in named.items() if v is not None}
    if preset == "llamaindex" and (given or adoption.metadata_fields):
        raise InvalidInput("the llamaindex preset takes no text=, metadata=, metadata_fields= or id=")
    return PayloadLayout(
        preset,
        given.get("text", base.text),
        given.get("metadata", base.metadata),
        tuple(adoption.metadata_fields),
        given.get("id", base.id),
        base.top_level,
    )


def pick_vector(name: str, vectors: Any, wanted: str | None) -> tuple[str | None, Any]:
    """The dense vector an adopted collection is read by: (its name, None for the unnamed one; its
    params). A collection with several named vectors needs ``wanted``; a single one is picked."""
    if not isinstance(vectors, Mapping):
        if wanted not in (None, ""):
            raise InvalidInput(f"collection {name!r} has one unnamed vector, not one named {wanted!r}: drop vector=")
        return None, vectors
    names = sorted(vectors)
    if not names:
        raise UnsupportedFeature(f"collection {name!r} has only sparse vectors: vecbridge reads dense ones")
    if wanted is None:
        if len(names) > 1:
            raise InvalidInput(
                f"collection {name!r} has several named vectors ({', '.join(map(repr, names))}): pick one with vector= "
                "(vecbridge migrate: --vector-field)"
            )
        wanted = names[0]
    if wanted not in vectors:
        listed = ", ".join(map(repr, names))
        raise InvalidInput(f"collection {name!r} has no vector {wanted!r}: its vectors are {listed}")
    return (wanted or None), vectors[wanted]


#: Qdrant's largest integer point id (u64) and payload integer (i64).
MAX_POINT_NUMBER = 2**64 - 1
MAX_PAYLOAD_INTEGER = 2**63 - 1


def payload_integer_or_none(record_id: str) -> int | None:
    """The payload integer a record id names when an id key holds integers (as it reads back)."""
    if record_id.isdigit() and record_id.isascii():
        number = int(record_id)
        return number if str(number) == record_id and number <= MAX_PAYLOAD_INTEGER else None
    return None


def point_id_or_none(record_id: str) -> int | str | None:
    """The point id a record id names, when it is one as Qdrant writes it (an unsigned integer, or a
    UUID in its canonical form); None otherwise (no such point)."""
    if record_id.isdigit() and record_id.isascii():
        number = int(record_id)
        return number if str(number) == record_id and number <= MAX_POINT_NUMBER else None
    try:
        return record_id if str(uuid.UUID(record_id)) == record_id else None
    except ValueError:
        return None
