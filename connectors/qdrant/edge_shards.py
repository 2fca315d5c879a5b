"""The Edge shards a driver holds open: opening, creating, dropping, optimizing and closing them.

A collection is a folder holding ``shard/`` (one Qdrant Edge shard) and ``collection.json`` (the
sidecar: see sidecar.py). A shard is opened on first use and held until the driver closes: Qdrant
Edge locks it (its write-ahead log) for one open at a time, across processes too.

Opening compares the shard with what the last clean close recorded (integrity.py) and raises
``StoreDamaged`` when they differ (``verify=False`` skips that, to read what is left). The first
write of a session marks the sidecar not clean (on disk, before the write); a clean close, or a
load that optimized, records the state again.
"""

from __future__ import annotations

import logging
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import qdrant_edge as qe

from vecbridge.core.errors import CollectionExists, CollectionNotFound, StoreDamaged, StoreError, StoreInUse
from vecbridge.core.models import CollectionSpec, Metric

from .convert import KEYWORDS_VECTOR, TENANT_KEY
from .errors import edge_damage, is_edge_lock
from .field_indexes import FieldIndexes
from .integrity import clean_state, mismatch
from .sidecar import SIDECAR, Sidecar, State, read_sidecar, write_sidecar

__all__ = ["SHARD_DIR", "EdgeShards", "OpenShard"]

log = logging.getLogger("vecbridge.connectors.qdrant")

SHARD_DIR = "shard"
_DISTANCE = {Metric.COSINE: qe.Distance.Cosine, Metric.DOT: qe.Distance.Dot, Metric.EUCLIDEAN: qe.Distance.Euclid}
#: Edge builds an HNSW index only for segments holding more vector data than its indexing threshold,
#: set to this (Edge's default, 10,000 KB), and only when ``optimize()`` is called.
INDEXING_BYTES = 10_000 * 1024


@dataclass
class OpenShard:
    name: str
    folder: Path
    shard: qe.EdgeShard
    sidecar: Sidecar
    #: The sidecar on disk says "not clean" (set before the first write of a session).
    dirty: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Metadata fields written through this handle, and their payload indexes (field_indexes.py).
    fields: FieldIndexes = field(default_factory=FieldIndexes)


