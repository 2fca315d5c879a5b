"""Migration checkpoints: where a copy stopped, written atomically after every batch."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidInput

__all__ = ["Checkpoint"]

VERSION = 1


@dataclass
class Checkpoint:
    """Progress of one migration. ``cursor`` is the scan cursor after the last batch that was
    fully written; resuming re-reads from there, and since upserts are idempotent a batch written
    twice (a crash between write and save) leaves no duplicate."""

    source: str
    destination: str
    collection: str
    to_collection: str
    cursor: str | None = None
    written: int = 0
    done: bool = False
    version: int = VERSION

    def key(self) -> tuple[str, str, str, str]:
        return (self.source, self.destination, self.collection, self.to_collection)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(asdict(self), fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)  # atomic: a crash leaves the old or the new checkpoint, never half

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("version") != VERSION:
                raise ValueError("unknown format")
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise InvalidInput(
                f"checkpoint {path} is unreadable ({exc}): delete it to start the migration over "
                "(nothing is lost: records already copied are overwritten, not duplicated)"
            ) from None
