"""LlamaIndex nodes <-> vecbridge records.

A node becomes one record, the way LlamaIndex's own vector stores keep nodes
(``llama_index.core.vector_stores.utils.node_to_metadata_dict``):

- ``node_id`` -> ``Record.id``; ``embedding`` -> ``Record.vector`` (a node without one is refused);
- the node's text (``get_content(MetadataMode.NONE)``) -> ``Record.text``;
- ``metadata`` -> ``Record.metadata``, key for key, so filters name the node's own metadata keys;
- beside it, under reserved keys: ``ref_doc_id`` (and LlamaIndex's aliases ``doc_id`` and
  ``document_id``; the string ``"None"`` for a node without a source document) for
  ``delete(ref_doc_id)`` and doc-id filters, ``_node_type`` (the node class) and
  ``_node_content``: the rest of the node as JSON — relationships, excluded metadata keys,
  templates, character offsets, ids of the index node ... — without its embedding and, when the
  record holds it, without its text.

Reading a record rebuilds the node of the recorded class from ``_node_content``, with the
record's text, its metadata minus the reserved keys (so what filters see is what the node
carries), and its vector when one was read (as float32; in a cosine collection some stores keep
only its direction, as the conformance suite allows). A blank text, which a vecbridge record does not hold,
stays in ``_node_content`` and comes back as it was. Records written without this layout (by
vecbridge's ``Collection`` or another adapter) come back as ``TextNode(id_, text, metadata)``.

Refused before anything is written: a node without an embedding, metadata using a reserved key
(it would be overwritten), and node classes that could not be rebuilt when read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llama_index.core.schema import (
    BaseNode,
    Document,
    ImageDocument,
    ImageNode,
    IndexNode,
    MetadataMode,
    Node,
    TextNode,
)
from llama_index.core.vector_stores.utils import node_to_metadata_dict

from vecbridge.core.errors import InvalidInput, StoreError
from vecbridge.core.models import Record

__all__ = ["NODE_CONTENT_KEY", "REF_DOC_ID_KEY", "RESERVED_KEYS", "to_node", "to_record"]

NODE_CONTENT_KEY = "_node_content"
NODE_TYPE_KEY = "_node_type"
#: The metadata key ``delete(ref_doc_id)`` and ``VectorStoreQuery.doc_ids`` filter on.
REF_DOC_ID_KEY = "ref_doc_id"
#: Metadata keys the layout writes; a node's own metadata may not use them.
RESERVED_KEYS = (NODE_CONTENT_KEY, NODE_TYPE_KEY, REF_DOC_ID_KEY, "doc_id", "document_id")

# The node classes a record is rebuilt as, by ``class_name()`` (LlamaIndex's ``_node_type``).
_CLASSES: dict[str, type[BaseNode]] = {
    cls.class_name(): cls for cls in (TextNode, Node, IndexNode, ImageNode, Document, ImageDocument)
}


def to_record(node: BaseNode) -> Record:
    """The record for ``node``; raises ``InvalidInput`` for what could not come back as it was."""
    if not isinstance(node, BaseNode):
        raise InvalidInput(f"expected LlamaIndex nodes, got {type(node).__name__}")
    if node.embedding is None:
        raise InvalidInput(
            f"node {node.node_id!r} has no embedding: embed nodes before adding them (VectorStoreIndex does, "
            "with its embed_model)"
        )
    if _CLASSES.get(node.class_name()) is not type(node):
        raise InvalidInput(
            f"node {node.node_id!r} is a {type(node).__name__}, which could not be rebuilt when read back: "
            f"store one of {', '.join(sorted(_CLASSES))}"
        )
    clashes = [k for k in RESERVED_KEYS if k in node.metadata]
    if clashes:
        raise InvalidInput(
            f"node {node.node_id!r}: metadata key(s) {clashes} are reserved by LlamaIndex's vector store layout "
            "(they hold the node's source document and content); rename them"
        )
    text = node.get_content(metadata_mode=MetadataMode.NONE)
    kept_text = text if text.strip() else None  # records hold a non-blank text or none
    try:
        layout = node_to_metadata_dict(node, remove_text=kept_text is not None, flat_metadata=False)
    except (TypeError, ValueError) as exc:  # pydantic cannot serialise a value of the node
        raise InvalidInput(f"node {node.node_id!r} cannot be serialised as JSON: {exc}") from exc
    # The node's own values (not their JSON forms): vecbridge checks them, and refuses what would
    # not come back as it was (a datetime, say) instead of storing its string.
    metadata = {**node.metadata, **{k: layout[k] for k in RESERVED_KEYS}}
    return Record(node.node_id, node.embedding, kept_text, metadata)


def to_node(
    record_id: str,
    text: str | None,
    metadata: Mapping[str, Any],
    vector: Sequence[float] | None = None,
) -> BaseNode:
    """The node of a stored record (or hit)."""
    content = metadata.get(NODE_CONTENT_KEY)
    embedding = None if vector is None else [float(x) for x in vector]
    if not isinstance(content, str):  # not written by this adapter: a plain text node
        return TextNode(id_=record_id, text=text or "", metadata=dict(metadata), embedding=embedding)
    cls = _CLASSES.get(str(metadata.get(NODE_TYPE_KEY)), TextNode)
    try:
        node = cls.from_json(content)
    except ValueError as exc:  # bad JSON, or JSON pydantic refuses
        raise StoreError(
            f"record {record_id!r} holds a damaged LlamaIndex node in {NODE_CONTENT_KEY!r} ({exc}): re-add the node"
        ) from exc
    if text is not None:
        node.set_content(text)
    node.id_ = record_id
    node.metadata = {k: v for k, v in metadata.items() if k not in RESERVED_KEYS}
    node.embedding = embedding
    return node
