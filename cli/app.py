"""``vecbridge``: ingest, query and manage collections on any store from the shell.

Every command takes ``--store URL`` (default: ``$VECBRIDGE_STORE``, else an embedded Qdrant Edge
store under ``$VECBRIDGE_HOME`` or ``~/.vecbridge``) and prints a table, or JSON with ``--json``.
Errors print one line saying what to do and exit with status 1.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from vecbridge.core import (
    Collection,
    Embedder,
    Hit,
    Metric,
    Record,
    VecbridgeError,
    VectorStore,
    connect,
    load_embedder,
)
from vecbridge.core.cache import CachedEmbedder
from vecbridge.core.filters import parse_filter
from vecbridge.core.paths import vecbridge_home

from .embedding import default_embedder, resolve_embedder
from .sources import Chunk, read_sources

app = typer.Typer(
    name="vecbridge",
    help="Embed text and store, query and migrate vectors in Qdrant, Weaviate, Pinecone and pgvector.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


home = vecbridge_home


def default_store_url() -> str:
    return os.environ.get("VECBRIDGE_STORE") or f"qdrant+edge://{home() / 'qdrant'}"


StoreOpt = Annotated[
    str | None, typer.Option("--store", "-s", help="Store URL (default: $VECBRIDGE_STORE or embedded Qdrant Edge).")
]
CollectionOpt = Annotated[str, typer.Option("--collection", "-c", help="Collection name.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]


@contextmanager
def cli_errors() -> Iterator[None]:
    """Our errors become one red line and exit 1; Ctrl-C exits 130 with a hint."""
    try:
        yield
    except VecbridgeError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("interrupted: run the same command again to continue (writes are idempotent)")
        raise typer.Exit(130) from None


def _open(url: str | None) -> VectorStore:
    return connect(url or default_store_url())


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal and os.environ.get("VECBRIDGE_PROGRESS") != "1",
    )


def ingest_chunks(
    store: VectorStore,
    collection: str,
    chunks: list[Chunk],
    embedder: Embedder,
    *,
    metric: Metric = Metric.COSINE,
    batch_size: int = 100,
) -> int:
    """Embed and upsert chunks with a progress bar. Returns how many were written."""
    coll = Collection.open(store, collection, embedder=embedder, metric=metric)
    with _progress() as bar:
        task = bar.add_task(f"ingest {collection}", total=len(chunks), rate="")
        coll.add_texts(
            [c.text for c in chunks],
            ids=[c.id for c in chunks],
            metadatas=[c.metadata for c in chunks],
            batch_size=batch_size,
            progress=lambda n: bar.update(task, advance=n),
        )
    return len(chunks)


def _ingest_with_batch_api(
    store: VectorStore,
    collection: str,
    chunks: list[Chunk],
    gemini: Any,
    cached: CachedEmbedder | None,
    metric: Metric,
    poll_interval: float,
) -> int:
    """Embed every chunk through Gemini's Batch API (resumable: the job names are kept in
    $VECBRIDGE_HOME/batch-jobs), then write the records."""
    coll = Collection.open(store, collection, embedder=gemini, metric=metric)
    state = home() / "batch-jobs" / f"{collection}.json"

    def run(texts: list[str], **kw: Any) -> list[list[float]]:
        return list(
            gemini.embed_documents_batch_api(
                texts, state_path=state, poll_interval=poll_interval, progress=lambda p: err.print(str(p)), **kw
            )
        )

    texts = [c.text for c in chunks]
    vectors = cached.embed_documents_with(run, texts) if cached is not None else run(texts)
    records = [Record(c.id, v, c.text, c.metadata) for c, v in zip(chunks, vectors, strict=True)]
    return coll.add_records(records)


def _hits_table(title: str, hits: list[Hit]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("id")
    table.add_column("text", overflow="fold", max_width=70)
    table.add_column("metadata", overflow="fold", max_width=40)
    for i, h in enumerate(hits, 1):
        text = (h.text or "")[:200]
        table.add_row(str(i), f"{h.score:.4f}", h.id, text, json.dumps(h.metadata, ensure_ascii=False))
    return table


def _hit_dict(hit: Hit) -> dict[str, Any]:
    d = asdict(hit)
    if d.get("vector") is None:
        d.pop("vector", None)
    return d


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (.txt, .md, .jsonl with id/text/metadata).")],
    collection: CollectionOpt,
    store: StoreOpt = None,
    embedder: Annotated[
        str | None,
        typer.Option(help="Embedder name (hashing, gemini, sentence-transformers). Default: the collection's own."),
    ] = None,
    dimension: Annotated[int | None, typer.Option(help="Vector dimension for a new collection.")] = None,
    metric: Annotated[str, typer.Option(help="cosine, dot or euclidean (new collections).")] = "cosine",
    chunk_size: Annotated[int, typer.Option(help="Maximum characters per chunk.")] = 1000,
    chunk_overlap: Annotated[int, typer.Option(help="Characters shared by neighbouring chunks.")] = 200,
    batch_size: Annotated[int, typer.Option(help="Texts embedded and written per batch.")] = 100,
    cache: Annotated[
        bool, typer.Option(help="Reuse embeddings of unchanged text from $VECBRIDGE_HOME/cache (no API cost).")
    ] = True,
    batch_api: Annotated[
        bool, typer.Option("--batch-api", help="Gemini only: embed through the Batch API (half price, slower).")
    ] = False,
    poll_interval: Annotated[float, typer.Option(help="Seconds between Batch API status checks.")] = 30.0,
    as_json: JsonOpt = False,
) -> None:
    """Chunk, embed and store files. Running it again updates the same records (ids are
    ``path#chunk`` or the JSONL ``id``) and, with the cache, re-embeds only changed text, so an
    interrupted ingest is finished by re-running it."""
    with cli_errors():
        chunks = list(read_sources(paths, chunk_size=chunk_size, overlap=chunk_overlap))
        if not chunks:
            raise typer.BadParameter("no text found in the given paths")
        db = _open(store)
        cached: CachedEmbedder | None = None
        try:
            base, why = resolve_embedder(db, collection, embedder, dimension)
            if batch_api and not hasattr(base, "embed_documents_batch_api"):
                raise typer.BadParameter(f"--batch-api needs the gemini embedder, not {base.fingerprint.provider}")
            emb: Embedder = base
            if cache:
                cached = CachedEmbedder(base, home() / "cache" / "embeddings.sqlite")
                emb = cached
            if not as_json:
                err.print(f"embedder: {why}")
            if batch_api:
                n = _ingest_with_batch_api(db, collection, chunks, base, cached, Metric.parse(metric), poll_interval)
            else:
                n = ingest_chunks(db, collection, chunks, emb, metric=Metric.parse(metric), batch_size=batch_size)
            total = db.count(collection)
            if cached is not None and not as_json:
                stats = cached.stats()
                err.print(f"embedding cache: {stats.get('hits', 0)} reused, {stats.get('misses', 0)} computed")
        finally:
            if cached is not None:
                cached.close()
            db.close()
        if as_json:
            print(
                json.dumps(
                    {"collection": collection, "written": n, "count": total, "embedder": emb.fingerprint.to_dict()}
                )
            )
        else:
            out.print(f"wrote {n} chunks to {collection!r} ({total} records in the collection)")


@app.command()
def query(
    text: Annotated[str, typer.Argument(help="What to search for.")],
    collection: CollectionOpt,
    store: StoreOpt = None,
    k: Annotated[int, typer.Option("-k", help="Number of hits.")] = 5,
    filter: Annotated[
        str | None, typer.Option(help='Metadata filter as JSON, e.g. \'{"year": {"$gte": 2020}}\'.')
    ] = None,
    embedder: Annotated[str | None, typer.Option(help="Embedder name (default: the collection's own).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Search a collection with a text query."""
    with cli_errors():
        flt: Any = None
        if filter:
            try:
                flt = json.loads(filter)
            except json.JSONDecodeError as exc:
                raise typer.BadParameter(f"--filter is not valid JSON: {exc.msg}") from None
            parse_filter(flt)  # bad filters fail before anything is embedded
        db = _open(store)
        try:
            spec = db.describe_collection(collection)
            emb, _ = resolve_embedder(db, collection, embedder, spec.dimension)
            hits = Collection.open(db, collection, embedder=emb, create=False).search(text, k=k, filter=flt)
        finally:
            db.close()
        if as_json:
            print(json.dumps([_hit_dict(h) for h in hits], ensure_ascii=False))
        else:
            out.print(_hits_table(f"{len(hits)} hits for {text!r} in {collection}", hits))


@app.command()
def collections(
    store: Annotated[str | None, typer.Argument(help="Store URL (default: the embedded store).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List collections with dimension, metric, count and embedder fingerprint."""
    with cli_errors():
        db = _open(store)
        try:
            rows = []
            for name in db.list_collections():
                spec = db.describe_collection(name)
                rows.append({**spec.to_dict(), "count": db.count(name)})
        finally:
            db.close()
        if as_json:
            print(json.dumps(rows, ensure_ascii=False))
            return
        table = Table(title=f"collections in {store or default_store_url()}", title_justify="left")
        for col in ("name", "dimension", "metric", "count", "embedder"):
            table.add_column(col, justify="right" if col in ("dimension", "count") else "left")
        for r in rows:
            emb = r["embedder"]
            fp = (
                f"{emb['provider']}:{emb['model']}" + (f" ({emb['task']})" if emb and emb.get("task") else "")
                if emb
                else "-"
            )
            table.add_row(r["name"], str(r["dimension"]), r["metric"], str(r["count"]), fp)
        out.print(table)


@app.command()
def drop(
    collection: CollectionOpt,
    store: StoreOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a collection and all its records."""
    with cli_errors():
        if not yes:
            if not sys.stdin.isatty():
                raise typer.BadParameter("refusing to drop without --yes when not run interactively")
            typer.confirm(f"Drop collection {collection!r} and all its records?", abort=True)
        db = _open(store)
        try:
            dropped = db.drop_collection(collection)
        finally:
            db.close()
        out.print(f"dropped {collection!r}" if dropped else f"{collection!r} did not exist")


DEMO_QUERIES: list[tuple[str, dict[str, Any] | None]] = [
    ("how do vector databases filter search results", None),
    ("baking bread with sourdough", None),
    ("planets and telescopes", {"year": {"$gte": 2020}}),
]


@app.command()
def demo(
    store: StoreOpt = None,
    collection: CollectionOpt = "demo",
    as_json: JsonOpt = False,
) -> None:
    """Ingest the bundled sample corpus into an embedded store and run a few queries.

    Needs no server and no API key. Uses Gemini when GEMINI_API_KEY is set, else a local
    sentence-transformers model when installed, else the offline hashing embedder — and says which.
    """
    with cli_errors():
        url = store or f"qdrant+edge://{home() / 'demo'}"
        sample = resources.files("vecbridge.cli") / "data" / "sample.jsonl"
        with resources.as_file(sample) as path:
            chunks = list(read_sources([path]))
        emb, why = default_embedder()
        db = connect(url)
        try:
            db.drop_collection(collection)  # a fresh demo every time, whatever embedder ran last
            if not as_json:
                out.print(f"[bold]store[/bold]    {url}\n[bold]embedder[/bold] {why}")
            ingest_chunks(db, collection, chunks, emb)
            coll = Collection.open(db, collection, embedder=emb, create=False)
            results = [(q, f, coll.search(q, k=3, filter=f)) for q, f in DEMO_QUERIES]
            count = coll.count()
        finally:
            db.close()
        if as_json:
            print(
                json.dumps(
                    {
                        "store": url,
                        "embedder": emb.fingerprint.to_dict(),
                        "count": count,
                        "queries": [
                            {"query": q, "filter": f, "hits": [_hit_dict(h) for h in hits]} for q, f, hits in results
                        ],
                    },
                    ensure_ascii=False,
                )
            )
            return
        out.print(f"ingested {count} sample documents into {collection!r}\n")
        for q, f, hits in results:
            title = f"{q!r}" + (f" where {json.dumps(f)}" if f else "")
            out.print(_hits_table(title, hits))
        out.print(
            f"\nTry: vecbridge query \"your question\" --store '{url}' --collection {collection} "
            '--filter \'{"topic": "cooking"}\''
        )


def _rate_progress(total: int | None, description: str) -> tuple[Progress, Any]:
    bar = _progress()
    task = bar.add_task(description, total=total, rate="")
    return bar, task


@app.command()
def migrate(
    source: Annotated[str, typer.Argument(help="Source store URL.")],
    destination: Annotated[str, typer.Argument(help="Destination store URL.")],
    collection: CollectionOpt,
    to_collection: Annotated[str | None, typer.Option(help="Name in the destination (default: the same).")] = None,
    batch_size: Annotated[int, typer.Option(help="Records read and written per batch.")] = 500,
    checkpoint: Annotated[
        Path | None, typer.Option(help="Checkpoint file (default: one per migration under VECBRIDGE_HOME).")
    ] = None,
    restart: Annotated[bool, typer.Option(help="Ignore an existing checkpoint and copy from the start.")] = False,
    verify: Annotated[bool, typer.Option(help="Compare counts, every id and a sample afterwards.")] = True,
    sample: Annotated[int, typer.Option(help="Records compared in full by --verify.")] = 100,
    dimension: Annotated[
        int | None, typer.Option(help="Truncate Matryoshka vectors to this dimension and re-normalise.")
    ] = None,
    force_truncate: Annotated[bool, typer.Option(help="Truncate even if the model is not known to allow it.")] = False,
    re_embed: Annotated[bool, typer.Option("--re-embed", help="Recompute vectors from the stored text.")] = False,
    embedder: Annotated[str | None, typer.Option(help="Embedder for --re-embed.")] = None,
    check: Annotated[bool, typer.Option(help="Check every record against the destination's rules first.")] = True,
    dry_run: Annotated[bool, typer.Option(help="Show the plan and any problems; write nothing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Copy a collection between stores: streamed, resumable after a crash or Ctrl-C, verified."""
    from vecbridge.core.migration import migrate as run_migration

    with cli_errors():
        if re_embed and not embedder:
            raise typer.BadParameter("--re-embed needs --embedder NAME (and optionally --dimension)")
        src, dst = connect(source), connect(destination)
        try:
            re_embedder = None
            if re_embed:
                options: dict[str, Any] = {"dimension": dimension} if dimension else {}
                re_embedder = load_embedder(embedder or "", **options)
            bar, task = _rate_progress(None, f"migrate {collection}")
            with bar:
                report = run_migration(
                    src,
                    dst,
                    collection,
                    to_collection=to_collection,
                    batch_size=batch_size,
                    checkpoint=checkpoint,
                    resume=not restart,
                    verify=verify,
                    sample_size=sample,
                    dimension=None if re_embed else dimension,
                    force_truncate=force_truncate,
                    re_embedder=re_embedder,
                    check_records=check,
                    dry_run=dry_run,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                    source_name=source,
                    destination_name=destination,
                )
        finally:
            src.close()
            dst.close()
        plan = report.plan
        if as_json:
            print(
                json.dumps(
                    {
                        "source": plan.source.to_dict(),
                        "destination": plan.destination.to_dict(),
                        "records": plan.records,
                        "destination_exists": plan.destination_exists,
                        "problems": plan.problems,
                        "dry_run": report.dry_run,
                        "written": report.written,
                        "resumed_from": report.resumed_from,
                        "verification": None
                        if report.verification is None
                        else {
                            "ok": report.verification.ok,
                            "summary": report.verification.summary(),
                            "missing_ids": report.verification.missing_ids[:100],
                            "changed": dict(list(report.verification.changed.items())[:100]),
                        },
                        "ok": report.ok,
                    },
                    ensure_ascii=False,
                )
            )
        elif report.dry_run:
            out.print(
                f"plan: {plan.records} records of {plan.source.name!r} ({plan.source.dimension}-d, "
                f"{plan.source.metric.value}) -> {plan.destination.name!r} ({plan.destination.dimension}-d) "
                f"in {destination} ({'exists' if plan.destination_exists else 'will be created'})"
            )
            for p in plan.problems[:50]:
                out.print(f"  [yellow]cannot carry[/yellow] {p}")
            out.print("no problems found" if not plan.problems else f"{len(plan.problems)} problem(s)")
        else:
            resumed = f" (resumed after {report.resumed_from})" if report.resumed_from else ""
            out.print(f"copied {report.written} records{resumed} to {plan.destination.name!r}")
            if report.verification is not None:
                out.print(report.verification.summary(), highlight=False)
        if not report.ok:
            raise typer.Exit(1)


@app.command("export")
def export_cmd(
    store: Annotated[str, typer.Argument(help="Store URL.")],
    collection: CollectionOpt,
    file: Annotated[Path, typer.Argument(help="Parquet file to write.")],
) -> None:
    """Write a collection to a Parquet file (ids, vectors, text, metadata, spec)."""
    from vecbridge.core.parquet import export_parquet

    with cli_errors():
        db = connect(store)
        try:
            total = db.count(collection)
            bar, task = _rate_progress(total, f"export {collection}")
            with bar:
                n = export_parquet(db, collection, file, progress=lambda k: bar.update(task, advance=k))
        finally:
            db.close()
        out.print(f"exported {n} records of {collection!r} to {file}")


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="Parquet file written by 'vecbridge export'.")],
    store: Annotated[str, typer.Argument(help="Store URL.")],
    collection: Annotated[str | None, typer.Option("--collection", "-c", help="Name (default: as exported).")] = None,
) -> None:
    """Load a Parquet export into a store (creating the collection from the file's spec)."""
    from vecbridge.core.parquet import import_parquet, read_parquet_spec

    with cli_errors():
        spec = read_parquet_spec(file)
        db = connect(store)
        try:
            bar, task = _rate_progress(None, f"import {collection or spec.name}")
            with bar:
                spec, n = import_parquet(
                    file, db, collection=collection, progress=lambda k: bar.update(task, advance=k)
                )
        finally:
            db.close()
        out.print(f"imported {n} records into {spec.name!r}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
