"""``vecbridge collections`` and ``vecbridge drop``."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from vecbridge.core.errors import UnsupportedFeature
from vecbridge.core.urls import redact_url

from .options import CollectionOpt, JsonOpt, StoreOpt, default_store_url, open_store
from .output import literal, out, print_json, say, table

__all__ = ["collections", "drop"]


def _embedder_label(fingerprint: dict[str, Any] | None) -> str:
    if not fingerprint:
        return "-"
    task = f" ({fingerprint['task']})" if fingerprint.get("task") else ""
    return f"{fingerprint['provider']}:{fingerprint['model']}{task}"


def collections(store: StoreOpt = None, as_json: JsonOpt = False) -> None:
    """List collections with dimension, metric, count and embedder fingerprint."""
    db = open_store(store)
    try:
        rows: list[dict[str, Any]] = []
        for name in db.list_collections():
            try:
                spec = db.describe_collection(name)
            except UnsupportedFeature as exc:
                # Made by another tool: listed, with how to read it, rather than hidden or fatal.
                rows.append({"name": name, "foreign": True, "note": str(exc)})
                continue
            rows.append({**spec.to_dict(), "count": db.count(name)})
    finally:
        db.close()
    if as_json:
        print_json(rows)
        return
    cells = [
        [r["name"], "-", "-", "-", "made by another tool: see `vecbridge migrate --adopt`"]
        if r.get("foreign")
        else [r["name"], str(r["dimension"]), r["metric"], str(r["count"]), _embedder_label(r["embedder"])]
        for r in rows
    ]
    # The store on a line of its own: a table title would wrap a long URL to the table's width.
    say(f"collections in {literal(redact_url(store or default_store_url()))}")
    out.print(table(None, ["name", "dimension", "metric", "count", "embedder"], cells, right=("dimension", "count")))


def drop(
    collection: CollectionOpt,
    store: StoreOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete a collection and all its records."""
    if not yes:
        if as_json or not sys.stdin.isatty():
            raise typer.BadParameter(
                f"pass --yes to drop {collection!r}: there is no one to confirm it here", param_hint="'--yes'"
            )
        typer.confirm(f"Drop collection {collection!r} and all its records?", abort=True)
    db = open_store(store)
    try:
        dropped = db.drop_collection(collection)
    finally:
        db.close()
    if as_json:
        print_json({"collection": collection, "dropped": dropped})
    else:
        say(f"dropped {collection!r}" if dropped else f"{collection!r} did not exist")
