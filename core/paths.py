"""Where vecbridge keeps its own files: ``$VECBRIDGE_HOME``, else ``~/.vecbridge``."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["vecbridge_home"]


def vecbridge_home() -> Path:
    """The folder for the embedded store, the embedding cache, checkpoints and batch-job state."""
    return Path(os.environ.get("VECBRIDGE_HOME", "~/.vecbridge")).expanduser()
