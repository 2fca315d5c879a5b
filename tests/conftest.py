"""Shared test setup: offline by default, so nothing reaches a real API by accident."""

from __future__ import annotations

import os

# No test may call a real Gemini endpoint or load a model from a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
for _key in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
    os.environ.pop(_key, None)
