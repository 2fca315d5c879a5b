"""``collection.json``: what vecbridge keeps beside an Edge shard, which has no room for it.

::

    {"vecbridge": 2,                       the layout of this file and of the points' payloads
     "spec": {...},                        dimension, metric, embedder fingerprint, hybrid, tenancy
     "state": {"clean": true,              false from the first write of a session until it closes
               "points": 13824,            the shard's point count when it was last closed clean
               "sample": {"ids": [...], "digest": "..."}}}   a fingerprint of a few points

The state lets the next open tell a damaged shard from a sound one: Qdrant Edge loads a shard
whose id tracker was truncated with no error and fewer points (7,424 of 13,824 in one test), and
one whose vector or payload files were zeroed with every point present but their data gone. A
clean state whose count or sample no longer match is reported as ``StoreDamaged``. After a crash
the state is not clean and nothing can be compared: Edge replays its write-ahead log, which holds
every write it acknowledged, and the next clean close records a new state.

Every write goes to a temporary file, is flushed to disk and renamed over the old one, so the file
is always whole.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vecbridge.core.errors import StoreDamaged, UnsupportedFeature
from vecbridge.core.models import CollectionSpec

from .convert import spec_from_stored, spec_to_stored

__all__ = ["LAYOUT", "SIDECAR", "Sidecar", "State", "read_sidecar", "write_sidecar"]

SIDECAR = "collection.json"
#: Payload layout 2: match keys, date instants and the exact JSON copy of convert.py.
LAYOUT = 2


@dataclass(frozen=True)
class State:
    clean: bool
    points: int | None = None
    sample_ids: tuple[str, ...] = ()
    digest: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"clean": self.clean}
        if self.clean:
            out["points"] = self.points
            out["sample"] = {"ids": list(self.sample_ids), "digest": self.digest}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        sample = data.get("sample") or {}
        points = data.get("points")
        return cls(
            clean=data.get("clean") is True and isinstance(points, int),
            points=points if isinstance(points, int) else None,
            sample_ids=tuple(str(i) for i in sample.get("ids") or ()),
            digest=sample.get("digest"),
        )


@dataclass(frozen=True)
class Sidecar:
    spec: CollectionSpec
    state: State = field(default_factory=lambda: State(clean=True, points=0))


def read_sidecar(folder: Path, name: str) -> Sidecar | None:
    """The sidecar of the collection in ``folder`` (None if there is none)."""
    path = folder / SIDECAR
    try:
        data = json.loads(path.read_text("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        if "vecbridge" not in data and "dimension" in data:
            raise UnsupportedFeature(
                f"collection {name!r} at {folder} was written by an earlier vecbridge (payload layout 1), whose "
                "filters on numbers and booleans this version cannot answer exactly: ingest it again into a new "
                "collection"
            )
        if data.get("vecbridge") != LAYOUT:
            raise ValueError(f"unknown layout {data.get('vecbridge')!r}")
        return Sidecar(spec_from_stored(name, data["spec"]), State.from_dict(data.get("state") or {}))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # InvalidInput is a ValueError too
        raise StoreDamaged(
            f"{path} is damaged ({type(exc).__name__}: {exc}): it holds collection {name!r}'s spec. Restore it "
            f"from a backup, or delete the folder {folder} to drop the collection"
        ) from None


def write_sidecar(folder: Path, sidecar: Sidecar) -> None:
    """Replace the sidecar atomically and durably."""
    data = {"vecbridge": LAYOUT, "spec": spec_to_stored(sidecar.spec), "state": sidecar.state.to_dict()}
    tmp = folder / (SIDECAR + ".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(data, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, folder / SIDECAR)
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
