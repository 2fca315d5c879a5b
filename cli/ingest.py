"""``vecbridge ingest``: chunk, embed and store files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vecbridge.core import Collection, Embedder, Metric, Record, Store, connect
from vecbridge.core.cache import CachedEmbedder
from vecbridge.core.paths import private_dir, vecbridge_home

from .embedding import resolve_embedder
from .options import (
    AddressOpt,
    BatchSizeOpt,
    CollectionOpt,
    DimensionOpt,
    EmbedderOpt,
    EngineOpt,
    JsonOpt,
    MetricOpt,
    StoreOpt,
    WorkersOpt,
    check_store_url,
    engine_options,
    open_store,
)
from .output import literal, print_json, progress, progress_task, say
from .sources import Chunk, read_sources

if TYPE_CHECKING:  # imported only for --engine ray: Ray is an extra
    from vecbridge.integrations.ray.cli import Engine

__all__ = ["ingest", "ingest_chunks"]


def ingest_chunks(
    store: Store,
    collection: str,
    chunks: list[Chunk],
    embedder: Embedder,
    *,
    metric: Metric = Metric.COSINE,
    batch_size: int = 100,
) -> int:
    """Embed and upsert chunks with a progress bar. Returns how many were written."""
    coll = Collection.open(store, collection, embedder=embedder, metric=metric)
    with progress() as bar:
        task = progress_task(bar, f"ingest {collection}", len(chunks))
        coll.add_texts(
            [c.text for c in chunks],
            ids=[c.id for c in chunks],
            metadatas=[c.metadata for c in chunks],
            batch_size=batch_size,
            progress=lambda n: bar.update(task, advance=n),
        )
    return len(chunks)


def _ingest_with_batch_api(
    store: Store,
    collection: str,
    chunks: list[Chunk],
    gemini: Any,
    cached: CachedEmbedder | None,
    metric: Metric,
    poll_interval: float,
) -> int:
    """Embed every chunk through Gemini's Batch API (resumable: the job names are kept in
    $VECBRIDGE_HOME/batch-jobs, a private folder), then write the records."""
    coll = Collection.open(store, collection, embedder=gemini, metric=metric)
    state = private_dir(vecbridge_home() / "batch-jobs") / f"{collection}.json"  # a validated collection name

    def report(status: Any) -> None:
        say(literal(str(status)), stderr=True)

    def run(texts: list[str], **kw: Any) -> list[list[float]]:
        vectors = gemini.embed_documents_batch_api(
            texts, state_path=state, poll_interval=poll_interval, progress=report, **kw
        )
        return list(vectors)

    texts = [c.text for c in chunks]
    vectors = cached.embed_documents_with(run, texts) if cached is not None else run(texts)
    records = [Record(c.id, v, c.text, c.metadata) for c, v in zip(chunks, vectors, strict=True)]
    return coll.add_records(records)


def _ingest_on_ray(
    store: str | None,
    collection: str,
    chunks: list[Chunk],
    embedder: str | None,
    dimension: int | None,
    metric: Metric,
    batch_size: int,
    engine: Engine,
    *,
    cache: bool,
    as_json: bool,
) -> tuple[int, int, Embedder]:
    """``ingest --engine ray``: the embedder is chosen here as in this process, the texts are
    embedded and written by the cluster's workers. Returns (written, records in the collection,
    the embedder)."""
    from vecbridge.integrations.ray.cli import ingest_command

    url = check_store_url(store)
    with connect(url) as db:  # closed before the job: an embedded store is held by one handle at a time
        base, why = resolve_embedder(db, collection, embedder, dimension)
    if not as_json:
        say(f"embedder: {literal(why)}", stderr=True)
        if cache:
            say("embedding cache: not used with --engine ray (the cluster's workers embed every text)", stderr=True)
    n = ingest_command(
        url,
        collection,
        engine=engine,
        ids=[c.id for c in chunks],
        texts=[c.text for c in chunks],
        metadatas=[c.metadata for c in chunks],
        embedder=base,
        metric=metric,
        batch_size=batch_size,
    )
    with connect(url) as db:
        return n, db.count(collection), base


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (.txt, .md, .jsonl with id/text/metadata).")],
    collection: CollectionOpt,
    store: StoreOpt = None,
    embedder: EmbedderOpt = None,
    dimension: DimensionOpt = None,
    metric: MetricOpt = "cosine",
    chunk_size: Annotated[int, typer.Option(min=1, help="Maximum characters per chunk.")] = 1000,
    chunk_overlap: Annotated[int, typer.Option(min=0, help="Characters shared by neighbouring chunks.")] = 200,
    batch_size: BatchSizeOpt = 100,
    cache: Annotated[
        bool, typer.Option(help="Reuse embeddings of unchanged text from $VECBRIDGE_HOME/cache (no API cost).")
    ] = True,
    batch_api: Annotated[
        bool, typer.Option("--batch-api", help="Gemini only: embed through the Batch API (half price, slower).")
    ] = False,
    poll_interval: Annotated[float, typer.Option(min=0.01, help="Seconds between Batch API status checks.")] = 30.0,
    engine: EngineOpt = None,
    address: AddressOpt = None,
    workers: WorkersOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Chunk, embed and store files. Running it again updates the same records (ids are
    path#chunk, or the JSONL id) and, with the cache, re-embeds only changed text, so an
    interrupted ingest is finished by running it again."""
    if chunk_overlap >= chunk_size:
        raise typer.BadParameter(
            f"{chunk_overlap} is not below --chunk-size {chunk_size}: overlap must be smaller than a chunk",
            param_hint="'--chunk-overlap'",
        )
    ray_engine = engine_options(engine, address, workers)
    if ray_engine is not None and batch_api:
        raise typer.BadParameter(
            "the Batch API job runs from this process: leave out --engine or --batch-api", param_hint="'--batch-api'"
        )
    chunks = list(read_sources(paths, chunk_size=chunk_size, overlap=chunk_overlap))
    if not chunks:
        raise typer.BadParameter("no .txt, .md or .jsonl text found in the given paths", param_hint="'PATHS'")
    if ray_engine is not None:
        n, total, chosen = _ingest_on_ray(
            store, collection, chunks, embedder, dimension, Metric.parse(metric), batch_size, ray_engine,
            cache=cache, as_json=as_json,
        )  # fmt: skip
        _print_ingested(collection, n, total, chosen, as_json=as_json)
        return
    db = open_store(store)
    cached: CachedEmbedder | None = None
    try:
        base, why = resolve_embedder(db, collection, embedder, dimension)
        if batch_api and not hasattr(base, "embed_documents_batch_api"):
            raise typer.BadParameter(
                f"needs the gemini embedder, not {base.fingerprint.provider}", param_hint="'--batch-api'"
            )
        emb: Embedder = base
        if cache:
            cached = CachedEmbedder(base, vecbridge_home() / "cache" / "embeddings.sqlite")
            emb = cached
        if not as_json:
            say(f"embedder: {literal(why)}", stderr=True)
        if batch_api:
            n = _ingest_with_batch_api(db, collection, chunks, base, cached, Metric.parse(metric), poll_interval)
        else:
            n = ingest_chunks(db, collection, chunks, emb, metric=Metric.parse(metric), batch_size=batch_size)
        total = db.count(collection)
        if cached is not None and not as_json:
            stats = cached.stats()
            say(f"embedding cache: {stats.get('hits', 0)} reused, {stats.get('misses', 0)} computed", stderr=True)
    finally:
        if cached is not None:
            cached.close()
        db.close()
    _print_ingested(collection, n, total, emb, as_json=as_json)


def _print_ingested(collection: str, n: int, total: int, emb: Embedder, *, as_json: bool) -> None:
    if as_json:
        print_json({"collection": collection, "written": n, "count": total, "embedder": emb.fingerprint.to_dict()})
    else:
        say(f"wrote {n} chunks to {collection!r} ({total} records in the collection)")
