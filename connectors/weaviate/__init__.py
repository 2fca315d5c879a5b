"""Weaviate connector (``weaviate://``, ``weaviates://``, ``weaviate+cloud://``) over weaviate-client v4:
``WeaviateDriver`` (sync client) and ``AsyncWeaviateDriver`` (``connect_async``, native async client).

Modules: ``options`` (URLs, options, clients), ``schema`` (class layout), ``convert`` (objects <->
records), ``filters`` (filter compiler), ``errors`` (``translate``), ``session`` (the sans-I/O steps
both drivers run), ``collection_ops`` / ``data_ops`` (the operations), ``driver`` (the two shells).

How a vecbridge collection lives in Weaviate
============================================

* **Collection** -> one Weaviate collection (class) with a single self-provided named vector
  ``default`` (no vectorizer), an HNSW index without compression (so scores are exact; a cluster
  whose ALLOWED_COMPRESSION_TYPES refuses that needs ``compression=`` in the URL) and the distance
  of the spec: ``cosine`` -> ``cosine``, ``dot`` -> ``dot``, ``euclidean`` -> ``l2-squared``.
* **Names**: Weaviate class names must match ``[A-Z][_0-9A-Za-z]*`` and are unique
  case-insensitively, so the user's name is normalised (first letter capitalised, ``-`` -> ``_``:
  ``docs-v2`` -> ``Docs_v2``). The user's own name is kept in the class description and is what
  ``list_collections`` and ``describe_collection`` report. Two names that normalise to the same
  class (``docs-v2`` / ``docs_v2``, ``docs`` / ``DOCS``) cannot coexist: creating the second raises
  ``CollectionExists`` naming the clash.
* **Spec**: dimension, metric, embedder fingerprint, hybrid and tenancy are stored as JSON in the
  class description (``... vecbridge-spec:{...}``), so any process opening the collection sees
  them. Classes without that marker were not made by vecbridge: they are not listed and never
  dropped or overwritten.
* **Ids**: Weaviate ids are UUIDs: a record is stored under ``point_uuid(id)`` (deterministic
  uuid5, so re-upserting overwrites) and the user's id is kept in the ``vb_id`` property (``id``
  itself is reserved by Weaviate).
* **Tenants**: a ``multi_tenant`` collection is a Weaviate multi-tenant class; a vecbridge tenant
  is a Weaviate tenant, created by the server on the first write to it (auto tenant creation) and
  isolated by it (one shard each). Reads of a tenant never written to are empty.
* **Keyword and hybrid search**: a ``hybrid`` collection indexes the record text (``vb_text``) for
  BM25 with ``word`` tokenization and no stopwords, the words ``core.keywords`` uses (see
  ``schema.base_properties``); ``mode="keyword"`` is Weaviate's own BM25. Hybrid search is fused by
  vecbridge's core (reciprocal rank fusion, ``core/fusion.py``) from the dense and the BM25
  rankings, not by Weaviate's hybrid query: Weaviate's ``rankedFusion`` scores ``w / (60 + i)``
  with 0-based ranks ``i`` in float32 over result depths of its own choosing (and its default
  ``relativeScoreFusion`` is another formula), so its scores could not be core's RRF exactly.
* **Consistency**: writes, reads and searches use the URL's ``consistency`` (QUORUM by default;
  a search may pass ``consistency=``). Counts (Weaviate's Aggregate) and deletes take the server's
  default: the client offers no level for them.

Metadata mapping
================

Weaviate fixes each property's type on first write (auto-schema) and rejects other types later,
property names must match ``[_A-Za-z][_0-9A-Za-z]*`` (no ``título``) and are unique
case-insensitively. vecbridge metadata may hold any JSON. So metadata is stored twice:

* ``vb_meta`` (text, not indexed): the whole metadata as JSON — the round-trip copy. Nulls, empty
  lists, nested objects, unicode keys, -0.0, 1e308 and ints vs floats come back exactly as written.
* Typed *filter properties*, created by vecbridge (never by auto-schema) before the first object
  that needs them, one per (key, value type):

  ============  ==============  ===============================================
  value type    property type   name
  ============  ==============  ===============================================
  int / float   ``number[]``    ``m_<key>_n``
  string        ``text[]``      ``m_<key>_s`` (``field`` tokenization)
  bool          ``boolean[]``   ``m_<key>_b``
  date string   ``number[]``    ``m_<key>_d`` (the instant, seconds since the epoch)
  ============  ==============  ===============================================

  ``<key>`` is the key itself when it matches ``[a-z0-9_]{1,64}``; any other key (upper case,
  unicode, punctuation, longer) becomes ``h_<sha256 prefix>_<t>`` instead. Every generated name is
  lower case, so no two can clash case-insensitively. A scalar value is stored as a one-element
  array and a list's scalar elements are stored in the array of their type, which gives the
  portable language's any-element semantics. Ints and floats share ``number[]`` so ``2 == 2.0``
  (and -0.0 is indexed as 0.0), while ``True`` lives in ``boolean[]`` and never equals ``1``
  (types strict). ISO-8601 date strings are strings (``$eq`` compares the text) and also get their
  instant in ``_d`` (``core.dates``), which date ranges compare. Nested objects and nested lists
  are not filterable (the portable language has no paths) but count as present. Strings are
  stored wrapped as ``|value|`` because ``field`` tokenization trims whitespace, which would make
  ``" x"`` equal ``"x"``.
* ``vb_keys`` (``text[]``): the keys whose value is present (not null, not an empty list). It
  answers ``$exists`` exactly as the reference semantics define "absent".

Filters are compiled to ``weaviate.classes.query.Filter`` against those properties: ``$ne``,
``$nin``, ``$not`` and ``$exists: false`` use Weaviate's ``Not`` operator, an exact complement over
all objects (Weaviate >= 1.33; older servers raise ``UnsupportedFilter`` for them). A condition on
a key no record ever had folds to "matches nothing" (or everything, under a negation) without a
request, because Weaviate rejects filters on properties missing from the schema. Counts with such
filters are corrected for weaviate/weaviate#10260 (see ``data_ops.count``).

Writes and auto-schema: a batch into a class another client dropped is silently re-created by
Weaviate's auto-schema; every write checks afterwards that the class is still this collection,
drops such a stray class and raises ``CollectionNotFound``.

Classes made by other tools
===========================

``store.adopt("docs", native="LangChain_abc", preset="langchain")`` reads a class vecbridge did not
create (read-only unless ``writable=True``; never dropped). Each object is a record: its uuid (as
a lower-case string) is the id, the text property ``text=`` (``text`` for the ``langchain``
preset, langchain-weaviate's layout) is the text, and ``metadata_fields=`` (default: every other
text, int, number, boolean, date or uuid property, arrays included) are the metadata under their
own names. The vector is the class's unnamed vector, or the named vector ``vector=`` (needed when
the class has several). The dimension is that of a stored vector, so an empty class cannot be
adopted; the metric is the index's distance. Multi-tenant classes are read per tenant. Filters
are compiled against the adopted properties and their types (``foreign_filters``): exact, or
refused with ``InvalidFilter`` (e.g. ``$eq`` on text tokenized by words). ``writable=True``
allows deletes; writes into an adopted class raise ``UnsupportedFeature``. Keyword search is not
offered on adopted classes.

Precision notes: numbers are filtered as float64 (the JSON copy keeps ints exact); distances come
back as float32.
"""

from vecbridge.core.errors import MissingExtra

try:
    import weaviate  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("the weaviate connector", "weaviate", exc) from exc

from .driver import AsyncWeaviateDriver, WeaviateDriver

__all__ = ["AsyncWeaviateDriver", "WeaviateDriver"]
