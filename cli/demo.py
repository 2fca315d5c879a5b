"""``vecbridge demo``: the bundled sample corpus into an embedded store, then a few queries."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from vecbridge.core import Collection
from vecbridge.core.paths import vecbridge_home
from vecbridge.core.urls import redact_url

from .embedding import default_embedder
from .ingest import ingest_chunks
from .options import CollectionOpt, JsonOpt, StoreOpt, open_store
from .output import hits_table, literal, out, print_json, say
from .query import hit_dict
from .sources import read_sources

__all__ = ["demo"]

DEMO_QUERIES: list[tuple[str, dict[str, Any] | None]] = [
    ("how do vector databases filter search results", None),
    ("baking bread with sourdough", None),
    ("planets and telescopes", {"year": {"$gte": 2020}}),
]


def demo_store_url() -> str:
    """The demo's own embedded store: never $VECBRIDGE_STORE, since the demo drops its collection."""
    return f"qdrant+edge://{vecbridge_home() / 'demo'}"


def demo(store: StoreOpt = None, collection: CollectionOpt = "demo", as_json: JsonOpt = False) -> None:
    """Ingest the bundled sample corpus into an embedded store and run a few queries.

    Needs no server and no API key. Uses Gemini when GEMINI_API_KEY is set, else a local
    sentence-transformers model when installed, else the offline hashing embedder — and says which.
    """
    url = store or demo_store_url()
    shown = redact_url(url)
    sample = resources.files("vecbridge.cli") / "data" / "sample.jsonl"
    with resources.as_file(sample) as path:
        chunks = list(read_sources([path]))
    db = open_store(url)  # before the embedder, which may take seconds to load: fail fast
    try:
        emb, why = default_embedder()
        db.drop_collection(collection)  # a fresh demo every time, whatever embedder ran last
        if not as_json:
            say(f"store    {literal(shown)}\nembedder {literal(why)}")
        ingest_chunks(db, collection, chunks, emb)
        coll = Collection.open(db, collection, embedder=emb, create=False)
        results = [(q, f, coll.search(q, k=3, filter=f)) for q, f in DEMO_QUERIES]
        count = coll.count()
    finally:
        db.close()
    if as_json:
        queries = [{"query": q, "filter": f, "hits": [hit_dict(h) for h in hits]} for q, f, hits in results]
        print_json({"store": shown, "embedder": emb.fingerprint.to_dict(), "count": count, "queries": queries})
        return
    say(f"ingested {count} sample documents into {collection!r}\n")
    for q, f, hits in results:
        out.print(hits_table(f"{q!r}" + (f" where {json.dumps(f)}" if f else ""), hits))
    say(
        f"\nTry: vecbridge query \"your question\" --store '{literal(shown)}' --collection {collection} "
        '--filter \'{"topic": "cooking"}\''
    )