def _config(spec: CollectionSpec) -> qe.EdgeConfig:
    sparse = {KEYWORDS_VECTOR: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)} if spec.hybrid else None
    return qe.EdgeConfig(
        vectors=qe.EdgeVectorParams(size=spec.dimension, distance=_DISTANCE[spec.metric]),
        sparse_vectors=sparse,
        # Stated, not left to Edge's default, so end_load's test and Edge's optimizers agree.
        optimizers=qe.EdgeOptimizersConfig(indexing_threshold=INDEXING_BYTES // 1024),
    )


class EdgeShards:
    """The open shards under one root folder. Thread-safe."""

    def __init__(self, root: Path, *, verify: bool = True) -> None:
        self.root = root
        self.verify = verify
        self._open: dict[str, OpenShard] = {}
        self._lock = threading.RLock()

    # ----- folders ------------------------------------------------------------------------

    def folder(self, name: str) -> Path:
        return self.root / name

    def names(self) -> list[str]:
        if not self.root.exists():
            return []
        self._check_root()
        return [p.name for p in self.root.iterdir() if (p / SIDECAR).is_file()]

    def sidecar(self, name: str) -> Sidecar | None:
        if self.root.exists():
            self._check_root()
        return read_sidecar(self.folder(name), name)

    def _check_root(self) -> None:
        if not self.root.is_dir():
            raise StoreError(
                f"{self.root} is a file, not a folder: give qdrant+edge:// a folder (it is created if missing)"
            )

    def _make_root(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            self._check_root()
        except OSError as exc:
            raise StoreError(
                f"cannot create the Qdrant Edge folder {self.root} ({exc.strerror}): choose a folder you can write "
                "to, e.g. qdrant+edge://~/vecbridge/qdrant"
            ) from exc
        self._check_root()

    # ----- opening ------------------------------------------------------------------------

    def _load(self, name: str) -> qe.EdgeShard:
        path = self.folder(name) / SHARD_DIR
        try:
            return qe.EdgeShard.load(str(path))
        except BaseException as exc:  # a Rust panic arrives as a BaseException
            if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
                raise
            raise self._open_error(name, exc) from exc

    def _open_error(self, name: str, exc: BaseException) -> StoreError:
        folder = self.folder(name)
        if is_edge_lock(exc):
            return StoreInUse(
                f"collection {name!r} at {folder} is open in another process (or another store object): Qdrant Edge "
                "allows one at a time. Close the other one, or wait for its ingest to end"
            )
        if edge_damage(exc) or not (folder / SHARD_DIR).is_dir():
            return StoreDamaged(
                f"collection {name!r} at {folder} cannot be opened: its Qdrant Edge files are damaged ({exc}). "
                f"Restore the folder from a backup, or drop the collection and ingest it again"
            )
        return StoreError(f"collection {name!r} at {folder} cannot be opened: {exc}")

    def get(self, name: str) -> OpenShard:
        """The open shard of ``name``, opened (and checked) on first use."""
        with self._lock:
            found = self._open.get(name)
            if found is not None:
                return found
            sidecar = self.sidecar(name)
            if sidecar is None:
                raise CollectionNotFound(f"collection {name!r} does not exist in {self.root}")
            opened = OpenShard(name, self.folder(name), self._load(name), sidecar)
            try:
                self._check(opened)
            except BaseException:
                opened.shard.close()
                raise
            self._open[name] = opened
            return opened

    def _check(self, opened: OpenShard) -> None:
        state = opened.sidecar.state
        if not state.clean:
            log.warning(
                "Qdrant Edge collection %r at %s was not closed cleanly (a crash?): Edge replayed its write-ahead "
                "log, which holds every write it acknowledged; its point count cannot be checked this time",
                opened.name,
                opened.folder,
            )
            opened.dirty = True
            return
        if not self.verify:
            return
        try:
            problem = mismatch(opened.shard, state)
        except Exception as exc:
            raise self._open_error(opened.name, exc) from exc
        if problem is not None:
            raise StoreDamaged(
                f"collection {opened.name!r} at {opened.folder} is damaged: {problem} (its files were damaged or "
                "changed outside vecbridge). Restore the folder from a backup, or drop the collection and ingest it "
                "again; to read what is left, connect with verify=False"
            )

    # ----- state --------------------------------------------------------------------------

    def writing(self, name: str) -> OpenShard:
        """The open shard of ``name``, its sidecar marked not clean before the first write."""
        opened = self.get(name)
        if not opened.dirty:
            with opened.lock:
                if not opened.dirty:
                    write_sidecar(opened.folder, Sidecar(opened.sidecar.spec, State(clean=False)))
                    opened.dirty = True
        return opened

    def _record_clean(self, opened: OpenShard) -> None:
        opened.shard.flush()
        opened.sidecar = Sidecar(opened.sidecar.spec, clean_state(opened.shard))
        write_sidecar(opened.folder, opened.sidecar)
        opened.dirty = False

    def end_load(self, name: str) -> None:
        """After a load: build Edge's HNSW index if the load left enough data without one, and
        record the clean state the index was built on."""
        with self._lock:
            opened = self._open.get(name)
        if opened is not None and self._optimize(opened) and opened.dirty:
            self._record_clean(opened)

    @staticmethod
    def _optimize(opened: OpenShard) -> bool:
        """Create payload indexes still waiting (field_indexes.py; writes create them as they
        go), then run Edge's optimizers when more vector data than Edge's indexing threshold has
        no HNSW index yet (Edge never does it by itself). True if the optimizers ran."""
        opened.fields.create_pending(opened.shard)
        info = opened.shard.info()
        unindexed = max(0, info.points_count - info.indexed_vectors_count)
        if unindexed * opened.sidecar.spec.dimension * 4 < INDEXING_BYTES:
            return False
        opened.shard.optimize()
        return True

    # ----- lifecycle ----------------------------------------------------------------------

    def create(self, spec: CollectionSpec) -> None:
        with self._lock:
            self._make_root()
            folder = self.folder(spec.name)
            if (folder / SIDECAR).exists():
                raise CollectionExists(f"collection {spec.name!r} already exists in {self.root}")
            shutil.rmtree(folder / SHARD_DIR, ignore_errors=True)  # left by a create that crashed
            folder.mkdir(exist_ok=True)
            shard = qe.EdgeShard.create(str(folder / SHARD_DIR), _config(spec))
            if spec.multi_tenant:
                index = qe.KeywordIndexParams(is_tenant=True)
                shard.update(qe.UpdateOperation.create_field_index(TENANT_KEY, index))
            opened = OpenShard(spec.name, folder, shard, Sidecar(spec, State(clean=False)), dirty=True)
            self._record_clean(opened)  # the sidecar comes last: a folder without one is no collection
            self._open[spec.name] = opened

    def drop(self, name: str) -> bool:
        with self._lock:
            folder = self.folder(name)
            if not (folder / SIDECAR).is_file():
                return False
            opened = self._open.pop(name, None)
            if opened is not None:
                opened.shard.close()
            else:  # make sure no other process has it open; a damaged shard may still be dropped
                try:
                    self._load(name).close()
                except StoreInUse:
                    raise
                except StoreError:
                    pass
            (folder / SIDECAR).unlink()
            shutil.rmtree(folder, ignore_errors=True)
            return True

    def close(self) -> None:
        """Optimize what a large write left unindexed, record a clean state, release every shard."""
        with self._lock:
            opened_all = list(self._open.values())
            self._open.clear()
        errors: list[BaseException] = []
        for opened in opened_all:
            try:
                self._optimize(opened)
                if opened.dirty:
                    self._record_clean(opened)
            except Exception as exc:  # close every shard even if one fails
                errors.append(exc)
            finally:
                opened.shard.close()
        if errors:
            raise errors[0]
