"""``Collection``: a store, one of its collections and an embedder — what most users touch."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from .batching import batched
from .embedders import Embedder
from .errors import CollectionNotFound, DimensionMismatch, EmbedderMismatch, InvalidInput
from .filters import FilterNode
from .models import CollectionSpec, Hit, Metric, Record, Vector
from .store import VectorStore, iter_records

__all__ = ["Collection", "text_id"]


def text_id(text: str) -> str:
    """Default id of a text added without one: a content hash, so re-adding it overwrites."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class Collection:
    """High-level handle: embeds text with ``embedder`` and reads/writes ``store``.

    >>> from vecbridge.core import Collection, connect, load_embedder
    >>> store = connect("qdrant+local://:memory:")
    >>> docs = Collection.open(store, "docs", embedder=load_embedder("hashing", dimension=64))
    >>> ids = docs.add_texts(["red apples", "blue ocean"], metadatas=[{"kind": "fruit"}, {"kind": "sea"}])
    >>> docs.search("apples", k=1)[0].text
    'red apples'
    >>> docs.count(filter={"kind": "sea"})
    1
    """

    def __init__(self, store: VectorStore, spec: CollectionSpec, embedder: Embedder | None = None) -> None:
        self.store = store
        self.spec = spec
        self.embedder = embedder

    @property
    def name(self) -> str:
        return self.spec.name

    @classmethod
    def open(
        cls,
        store: VectorStore,
        name: str,
        *,
        embedder: Embedder | None = None,
        dimension: int | None = None,
        metric: Metric | str = Metric.COSINE,
        create: bool = True,
    ) -> Collection:
        """Open ``name``, creating it if needed (dimension from the embedder unless given).

        An existing collection is checked: another dimension raises ``DimensionMismatch``,
        another embedder (model, dimension, task) ``EmbedderMismatch`` — before anything is written.
        """
        if store.has_collection(name):
            spec = store.describe_collection(name)
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
            return cls(store, spec, embedder)
        if not create:
            raise CollectionNotFound(f"collection {name!r} does not exist: pass create=True to create it")
        if embedder is None and dimension is None:
            raise InvalidInput("creating a collection needs an embedder or a dimension")
        dim = dimension if dimension is not None else embedder.dimension  # type: ignore[union-attr]
        if embedder is not None and embedder.dimension != dim:
            raise DimensionMismatch(f"dimension={dim} but the embedder makes {embedder.dimension}-d vectors")
        spec = CollectionSpec(name, dim, Metric.parse(metric), embedder.fingerprint if embedder else None)
        return cls(store, store.create_collection(spec, exist_ok=True), embedder)

    def _need_embedder(self) -> Embedder:
        if self.embedder is None:
            raise InvalidInput(
                f"collection {self.name!r} was opened without an embedder: pass embedder=... to "
                "Collection.open, or add records/search with vectors"
            )
        return self.embedder

    def add_texts(
        self,
        texts: Iterable[str],
        *,
        ids: Sequence[str] | None = None,
        metadatas: Sequence[Mapping[str, Any]] | None = None,
        batch_size: int = 100,
        progress: Callable[[int], None] | None = None,
    ) -> list[str]:
        """Embed and upsert texts; returns their ids (a content hash where none is given).

        Texts are embedded and written ``batch_size`` at a time, so memory stays bounded and a
        failure reports which ids did not land (``UpsertFailed``). ``progress`` is called with the
        number of texts written after each batch.
        """
        embedder = self._need_embedder()
        items = list(texts)
        for i, t in enumerate(items):
            if not isinstance(t, str) or not t.strip():
                raise InvalidInput(f"text {i} is empty or not a string: every text needs content to embed")
        if ids is not None and len(ids) != len(items):
            raise InvalidInput(f"got {len(ids)} ids for {len(items)} texts")
        if metadatas is not None and len(metadatas) != len(items):
            raise InvalidInput(f"got {len(metadatas)} metadata dicts for {len(items)} texts")
        all_ids = [str(i) for i in ids] if ids is not None else [text_id(t) for t in items]
        if len(set(all_ids)) != len(all_ids):
            raise InvalidInput("duplicate ids (or duplicate texts without ids) in one call: deduplicate first")
        metas = [dict(m) for m in metadatas] if metadatas is not None else [{} for _ in items]
        for chunk in batched(range(len(items)), batch_size):
            vectors = embedder.embed_documents([items[i] for i in chunk])
            records = [Record(all_ids[i], vectors[j], items[i], metas[i]) for j, i in enumerate(chunk)]
            self.store.upsert(self.name, records)
            if progress:
                progress(len(chunk))
        return all_ids

    def add_records(self, records: Iterable[Record], *, batch_size: int | None = None) -> int:
        """Upsert records that already carry vectors."""
        return self.store.upsert(self.name, records, batch_size=batch_size)

    def search(
        self,
        query: str | Vector,
        *,
        k: int = 5,
        filter: Mapping[str, Any] | FilterNode | None = None,
        include_vectors: bool = False,
    ) -> list[Hit]:
        """Most similar records to a text (embedded as a query) or a vector."""
        if isinstance(query, str):
            if not query.strip():
                raise InvalidInput("the query text is empty")
            vector: Vector = self._need_embedder().embed_query(query)
        else:
            vector = query
        return self.store.query(self.name, vector, k=k, filter=filter, include_vectors=include_vectors)

    def get(self, ids: Sequence[str], *, include_vectors: bool = True) -> list[Record]:
        return self.store.get(self.name, ids, include_vectors=include_vectors)

    def delete(
        self, ids: Sequence[str] | None = None, *, filter: Mapping[str, Any] | FilterNode | None = None
    ) -> None:
        self.store.delete(self.name, ids, filter=filter)

    def count(self, *, filter: Mapping[str, Any] | FilterNode | None = None) -> int:
        return self.store.count(self.name, filter=filter)

    def records(self, *, batch_size: int = 256) -> Iterator[Record]:
        """Every record with its vector (streamed)."""
        return iter_records(self.store, self.name, batch_size=batch_size)

    def drop(self) -> bool:
        return self.store.drop_collection(self.name)

    def __repr__(self) -> str:
        return f"Collection({self.name!r}, store={self.store!r}, embedder={self.embedder!r})"
