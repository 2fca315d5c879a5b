"""Indexes made by other tools (``Store.adopt``): a namespace of a dense index whose records carry
their own metadata keys.

* **Where**: ``Adoption.native`` names the index (default: the vecbridge name), ``Adoption.group``
  the namespace (default: the default namespace ``""``). Dimension and metric come from
  ``describe_index``; an index vecbridge made itself is refused (open it as its collection).
* **Records**: the id is the Pinecone id; the text is the metadata key ``Adoption.text``
  (``text`` for the ``langchain`` preset: LangChain's ``PineconeVectorStore`` ``text_key``); every
  other key is metadata (or only ``Adoption.metadata_fields``, when given). Values come back as
  Pinecone returns them: Pinecone keeps every number as a 64-bit float, so an integer written by
  another tool may read back as ``3.0`` (equal to ``3`` in filters).
* **Filters** (:class:`ForeignFilterCompiler`): the same compiler as vecbridge's own records,
  without the reserved-key tricks those records allow, so what cannot be exact is refused: a
  negated range (``$not`` over ``$gt`` ...) needs to know which records hold numbers, and date
  ranges need the instants vecbridge stores beside dates — neither exists in foreign records
  (``UnsupportedFilter``); filters on the text key or on keys left out of the metadata are refused
  (``InvalidFilter``), since Pinecone would test keys the records do not show as metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vecbridge.core.driver import Adoption
from vecbridge.core.errors import CollectionNotFound, InvalidFilter, InvalidInput, UnsupportedFeature, UnsupportedFilter
from vecbridge.core.filters import Comparison, FilterNode, Instant
from vecbridge.core.models import CollectionSpec

from .filters import PineconeFilter, PineconeFilterCompiler
from .layout import Adopted, Place, shape_of
from .names import TAG_LAYOUT
from .plan import Plan
from .planes import Planes
from .sdk import index_tags
from .storage import pinecone_metric

__all__ = ["Decoded", "ForeignFilterCompiler", "adopt_index", "decode_foreign"]

#: (id, text, metadata) of a stored record.
Decoded = tuple[str, str | None, dict[str, Any]]
#: Text keys of the presets (LangChain's PineconeVectorStore ``text_key`` default).
_PRESET_TEXT = {"langchain": "text"}
#: Adoption fields that name nothing in a Pinecone index, and why.
_NOT_HERE = {
    "id": "a record's id is its Pinecone id",
    "vector": "an index holds one dense vector per record",
    "metadata": "the metadata are the record's own metadata keys (choose some with metadata_fields)",
}


def _text_key(adoption: Adoption) -> str | None:
    """The metadata key holding the text, after refusing what does not fit a Pinecone index."""
    given = {field: why for field, why in _NOT_HERE.items() if getattr(adoption, field) is not None}
    if given:
        raise InvalidInput("; ".join(f"Adoption.{f} does not apply to Pinecone: {why}" for f, why in given.items()))
    preset_text = _PRESET_TEXT.get(adoption.preset) if adoption.preset is not None else None
    if adoption.preset is not None and preset_text is None:
        raise UnsupportedFeature(
            f"the Pinecone connector has no {adoption.preset!r} preset: use preset='langchain' "
            "(LangChain's PineconeVectorStore) or name the text key with text="
        )
    return adoption.text or preset_text


def adopt_index(planes: Planes, name: str, adoption: Adoption) -> Plan[tuple[Place, CollectionSpec]]:
    """Where the adopted records are and the collection's spec (see the module docstring)."""
    text_key = _text_key(adoption)
    index = adoption.native or name
    try:
        model = yield from planes.serving(index)
    except CollectionNotFound:
        raise CollectionNotFound(
            f"Pinecone has no index {index!r} to adopt: name it with native='index-name'"
        ) from None
    if TAG_LAYOUT in index_tags(model):
        raise InvalidInput(f"Pinecone index {index!r} was made by vecbridge: open it as its collection, not adopt it")
    dimension, metric = shape_of(model, index)
    namespace = adoption.group or ""
    if namespace:
        stats = yield from planes.data(index, "describe_index_stats")
        known = sorted(stats.namespaces or {})
        if namespace not in known:
            raise CollectionNotFound(
                f"Pinecone index {index!r} has no namespace {namespace!r} (its namespaces: {known}): "
                "name one with group="
            )
    if text_key is not None and text_key in adoption.metadata_fields:
        raise InvalidInput(f"{text_key!r} is the text key: it cannot also be one of the metadata_fields")
    adopted = Adopted(text_key=text_key, metadata_keys=tuple(adoption.metadata_fields) or None)
    place = Place(index, namespace, pinecone_metric(metric), unit=False, sparse=False, adopted=adopted)
    return place, CollectionSpec(name, dimension, metric)


def decode_foreign(adopted: Adopted, stored_id: str, stored: Mapping[str, Any] | None) -> Decoded:
    """(id, text, metadata) of a record another tool wrote."""
    raw = dict(stored or {})
    text = raw.pop(adopted.text_key, None) if adopted.text_key else None
    if adopted.metadata_keys is not None:
        raw = {k: v for k, v in raw.items() if k in adopted.metadata_keys}
    return stored_id, text if isinstance(text, str) else None, raw


class ForeignFilterCompiler(PineconeFilterCompiler):
    """Filters on an adopted namespace (see the module docstring)."""

    def __init__(self, adopted: Adopted) -> None:
        super().__init__()
        self._adopted = adopted

    def _field(self, name: str) -> str:
        if name == self._adopted.text_key:
            raise InvalidFilter(
                f"{name!r} is the text key of this adopted index: the record's text, not a metadata field to filter on"
            )
        if self._adopted.metadata_keys is not None and name not in self._adopted.metadata_keys:
            raise InvalidFilter(
                f"{name!r} is not one of the metadata_fields this index was adopted with "
                f"({', '.join(self._adopted.metadata_keys)}): adopt it again with that key, or filter on another"
            )
        return name

    def compile_comparison(self, node: Comparison) -> PineconeFilter:
        if isinstance(node.value, Instant):
            raise UnsupportedFilter(
                f"{node.field!r}: a date range needs the instants vecbridge keeps beside the dates it writes; "
                "records of an adopted index have none"
            )
        return super().compile_comparison(node)

    def _negate(self, node: FilterNode) -> PineconeFilter:
        if isinstance(node, Comparison) and node.op in ("gt", "gte", "lt", "lte"):
            raise UnsupportedFilter(
                f"{node.field!r}: the negation of a range must also match records whose value is not a number, "
                "which Pinecone cannot tell apart in an adopted index; rewrite it as the opposite range "
                "(e.g. $lte for $not $gt), which leaves out records without a number"
            )
        return super()._negate(node)
