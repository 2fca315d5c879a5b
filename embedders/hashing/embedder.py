"""Feature-hashing embedder: words and character n-grams hashed into a fixed-size vector.

It needs no model, no network and no extra, and gives the same vector for the same text on every
machine — useful for tests, demos and air-gapped pipelines. It is *lexical*: texts that share words
or word pieces score high; synonyms ("car" / "automobile") do not. Use Gemini or a
sentence-transformers model for meaning.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

from vecbridge.core.embedders import BaseEmbedder
from vecbridge.core.errors import InvalidInput
from vecbridge.core.models import EmbedderFingerprint, TaskType

__all__ = ["HashingEmbedder"]

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_VERSION = "hashing-v1"


class HashingEmbedder(BaseEmbedder):
    """Hash words (weight 1) and character n-grams of each word (weight 0.5) into ``dimension``
    buckets with a random sign, then L2-normalise.

    >>> emb = HashingEmbedder(dimension=32)
    >>> len(emb.embed_query("hello world"))
    32
    >>> emb.embed_query("hello") == HashingEmbedder(dimension=32).embed_query("hello")
    True
    """

    provider = "hashing"

    def __init__(self, dimension: int = 384, ngram_min: int = 3, ngram_max: int = 5, **_: object) -> None:
        super().__init__()
        if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension < 2:
            raise InvalidInput(f"hashing embedder dimension must be an integer >= 2, got {dimension!r}")
        if not 1 <= ngram_min <= ngram_max:
            raise InvalidInput(f"need 1 <= ngram_min <= ngram_max, got {ngram_min}, {ngram_max}")
        self._dimension = dimension
        self.ngram_min = ngram_min
        self.ngram_max = ngram_max

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def model_id(self) -> str:
        return f"{_VERSION}-w1-c{self.ngram_min}{self.ngram_max}"

    def fingerprint_options(self) -> dict[str, object]:
        return {"ngram_min": self.ngram_min, "ngram_max": self.ngram_max}

    @classmethod
    def from_fingerprint(cls, fingerprint: EmbedderFingerprint) -> HashingEmbedder:
        opts = dict(fingerprint.options)
        return cls(
            dimension=fingerprint.dimension,
            ngram_min=int(opts.get("ngram_min", 3)),
            ngram_max=int(opts.get("ngram_max", 5)),
        )

    def _features(self, text: str) -> list[tuple[str, float]]:
        feats: list[tuple[str, float]] = []
        for word in _WORD_RE.findall(text.lower()):
            feats.append(("w:" + word, 1.0))
            padded = f"<{word}>"
            for n in range(self.ngram_min, self.ngram_max + 1):
                for i in range(len(padded) - n + 1):
                    feats.append(("c:" + padded[i : i + n], 0.5))
        return feats

    def _embed_one(self, text: str) -> list[float]:
        vec = np.zeros(self._dimension, dtype=np.float64)
        for feat, weight in self._features(text):
            h = zlib.crc32(feat.encode("utf-8"))
            sign = 1.0 if (h >> 31) & 1 else -1.0
            vec[h % self._dimension] += sign * weight
        norm = float(np.linalg.norm(vec))
        if norm == 0.0:
            # No word characters at all (e.g. "!!!"): a fixed unit vector rather than zeros,
            # which cosine stores reject.
            vec[0] = 1.0
            norm = 1.0
        return [float(x) for x in vec / norm]

    def _embed(
        self, texts: Sequence[str], task: TaskType, titles: Sequence[str | None] | None
    ) -> list[list[float]]:
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise InvalidInput(f"text {i} is a {type(t).__name__}, not a string")
        return [self._embed_one(t) for t in texts]
