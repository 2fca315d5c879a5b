"""Weaviate's BM25 keyword search over one text property, as adapters/repos/db/inverted/
bm25_searcher*.go computes it: terms tokenized by the property's tokenization, the class's
stopwords dropped from the query, ``idf = ln(1 + (N - n + 0.5) / (n + 0.5))`` with ``N`` the
objects of the shard and ``n`` those holding the term, ``tf / (tf + k1 * (1 - b + b * len /
avg_len))`` (without Okapi's ``k1 + 1`` factor) with the property's token counts, a repeated
query term counted that many times, scores as float32, only objects matching at least one term (the
default OR operator), ties latest doc id first. Checked against 1.38.2 (scores equal to 5 digits).
"""

from __future__ import annotations

import math
import struct
from collections import Counter
from collections.abc import Callable

from .database import ClassData, StoredObject
from .errors import invalid, unimplemented
from .filters import tokens

#: The "en" stopword preset (adapters/repos/db/inverted/stopwords/presets.go).
EN_STOPWORDS = frozenset(
    (
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    )
)


def _float32(value: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def bm25(
    data: ClassData,
    candidates: list[StoredObject],
    query: str,
    properties: list[str],
    keep: Callable[[StoredObject], bool] | None,
) -> list[tuple[float, StoredObject]]:
    """Scored objects, best first."""
    if len(properties) != 1:
        raise unimplemented("BM25 over several properties (BM25F)")
    name = properties[0]
    prop = data.prop(name)
    if prop is None:
        raise invalid(f"property {name!r} not found in class {data.name}")
    if not prop.get("indexSearchable"):
        raise invalid(
            f"Searching by property '{name}' requires inverted index. Is `indexSearchable` option of property "
            f"'{name}' enabled? Set it to `true` or leave empty"
        )
    tokenization = prop.get("tokenization") or "word"
    inverted = data.schema["invertedIndexConfig"]
    stop = EN_STOPWORDS if inverted["stopwords"].get("preset") == "en" else frozenset()
    stop = (stop | set(inverted["stopwords"].get("additions") or [])) - set(inverted["stopwords"].get("removals") or [])
    query_terms = Counter(t for t in tokens(query, tokenization) if t not in stop)
    k1, b = float(inverted["bm25"]["k1"]), float(inverted["bm25"]["b"])
    documents: dict[str, Counter[str]] = {}
    for obj in candidates:
        value = obj.properties.get(name)
        texts = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        documents[obj.uuid] = Counter(t for text in texts for t in tokens(text, tokenization))
    lengths = [sum(c.values()) for c in documents.values() if c]
    average = sum(lengths) / len(lengths) if lengths else 1.0
    n_docs = float(len(candidates))
    scored: list[tuple[float, StoredObject]] = []
    for obj in candidates:
        words = documents[obj.uuid]
        if not any(words.get(t) for t in query_terms) or (keep is not None and not keep(obj)):
            continue
        length = sum(words.values())
        score = 0.0
        for term, repeats in query_terms.items():
            tf = words.get(term, 0)
            if not tf:
                continue
            holding = sum(1 for c in documents.values() if c.get(term))
            idf = math.log(1 + (n_docs - holding + 0.5) / (holding + 0.5)) * repeats
            score += idf * tf / (tf + k1 * (1 - b + b * length / average))
        scored.append((_float32(score), obj))
    scored.sort(key=lambda pair: (-pair[0], -pair[1].doc_id))
    return scored
