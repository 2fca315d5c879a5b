"""Adopting pgvector tables vecbridge did not create (``Store.adopt``): data written by the real
langchain-postgres (``PGVector``, ``PGVectorStore``) and llama-index-vector-stores-postgres
(``PGVectorStore``) packages, and a custom table, read with filters, counted, scanned and migrated
into Qdrant Edge (verified); read-only refusals, bad layouts and ``vecbridge migrate --adopt``."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pytest

pytest.importorskip("vecbridge.connectors.pgvector", reason="pip install 'vecbridge[pgvector]'")
psycopg = pytest.importorskip("psycopg")
pytest.importorskip("qdrant_edge", reason="pip install 'vecbridge[qdrant]'")

from psycopg import sql  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from tests.backends.pgvector import (  # noqa: E402
    _skip_without_pgserver,
    embedded_async_store,
    embedded_conninfo,
    embedded_store,
    embedded_url,
)
from vecbridge.cli.app import app  # noqa: E402
from vecbridge.core import (  # noqa: E402
    CollectionExists,
    CollectionNotFound,
    CollectionSpec,
    InvalidInput,
    Metric,
    Record,
    Store,
    UnsupportedFeature,
    UnsupportedFilter,
    connect,
    matches,
)
from vecbridge.core.migration import migrate  # noqa: E402

if (_reason := _skip_without_pgserver()) is not None:
    pytest.skip(_reason, allow_module_level=True)

#: Small vectors, enough records for three scan pages of five and a filter that splits them.
DIM, N = 8, 12


def _name(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:10]


def _sqlalchemy_url(driver: str) -> str:
    """The embedded server as an SQLAlchemy URL (Unix socket and password from its conninfo)."""
    info = psycopg.conninfo.conninfo_to_dict(embedded_conninfo())
    password = quote(str(info["password"]), safe="")
    return (
        f"postgresql+{driver}://{info['user']}:{password}@/{info['dbname']}"
        f"?host={quote(str(info['host']), safe='')}&port={info['port']}"
    )


def _vectors(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(N, DIM)).astype(np.float32)


def _metadata(i: int) -> dict[str, Any]:
    return {"i": i, "tag": "even" if i % 2 == 0 else "odd", "score": i / 4}


class FixedEmbeddings:
    """LangChain embeddings that return the test's own vectors (by text), so the data is known."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.by_text = {f"doc {i}": vectors[i].tolist() for i in range(len(vectors))}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.by_text[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.by_text[text]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return self.embed_query(text)


def _langchain_embeddings(vectors: np.ndarray) -> Any:
    from langchain_core.embeddings import Embeddings

    return type("Fixed", (FixedEmbeddings, Embeddings), {})(vectors)


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    s = embedded_store()
    try:
        yield s
    finally:
        s.close()


def _records(store: Store, name: str, **options: Any) -> list[Record]:
    return [r for page in store.scan(name, **options) for r in page.records]


def _admin() -> Any:
    return psycopg.connect(embedded_conninfo(), autocommit=True)


def _expected(ids: list[str], vectors: np.ndarray) -> dict[str, Record]:
    return {ids[i]: Record(ids[i], vectors[i].tolist(), f"doc {i}", _metadata(i)) for i in range(N)}


