"""The Weaviate emulator's claimed server semantics, checked through the real weaviate-client
(so a connector test passing on it means something)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("weaviate", reason="the weaviate extra is not installed")
import weaviate
from weaviate.classes.config import Configure, DataType, Property, Tokenization, VectorDistances
from weaviate.classes.data import DataObject
from weaviate.classes.query import Filter
from weaviate.collections.classes.grpc import MetadataQuery
from weaviate.exceptions import UnexpectedStatusCodeError, WeaviateInsertManyAllFailedError, WeaviateQueryError

from tests.backends.weaviate import offline_version_check
from tests.emulators.weaviate import NOT_COVERED, WeaviateEmulator


def _client(emu: WeaviateEmulator) -> weaviate.WeaviateClient:
    with offline_version_check(emu):
        return weaviate.connect_to_local(host=emu.host, port=emu.http_port, grpc_port=emu.grpc_port)


@pytest.fixture(scope="module")
def emu() -> Iterator[WeaviateEmulator]:
    with WeaviateEmulator() as e:
        yield e


@pytest.fixture
def client(emu: WeaviateEmulator) -> Iterator[weaviate.WeaviateClient]:
    emu.reset()
    c = _client(emu)
    yield c
    c.close()


def _vec(i: int) -> dict[str, list[float]]:
    return {"default": [1.0, float(i), 0.5]}


def test_auto_schema_fixes_types_on_first_write(client: weaviate.WeaviateClient) -> None:
    col = client.collections.create("Auto", vector_config=Configure.Vectors.self_provided())
    first = col.data.insert_many(
        [DataObject(properties={"n": 1, "when": "2024-05-01T10:00:00Z", "s": "x"}, vector=_vec(1))]
    )
    assert not first.errors
    types = {p.name: p.data_type.value for p in col.config.get().properties}
    assert types == {"n": "number", "when": "date", "s": "text"}
    later = col.data.insert_many(
        [
            DataObject(properties={"n": "one"}, vector=_vec(2)),
            DataObject(properties={"when": "yesterday"}, vector=_vec(3)),
            DataObject(properties={"s": 5}, vector=_vec(4)),
            DataObject(properties={"n": 2.5, "s": None}, vector=_vec(5)),
        ]
    )
    assert sorted(later.errors) == [0, 1, 2]
    assert "invalid number property 'n'" in later.errors[0].message
    assert "RFC3339" in later.errors[1].message
    assert "not a string" in later.errors[2].message


def test_missing_and_null_under_equal_notequal_not(client: weaviate.WeaviateClient) -> None:
    col = client.collections.create(
        "Nulls",
        vector_config=Configure.Vectors.self_provided(),
        properties=[Property(name="tag", data_type=DataType.TEXT_ARRAY, tokenization=Tokenization.FIELD)],
        inverted_index_config=Configure.inverted_index(index_null_state=True),
    )
    col.data.insert_many(
        [
            DataObject(properties={"tag": ["a", " b "]}, vector=_vec(1)),
            DataObject(properties={"tag": []}, vector=_vec(2)),
            DataObject(properties={"tag": None}, vector=_vec(3)),
            DataObject(properties={}, vector=_vec(4)),
        ]
    )

    def count(flt: Any) -> int:
        return int(col.aggregate.over_all(total_count=True, filters=flt).total_count or 0)

    tag = Filter.by_property("tag")
    assert count(tag.equal("a")) == 1
    assert count(tag.equal("b")) == 1  # field tokenization trims surrounding whitespace
    assert count(tag.not_equal("a")) == 3  # complements include objects without the property
    assert count(Filter.not_(tag.equal("a"))) == 3
    assert count(tag.contains_none(["a"])) == 3
    assert count(tag.is_none(True)) == 3  # missing, null and [] are all null
    with pytest.raises(WeaviateQueryError, match="no such prop"):
        count(Filter.by_property("nope").equal("a"))


def test_word_tokenization_and_typed_values(client: weaviate.WeaviateClient) -> None:
    col = client.collections.create(
        "Words",
        vector_config=Configure.Vectors.self_provided(),
        properties=[Property(name="title", data_type=DataType.TEXT), Property(name="n", data_type=DataType.NUMBER)],
    )
    col.data.insert_many([DataObject(properties={"title": "Hello, World", "n": 2.0}, vector=_vec(1))])
    assert len(col.query.fetch_objects(filters=Filter.by_property("title").equal("world")).objects) == 1
    assert len(col.query.fetch_objects(filters=Filter.by_property("n").equal(2)).objects) == 1  # int -> number
    with pytest.raises(WeaviateQueryError):
        col.query.fetch_objects(filters=Filter.by_property("n").equal("two"))


def test_default_limit_and_cursor(client: weaviate.WeaviateClient) -> None:
    col = client.collections.create("Paged", vector_config=Configure.Vectors.self_provided())
    ids = [str(uuid.uuid4()) for _ in range(15)]
    col.data.insert_many([DataObject(properties={"k": i}, uuid=u, vector=_vec(i)) for i, u in enumerate(ids)])
    assert len(col.query.fetch_objects_by_ids(ids).objects) == 10  # QUERY_DEFAULTS_LIMIT when no limit is given
    assert len(col.query.fetch_objects_by_ids(ids, limit=15).objects) == 15
    walked = [str(o.uuid) for o in col.iterator(cache_size=4)]
    assert walked == sorted(ids, key=lambda u: uuid.UUID(u).bytes)
    with pytest.raises(WeaviateQueryError, match="cannot be set with after"):
        col.query.fetch_objects(after=ids[0], filters=Filter.by_property("k").equal(1.0))


def test_vector_search_distances(client: weaviate.WeaviateClient) -> None:
    col = client.collections.create(
        "Dots",
        vector_config=Configure.Vectors.self_provided(
            vector_index_config=Configure.VectorIndex.hnsw(distance_metric=VectorDistances.DOT)
        ),
    )
    col.data.insert_many([DataObject(properties={"i": i}, vector={"default": [float(i), 1.0]}) for i in range(1, 4)])
    res = col.query.near_vector([2.0, 0.5], limit=2, return_metadata=MetadataQuery(distance=True))
    assert [o.properties["i"] for o in res.objects] == [3.0, 2.0]
    assert res.objects[0].metadata.distance == pytest.approx(-(3 * 2.0 + 0.5))  # dot distance is -a.b
    bad = col.data.insert_many(
        [
            DataObject(properties={}, vector={"default": [1.0, 2.0, 3.0]}),
            DataObject(properties={}, vector={"default": [1.0, 2.0]}),
        ]
    )
    assert list(bad.errors) == [0] and "vector lengths don't match" in bad.errors[0].message  # the first fixed it


def test_batch_delete_is_capped_but_counts_every_match() -> None:
    with WeaviateEmulator(query_maximum_results=4) as emu:
        c = _client(emu)
        try:
            col = c.collections.create("Cap", vector_config=Configure.Vectors.self_provided())
            col.data.insert_many([DataObject(properties={"i": i}, vector=_vec(i)) for i in range(10)])
            result = col.data.delete_many(where=Filter.by_property("i").less_than(8))
            assert (result.matches, result.successful) == (8, 4)
            assert len(col) == 6
        finally:
            c.close()


def test_schema_name_rules(client: weaviate.WeaviateClient) -> None:
    client.collections.create("Books")
    with pytest.raises(UnexpectedStatusCodeError, match="similar class"):
        client.collections.create_from_dict({"class": "BOOKS"})
    with pytest.raises(UnexpectedStatusCodeError, match="reserved"):
        client.collections.create_from_dict({"class": "Other", "properties": [{"name": "_id", "dataType": ["text"]}]})
    with pytest.raises(UnexpectedStatusCodeError, match="not a valid property name"):
        client.collections.create_from_dict(
            {"class": "Other", "properties": [{"name": "título", "dataType": ["text"]}]}
        )
    assert list(client.collections.list_all()) == ["Books"]


def test_rest_objects(client: weaviate.WeaviateClient) -> None:
    col = client.collections.create("Single", vector_config=Configure.Vectors.self_provided())
    oid = col.data.insert({"name": "a"}, vector={"default": [0.1, 0.2]})
    assert col.data.exists(oid)
    fetched = col.query.fetch_object_by_id(oid, include_vector=True)
    assert fetched is not None and fetched.properties["name"] == "a"
    assert fetched.vector["default"] == pytest.approx([0.1, 0.2])
    assert col.data.delete_by_id(oid)
    assert not col.data.exists(oid)


def test_not_needs_133() -> None:
    with WeaviateEmulator(version="1.32.0") as emu:
        c = _client(emu)
        try:
            col = c.collections.create("Old", vector_config=Configure.Vectors.self_provided())
            col.data.insert_many([DataObject(properties={"i": 1}, vector=_vec(1))])
            with pytest.raises(WeaviateQueryError, match="OPERATOR_NOT"):
                col.query.fetch_objects(filters=Filter.not_(Filter.by_property("i").equal(1.0)))
        finally:
            c.close()


def test_not_covered_is_listed() -> None:
    assert any("GraphQL" in item for item in NOT_COVERED) and len(NOT_COVERED) >= 10


def test_tenants_are_created_on_write_and_isolated(client: weaviate.WeaviateClient) -> None:
    col = client.collections.create(
        "Tenanted",
        vector_config=Configure.Vectors.self_provided(),
        multi_tenancy_config=Configure.multi_tenancy(enabled=True, auto_tenant_creation=True),
    )
    assert not col.with_tenant("acme").data.insert_many([DataObject(properties={"i": 1}, vector=_vec(1))]).errors
    assert not col.with_tenant("globex").data.insert_many([DataObject(properties={"i": 2}, vector=_vec(2))]).errors
    assert sorted(col.tenants.get()) == ["acme", "globex"]
    assert [o.properties["i"] for o in col.with_tenant("acme").query.fetch_objects().objects] == [1.0]
    with pytest.raises(WeaviateQueryError, match='tenant not found: "nobody"'):
        col.with_tenant("nobody").query.fetch_objects()
    with pytest.raises(WeaviateQueryError, match="multi-tenancy enabled, but request was without tenant"):
        col.query.fetch_objects()


def test_negative_zero_before_138_is_indexed_apart() -> None:
    with WeaviateEmulator(version="1.37.1") as emu:
        c = _client(emu)
        try:
            col = c.collections.create(
                "Zeros",
                vector_config=Configure.Vectors.self_provided(),
                properties=[Property(name="x", data_type=DataType.NUMBER)],
            )
            col.data.insert_many([DataObject(properties={"x": -0.0}, vector=_vec(1))])
            x = Filter.by_property("x")
            assert len(col.query.fetch_objects(filters=x.equal(0.0)).objects) == 0
            assert len(col.query.fetch_objects(filters=x.less_than(0.0)).objects) == 1
            assert len(col.query.fetch_objects(filters=x.greater_than(-1.0)).objects) == 1
        finally:
            c.close()


def test_compression_allow_list_and_usage_limits_answer_like_138() -> None:
    with WeaviateEmulator(allowed_compression_types=("rq-8",), max_collections=1, max_objects=2) as emu:
        c = _client(emu)
        try:
            uncompressed = Configure.VectorIndex.hnsw(quantizer=Configure.VectorIndex.Quantizer.none())
            with pytest.raises(UnexpectedStatusCodeError, match="CONFIG_NOT_ALLOWED") as refused:
                c.collections.create(
                    "Plain", vector_config=Configure.Vectors.self_provided(vector_index_config=uncompressed)
                )
            assert refused.value.status_code == 422
            rq8 = Configure.VectorIndex.hnsw(quantizer=Configure.VectorIndex.Quantizer.rq(bits=8))
            col = c.collections.create("Small", vector_config=Configure.Vectors.self_provided(vector_index_config=rq8))
            with pytest.raises(UnexpectedStatusCodeError, match="USAGE_LIMIT_EXCEEDED") as limited:
                c.collections.create("More", vector_config=Configure.Vectors.self_provided(vector_index_config=rq8))
            assert limited.value.status_code == 429
            reply = col.data.insert_many([DataObject(properties={"i": i}, vector=_vec(i)) for i in range(2)])
            assert not reply.errors
            with pytest.raises(WeaviateInsertManyAllFailedError, match="objects count limit of 2 reached"):
                col.data.insert_many([DataObject(properties={"i": 3}, vector=_vec(3))])
        finally:
            c.close()


def test_bm25_scores_like_138(client: weaviate.WeaviateClient) -> None:
    col = client.collections.create(
        "Words25",
        vector_config=Configure.Vectors.self_provided(),
        properties=[Property(name="body", data_type=DataType.TEXT)],
    )
    texts = [
        "the gasket of the pump, the gasket!",
        "XK 7741 spare part and gasket",
        "replace gasket XK-7741 before winter",
    ]
    col.data.insert_many([DataObject(properties={"body": t}, vector=_vec(i)) for i, t in enumerate(texts)])
    res = col.query.bm25("gasket", query_properties=["body"], return_metadata=MetadataQuery(score=True))
    # Values a 1.38.2 server returned for this corpus ("en" stopwords, k1 1.2, b 0.75); ties latest first.
    assert [(o.properties["body"], round(o.metadata.score or 0, 5)) for o in res.objects] == [
        (texts[0], 0.08106),
        (texts[2], 0.06203),
        (texts[1], 0.06203),
    ]
