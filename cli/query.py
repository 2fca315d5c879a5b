"""``vecbridge query``: search a collection with a text."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer

from vecbridge.core import Collection, Hit

from .embedding import resolve_embedder
from .options import CollectionOpt, EmbedderOpt, JsonOpt, KOpt, StoreOpt, open_store, parse_filter_option
from .output import hits_table, out, print_json

__all__ = ["hit_dict", "query"]


def hit_dict(hit: Hit) -> dict[str, Any]:
    d = asdict(hit)
    if d.get("vector") is None:
        d.pop("vector", None)
    return d


def query(
    text: Annotated[str, typer.Argument(help="What to search for.")],
    collection: CollectionOpt,
    store: StoreOpt = None,
    k: KOpt = 5,
    filter: Annotated[
        str | None, typer.Option(help='Metadata filter, a JSON object, e.g. \'{"year": {"$gte": 2020}}\'.')
    ] = None,
    embedder: EmbedderOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Search a collection with a text query."""
    if not text.strip():
        raise typer.BadParameter("the query is empty: say what to search for", param_hint="'TEXT'")
    flt = parse_filter_option(filter)  # a bad filter fails before anything is opened or embedded
    db = open_store(store)
    try:
        spec = db.describe_collection(collection)
        emb, _ = resolve_embedder(db, collection, embedder, spec.dimension)
        hits = Collection.open(db, collection, embedder=emb, create=False).search(text, k=k, filter=flt)
    finally:
        db.close()
    if as_json:
        print_json([hit_dict(h) for h in hits])
    else:
        out.print(hits_table(f"{len(hits)} hits for {text!r} in {collection}", hits))
