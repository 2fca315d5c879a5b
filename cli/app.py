"""``vecbridge``: ingest, query and manage collections on any store from the shell.

Every command takes ``--store URL`` (default: ``$VECBRIDGE_STORE``, else an embedded Qdrant Edge
store under ``$VECBRIDGE_HOME``, default ``~/.vecbridge``; ``migrate`` takes its two stores as
arguments) and ``--json``, which prints one JSON document on stdout for scripts.

Errors (see ``errors.py``): one line on stderr, ``error: <what went wrong and what to do>``,
printed literally; with ``--json`` instead one JSON object on stdout,
``{"error": {"type": "<error class>", "message": "...", "exit_code": N}}``. Exit status 0 on
success, 2 when the command line is wrong (a missing argument, an unknown option, a value out of
range or malformed, such as ``-k 0`` or ``--filter null``), 1 for every other failure, 130 after
Ctrl-C. No traceback is printed unless ``VECBRIDGE_DEBUG=1``. Store passwords and API keys never
appear in the output: URLs are shown redacted.

Files vecbridge creates under ``$VECBRIDGE_HOME`` (the default store, the embedding cache, batch-job
state, migration checkpoints) are private: folders 0700, files 0600.
"""

from __future__ import annotations

import typer

from .demo import demo
from .errors import VecbridgeGroup
from .ingest import ingest
from .manage import collections, drop
from .query import query
from .transfer import export_cmd, import_cmd, migrate

__all__ = ["app", "main"]

app = typer.Typer(
    name="vecbridge",
    cls=VecbridgeGroup,
    help="Embed text and store, query and migrate vectors in Qdrant, Weaviate, Pinecone and pgvector.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(ingest)
app.command()(query)
app.command()(collections)
app.command()(drop)
app.command()(demo)
app.command()(migrate)
app.command("export")(export_cmd)
app.command("import")(import_cmd)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
