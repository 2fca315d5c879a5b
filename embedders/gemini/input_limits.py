"""The per-input token limit (2,048 tokens for gemini-embedding-001) as an explicit policy.

There is no Gemini tokenizer offline, and calling ``countTokens`` would add one request per
batch, so the default counter is an *estimate*: ASCII characters at 3 per token (Google's rule
of thumb is ~4 for English, so this over-counts on purpose) and every other character as one
token (CJK scripts run close to one token per character). It errs towards calling a text too
long. Pass ``token_counter=`` to the embedder for an exact count (for example one built on
``client.models.count_tokens``), or raise ``max_input_tokens`` if your texts are plain English.

Policies: ``"error"`` (default) refuses the whole call before any request and names the
offending inputs by index; ``"truncate"`` cuts those inputs to the limit (at a word boundary
where possible) and logs which ones it cut. Nothing is ever cut silently.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Literal

from vecbridge.core.errors import InvalidInput

__all__ = ["LONG_INPUT_POLICIES", "LongInputPolicy", "TokenCounter", "apply_input_limit", "estimate_tokens"]

log = logging.getLogger("vecbridge.gemini")

LongInputPolicy = Literal["error", "truncate"]
LONG_INPUT_POLICIES: tuple[str, ...] = ("error", "truncate")
TokenCounter = Callable[[str], int]


def estimate_tokens(text: str, chars_per_token: float = 3.0) -> int:
    """Conservative token estimate: ASCII at ``chars_per_token`` per token, other chars 1 each."""
    ascii_chars = len(text.encode("ascii", "ignore"))  # C speed: this runs on every input
    return math.ceil(ascii_chars / chars_per_token) + (len(text) - ascii_chars)


def _truncate(text: str, max_tokens: int, count: TokenCounter) -> str:
    """Longest prefix whose count fits (binary search: counts grow with length), cut at a space."""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(text[:mid]) <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    cut = text[:lo]
    space = cut.rfind(" ")
    # Prefer a word boundary, unless that would throw away more than a tenth of what fits.
    return cut[:space] if space > 0.9 * len(cut) else cut


def apply_input_limit(
    texts: Sequence[str],
    *,
    max_tokens: int,
    policy: LongInputPolicy,
    count: TokenCounter,
    model: str,
) -> tuple[list[str], list[int]]:
    """Return (texts to send, indexes that were truncated); raise ``InvalidInput`` under ``error``."""
    if count is estimate_tokens:
        # The estimate never exceeds one token per character: short texts need no counting.
        counts = [len(t) if len(t) <= max_tokens else count(t) for t in texts]
    else:
        counts = [count(t) for t in texts]
    too_long = [i for i, n in enumerate(counts) if n > max_tokens]
    if not too_long:
        return list(texts), []
    if policy == "error":
        shown = ", ".join(f"{i} (~{counts[i]} tokens)" for i in too_long[:10])
        more = f" and {len(too_long) - 10} more" if len(too_long) > 10 else ""
        raise InvalidInput(
            f"{len(too_long)} text(s) exceed {model}'s {max_tokens}-token input limit: index {shown}{more}. "
            "Split them into smaller chunks, or pass long_input='truncate' to cut them to the limit "
            "(token counts are a conservative estimate; pass token_counter= for exact counts)"
        )
    out = list(texts)
    for i in too_long:
        out[i] = _truncate(out[i], max_tokens, count)
    log.warning(
        "truncated %d text(s) to %s's %d-token limit (long_input='truncate'): indexes %s",
        len(too_long), model, max_tokens, too_long[:50],
    )
    return out, too_long
