"""Portable export/import: one Parquet file per collection (needs the ``parquet`` extra).

Columns: ``id`` (string), ``vector`` (fixed_size_list<float32>[dimension]), ``text`` (string,
nullable), ``metadata`` (string holding a JSON object: metadata differs from record to record, which
a typed struct column cannot hold). The collection spec, with its embedder fingerprint, is in the
file's schema metadata under ``vecbridge.spec``. pandas, polars and duckdb read it as is, e.g.
``duckdb.sql("select id, metadata->>'$.year' from 'docs.parquet'")``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .errors import InvalidInput, MissingExtra
from .models import CollectionSpec, Record
from .store import Store, VectorStore

__all__ = ["export_parquet", "import_parquet", "read_parquet", "read_parquet_spec"]

SPEC_KEY = b"vecbridge.spec"


def _pa() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise MissingExtra("Parquet export and import", "parquet", exc) from exc
    return pa, pq


def _schema(spec: CollectionSpec) -> Any:
    pa, _ = _pa()
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("vector", pa.list_(pa.float32(), spec.dimension), nullable=False),
            pa.field("text", pa.string()),
            pa.field("metadata", pa.string(), metadata={b"encoding": b"json"}),
        ],
        metadata={SPEC_KEY: json.dumps(spec.to_dict()).encode()},
    )


def export_parquet(
    store: VectorStore,
    collection: str,
    path: str | Path,
    *,
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write every record of ``collection`` to ``path`` (streamed: one row group per batch).
    Returns the number of records written."""
    pa, pq = _pa()
    spec = store.describe_collection(collection)
    schema = _schema(spec)
    target = Path(path)
    if not target.parent.is_dir():
        raise InvalidInput(f"cannot write {target}: the folder {target.parent} does not exist (create it first)")
    if target.is_dir():
        raise InvalidInput(
            f"cannot write {target}: it is a folder; pass a file name such as {target / 'export.parquet'}"
        )
    tmp = target.with_name(target.name + ".partial")
    n = 0
    # The export holds the user's data: private to them (0600), and never written through a link.
    flags = os.O_CREAT | os.O_TRUNC | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
    except OSError as exc:
        raise InvalidInput(f"cannot write {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as sink, pq.ParquetWriter(sink, schema, compression="zstd") as writer:
            for page in store.scan(collection, batch_size=batch_size):
                if not page.records:
                    continue
                batch = pa.record_batch(
                    [
                        pa.array([r.id for r in page.records], pa.string()),
                        pa.array([list(r.vector) for r in page.records], schema.field("vector").type),
                        pa.array([r.text for r in page.records], pa.string()),
                        pa.array([json.dumps(r.metadata, ensure_ascii=False) for r in page.records], pa.string()),
                    ],
                    schema=schema,
                )
                writer.write_batch(batch)
                n += len(page.records)
                if progress:
                    progress(len(page.records))
    except BaseException:
        tmp.unlink(missing_ok=True)  # nothing half-written is left behind (Ctrl-C included)
        raise
    tmp.replace(target)  # a half-written export never carries the final name
    return n


def read_parquet_spec(path: str | Path) -> CollectionSpec:
    """The collection spec stored in an export file."""
    _, pq = _pa()
    try:
        meta = pq.read_schema(str(path)).metadata or {}
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path} is not a readable Parquet file: {exc}") from None
    if SPEC_KEY not in meta:
        raise InvalidInput(f"{path} was not written by 'vecbridge export' (no {SPEC_KEY.decode()} in its metadata)")
    return CollectionSpec.from_dict(json.loads(meta[SPEC_KEY]))


def read_parquet(path: str | Path, *, batch_size: int = 2000) -> Iterator[list[Record]]:
    """Records of an export file, batch by batch. Vectors come as float32 numpy rows straight from
    the Arrow column (no Python float objects: building them cost more than the write)."""
    _, pq = _pa()
    spec = read_parquet_spec(path)
    for batch in pq.ParquetFile(str(path)).iter_batches(batch_size=batch_size):
        vectors = batch.column("vector").flatten().to_numpy(zero_copy_only=False).reshape(-1, spec.dimension)
        ids, texts, metas = (batch.column(c).to_pylist() for c in ("id", "text", "metadata"))
        yield [
            Record(i, vectors[n], t, json.loads(m) if m else {})
            for n, (i, t, m) in enumerate(zip(ids, texts, metas, strict=True))
        ]


def import_parquet(
    path: str | Path,
    store: Store,
    *,
    collection: str | None = None,
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> tuple[CollectionSpec, int]:
    """Load an export file into ``store`` (as ``collection``, default: the exported name), creating
    the collection from the file's spec or checking an existing one. Returns (spec, records)."""
    spec = read_parquet_spec(path)
    if collection:
        spec = spec.renamed(collection)
    store.create_collection(spec, exist_ok=True)
    n = 0
    # One bulk load: the store indexes once, after the data (pgvector's ANN index, Edge's optimize).
    with store.bulk_load(spec.name):
        for records in read_parquet(path, batch_size=batch_size):
            store.upsert(spec.name, records)
            n += len(records)
            if progress:
                progress(len(records))
    return spec, n
