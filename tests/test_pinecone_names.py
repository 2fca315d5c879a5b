"""Collection names -> Pinecone index names, and the tags that keep the user's name and spec."""

from __future__ import annotations

import random
import string

import pytest

pytest.importorskip("pinecone")

from tests.emulators.pinecone import PineconeEmulator
from tests.emulators.pinecone.fixtures import emulator_fixture, make_store, store_fixture  # noqa: F401
from vecbridge.connectors.pinecone.names import (
    embedder_from_tags,
    embedder_tags,
    index_name_for,
    is_index_name,
)
from vecbridge.core import CollectionSpec, EmbedderFingerprint, InvalidInput, Metric, StoreError
from vecbridge.core.models import validate_collection_name
from vecbridge.core.store import Store
from vecbridge.embedders.hashing import HashingEmbedder


def _portable_names(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + "_-"
    return [rng.choice(string.ascii_letters) + "".join(rng.choices(alphabet, k=rng.randint(0, 62))) for _ in range(n)]


def test_valid_index_names_are_kept() -> None:
    for name in ["docs", "docs-v2", "a1", "x" * 45]:
        assert index_name_for(name) == name


@pytest.mark.parametrize("name", ["Docs", "my_docs", "docs-", "a" * 46, "A_b-C_", "x" * 63])
def test_other_names_get_a_valid_digest_name(name: str) -> None:
    mapped = index_name_for(name)
    assert mapped != name and is_index_name(mapped) and len(mapped) <= 45
    assert mapped.startswith(name.lower().replace("_", "-")[:20].rstrip("-"))
    assert index_name_for(name) == mapped  # deterministic


def test_mapping_is_valid_and_one_to_one_over_many_names() -> None:
    names = sorted(set(_portable_names(3000)) | {"Docs", "docs", "DOCS", "do_cs", "do-cs", "Do-cs"})
    mapped = {n: index_name_for(n) for n in names}
    assert all(validate_collection_name(n) and is_index_name(m) for n, m in mapped.items())
    assert len(set(mapped.values())) == len(names)


def test_fingerprint_round_trips_through_tags() -> None:
    fp = HashingEmbedder(dimension=24, ngram_min=2).fingerprint
    tags = embedder_tags(fp)
    assert all(len(v) <= 120 and v.isascii() and v.isprintable() for v in tags.values())
    assert embedder_from_tags(tags) == fp
    assert embedder_from_tags({}) is None


def test_fingerprint_too_large_for_tags_is_refused() -> None:
    fp = EmbedderFingerprint("x", "m", 8, options={"blob": "z" * 3000})
    with pytest.raises(InvalidInput, match="tags"):
        embedder_tags(fp)


def test_user_name_and_spec_survive_in_index_tags(emulator: PineconeEmulator, store: Store) -> None:
    emb = HashingEmbedder(dimension=16)
    spec = store.create_collection(CollectionSpec("My_Docs", 16, Metric.DOT, emb.fingerprint))
    index = emulator.indexes[index_name_for("My_Docs")]
    assert index.tags["vecbridge-name"] == "My_Docs" and index.metric == "dotproduct"
    assert "My_Docs" in store.list_collections()
    # Another process sees the same spec, read back from Pinecone.
    other = make_store(emulator)
    try:
        assert other.describe_collection("My_Docs") == spec
        assert other.describe_collection("My_Docs").embedder == emb.fingerprint
        assert not other.has_collection("my_docs")  # a different collection, another index
    finally:
        other.close()


def test_indexes_made_outside_vecbridge(emulator: PineconeEmulator, store: Store) -> None:
    from pinecone import Pinecone

    from tests.emulators.pinecone.fixtures import SERVERLESS, TEST_KEY

    pc = Pinecone(api_key=TEST_KEY, host=emulator.control_url)
    pc.indexes.create(name="legacy-idx", dimension=4, metric="euclidean", spec=SERVERLESS, timeout=-1)
    pc.indexes.create(name="1st-try", dimension=4, metric="cosine", spec=SERVERLESS, timeout=-1)
    pc.indexes.create(name=index_name_for("Clash"), dimension=4, metric="cosine", spec=SERVERLESS, timeout=-1)
    names = store.list_collections()
    assert "legacy-idx" in names  # a plain dense index is a collection under its own name
    assert "1st-try" not in names  # no portable name reaches it
    assert store.describe_collection("legacy-idx").metric is Metric.EUCLIDEAN
    with pytest.raises(StoreError, match="choose another collection name"):
        store.describe_collection("Clash")  # its index name is taken by an untagged index
