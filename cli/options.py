"""Options shared by the commands, and the checks that turn a bad value into a usage error
(exit status 2) before anything is opened, embedded or written."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from vecbridge.core import Metric, Store, available_embedders, connect
from vecbridge.core.errors import InvalidFilter, InvalidInput
from vecbridge.core.filters import parse_filter
from vecbridge.core.limits import MAX_K
from vecbridge.core.models import MAX_DIMENSION, validate_collection_name
from vecbridge.core.paths import private_dir, vecbridge_home
from vecbridge.core.urls import parse_store_url, redact_url

from .jsontext import JsonProblem, load_json

if TYPE_CHECKING:  # imported only for --engine ray: Ray is an extra
    from vecbridge.integrations.ray.cli import Engine

__all__ = [
    "AddressOpt",
    "CollectionOpt",
    "DimensionOpt",
    "EngineOpt",
    "JsonOpt",
    "OptionalCollectionOpt",
    "StoreOpt",
    "WorkersOpt",
    "check_file_target",
    "check_store_url",
    "default_store_url",
    "engine_options",
    "known_embedder",
    "open_store",
    "parse_filter_option",
]

T = TypeVar("T")


def _core_check(check: Callable[[T], Any]) -> Callable[[T | None], T | None]:
    """A typer callback running one of core's validators: its InvalidInput becomes a usage error."""

    def callback(value: T | None) -> T | None:
        if value is not None:
            try:
                check(value)
            except InvalidInput as exc:
                raise typer.BadParameter(str(exc)) from None
        return value

    return callback


def _known_embedder(name: str) -> None:
    if name.lower() not in available_embedders():
        raise InvalidInput(f"no embedder named {name!r}; known: {', '.join(available_embedders())}")


StoreOpt = Annotated[
    str | None,
    typer.Option("--store", "-s", help="Store URL (default: $VECBRIDGE_STORE, else the embedded Qdrant Edge store)."),
]
CollectionOpt = Annotated[
    str, typer.Option("--collection", "-c", help="Collection name.", callback=_core_check(validate_collection_name))
]
OptionalCollectionOpt = Annotated[
    str | None,
    typer.Option(
        "--collection",
        "-c",
        help="Collection name (default: as exported).",
        callback=_core_check(validate_collection_name),
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts (errors too) instead of tables.")]
known_embedder = _core_check(_known_embedder)
EmbedderOpt = Annotated[
    str | None,
    typer.Option(
        help="Embedder name (hashing, gemini, sentence-transformers). Default: the collection's own.",
        callback=known_embedder,
    ),
]
DimensionOpt = Annotated[
    int | None, typer.Option(min=1, max=MAX_DIMENSION, help="Vector dimension of the embedder (new collections).")
]
MetricOpt = Annotated[
    str, typer.Option(help="cosine, dot or euclidean (new collections).", callback=_core_check(Metric.parse))
]
BatchSizeOpt = Annotated[int, typer.Option(min=1, help="Records embedded and written per batch.")]
KOpt = Annotated[int, typer.Option("-k", min=1, max=MAX_K, help="Number of hits.")]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        help="Run the job on a cluster engine: 'ray' (Ray Data, see docs/scale-out.md). Default: this process."
    ),
]
AddressOpt = Annotated[
    str | None,
    typer.Option(
        help="--engine ray: the cluster, 'auto' (the one this machine belongs to), 'ray://HOST:10001' or "
        "'HOST:6379'. Default: a Ray instance started on this machine for the command."
    ),
]
WorkersOpt = Annotated[
    int | None, typer.Option(min=1, help="--engine ray: parallel workers (default: one per CPU of the cluster).")
]


def default_store_url() -> str:
    return os.environ.get("VECBRIDGE_STORE") or f"qdrant+edge://{vecbridge_home() / 'qdrant'}"


# Schemes whose URL names a folder on this machine (an embedded store), by their "+variant".
_EMBEDDED_VARIANTS = {"edge", "local", "embedded"}


