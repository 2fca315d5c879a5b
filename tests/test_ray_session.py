"""Connecting to a Ray cluster and what crosses into tasks: checked options, a fast failure for a
cluster that is not there, typed errors, no password in what Ray shows (no Ray cluster needed)."""

from __future__ import annotations

import time

import pytest

ray = pytest.importorskip("ray")

from vecbridge.core.errors import InvalidInput, StoreInUse  # noqa: E402
from vecbridge.integrations.ray.cli import Engine  # noqa: E402
from vecbridge.integrations.ray.session import ClusterUnavailable, ray_session, typed_error  # noqa: E402
from vecbridge.integrations.ray.stores import StoreAddress, worker_store  # noqa: E402


@pytest.mark.parametrize("address", [None, "auto", "ray://head.example:10001", "ray://head", "10.0.0.5:6379"])
def test_addresses_ray_accepts_are_kept(address: str | None) -> None:
    assert Engine(address=address, workers=4).address == address


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"address": "http://head:8265"}, "not a Ray address"),
        ({"address": "ray://user:hunter2@head:10001"}, "not a Ray address"),
        ({"workers": 0}, "workers must be a positive integer"),
        ({"workers": True}, "workers must be a positive integer"),
    ],
)
def test_bad_engine_options_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        Engine(**options)  # type: ignore[arg-type]
    assert "hunter2" not in str(caught.value)


def test_a_cluster_that_is_not_there_fails_fast() -> None:
    assert not ray.is_initialized()
    started = time.monotonic()
    with (
        pytest.raises(ClusterUnavailable, match=r"no Ray cluster answers at 127\.0\.0\.1:1"),
        ray_session("127.0.0.1:1"),
    ):
        pass
    assert time.monotonic() - started < 60  # Ray alone keeps retrying for minutes
    assert not ray.is_initialized()


def test_a_task_failure_comes_back_as_the_vecbridge_error_with_its_own_message() -> None:
    cause = StoreInUse(
        "the store is in use: close the other process\nFailed to apply UDF transform after 1/1 attempts (total "
        "backoff 0.0s).\nTo change retry attempts, backoff, or which errors are retried, configure "
        "`ray.data.DataContext.get_current()` if you believe this to be transient."
    )
    error = typed_error(ray.exceptions.RayTaskError("write", "Traceback ...", cause))
    assert error is cause
    assert str(error) == "the store is in use: close the other process"
    other = RuntimeError("not ours")
    assert typed_error(other) is other


def test_a_store_address_shows_no_password_and_opens_once_per_process() -> None:
    address = StoreAddress("pgvector://app:hunter2@db.example:5432/prod")
    assert "hunter2" not in repr(address) and "db.example" in repr(address)
    memory = StoreAddress("memory://ray-session-test")
    assert worker_store(memory) is worker_store(StoreAddress("memory://ray-session-test"))
