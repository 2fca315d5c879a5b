"""Migration state: one SQLite file per migration, committed after every batch.

It holds where the copy stopped (the source's scan cursor), the ids copied so far (so
verification needs no second read of the source), a fixed-size sample of copied records for the
final comparison, and the phase (copying, verifying, done), so a run killed at any point —
including during verification — continues where it stopped when started again.

The file is private to its user: created 0600 in a folder vecbridge makes 0700, never through a
symbolic link, and it names the stores by their redacted URLs (no password, no key).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InvalidInput
from .models import Record

__all__ = ["MigrationKey", "MigrationState"]

VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS source_ids (id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS destination_ids (id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS skipped (id TEXT PRIMARY KEY, reason TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sample (rank TEXT PRIMARY KEY, id TEXT NOT NULL, record TEXT NOT NULL, vector BLOB NOT NULL)
    WITHOUT ROWID;
"""


@dataclass(frozen=True)
class MigrationKey:
    """Which migration a state file belongs to (stores by redacted URL)."""

    source: str
    destination: str
    collection: str
    to_collection: str

    def as_json(self) -> str:
        return json.dumps([self.source, self.destination, self.collection, self.to_collection])


def _private_file(path: Path) -> None:
    """Create ``path`` 0600 (its folder 0700 when vecbridge creates it); refuse a symlink or a
    non-regular file planted there."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0)
        try:
            os.close(os.open(path, flags, 0o600))
        except FileExistsError:  # created meanwhile: checked below like any existing file
            st = os.lstat(path)
        else:
            return
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
        raise InvalidInput(
            f"checkpoint {path} is not a regular file (a symbolic link or a folder?): pass another --checkpoint path"
        )
    if st.st_mode & 0o077:
        os.chmod(path, 0o600)


class MigrationState:
    """The state file of one migration. Use :meth:`open`."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path = path
        self._db = db

    @classmethod
    def open(cls, path: str | os.PathLike[str], key: MigrationKey, *, restart: bool = False) -> MigrationState:
        """Open (or start) the state at ``path``. A file of another migration, or one that is
        not a vecbridge checkpoint, raises ``InvalidInput`` and nothing is written."""
        target = Path(path)
        if target.is_dir():
            raise InvalidInput(f"checkpoint {target} is a folder: pass a file path, e.g. {target / 'migration.ckpt'}")
        existed = target.exists() or target.is_symlink()
        _private_file(target)
        try:
            db = sqlite3.connect(str(target), isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=DELETE")  # no -wal file next to it: one private file
            if existed and not restart:
                cls._check(db, target, key)
            db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InvalidInput(
                f"checkpoint {target} is unreadable ({exc}): delete it to start the migration over "
                "(nothing is lost: records already copied are overwritten, not duplicated)"
            ) from None
        state = cls(target, db)
        if restart or not existed or state.get("key") is None:
            state.reset(key)
        return state

    @staticmethod
    def _check(db: sqlite3.Connection, path: Path, key: MigrationKey) -> None:
        try:
            rows = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise InvalidInput(
                f"checkpoint {path} is unreadable ({exc}): delete it to start the migration over "
                "(nothing is lost: records already copied are overwritten, not duplicated)"
            ) from None
        if rows.get("version") != str(VERSION):
            raise InvalidInput(
                f"checkpoint {path} is unreadable (not a vecbridge checkpoint of version {VERSION}): delete it to "
                "start the migration over (records already copied are overwritten, not duplicated)"
            )
        if rows.get("key") != key.as_json():
            saved = json.loads(rows["key"])
            raise InvalidInput(
                f"checkpoint {path} belongs to another migration ({saved[2]!r} from {saved[0]} to {saved[1]}): "
                "pass another checkpoint path"
            )

    # ----- key/value ----------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set(self, items: dict[str, Any]) -> None:
        self._db.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [(k, str(v) if not isinstance(v, str) else v) for k, v in items.items()],
        )

    def reset(self, key: MigrationKey) -> None:
        with self._transaction():
            for table in ("meta", "source_ids", "destination_ids", "skipped", "sample"):
                self._db.execute(f"DELETE FROM {table}")
            self._set({"version": VERSION, "key": key.as_json(), "phase": "copy", "written": 0})

    @property
    def phase(self) -> str:
        return self.get("phase") or "copy"

    @property
    def cursor(self) -> str | None:
        value = self.get("cursor")
        return None if value is None else str(json.loads(value))

    @property
    def written(self) -> int:
        return int(self.get("written") or 0)

    def set_phase(self, phase: str) -> None:
        with self._transaction():
            self._set({"phase": phase})

    # ----- copying ------------------------------------------------------------------------

    def commit_page(
        self,
        cursor: str | None,
        written: int,
        ids: Iterable[str],
        sample: list[Record],
        sample_size: int,
        skipped: dict[str, str],
    ) -> None:
        """Everything a written page changes, in one transaction: a crash leaves the state of
        the page before or after it, never half."""
        with self._transaction():
            self._db.executemany("INSERT OR IGNORE INTO source_ids (id) VALUES (?)", ((i,) for i in ids))
            self._db.executemany("INSERT OR REPLACE INTO skipped (id, reason) VALUES (?, ?)", list(skipped.items()))
            self._add_sample(sample, sample_size)
            self._set({"cursor": json.dumps(cursor), "written": written})

    def _add_sample(self, records: list[Record], size: int) -> None:
        """Keep the ``size`` records with the smallest hash of their id: a uniform sample that
        needs no random state, so a resumed run keeps the same one."""
        if size <= 0 or not records:
            return
        self._db.executemany(
            "INSERT OR REPLACE INTO sample (rank, id, record, vector) VALUES (?, ?, ?, ?)",
            [
                (
                    hashlib.sha256(r.id.encode("utf-8", "surrogatepass")).hexdigest(),
                    r.id,
                    json.dumps({"text": r.text, "metadata": r.metadata}, ensure_ascii=False),
                    np.asarray(r.vector, dtype=np.float64).tobytes(),
                )
                for r in records
            ],
        )
        self._db.execute(
            "DELETE FROM sample WHERE rank IN (SELECT rank FROM sample ORDER BY rank LIMIT -1 OFFSET ?)", (size,)
        )

    def sample(self) -> list[Record]:
        rows = self._db.execute("SELECT id, record, vector FROM sample ORDER BY rank").fetchall()
        out = []
        for rid, blob, vector in rows:
            data = json.loads(blob)
            out.append(Record(rid, np.frombuffer(vector, dtype=np.float64).tolist(), data["text"], data["metadata"]))
        return out

    def skipped(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT id, reason FROM skipped ORDER BY id").fetchall())

    def source_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM source_ids").fetchone()[0])

    # ----- verification -------------------------------------------------------------------

    def clear_destination_ids(self) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM destination_ids")

    def add_destination_ids(self, ids: Iterable[str]) -> None:
        with self._transaction():
            self._db.executemany("INSERT OR IGNORE INTO destination_ids (id) VALUES (?)", ((i,) for i in ids))

    def missing_ids(self, limit: int) -> tuple[int, list[str]]:
        """Copied source ids the destination does not have (how many, and the first ``limit``)."""
        query = (
            "FROM source_ids s WHERE s.id NOT IN (SELECT id FROM destination_ids) "
            "AND s.id NOT IN (SELECT id FROM skipped)"
        )
        return self._difference(query, limit)

    def extra_ids(self, limit: int) -> tuple[int, list[str]]:
        """Destination ids that are not from the source (already there before the copy)."""
        return self._difference("FROM destination_ids d WHERE d.id NOT IN (SELECT id FROM source_ids)", limit)

    def _difference(self, query: str, limit: int) -> tuple[int, list[str]]:
        n = int(self._db.execute(f"SELECT count(*) {query}").fetchone()[0])
        first = [r[0] for r in self._db.execute(f"SELECT id {query} ORDER BY 1 LIMIT ?", (limit,))]
        return n, first

    # ----- plumbing -----------------------------------------------------------------------

    class _Tx:
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db = db

        def __enter__(self) -> None:
            self.db.execute("BEGIN IMMEDIATE")

        def __exit__(self, kind: object, *rest: object) -> None:
            self.db.execute("COMMIT" if kind is None else "ROLLBACK")

    def _transaction(self) -> MigrationState._Tx:
        return self._Tx(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> MigrationState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def iter_ids(self) -> Iterator[str]:
        for (rid,) in self._db.execute("SELECT id FROM source_ids ORDER BY id"):
            yield rid
