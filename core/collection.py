"""``Collection`` / ``AsyncCollection``: a store, one of its collections and an embedder.

What most users touch. Like the stores, both run the same policy generators (``CollectionSteps``)
and differ only in how they perform a step: the sync form calls, the async form awaits (embedders'
``aembed_*`` forms included).

Units. ``add_texts`` and ``add_records`` write in units of ``batch_size`` records. Before the first
write of a unit every record of it is validated and (``add_texts``) embedded. When the input is a
sequence (a list, a tuple) every text, id and metadata of the *whole* input is checked before the
first unit is embedded, so bad input writes nothing; a stream (a generator) is checked unit by
unit and memory stays bounded by one unit. Any failure raises with exact accounting: the ids
written, failed and not attempted (``UpsertFailed``), or the cause alone when nothing was written.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from .async_store import AsyncStore, arun_steps
from .batching import batched
from .driver import Batch, SearchMode
from .embedders import Embedder
from .errors import (
    CollectionNotFound,
    DimensionMismatch,
    EmbedderMismatch,
    EmbeddingFailed,
    InvalidInput,
)
from .filters import FilterNode
from .models import CollectionSpec, Hit, Metric, Record, Vector
from .policy import Embed, Steps, StorePolicy, UpsertAccount
from .store import Store, run_steps
from .validation import check_record_fields

__all__ = ["AsyncCollection", "Collection", "CollectionSteps", "text_id"]

Filter = Mapping[str, Any] | FilterNode | None
Progress = Callable[[int], None] | None


def text_id(text: str) -> str:
    """Default id of a text added without one: a content hash, so re-adding it overwrites."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class CollectionSteps:
    """The collection operations as policy generators, shared by both forms."""

    def __init__(self, policy: StorePolicy) -> None:
        self.policy = policy

    def open(
        self,
        name: str,
        embedder: Embedder | None,
        dimension: int | None,
        metric: Metric | str,
        create: bool,
        hybrid: bool,
        multi_tenant: bool,
    ) -> Steps[CollectionSpec]:
        spec = yield from self.policy.spec_or_none(name, fresh=True)
        if spec is not None:
            if embedder is not None:
                if embedder.dimension != spec.dimension:
                    raise DimensionMismatch(
                        f"collection {name!r} holds {spec.dimension}-d vectors but {embedder!r} makes "
                        f"{embedder.dimension}-d ones: use dimension={spec.dimension} or another collection"
                    )
                if spec.embedder and not spec.embedder.compatible_with(embedder.fingerprint):
                    raise EmbedderMismatch(
                        f"collection {name!r} was built with {spec.embedder.describe()}, not "
                        f"{embedder.fingerprint.describe()}: use the same embedder or another collection"
                    )
            if dimension is not None and dimension != spec.dimension:
                raise DimensionMismatch(f"collection {name!r} has dimension {spec.dimension}, not {dimension}")
            if hybrid and not spec.hybrid:
                from .policy import check_compatible

                check_compatible(
                    spec, CollectionSpec(name, spec.dimension, spec.metric, hybrid=True, multi_tenant=spec.multi_tenant)
                )
            return spec
        if not create:
            raise CollectionNotFound(f"collection {name!r} does not exist: pass create=True to create it")
        if embedder is None and dimension is None:
            raise InvalidInput("creating a collection needs an embedder or a dimension")
        dim = dimension if dimension is not None else embedder.dimension  # type: ignore[union-attr]
        if embedder is not None and embedder.dimension != dim:
            raise DimensionMismatch(f"dimension={dim} but the embedder makes {embedder.dimension}-d vectors")
        wanted = CollectionSpec(
            name,
            dim,
            Metric.parse(metric),
            embedder.fingerprint if embedder else None,
            hybrid=hybrid,
            multi_tenant=multi_tenant,
        )
        created: CollectionSpec = yield from self.policy.create(wanted, True)
        return created

    def add_texts(
        self,
        spec: CollectionSpec,
        texts: Iterable[str],
        ids: Iterable[str] | None,
        metadatas: Iterable[Mapping[str, Any]] | None,
        batch_size: int,
        progress: Progress,
        tenant: str | None,
    ) -> Steps[list[str]]:
        self.policy.check_writable(spec.name)
        target = yield from self.policy.target(spec.name, tenant)
        size = self.policy.batch_size(batch_size)
        account = UpsertAccount()
        rows: Iterable[tuple[str, str, dict[str, Any]]]
        if isinstance(texts, Sequence) and not isinstance(texts, str):
            checked = self._check_all(texts, ids, metadatas)
            account.known = [r[0] for r in checked]
            rows = checked
            expected: int | None = len(texts)
        else:
            rows = self._rows(texts, ids, metadatas)
            expected = None
        all_ids: list[str] = []
        token = yield from self.policy.begin_load(target, expected)
        try:
            for unit in batched(rows, size):
                all_ids.extend(r[0] for r in unit)
                try:
                    batch = yield from self._embedded_unit(spec, unit)
                except (InvalidInput, EmbeddingFailed) as exc:
                    if not account.written:
                        raise
                    account.failed.update({r[0]: str(exc) for r in unit})
                    account.unread_input = account.known is None
                    raise account.error(f"a unit could not be prepared ({exc})", exc) from exc
                yield from self.policy.write_batch(target, batch, account)
                if progress is not None:
                    progress(len(unit))
        except BaseException as exc:
            if isinstance(exc, Exception):
                yield from self.policy.end_load(target, token, quietly=True)
            raise
        yield from self.policy.end_load(target, token)
        return all_ids

    def _embedded_unit(self, spec: CollectionSpec, unit: list[tuple[str, str, dict[str, Any]]]) -> Steps[Batch]:
        vectors = yield Embed(tuple(r[1] for r in unit))
        if len(vectors) != len(unit):
            raise InvalidInput(f"the embedder returned {len(vectors)} vectors for {len(unit)} texts")
        return self.policy.prepare(spec, [Record(i, v, t, m) for (i, t, m), v in zip(unit, vectors, strict=True)])

    @staticmethod
    def _rows(
        texts: Iterable[str], ids: Iterable[str] | None, metadatas: Iterable[Mapping[str, Any]] | None
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(id, text, metadata) per text, lazily; lengths must agree."""
        id_iter = iter(ids) if ids is not None else None
        meta_iter = iter(metadatas) if metadatas is not None else None
        for n, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise InvalidInput(f"text {n} is empty or not a string: every text needs content to embed")
            rid = _next(id_iter, n, "ids")
            meta = _next(meta_iter, n, "metadatas")
            if rid is not None and not isinstance(rid, str):
                raise InvalidInput(f"id {n} is {type(rid).__name__} {rid!r}: ids are strings (use str(id))")
            yield (rid if rid is not None else text_id(text)), text, dict(meta) if meta is not None else {}
        for it, what in ((id_iter, "ids"), (meta_iter, "metadatas")):
            if it is not None and next(it, _END) is not _END:
                raise InvalidInput(f"more {what} than texts were given")

    def _check_all(
        self, texts: Sequence[str], ids: Iterable[str] | None, metadatas: Iterable[Mapping[str, Any]] | None
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """Every row of a sequence checked (all but its vector) before anything is embedded."""
        rows = list(self._rows(texts, ids, metadatas))
        seen: dict[str, int] = {}
        problems: list[str] = []
        for n, (rid, text, meta) in enumerate(rows):
            if rid in seen:
                raise InvalidInput(
                    f"duplicate id {rid!r} (texts {seen[rid]} and {n}; identical texts without ids share one): "
                    "deduplicate first"
                )
            record = Record(rid, (), text, meta)
            check_record_fields(record, n, {})
            seen[rid] = n
            problems.extend(self.policy.check_record(record))
        if problems:
            more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
            raise InvalidInput("; ".join(problems[:10]) + more)
        return rows

    def search(
        self,
        spec: CollectionSpec,
        query: str | Vector,
        tenant: str | None,
        has_embedder: bool,
        **arguments: Any,
    ) -> Steps[list[Hit]]:
        mode = SearchMode.parse(arguments.pop("mode"))
        text: str | None = None
        vector: Any = None
        if isinstance(query, str):
            if not query.strip():
                raise InvalidInput("the query text is empty")
            text = query
            if mode is not SearchMode.KEYWORD:
                if not has_embedder:
                    raise InvalidInput(
                        f"collection {spec.name!r} was opened without an embedder: pass embedder=... to open it, "
                        "or search with a vector"
                    )
                vector = yield Embed((query,), query=True)
        else:
            if mode is not SearchMode.DENSE:
                raise InvalidInput(f"{mode.value} search takes the query as text, not a vector")
            vector = query
        hits: list[Hit] = yield from self.policy.search(
            spec.name, tenant, vector=vector, text=text, mode=mode, **arguments
        )
        return hits


_END = object()


def _next(iterator: Iterator[Any] | None, n: int, what: str) -> Any:
    if iterator is None:
        return None
    value = next(iterator, _END)
    if value is _END:
        raise InvalidInput(f"fewer {what} than texts: {what} ended at item {n}")
    return value


def _need(embedder: Embedder | None, name: str) -> Embedder:
    if embedder is None:
        raise InvalidInput(
            f"collection {name!r} was opened without an embedder: pass embedder=... to Collection.open, "
            "or add records / search with vectors"
        )
    return embedder


class Collection:
    """High-level handle: embeds text with ``embedder`` and reads/writes one collection of ``store``.

    >>> from vecbridge.core import Collection, connect, load_embedder
    >>> store = connect("qdrant+local://:memory:")
    >>> docs = Collection.open(store, "docs", embedder=load_embedder("hashing", dimension=64))
    >>> ids = docs.add_texts(["red apples", "blue ocean"], metadatas=[{"kind": "fruit"}, {"kind": "sea"}])
    >>> docs.search("apples", k=1)[0].text
    'red apples'
    >>> docs.count(filter={"kind": "sea"})
    1
    """

    def __init__(self, store: Store, spec: CollectionSpec, embedder: Embedder | None = None) -> None:
        if not isinstance(store, Store):
            raise InvalidInput(f"Collection needs a vecbridge Store (from connect()), got {type(store).__name__}")
        self.store = store
        self.spec = spec
        self.embedder = embedder
        self._steps = CollectionSteps(store.policy)

    def _run(self, steps: Steps[Any]) -> Any:
        return run_steps(steps, self.store.driver, self.store.policy, self.embedder)

    @property
    def name(self) -> str:
        return self.spec.name

    @classmethod
    def open(
        cls,
        store: Store,
        name: str,
        *,
        embedder: Embedder | None = None,
        dimension: int | None = None,
        metric: Metric | str = Metric.COSINE,
        create: bool = True,
        hybrid: bool = False,
        multi_tenant: bool = False,
    ) -> Collection:
        """Open ``name``, creating it if needed (dimension from the embedder unless given).

        An existing collection is checked: another dimension raises ``DimensionMismatch``,
        another embedder (model, dimension, task) ``EmbedderMismatch`` — before anything is written.
        ``hybrid`` adds a keyword index (for ``mode="keyword"``/``"hybrid"`` searches);
        ``multi_tenant`` makes every call name a ``tenant``.
        """
        if not isinstance(store, Store):
            raise InvalidInput(f"Collection needs a vecbridge Store (from connect()), got {type(store).__name__}")
        steps = CollectionSteps(store.policy).open(name, embedder, dimension, metric, create, hybrid, multi_tenant)
        spec = run_steps(steps, store.driver, store.policy)
        return cls(store, spec, embedder)

    def add_texts(
        self,
        texts: Iterable[str],
        *,
        ids: Iterable[str] | None = None,
        metadatas: Iterable[Mapping[str, Any]] | None = None,
        batch_size: int = 100,
        progress: Progress = None,
        tenant: str | None = None,
    ) -> list[str]:
        """Embed and upsert texts in units of ``batch_size``; returns their ids (a content hash
        where none is given). ``progress`` is called with the number of texts written after each
        unit. See the module docstring for what is checked when, and what a failure reports."""
        _need(self.embedder, self.name)
        return self._run(self._steps.add_texts(self.spec, texts, ids, metadatas, batch_size, progress, tenant))  # type: ignore[no-any-return]

    def add_records(
        self, records: Iterable[Record], *, batch_size: int | None = None, tenant: str | None = None
    ) -> int:
        """Upsert records that already carry vectors (as ``store.upsert``)."""
        return self.store.upsert(self.name, records, batch_size=batch_size, tenant=tenant)

    def search(
        self,
        query: str | Vector,
        *,
        k: int = 5,
        filter: Filter = None,
        include_vectors: bool = False,
        mode: str = "dense",
        score_threshold: float | None = None,
        alpha: float | None = None,
        tenant: str | None = None,
        **options: Any,
    ) -> list[Hit]:
        """Most similar records to a text (embedded as a query) or a vector. ``mode`` as in
        ``Store.query``: ``"keyword"`` and ``"hybrid"`` take the query as text."""
        return self._run(  # type: ignore[no-any-return]
            self._steps.search(
                self.spec,
                query,
                tenant,
                self.embedder is not None,
                k=k,
                filter=filter,
                include_vectors=include_vectors,
                mode=mode,
                score_threshold=score_threshold,
                alpha=alpha,
                options=options,
            )
        )

    def get(self, ids: Sequence[str], *, include_vectors: bool = True, tenant: str | None = None) -> list[Record]:
        return self.store.get(self.name, ids, include_vectors=include_vectors, tenant=tenant)

    def delete(self, ids: Sequence[str] | None = None, *, filter: Filter = None, tenant: str | None = None) -> None:
        self.store.delete(self.name, ids, filter=filter, tenant=tenant)

    def count(self, *, filter: Filter = None, tenant: str | None = None) -> int:
        return self.store.count(self.name, filter=filter, tenant=tenant)

    def records(self, *, batch_size: int = 256, tenant: str | None = None) -> Iterator[Record]:
        """Every record with its vector (streamed)."""
        for page in self.store.scan(self.name, batch_size=batch_size, tenant=tenant):
            yield from page.records

    def drop(self) -> bool:
        return self.store.drop_collection(self.name)

    def __repr__(self) -> str:
        return f"Collection({self.name!r}, store={self.store!r}, embedder={self.embedder!r})"


class AsyncCollection:
    """The async form of :class:`Collection` over an :class:`~vecbridge.core.async_store.AsyncStore`:
    the same methods as coroutines, embedding through the embedder's async forms."""

    def __init__(self, store: AsyncStore, spec: CollectionSpec, embedder: Embedder | None = None) -> None:
        if not isinstance(store, AsyncStore):
            raise InvalidInput(f"AsyncCollection needs an AsyncStore (connect_async()), got {type(store).__name__}")
        self.store = store
        self.spec = spec
        self.embedder = embedder
        self._steps = CollectionSteps(store.policy)

    async def _run(self, steps: Steps[Any]) -> Any:
        return await arun_steps(steps, self.store.driver, self.store.policy, self.embedder)

    @property
    def name(self) -> str:
        return self.spec.name

    @classmethod
    async def open(
        cls,
        store: AsyncStore,
        name: str,
        *,
        embedder: Embedder | None = None,
        dimension: int | None = None,
        metric: Metric | str = Metric.COSINE,
        create: bool = True,
        hybrid: bool = False,
        multi_tenant: bool = False,
    ) -> AsyncCollection:
        if not isinstance(store, AsyncStore):
            raise InvalidInput(f"AsyncCollection needs an AsyncStore (connect_async()), got {type(store).__name__}")
        steps = CollectionSteps(store.policy).open(name, embedder, dimension, metric, create, hybrid, multi_tenant)
        spec = await arun_steps(steps, store.driver, store.policy)
        return cls(store, spec, embedder)

    async def add_texts(
        self,
        texts: Iterable[str],
        *,
        ids: Iterable[str] | None = None,
        metadatas: Iterable[Mapping[str, Any]] | None = None,
        batch_size: int = 100,
        progress: Progress = None,
        tenant: str | None = None,
    ) -> list[str]:
        _need(self.embedder, self.name)
        steps = self._steps.add_texts(self.spec, texts, ids, metadatas, batch_size, progress, tenant)
        ids_out: list[str] = await self._run(steps)
        return ids_out

    async def add_records(
        self, records: Iterable[Record], *, batch_size: int | None = None, tenant: str | None = None
    ) -> int:
        return await self.store.upsert(self.name, records, batch_size=batch_size, tenant=tenant)

    async def search(
        self,
        query: str | Vector,
        *,
        k: int = 5,
        filter: Filter = None,
        include_vectors: bool = False,
        mode: str = "dense",
        score_threshold: float | None = None,
        alpha: float | None = None,
        tenant: str | None = None,
        **options: Any,
    ) -> list[Hit]:
        arguments = {
            "k": k,
            "filter": filter,
            "include_vectors": include_vectors,
            "mode": mode,
            "score_threshold": score_threshold,
            "alpha": alpha,
            "options": options,
        }
        hits: list[Hit] = await self._run(
            self._steps.search(self.spec, query, tenant, self.embedder is not None, **arguments)
        )
        return hits

    async def get(self, ids: Sequence[str], *, include_vectors: bool = True, tenant: str | None = None) -> list[Record]:
        return await self.store.get(self.name, ids, include_vectors=include_vectors, tenant=tenant)

    async def delete(
        self, ids: Sequence[str] | None = None, *, filter: Filter = None, tenant: str | None = None
    ) -> None:
        await self.store.delete(self.name, ids, filter=filter, tenant=tenant)

    async def count(self, *, filter: Filter = None, tenant: str | None = None) -> int:
        return await self.store.count(self.name, filter=filter, tenant=tenant)

    async def records(self, *, batch_size: int = 256, tenant: str | None = None) -> AsyncIterator[Record]:
        async for page in self.store.scan(self.name, batch_size=batch_size, tenant=tenant):
            for record in page.records:
                yield record

    async def drop(self) -> bool:
        return await self.store.drop_collection(self.name)

    def __repr__(self) -> str:
        return f"AsyncCollection({self.name!r}, store={self.store!r}, embedder={self.embedder!r})"
