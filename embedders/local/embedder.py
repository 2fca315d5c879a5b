"""``SentenceTransformerEmbedder``: a real semantic model that runs offline on this machine.

Loads a sentence-transformers model from a local directory, an installed model package or the
local Hugging Face cache (see model_sources.py) and embeds in batches, L2-normalised by default.
Inputs longer than the model's ``max_seq_length`` follow an explicit policy, as with Gemini:
``long_input="error"`` (default, names the inputs) or ``"truncate"`` (the model's own cut,
logged) — sentence-transformers alone would cut them silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from vecbridge.core.embedders import BaseEmbedder
from vecbridge.core.errors import InvalidInput, MissingExtra
from vecbridge.core.models import EmbedderFingerprint, TaskType

from .model_sources import DEFAULT_MODEL, resolve_model

__all__ = ["SentenceTransformerEmbedder"]

log = logging.getLogger("vecbridge.local")

# Tasks whose input is the *asking* side: they get ``query_prompt``; everything else ``document_prompt``.
_QUERY_SIDE = {TaskType.RETRIEVAL_QUERY, TaskType.CODE_RETRIEVAL_QUERY, TaskType.QUESTION_ANSWERING,
               TaskType.FACT_VERIFICATION}



def _quietly(load: Callable[[], Any]) -> Any:
    """Load a model without transformers' "Loading weights" progress bar, which would land in
    the middle of the CLI's own output; warnings and errors still show."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - sentence-transformers always brings transformers
        return load()
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        return load()
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()  # type: ignore[no-untyped-call]

class SentenceTransformerEmbedder(BaseEmbedder):
    """Embed with a local sentence-transformers model (default: all-MiniLM-L6-v2, 384-d).

    >>> emb = SentenceTransformerEmbedder(device="cpu")  # doctest: +SKIP
    >>> len(emb.embed_query("hello"))  # doctest: +SKIP
    384

    ``model``: a directory, ``package:<module>`` or a Hugging Face id found locally.
    ``query_prompt`` / ``document_prompt``: prefixes some models need (e5: ``"query: "`` and
    ``"passage: "``). ``dimension``: optional check that the model makes vectors of that size.
    ``allow_download``: let sentence-transformers fetch a model missing from this machine.
    Titles are not used by these models and are ignored (logged once).
    """

    provider = "sentence-transformers"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str | None = None,
        batch_size: int = 32,
        normalize: bool = True,
        query_prompt: str | None = None,
        document_prompt: str | None = None,
        long_input: str = "error",
        dimension: int | None = None,
        allow_download: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInput(f"batch_size must be a positive integer, got {batch_size!r}")
        if long_input not in ("error", "truncate"):
            raise InvalidInput(f"long_input must be 'error' or 'truncate', got {long_input!r}")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise MissingExtra("the sentence-transformers embedder", "local", exc) from exc
        self.resolved = resolve_model(model, allow_download=allow_download)
        self.batch_size = batch_size
        self.normalize = normalize
        self.query_prompt = query_prompt or None
        self.document_prompt = document_prompt or None
        self.long_input = long_input
        target = str(self.resolved.path) if self.resolved.path is not None else self.resolved.name
        self._model = _quietly(lambda: SentenceTransformer(target, device=device, local_files_only=not allow_download))
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        size = get_dim()
        if not isinstance(size, int):  # pragma: no cover - a model without a fixed output size
            raise InvalidInput(f"{self.resolved.name} does not report a fixed embedding dimension")
        self._dimension = size
        if dimension is not None and dimension != self._dimension:
            raise InvalidInput(f"{self.resolved.name} makes {self._dimension}-d vectors, not {dimension}: "
                               f"use dimension={self._dimension} or another model")
        self._warned_titles = False

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def model_id(self) -> str:
        return self.resolved.name

    @property
    def max_seq_length(self) -> int:
        length = self._model.max_seq_length
        return int(length) if length is not None else 512

    def fingerprint_options(self) -> dict[str, object]:
        opts: dict[str, object] = {"normalize": self.normalize, "source": self.resolved.source}
        if self.query_prompt:
            opts["query_prompt"] = self.query_prompt
        if self.document_prompt:
            opts["document_prompt"] = self.document_prompt
        return opts

    @classmethod
    def from_fingerprint(cls, fingerprint: EmbedderFingerprint, **overrides: Any) -> SentenceTransformerEmbedder:
        """Rebuild from a collection's fingerprint: the recorded source first, then the model id."""
        opts = dict(fingerprint.options)
        kwargs: dict[str, Any] = {
            "normalize": bool(opts.get("normalize", True)),
            "query_prompt": opts.get("query_prompt"),
            "document_prompt": opts.get("document_prompt"),
            "dimension": fingerprint.dimension,
            **overrides,
        }
        source = str(opts.get("source", ""))
        candidates = [fingerprint.model]
        if source.startswith("package:"):
            candidates.insert(0, source)
        elif source.startswith("dir:"):
            candidates.insert(0, source[4:])
        last: InvalidInput | None = None
        for candidate in candidates:
            try:
                resolve_model(candidate)
            except InvalidInput as exc:
                last = exc
                continue
            return cls(candidate, **kwargs)
        raise last or InvalidInput(f"cannot find model {fingerprint.model!r}")

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder(model={self.model_id!r}, dimension={self._dimension})"

    def _check_lengths(self, texts: list[str]) -> None:
        limit = self.max_seq_length
        tokenizer = self._model.tokenizer
        lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=True, truncation=False,
                                                 verbose=False)["input_ids"]]
        too_long = [i for i, n in enumerate(lengths) if n > limit]
        if not too_long:
            return
        if self.long_input == "error":
            shown = ", ".join(f"{i} ({lengths[i]} tokens)" for i in too_long[:10])
            raise InvalidInput(
                f"{len(too_long)} text(s) exceed {self.model_id}'s {limit}-token input: index {shown}. Split them into "
                "smaller chunks, or pass long_input='truncate' to embed only their first tokens"
            )
        log.warning("%d text(s) longer than %s's %d tokens are embedded from their first %d tokens "
                    "(long_input='truncate'): indexes %s", len(too_long), self.model_id, limit, limit, too_long[:50])

    def _embed(
        self, texts: Sequence[str], task: TaskType, titles: Sequence[str | None] | None
    ) -> list[list[float]]:
        bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
        if bad:
            raise InvalidInput(f"text(s) at index {bad[:10]} are not strings")
        if titles and any(titles) and not self._warned_titles:
            log.warning("%s does not use titles: they are ignored", self.model_id)
            self._warned_titles = True
        prompt = self.query_prompt if task in _QUERY_SIDE else self.document_prompt
        sent = [f"{prompt}{t}" for t in texts] if prompt else list(texts)
        self._check_lengths(sent)
        array = self._model.encode(
            sent,
            batch_size=self.batch_size,
            normalize_embeddings=self.normalize,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        if len(array) != len(texts):  # pragma: no cover - a broken model, not a user error
            raise InvalidInput(f"{self.model_id} returned {len(array)} vectors for {len(texts)} texts")
        values = np.asarray(array, dtype=np.float64)
        if self.normalize:
            # The model normalises in float32; redo it in float64 so norms are 1 to ~1e-15.
            norms = np.linalg.norm(values, axis=1, keepdims=True)
            values = values / np.where(norms == 0, 1.0, norms)
        vectors: list[list[float]] = values.tolist()
        return vectors