def _check_reads(store: Store, name: str, expected: dict[str, Record], metric: Metric = Metric.COSINE) -> None:
    """count, filtered count, filtered query against numpy, scan and get on an adopted collection."""
    spec = store.describe_collection(name)
    assert (spec.dimension, spec.metric) == (DIM, metric)
    assert store.count(name) == N
    flt = {"tag": "odd", "score": {"$gte": 1.0}}
    wanted = {k for k, r in expected.items() if matches(flt, r.metadata)}
    assert 0 < len(wanted) < N
    assert store.count(name, filter=flt) == len(wanted)
    assert store.count(name, filter={"$not": flt}) == N - len(wanted)
    query = np.asarray(next(iter(expected.values())).vector, dtype=np.float32)
    hits = store.query(name, vector=query.tolist(), k=N, filter=flt)
    assert [h.id for h in hits] == _ranked(query, {k: expected[k] for k in wanted})
    assert all(h.metadata == expected[h.id].metadata and h.text == expected[h.id].text for h in hits)
    scanned = {r.id: r for r in _records(store, name, include_vectors=True, batch_size=5)}
    assert scanned.keys() == expected.keys()
    for rid, record in scanned.items():
        assert (record.text, record.metadata) == (expected[rid].text, expected[rid].metadata)
        np.testing.assert_allclose(record.vector, expected[rid].vector, rtol=1e-6)
    some = sorted(expected)[:3]
    assert sorted(r.id for r in store.get(name, [*some, "no-such-id"])) == some


def _ranked(query: np.ndarray, records: dict[str, Record]) -> list[str]:
    ids = list(records)
    matrix = np.asarray([records[i].vector for i in ids], dtype=np.float64)
    scores = matrix @ query / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query))
    return [ids[i] for i in np.argsort(-scores, kind="stable")]


def _migrated_intact(store: Store, name: str, expected: dict[str, Record], tmp_path: Path) -> None:
    dest = connect(f"qdrant+edge://{tmp_path / 'edge'}")
    try:
        report = migrate(store, dest, name, checkpoint=tmp_path / "ckpt.json", batch_size=5)
        assert report.ok, report
        assert dest.count(name) == N
        got = {r.id: r for r in dest.get(name, list(expected), include_vectors=True)}
        assert got.keys() == expected.keys()
        for rid, record in got.items():
            assert (record.text, record.metadata) == (expected[rid].text, expected[rid].metadata)
            np.testing.assert_allclose(record.vector, _unit(expected[rid].vector), rtol=1e-5)
    finally:
        dest.close()


def _unit(vector: list[float]) -> np.ndarray:
    """Qdrant keeps cosine collections' vectors normalised: the direction is what arrives."""
    v = np.asarray(vector, dtype=np.float64)
    return v / np.linalg.norm(v)


# ----- LangChain PGVector (shared tables, one collection of them) ------------------------------


def _write_langchain_pgvector(group: str, seed: int) -> tuple[list[str], np.ndarray]:
    from langchain_core.documents import Document
    from langchain_postgres import PGVector

    vectors = _vectors(seed)
    ids = [f"{group}-{i:02d}" for i in range(N)]
    vs = PGVector(
        embeddings=_langchain_embeddings(vectors),
        collection_name=group,
        connection=_sqlalchemy_url("psycopg"),
        use_jsonb=True,
    )
    vs.add_documents([Document(page_content=f"doc {i}", metadata=_metadata(i)) for i in range(N)], ids=ids)
    return ids, vectors


@pytest.fixture(scope="module")
def langchain_group() -> tuple[str, dict[str, Record]]:
    pytest.importorskip("langchain_postgres", reason="pip install langchain-postgres")
    group = _name("lc")
    ids, vectors = _write_langchain_pgvector(group, seed=1)
    _write_langchain_pgvector(_name("lcother"), seed=2)  # another collection in the same tables
    return group, _expected(ids, vectors)


def test_langchain_pgvector(store: Store, langchain_group: tuple[str, dict[str, Record]], tmp_path: Path) -> None:
    group, expected = langchain_group
    name = _name("lcdocs")
    spec = store.adopt(name, preset="langchain", group=group)
    assert spec.dimension == DIM and spec.metric is Metric.COSINE
    _check_reads(store, name, expected)
    _migrated_intact(store, name, expected, tmp_path)
    # The adopted collection reads the same from LangChain's own search.
    from langchain_postgres import PGVector

    query = expected[f"{group}-03"].vector
    lc = PGVector(
        embeddings=_langchain_embeddings(_vectors(1)), collection_name=group, connection=_sqlalchemy_url("psycopg")
    )
    theirs = [d.id for d in lc.similarity_search_by_vector(query, k=4, filter={"tag": {"$eq": "odd"}})]
    ours = [h.id for h in store.query(name, vector=query, k=4, filter={"tag": "odd"})]
    assert ours == theirs