def _embedded_folder(url: str) -> Path | None:
    parsed = parse_store_url(url)
    if parsed.variant not in _EMBEDDED_VARIANTS or parsed.path == ":memory:":
        return None
    # qdrant+edge://./db and qdrant+edge:///abs/db: the host part, if any, starts a relative path.
    raw = (parsed.host or "") + parsed.path if parsed.host not in (None, "localhost") else parsed.path
    return Path(raw).expanduser() if raw else None


def check_store_url(url: str | None, *, option: str = "--store") -> str:
    """``url`` (default: :func:`default_store_url`), checked as :func:`open_store` checks it,
    without connecting: for jobs that open the store elsewhere (``--engine``)."""
    target = url or default_store_url()
    try:
        folder = _embedded_folder(target)
    except InvalidInput as exc:
        raise typer.BadParameter(str(exc), param_hint=f"'{option}'") from None
    if folder is not None and folder.exists() and not folder.is_dir():
        raise typer.BadParameter(
            f"{redact_url(target)} names the file {folder}, but an embedded store is a folder: "
            "pass the path of a new or existing store folder",
            param_hint=f"'{option}'",
        )
    if folder is not None and Path(os.path.abspath(vecbridge_home())) in Path(os.path.abspath(folder)).parents:
        private_dir(folder)  # a store folder vecbridge creates under its home is private (0700)
    return target


def open_store(url: str | None, *, option: str = "--store") -> Store:
    """Connect to ``url`` (default: :func:`default_store_url`). A URL naming a file where an
    embedded store's folder belongs is a usage error; a store folder under VECBRIDGE_HOME is
    created private."""
    return connect(check_store_url(url, option=option))


def engine_options(engine: str | None, address: str | None, workers: int | None) -> Engine | None:
    """``--engine``, ``--address`` and ``--workers`` checked together: None runs the command in
    this process (Ray is never imported); ``--engine ray`` gives the Ray engine's settings
    (``vecbridge.integrations.ray.cli.Engine``; ``MissingExtra`` without the ``ray`` extra)."""
    if engine is None:
        given = [name for name, value in (("--address", address), ("--workers", workers)) if value is not None]
        if given:
            raise typer.BadParameter(
                f"{' and '.join(given)} {'go' if len(given) > 1 else 'goes'} with --engine ray: add '--engine ray', "
                f"or leave {'them' if len(given) > 1 else 'it'} out to run in this process",
                param_hint="'--engine'",
            )
        return None
    if engine != "ray":
        raise typer.BadParameter(
            f"unknown engine {engine!r}: use 'ray', or leave --engine out to run in this process",
            param_hint="'--engine'",
        )
    from vecbridge.integrations.ray.cli import Engine as RayEngine

    try:
        return RayEngine(address, workers)
    except InvalidInput as exc:
        raise typer.BadParameter(str(exc), param_hint="'--address'") from None


def parse_filter_option(raw: str | None) -> dict[str, Any] | None:
    """``--filter``: a JSON object in vecbridge's filter language, checked before anything runs."""
    if raw is None:
        return None
    try:
        value = load_json(raw)
    except JsonProblem as exc:
        raise typer.BadParameter(
            f'{exc}; write it as a JSON object, e.g. \'{{"lang": "en"}}\'', param_hint="'--filter'"
        ) from None
    if not isinstance(value, dict):
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise typer.BadParameter(
            f'must be a JSON object such as \'{{"lang": "en"}}\', got {shown}', param_hint="'--filter'"
        )
    try:
        parse_filter(value)
    except InvalidFilter as exc:
        raise typer.BadParameter(str(exc), param_hint="'--filter'") from None
    return value


def check_file_target(path: Path, option: str, *, example: str, folder_must_exist: bool = True) -> None:
    """A file the command will write: not a folder, and (unless the writer creates it) in an
    existing folder."""
    if path.is_dir():
        raise typer.BadParameter(f"{path} is a folder: pass a file path such as {path / example}", param_hint=option)
    if folder_must_exist and not path.parent.is_dir():
        raise typer.BadParameter(f"the folder {path.parent} does not exist: create it first", param_hint=option)
