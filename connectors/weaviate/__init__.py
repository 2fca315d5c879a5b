"""Weaviate connector (``weaviate://``, ``weaviates://``, ``weaviate+cloud://``) over weaviate-client v4.

How a vecbridge collection lives in Weaviate
============================================

* **Collection** -> one Weaviate collection (class) with a single self-provided named vector
  ``default`` (no vectorizer), an HNSW index without compression (so scores are exact) and the
  distance of the spec: ``cosine`` -> ``cosine``, ``dot`` -> ``dot``, ``euclidean`` -> ``l2-squared``.
* **Names**: Weaviate class names must match ``[A-Z][_0-9A-Za-z]*`` and are unique
  case-insensitively, so the user's name is normalised (first letter capitalised, ``-`` -> ``_``:
  ``docs-v2`` -> ``Docs_v2``). The user's own name is kept in the class description and is what
  ``list_collections`` and ``describe_collection`` report. Two names that normalise to the same
  class (``docs-v2`` / ``docs_v2``, ``docs`` / ``DOCS``) cannot coexist: creating the second raises
  ``CollectionExists`` naming the clash.
* **Spec**: dimension, metric and embedder fingerprint are stored as JSON in the class description
  (``... vecbridge-spec:{...}``), so any process opening the collection sees them. Classes without
  that marker were not made by vecbridge: they are not listed and never dropped or overwritten.
* **Ids**: Weaviate ids are UUIDs: a record is stored under ``point_uuid(id)`` (deterministic
  uuid5, so re-upserting overwrites) and the user's id is kept in the ``vb_id`` property (``id``
  itself is reserved by Weaviate).

Metadata mapping
================

Weaviate fixes each property's type on first write (auto-schema) and rejects other types later,
property names must match ``[_A-Za-z][_0-9A-Za-z]*`` (no ``título``) and are unique
case-insensitively. vecbridge metadata may hold any JSON. So metadata is stored twice:

* ``vb_meta`` (text, not indexed): the whole metadata as JSON — the round-trip copy. Nulls, empty
  lists, nested objects, unicode keys and mixed types come back exactly as written.
* Typed *filter properties*, created by vecbridge (never by auto-schema) before the first object
  that needs them, one per (key, value type):

  ============  ==============  ===============================================
  value type    property type   name
  ============  ==============  ===============================================
  int / float   ``number[]``    ``m_<key>_n``
  string        ``text[]``      ``m_<key>_s`` (``field`` tokenization)
  bool          ``boolean[]``   ``m_<key>_b``
  ============  ==============  ===============================================

  ``<key>`` is the key itself when it matches ``[a-z0-9_]{1,64}``; any other key (upper case,
  unicode, punctuation, longer) becomes ``h_<sha256 prefix>_<t>`` instead. Every generated name is
  lower case, so no two can clash case-insensitively. A scalar value is stored as a one-element
  array and a list's scalar elements are stored in the array of their type, which gives the
  portable language's any-element semantics. Ints and floats share ``number[]`` so ``2 == 2.0``,
  while ``True`` lives in ``boolean[]`` and never equals ``1`` (types strict). Nested objects and
  nested lists are not filterable (the portable language has no paths) but count as present.
  Strings are stored wrapped as ``|value|`` because ``field`` tokenization trims whitespace, which
  would make ``" x"`` equal ``"x"``.
* ``vb_keys`` (``text[]``): the keys whose value is present (not null, not an empty list). It
  answers ``$exists`` exactly as the reference semantics define "absent".

Filters are compiled to ``weaviate.classes.query.Filter`` against those properties: ``$ne``,
``$nin``, ``$not`` and ``$exists: false`` use Weaviate's ``Not`` operator, an exact complement over
all objects (Weaviate >= 1.33; older servers raise ``UnsupportedFilter`` for them). A condition on
a key no record ever had folds to "matches nothing" (or everything, under a negation) without a
request, because Weaviate rejects filters on properties missing from the schema.

Precision notes: numbers are filtered as float64 (ints beyond 2**53 compare approximately; the JSON
copy keeps them exact); distances come back as float32.
"""

from vecbridge.core.errors import MissingExtra

try:
    import weaviate  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("the weaviate connector", "weaviate", exc) from exc

from .store import WeaviateStore

__all__ = ["WeaviateStore"]