def test_langchain_unknown_group_and_missing_group(store: Store, langchain_group: tuple[str, Any]) -> None:
    with pytest.raises(CollectionNotFound, match="nosuchgroup") as err:
        store.adopt("x", preset="langchain", group="nosuchgroup")
    assert langchain_group[0] in str(err.value)  # the collections that do exist are listed
    with pytest.raises(InvalidInput, match="group="):
        store.adopt("x", preset="langchain")


# ----- LangChain PGVectorStore (one table, optional metadata columns) ---------------------------


def test_langchain_pgvectorstore(store: Store, tmp_path: Path) -> None:
    pytest.importorskip("langchain_postgres", reason="pip install langchain-postgres")
    from langchain_core.documents import Document
    from langchain_postgres import Column, PGEngine, PGVectorStore
    from langchain_postgres.v2.hybrid_search_config import HybridSearchConfig

    table = _name("lcstore")
    vectors = _vectors(3)
    engine = PGEngine.from_connection_string(_sqlalchemy_url("psycopg"))
    # With hybrid search: LangChain adds a tsvector column, which is not metadata.
    hybrid = HybridSearchConfig(tsv_column="content_tsv")
    engine.init_vectorstore_table(
        table_name=table, vector_size=DIM, metadata_columns=[Column("tag", "TEXT")], hybrid_search_config=hybrid
    )
    vs = PGVectorStore.create_sync(
        engine=engine,
        table_name=table,
        embedding_service=_langchain_embeddings(vectors),
        metadata_columns=["tag"],
        hybrid_search_config=hybrid,
    )
    ids = [str(uuid.UUID(int=(i + 1) * 0xFEDCBA9876543210FEDCBA987)) for i in range(N)]
    vs.add_documents([Document(page_content=f"doc {i}", metadata=_metadata(i)) for i in range(N)], ids=ids)
    with _admin() as conn:  # "tag" went into its own column, the rest into langchain_metadata
        row = conn.execute(
            sql.SQL("SELECT tag, langchain_metadata, content_tsv FROM {} LIMIT 1").format(sql.Identifier(table))
        )
        tag, rest, tsv = row.fetchone()
        assert isinstance(tag, str) and "tag" not in rest and tsv
    name = _name("lcs")
    store.adopt(name, preset="langchain-pgvectorstore", native=table)
    expected = _expected(ids, vectors)
    _check_reads(store, name, expected)
    assert store.get(name, [ids[0].upper()]) == []  # a uuid is read as its lower-case text, exactly
    _migrated_intact(store, name, expected, tmp_path)


# ----- LlamaIndex PGVectorStore ------------------------------------------------------------------


def test_llamaindex_pgvectorstore(store: Store, tmp_path: Path) -> None:
    pytest.importorskip("llama_index.vector_stores.postgres", reason="pip install llama-index-vector-stores-postgres")
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
    from llama_index.vector_stores.postgres import PGVectorStore

    table = _name("li")
    vectors = _vectors(4)
    ids = [f"node-{i:02d}" for i in range(N)]
    vs = PGVectorStore(
        connection_string=_sqlalchemy_url("psycopg2"),
        async_connection_string=_sqlalchemy_url("asyncpg").rsplit("&port=", 1)[0],
        table_name=table,
        embed_dim=DIM,
    )
    nodes = [
        TextNode(
            id_=ids[i],
            text=f"doc {i}",
            metadata=_metadata(i),
            embedding=vectors[i].tolist(),
            relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id="source-doc")},
        )
        for i in range(N)
    ]
    vs.add(nodes)
    name = _name("lidocs")
    store.adopt(name, preset="llamaindex", native=table)
    # LlamaIndex's own keys stay out of the metadata, except the link to the source document.
    expected = {
        k: Record(r.id, r.vector, r.text, {**r.metadata, "ref_doc_id": "source-doc"})
        for k, r in _expected(ids, vectors).items()
    }
    _check_reads(store, name, expected)
    assert store.count(name, filter={"_node_content": {"$exists": True}}) == 0
    # The adopted collection ranks as LlamaIndex's own filtered query does.
    from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters, VectorStoreQuery

    query = vectors[5].tolist()
    found = vs.query(
        VectorStoreQuery(
            query_embedding=query,
            similarity_top_k=4,
            filters=MetadataFilters(filters=[MetadataFilter(key="tag", value="odd")]),
        )
    )
    assert [h.id for h in store.query(name, vector=query, k=4, filter={"tag": "odd"})] == found.ids
    _migrated_intact(store, name, expected, tmp_path)
    with pytest.raises(CollectionNotFound, match="without its data_ prefix"):
        store.adopt("x", preset="llamaindex", native=f"data_{table}")


