"""``vecbridge migrate``, ``export`` and ``import``: move a collection between stores or files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vecbridge.core import Embedder, connect, load_embedder
from vecbridge.core.driver import ADOPT_PRESETS, Adoption
from vecbridge.core.migration import MigrationReport
from vecbridge.core.urls import redact_url

from .options import (
    AddressOpt,
    CollectionOpt,
    EngineOpt,
    JsonOpt,
    OptionalCollectionOpt,
    StoreOpt,
    WorkersOpt,
    check_file_target,
    check_store_url,
    engine_options,
    known_embedder,
    open_store,
)
from .output import literal, print_json, progress, progress_task, say

if TYPE_CHECKING:  # imported only for --engine ray: Ray is an extra
    from vecbridge.integrations.ray.cli import Engine

__all__ = ["export_cmd", "import_cmd", "migrate"]


def _report_dict(report: MigrationReport) -> dict[str, Any]:
    plan, verification = report.plan, report.verification
    return {
        "source": plan.source.to_dict(),
        "destination": plan.destination.to_dict(),
        "records": plan.records,
        "destination_exists": plan.destination_exists,
        "problems": plan.problems,
        "dry_run": report.dry_run,
        "written": report.written,
        "resumed_from": report.resumed_from,
        "skipped": dict(list(report.skipped.items())[:100]),
        "verification": None
        if verification is None
        else {
            "ok": verification.ok,
            "summary": verification.summary(),
            "missing_ids": verification.missing_ids[:100],
            "changed": dict(list(verification.changed.items())[:100]),
        },
        "ok": report.ok,
    }


def _print_report(report: MigrationReport, destination: str) -> None:
    plan = report.plan
    if report.dry_run:
        say(
            f"plan: {plan.records} records of {plan.source.name!r} ({plan.source.dimension}-d, "
            f"{plan.source.metric.value}) -> {plan.destination.name!r} ({plan.destination.dimension}-d) "
            f"in {literal(redact_url(destination))} ({'exists' if plan.destination_exists else 'will be created'})"
        )
        for problem in plan.problems[:50]:
            say(f"  cannot carry {literal(problem)}")
        say("no problems found" if not plan.problems else f"{len(plan.problems)} problem(s)")
        return
    resumed = f" (resumed after {report.resumed_from})" if report.resumed_from else ""
    say(f"copied {report.written} records{resumed} to {plan.destination.name!r}")
    if report.skipped:
        say(f"skipped {len(report.skipped)} record(s) the destination cannot keep:")
        for rid, why in list(report.skipped.items())[:50]:
            say(f"  {literal(rid)}: {literal(why)}")
    if report.verification is not None:
        say(literal(report.verification.summary()))


def _adoption(
    preset: str | None,
    native: str | None,
    group: str | None,
    id_field: str | None,
    vector_field: str | None,
    text_field: str | None,
    metadata_field: str | None,
    metadata_fields: str | None,
) -> Adoption | None:
    """The ``--adopt`` options as an ``Adoption`` (None when the source is vecbridge's own)."""
    fields = (native, group, id_field, vector_field, text_field, metadata_field, metadata_fields)
    if preset is None:
        if any(f is not None for f in fields):
            raise typer.BadParameter("the --native/--group/--*-field options go with --adopt", param_hint="'--adopt'")
        return None
    if preset != "custom" and preset not in ADOPT_PRESETS:
        raise typer.BadParameter(
            f"unknown layout {preset!r}: use one of {', '.join(ADOPT_PRESETS)} or 'custom'", param_hint="'--adopt'"
        )
    return Adoption(
        native=native,
        preset=None if preset == "custom" else preset,
        id=id_field,
        vector=vector_field,
        text=text_field,
        metadata=metadata_field,
        metadata_fields=tuple(f.strip() for f in (metadata_fields or "").split(",") if f.strip()),
        group=group,
    )


def migrate(
    source: Annotated[str, typer.Argument(help="Source store URL.")],
    destination: Annotated[str, typer.Argument(help="Destination store URL.")],
    collection: CollectionOpt,
    to_collection: Annotated[str | None, typer.Option(help="Name in the destination (default: the same).")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Records read and written per batch.")] = 500,
    checkpoint: Annotated[
        Path | None, typer.Option(help="Checkpoint file (default: one per migration under VECBRIDGE_HOME).")
    ] = None,
    restart: Annotated[bool, typer.Option(help="Ignore an existing checkpoint and copy from the start.")] = False,
    verify: Annotated[bool, typer.Option(help="Compare counts, every id and a sample afterwards.")] = True,
    sample: Annotated[int, typer.Option(min=0, help="Records compared in full by --verify.")] = 100,
    dimension: Annotated[
        int | None, typer.Option(min=1, help="Truncate Matryoshka vectors to this dimension and re-normalise.")
    ] = None,
    force_truncate: Annotated[bool, typer.Option(help="Truncate even if the model is not known to allow it.")] = False,
    re_embed: Annotated[bool, typer.Option("--re-embed", help="Recompute vectors from the stored text.")] = False,
    embedder: Annotated[str | None, typer.Option(help="Embedder for --re-embed.", callback=known_embedder)] = None,
    hybrid: Annotated[
        bool | None, typer.Option("--hybrid/--no-hybrid", help="Create the destination with a keyword index.")
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Copy the rest when records cannot be kept; list them in the report."),
    ] = False,
    tenant: Annotated[str | None, typer.Option(help="Copy one tenant of a multi-tenant collection.")] = None,
    wait: Annotated[
        float, typer.Option(min=0, help="Seconds to wait for an eventually consistent destination before verifying.")
    ] = 120.0,
    adopt: Annotated[
        str | None,
        typer.Option(
            help="The source was made by another tool: langchain, langchain-pgvectorstore, llamaindex, haystack, "
            "or custom (name the fields below). Read-only."
        ),
    ] = None,
    native: Annotated[str | None, typer.Option(help="--adopt: the source's own table/collection name.")] = None,
    group: Annotated[str | None, typer.Option(help="--adopt langchain: the LangChain collection name.")] = None,
    id_field: Annotated[str | None, typer.Option(help="--adopt custom: the id column/field.")] = None,
    vector_field: Annotated[str | None, typer.Option(help="--adopt: vector column, or Qdrant named vector.")] = None,
    text_field: Annotated[str | None, typer.Option(help="--adopt: the text column/field.")] = None,
    metadata_field: Annotated[str | None, typer.Option(help="--adopt custom: a JSON metadata column/field.")] = None,
    metadata_fields: Annotated[
        str | None, typer.Option(help="--adopt custom: columns gathered into metadata, comma-separated.")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Show the plan and any problems; write nothing.")] = False,
    engine: EngineOpt = None,
    address: AddressOpt = None,
    workers: WorkersOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Copy a collection between stores: the source read once, resumable after a crash or Ctrl-C
    (also during verification), verified."""
    if re_embed and not embedder:
        raise typer.BadParameter(
            "--re-embed needs --embedder NAME (and optionally --dimension)", param_hint="'--embedder'"
        )
    if checkpoint is not None:
        check_file_target(checkpoint, "'--checkpoint'", example="migration.ckpt", folder_must_exist=False)
    adoption = _adoption(adopt, native, group, id_field, vector_field, text_field, metadata_field, metadata_fields)
    ray_engine = engine_options(engine, address, workers)
    options: dict[str, Any] = {
        "to_collection": to_collection,
        "batch_size": batch_size,
        "checkpoint": checkpoint,
        "resume": not restart,
        "verify": verify,
        "sample_size": sample,
        "dimension": None if re_embed else dimension,
        "force_truncate": force_truncate,
        "hybrid": hybrid,
        "skip_invalid": skip_invalid,
        "tenant": tenant,
        "wait_timeout": wait,
        "dry_run": dry_run,
    }
    options["re_embedder"] = _re_embedder(re_embed, embedder, dimension)
    if ray_engine is not None:
        report = _migrate_on_ray(source, destination, collection, adoption, options, ray_engine, as_json)
    else:
        report = _migrate_here(source, destination, collection, adoption, options, as_json)
    if as_json:
        print_json(_report_dict(report))
    else:
        _print_report(report, destination)
    if not report.ok:
        raise typer.Exit(1)


def _re_embedder(re_embed: bool, embedder: str | None, dimension: int | None) -> Embedder | None:
    if not re_embed:
        return None
    options: dict[str, Any] = {"dimension": dimension} if dimension else {}
    return load_embedder(embedder or "", **options)


def _with_progress(collection: str, as_json: bool, run: Callable[..., MigrationReport]) -> MigrationReport:
    """``run(progress=..., status=...)`` with the migration's progress bar (phases on stderr when
    there is no bar)."""
    with progress() as bar:
        task = progress_task(bar, f"migrate {collection}", None)

        def status(text: str) -> None:
            bar.update(task, description=text)
            if bar.disable and not as_json:
                say(literal(text), stderr=True)

        return run(progress=lambda done, total: bar.update(task, completed=done, total=total), status=status)


def _migrate_here(
    source: str, destination: str, collection: str, adoption: Adoption | None, options: dict[str, Any], as_json: bool
) -> MigrationReport:
    """The migration in this process."""
    from vecbridge.core.migration import migrate as run_migration

    src = open_store(source, option="SOURCE")
    try:
        dst = open_store(destination, option="DESTINATION")
    except BaseException:
        src.close()
        raise
    try:
        if adoption is not None:
            src.adopt(collection, adoption)
        names: dict[str, Any] = {"source_name": redact_url(source), "destination_name": redact_url(destination)}
        return _with_progress(
            collection, as_json, lambda **more: run_migration(src, dst, collection, **options, **names, **more)
        )
    finally:
        src.close()
        dst.close()


def _migrate_on_ray(
    source: str,
    destination: str,
    collection: str,
    adoption: Adoption | None,
    options: dict[str, Any],
    engine: Engine,
    as_json: bool,
) -> MigrationReport:
    """``--engine ray``: the job opens both stores itself, by URL (in the workers too), so none is
    held open here."""
    from vecbridge.integrations.ray.cli import migrate_command

    src = check_store_url(source, option="SOURCE")
    dst = check_store_url(destination, option="DESTINATION")
    return _with_progress(
        collection,
        as_json,
        lambda **more: migrate_command(src, dst, collection, engine=engine, adoption=adoption, **options, **more),
    )


def export_cmd(
    file: Annotated[Path, typer.Argument(help="Parquet file to write (its folder must exist).")],
    collection: CollectionOpt,
    store: StoreOpt = None,
    engine: EngineOpt = None,
    address: AddressOpt = None,
    workers: WorkersOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a collection to a Parquet file (ids, vectors, text, metadata, spec)."""
    from vecbridge.core.parquet import export_parquet

    check_file_target(file, "'FILE'", example=f"{collection}.parquet")
    ray_engine = engine_options(engine, address, workers)
    if ray_engine is not None:
        _exported(collection, file, _export_on_ray(store, collection, file, ray_engine), as_json=as_json)
        return
    db = open_store(store)
    try:
        total = db.count(collection)
        with progress() as bar:
            task = progress_task(bar, f"export {collection}", total)
            n = export_parquet(db, collection, file, progress=lambda k: bar.update(task, advance=k))
    finally:
        db.close()
    _exported(collection, file, n, as_json=as_json)


def _export_on_ray(store: str | None, collection: str, file: Path, engine: Engine) -> int:
    from vecbridge.integrations.ray.cli import export_command

    url = check_store_url(store)
    with connect(url) as db:  # closed before the job, which opens the store itself
        total = db.count(collection)
    with progress() as bar:
        task = progress_task(bar, f"export {collection}", total)
        return export_command(url, collection, file, engine=engine, progress=lambda k: bar.update(task, advance=k))


def _exported(collection: str, file: Path, n: int, *, as_json: bool) -> None:
    if as_json:
        print_json({"collection": collection, "file": str(file), "records": n})
    else:
        say(f"exported {n} records of {collection!r} to {literal(str(file))}")


def import_cmd(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Parquet file written by 'vecbridge export'.")
    ],
    store: StoreOpt = None,
    collection: OptionalCollectionOpt = None,
    engine: EngineOpt = None,
    address: AddressOpt = None,
    workers: WorkersOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Load a Parquet export into a store (creating the collection from the file's spec)."""
    from vecbridge.core.parquet import import_parquet, read_parquet_spec

    ray_engine = engine_options(engine, address, workers)
    spec = read_parquet_spec(file)
    if ray_engine is not None:
        from vecbridge.integrations.ray.cli import import_command

        # Every row is checked before the first write; the job opens the store itself.
        spec, n = import_command(file, check_store_url(store), engine=ray_engine, collection=collection)
        _imported(file, spec.name, n, as_json=as_json)
        return
    db = open_store(store)
    try:
        with progress() as bar:
            task = progress_task(bar, f"import {collection or spec.name}", None)
            spec, n = import_parquet(file, db, collection=collection, progress=lambda k: bar.update(task, advance=k))
    finally:
        db.close()
    _imported(file, spec.name, n, as_json=as_json)


def _imported(file: Path, collection: str, n: int, *, as_json: bool) -> None:
    if as_json:
        print_json({"collection": collection, "file": str(file), "records": n})
    else:
        say(f"imported {n} records into {collection!r}")
