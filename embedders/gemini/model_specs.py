"""What vecbridge knows about each Gemini embedding model and API surface.

Limits come from the public docs and observed API behaviour (not guesses):

- Gemini API ``batchEmbedContents``: at most 100 requests per call; 101 gives
  400 INVALID_ARGUMENT "at most 100 requests can be in one batch". The SDK does not split.
- Vertex AI (same SDK, ``vertexai=True``): up to 250 texts and 20,000 tokens per request.
- gemini-embedding-001: 2,048 input tokens; gemini-embedding-2: 8,192.
- Both: ``output_dimensionality`` 128-3072; only the full 3072 comes back unit-length.
- gemini-embedding-2 ignores ``taskType``; the task is written into the text instead.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEFAULT_MODEL",
    "GEMINI_API_MAX_BATCH",
    "MAX_DIMENSION",
    "MIN_DIMENSION",
    "VERTEX_MAX_BATCH",
    "VERTEX_MAX_REQUEST_TOKENS",
    "ModelSpec",
    "spec_for",
]

DEFAULT_MODEL = "gemini-embedding-001"
GEMINI_API_MAX_BATCH = 100
VERTEX_MAX_BATCH = 250
VERTEX_MAX_REQUEST_TOKENS = 20_000
MIN_DIMENSION = 128
MAX_DIMENSION = 3072


@dataclass(frozen=True)
class ModelSpec:
    name: str
    max_input_tokens: int
    #: True for models that ignore ``taskType`` and take the task as a text prefix.
    task_in_text: bool
    #: True when the SDK merges a list of strings into ONE input (multimodal models,
    #: python-genai #2523): each text must then travel as its own Content.
    merges_string_lists: bool = True


def spec_for(model: str) -> ModelSpec:
    """The spec of ``model`` (``models/`` prefix and ``-preview`` suffixes allowed).

    Unknown models get the conservative gemini-embedding-001 behaviour (2,048 tokens, task
    types in the request), which is what the rest of the Gemini family expects.
    """
    name = model.rsplit("/", 1)[-1]
    if name.startswith("gemini-embedding-2"):
        return ModelSpec(name, 8192, task_in_text=True)
    # The SDK's own rule (_transformers.t_is_multimodal_embedding_model): only these keep strings apart.
    text_only = name.startswith(("gemini-embedding-001", "gemini-embedding-exp")) or "gemini" not in name
    return ModelSpec(name, 2048, task_in_text=False, merges_string_lists=not text_only)