# ----- a custom table ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def custom_table() -> Iterator[str]:
    """bigint ids, a halfvec column with an L2 HNSW index, text, nullable jsonb and plain columns."""
    table = _name("items")
    with _admin() as conn:
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (item_id bigint PRIMARY KEY, emb halfvec(4) NOT NULL, body text, "
                "extra jsonb, price numeric, color text)"
            ).format(sql.Identifier(table))
        )
        conn.execute(sql.SQL("CREATE INDEX ON {} USING hnsw (emb halfvec_l2_ops)").format(sql.Identifier(table)))
        for i in range(1, 11):
            conn.execute(
                sql.SQL("INSERT INTO {} VALUES (%s, %s::halfvec, %s, %s, %s, %s)").format(sql.Identifier(table)),
                [
                    i,
                    str([float(i), 0.0, 1.0, 0.5]),
                    f"item {i}",
                    None if i % 3 == 0 else json.dumps({"size": i % 4}),
                    i * 1.5,
                    None if i == 5 else ("red" if i % 2 else "blue"),
                ],
            )
    yield table
    with _admin() as conn:
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))


def test_custom_table(store: Store, custom_table: str, tmp_path: Path) -> None:
    spec = store.adopt(
        "items", native=f"public.{custom_table}", id="item_id", vector="emb", text="body",
        metadata="extra", metadata_fields=("price", "color"),
    )  # fmt: skip
    assert (spec.dimension, spec.metric) == (4, Metric.EUCLIDEAN)  # from the index's operator class
    records = {r.id: r for r in _records(store, "items", include_vectors=True, batch_size=3)}
    assert list(records) == [str(i) for i in range(1, 11)]  # the column's own (numeric) order
    assert records["3"].metadata == {"price": 4.5, "color": "red"}  # NULL jsonb: nothing of it
    assert records["5"].metadata == {"size": 1, "price": 7.5}  # NULL column: no key
    assert records["2"].vector == [2.0, 0.0, 1.0, 0.5] and records["2"].text == "item 2"
    assert [r.id for r in store.get("items", ["2", "02", "+2", "x"])] == ["2"]  # ids by exact text
    for flt in ({"color": "red"}, {"color": {"$ne": "red"}}, {"size": {"$ne": 1}}, {"price": {"$lt": 6}}):
        assert store.count("items", filter=flt) == sum(matches(flt, r.metadata) for r in records.values())
    hits = store.query("items", vector=[4.2, 0.0, 1.0, 0.5], k=3, filter={"color": {"$exists": True}})
    assert [h.id for h in hits] == ["4", "3", "6"]
    assert hits[0].score == pytest.approx(-0.2, abs=1e-3)  # euclidean: minus the distance
    # The jsonb column alone, NULL in some rows: negations still match those rows (missing fields).
    store.adopt("items_json", native=custom_table, id="item_id", vector="emb", metadata="extra")
    plain = {r.id: r.metadata for r in _records(store, "items_json")}
    assert plain["3"] == {} and plain["4"] == {"size": 0}
    for flt in ({"size": {"$ne": 1}}, {"$not": {"size": {"$gte": 2}}}, {"size": {"$nin": [0, 1]}}):
        assert store.count("items_json", filter=flt) == sum(matches(flt, m) for m in plain.values())
    with pytest.raises(UnsupportedFilter, match="date"):
        store.count("items", filter={"when": {"$gte": "2024-01-01T00:00:00Z"}})
    dest = connect(f"qdrant+edge://{tmp_path / 'edge'}")
    try:
        assert migrate(store, dest, "items", checkpoint=tmp_path / "c.json").ok
        assert dest.describe_collection("items").metric is Metric.EUCLIDEAN
        assert {r.id: r.metadata for r in _records(dest, "items")} == {k: r.metadata for k, r in records.items()}
    finally:
        dest.close()


