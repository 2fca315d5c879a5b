"""vecbridge errors cross process boundaries intact (Ray sends a failed task's exception back to
the driver by pickling it), so a distributed job raises the same typed error, with the same
accounting, as the single-process path. No Ray needed: this is plain pickling."""

from __future__ import annotations

import pickle

import pytest

from vecbridge.core.errors import (
    DimensionMismatch,
    EmbeddingFailed,
    InvalidInput,
    MissingExtra,
    TransientError,
    UpsertFailed,
    VecbridgeError,
)


def _round_trip(exc: VecbridgeError) -> VecbridgeError:
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc)
    assert str(back) == str(exc)
    return back


def test_upsert_failed_keeps_its_accounting() -> None:
    exc = UpsertFailed(
        "store rejected records",
        ["b"],
        ["a"],
        InvalidInput("too big"),
        not_attempted_ids=["c"],
        reasons={"b": "too big"},
        unread_input=True,
    )
    back = _round_trip(exc)
    assert isinstance(back, UpsertFailed)
    assert (back.written_ids, back.failed_ids, back.not_attempted_ids) == (["a"], ["b"], ["c"])
    assert back.reasons == {"b": "too big"} and back.unread_input is True
    assert isinstance(back.cause, InvalidInput) and str(back.cause) == "too big"


def test_embedding_failed_keeps_the_vectors_it_got() -> None:
    exc = EmbeddingFailed("quota", [[0.5, 0.5], None], cause=TransientError("429", retry_after=3.0))
    back = _round_trip(exc)
    assert isinstance(back, EmbeddingFailed)
    assert back.vectors == [[0.5, 0.5], None]
    assert back.failed_indexes == [1] and back.embedded_indexes == [0]
    assert isinstance(back.cause, TransientError) and back.cause.retry_after == 3.0


def test_missing_extra_keeps_the_extra() -> None:
    back = _round_trip(MissingExtra("the Ray engine", "ray", ImportError("no ray")))
    assert isinstance(back, MissingExtra) and back.extra == "ray"


@pytest.mark.parametrize(
    "exc",
    [InvalidInput("bad id"), DimensionMismatch("3 != 4"), TransientError("503", retry_after=1.5)],
    ids=["invalid-input", "dimension-mismatch", "transient"],
)
def test_plain_errors_keep_type_message_and_hint(exc: VecbridgeError) -> None:
    back = _round_trip(exc)
    assert getattr(back, "retry_after", None) == getattr(exc, "retry_after", None)
