"""The keyword side of hybrid search, without a downloaded model: words, hashed term ids, BM25.

Stores that score keywords themselves (Weaviate's BM25, PostgreSQL full text) only need the text.
Stores that take sparse vectors (Qdrant with the IDF modifier, Pinecone sparse-dense) get them
from here: a document's vector holds BM25's term-frequency part per term,

    tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / AVG_LENGTH))

and the store multiplies in the inverse document frequency (Qdrant's ``Modifier.IDF``) or not
(Pinecone). A query's vector holds 1 per distinct term. Term ids are the first 4 bytes of each
word's SHA-1 (stable across processes and Python versions, unlike ``hash``), masked to 31 bits.
Words are lowercased runs of Unicode letters and digits; nothing is stemmed or dropped, so part
numbers and error codes ("E-1042", "xk7") match exactly.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AVG_LENGTH",
    "B",
    "K1",
    "SparseVector",
    "bm25_scores",
    "document_vector",
    "has_terms",
    "query_vector",
    "term_id",
    "tokenize",
]

K1 = 1.2
B = 0.75
#: Assumed average document length in words: the term-frequency part must be computed before the
#: collection's real average is known, so a fixed value (a typical passage) stands in for it.
AVG_LENGTH = 100.0

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class SparseVector:
    indices: tuple[int, ...]
    values: tuple[float, ...]

    def as_dict(self) -> dict[int, float]:
        return dict(zip(self.indices, self.values, strict=True))


def tokenize(text: str) -> list[str]:
    """Lowercased words (letters and digits; punctuation splits words)."""
    return [w.casefold() for w in _WORD.findall(text)]


def term_id(word: str) -> int:
    return int.from_bytes(hashlib.sha1(word.encode("utf-8")).digest()[:4], "big") & 0x7FFFFFFF


def document_vector(text: str) -> SparseVector:
    """BM25 term-frequency weights of a document's words, by term id (sorted)."""
    words = tokenize(text)
    counts = Counter(term_id(w) for w in words)
    norm = K1 * (1 - B + B * len(words) / AVG_LENGTH)
    items = sorted((t, tf * (K1 + 1) / (tf + norm)) for t, tf in counts.items())
    return SparseVector(tuple(t for t, _ in items), tuple(v for _, v in items))


def query_vector(text: str) -> SparseVector:
    """1 for each distinct word of a query, by term id (sorted)."""
    ids = sorted({term_id(w) for w in tokenize(text)})
    return SparseVector(tuple(ids), tuple(1.0 for _ in ids))


def bm25_scores(query: str, documents: Sequence[str | None]) -> list[float]:
    """Exact Okapi BM25 of ``query`` against every document of a corpus (the reference the
    in-memory driver uses): IDF ``ln(1 + (N - n + 0.5) / (n + 0.5))``, the real average length."""
    docs = [tokenize(d) if d else [] for d in documents]
    n_docs = len(docs)
    if not n_docs:
        return []
    avg = sum(len(d) for d in docs) / n_docs or 1.0
    terms = set(tokenize(query))
    frequency = {t: sum(1 for d in docs if t in d) for t in terms}
    scores = []
    for words in docs:
        counts = Counter(words)
        score = 0.0
        for t in terms:
            tf = counts.get(t, 0)
            if not tf:
                continue
            idf = math.log(1 + (n_docs - frequency[t] + 0.5) / (frequency[t] + 0.5))
            score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len(words) / avg))
        scores.append(score)
    return scores


def has_terms(text: str | None, query: str) -> bool:
    """Whether ``text`` shares at least one word with ``query``."""
    return bool(text) and bool(set(tokenize(text or "")) & set(tokenize(query)))