def test_custom_table_async(custom_table: str) -> None:
    async def run() -> tuple[int, list[str]]:
        s = embedded_async_store()
        try:
            await s.adopt("items", native=custom_table, id="item_id", vector="emb", metadata_fields=("color",))
            hits = await s.query("items", vector=[1.0, 0.0, 1.0, 0.5], k=2, filter={"color": "blue"})
            return await s.count("items", filter={"color": "blue"}), [h.id for h in hits]
        finally:
            await s.close()

    assert asyncio.run(run()) == (5, ["2", "4"])


def test_adopted_tables_are_read_only(store: Store, custom_table: str) -> None:
    store.adopt("ro", native=custom_table, id="item_id", vector="emb")
    with pytest.raises(UnsupportedFeature, match="read-only"):
        store.upsert("ro", [Record("99", [1.0, 2.0, 3.0, 4.0])])
    with pytest.raises(UnsupportedFeature, match="read-only"):
        store.delete("ro", ids=["1"])
    with pytest.raises(UnsupportedFeature):
        store.drop_collection("ro")
    with pytest.raises(UnsupportedFeature, match="writable"):
        store.adopt("rw", native=custom_table, id="item_id", vector="emb", writable=True)
    assert store.count("ro") == 10


@pytest.mark.parametrize(
    ("fields", "error", "names"),
    [
        ({"id": "nope", "vector": "emb"}, InvalidInput, "nope"),
        ({"id": "item_id", "vector": "body"}, InvalidInput, "body"),
        ({"id": "item_id", "vector": "emb", "metadata": "color"}, InvalidInput, "color"),
        ({"id": "item_id", "vector": "emb", "metadata_fields": ("gone",)}, InvalidInput, "gone"),
        ({"id": "item_id"}, InvalidInput, "vector="),
        ({"id": "item_id", "vector": "emb", "native": "no_such_table"}, CollectionNotFound, "no_such_table"),
        ({"id": "item_id", "vector": "emb", "group": "g"}, InvalidInput, "group="),
        ({"preset": "haystack"}, UnsupportedFeature, "haystack"),
    ],
)
def test_bad_layouts_are_refused(
    store: Store, custom_table: str, fields: dict[str, Any], error: type[Exception], names: str
) -> None:
    with pytest.raises(error, match=names):
        store.adopt("bad", **{"native": custom_table, **fields})
    with pytest.raises(CollectionNotFound):
        store.count("bad")


def test_the_name_of_a_vecbridge_collection_is_not_taken_over(store: Store, custom_table: str) -> None:
    name = _name("own")
    store.create_collection(CollectionSpec(name, 4))
    try:
        with pytest.raises(CollectionExists, match="another name"):
            store.adopt(name, native=custom_table, id="item_id", vector="emb")
        assert store.count(name) == 0 and store.describe_collection(name).metric is Metric.COSINE
    finally:
        store.drop_collection(name)


def test_duplicate_and_null_ids_and_mixed_dimensions_are_refused(store: Store) -> None:
    table = _name("messy")
    with _admin() as conn:
        conn.execute(sql.SQL("CREATE TABLE {} (k text, v vector)").format(sql.Identifier(table)))
        ins = sql.SQL("INSERT INTO {} VALUES (%s, %s::vector)").format(sql.Identifier(table))
        conn.execute(ins, ["a", "[1,2]"])
        conn.execute(ins, ["a", "[1,3]"])
        with pytest.raises(InvalidInput, match="not unique"):
            store.adopt("messy", native=table, id="k", vector="v")
        conn.execute(sql.SQL("DELETE FROM {} WHERE v = '[1,3]'").format(sql.Identifier(table)))
        conn.execute(ins, ["b", "[1,2,3]"])
        with pytest.raises(InvalidInput, match="2 to 3 dimensions"):
            store.adopt("messy", native=table, id="k", vector="v")
        conn.execute(ins, [None, "[1,2]"])
        with pytest.raises(InvalidInput, match="without an id"):
            store.adopt("messy", native=table, id="k", vector="v")
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))


def test_a_table_dropped_after_adoption_is_not_found(store: Store) -> None:
    table = _name("gone")
    with _admin() as conn:
        conn.execute(
            sql.SQL("CREATE TABLE {} (k text PRIMARY KEY, v vector(2) NOT NULL)").format(sql.Identifier(table))
        )
        conn.execute(sql.SQL("INSERT INTO {} VALUES ('a', '[1,2]')").format(sql.Identifier(table)))
        store.adopt("gone", native=table, id="k", vector="v")
        assert store.driver.describe("gone") == store.describe_collection("gone")  # inspected again
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
    with pytest.raises(CollectionNotFound):
        store.count("gone")
    with pytest.raises(CollectionNotFound, match=table):
        store.describe_collection("gone")


ATTACKS = ['x"; DROP TABLE victim; --', "x' OR '1'='1", "%(f0)s", "{}", "$1"]


def test_hostile_table_and_column_names_are_quoted(store: Store) -> None:
    table, column = ATTACKS[0], ATTACKS[1]
    with _admin() as conn:
        conn.execute(
            sql.SQL("CREATE TABLE {} ({} text PRIMARY KEY, {} vector(2), {} text)").format(
                sql.Identifier(table), sql.Identifier(column), sql.Identifier(ATTACKS[2]), sql.Identifier(ATTACKS[3])
            )
        )
        ins = sql.SQL("INSERT INTO {} VALUES (%s, %s::vector, %s)").format(sql.Identifier(table))
        for i, attack in enumerate(ATTACKS):
            conn.execute(ins, [attack, f"[1,{i}]", attack])
        try:
            store.adopt("hostile", native=table, id=column, vector=ATTACKS[2], metadata_fields=(ATTACKS[3],))
            assert store.count("hostile") == len(ATTACKS)
            for attack in ATTACKS:
                assert store.count("hostile", filter={ATTACKS[3]: attack}) == 1
                assert [r.id for r in store.get("hostile", [attack])] == [attack]
            assert sorted(r.id for r in _records(store, "hostile", batch_size=2)) == sorted(ATTACKS)
        finally:
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))


# ----- the CLI: one command from LangChain's tables into Qdrant Edge ------------------------------


def test_cli_migrates_a_langchain_collection_in_one_command(
    langchain_group: tuple[str, dict[str, Record]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VECBRIDGE_HOME", str(tmp_path / "home"))
    group, expected = langchain_group
    dest = f"qdrant+edge://{tmp_path / 'edge'}"
    args = ["migrate", embedded_url(), dest, "--collection", "docs", "--adopt", "langchain", "--group", group]
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["ok"]
    with connect(dest) as target:
        got = {r.id: r for r in _records(target, "docs", include_vectors=True)}
    assert got.keys() == expected.keys()
    for rid, record in got.items():
        assert (record.text, record.metadata) == (expected[rid].text, expected[rid].metadata)
        np.testing.assert_allclose(record.vector, _unit(expected[rid].vector), rtol=1e-5)
