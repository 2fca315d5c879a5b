"""Where a job runs (the Ray cluster) and the Ray Data settings vecbridge's jobs run with.

Addresses, as ``ray.init`` takes them: ``None`` starts a Ray instance on this machine for the job
(or reuses the one this process already started), ``"auto"`` joins the cluster this machine belongs
to (``ray start``, ``RAY_ADDRESS``), ``"ray://host:10001"`` drives a remote cluster through Ray
Client, ``"host:6379"`` names a cluster's head directly.

Errors: Ray wraps an exception raised in a task in its own ``RayTaskError``. Jobs run with Ray
Data's ``raise_original_map_exception`` so the original travels back, and :func:`job_context`
re-raises the vecbridge error itself — the same typed error the single-process path raises.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import ray
import ray.data
from ray.exceptions import RayTaskError

from vecbridge.core.errors import InvalidInput, VecbridgeError
from vecbridge.core.urls import redact_url

__all__ = [
    "ClusterUnavailable",
    "check_address",
    "check_workers",
    "cluster_cpus",
    "job_context",
    "ray_session",
    "typed_error",
    "typed_errors",
]

_ADDRESS_RE = re.compile(r"^(auto|local|ray://[A-Za-z0-9.\-]+(:\d+)?/?|[A-Za-z0-9.\-]+:\d+)$")


class ClusterUnavailable(VecbridgeError):
    """The Ray cluster named by ``--address`` could not be reached or started."""


def check_address(address: str | None) -> str | None:
    """``address`` if it has one of the forms ``ray.init`` accepts (see the module docstring)."""
    if address is None:
        return None
    if not isinstance(address, str) or not _ADDRESS_RE.fullmatch(address.strip()):
        raise InvalidInput(
            f"--address {redact_url(str(address))!r} is not a Ray address: use 'auto' (the cluster this machine "
            "belongs to), 'ray://HOST:10001' (Ray Client) or 'HOST:6379' (the head node)"
        )
    return address.strip()


def check_workers(workers: int | None) -> int | None:
    """``workers`` if it is None (Ray decides) or a positive integer."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise InvalidInput(f"workers must be a positive integer, got {workers!r}")
    return workers


def cluster_cpus() -> int:
    """CPUs of the cluster this process is connected to (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))  # type: ignore[no-untyped-call]


def _reachable(address: str) -> None:
    """Fail fast on a head node that is not there: Ray itself keeps retrying for minutes."""
    if address in ("auto", "local"):
        return
    host, _, port = address.removeprefix("ray://").rstrip("/").partition(":")
    try:
        socket.create_connection((host, int(port or 10001)), timeout=10).close()
    except OSError as exc:
        raise ClusterUnavailable(
            f"no Ray cluster answers at {address} ({exc.strerror or exc}): check the address, or start one with "
            "'ray start --head' (Ray Client listens on port 10001, the head node on 6379)"
        ) from None


@contextmanager
def ray_session(address: str | None = None, *, quiet: bool = True) -> Iterator[None]:
    """Connect to the Ray cluster at ``address`` for the duration of the block (see the module
    docstring); a Ray instance this call started is shut down at the end. A process that already
    called ``ray.init`` keeps its own connection."""
    address = check_address(address)
    started = False
    if not ray.is_initialized():
        if address is not None:
            _reachable(address)
        level = logging.ERROR if quiet else logging.INFO
        try:
            if address is None:
                ray.init(include_dashboard=False, log_to_driver=not quiet, logging_level=level)
            else:
                ray.init(address=address, log_to_driver=not quiet, logging_level=level)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            where = "a local Ray instance" if address is None else f"the Ray cluster at {address}"
            raise ClusterUnavailable(
                f"could not start or reach {where} ({type(exc).__name__}: {exc}): start one with "
                "'ray start --head' and pass --address auto, or drop --address to run on this machine"
            ) from None
        started = True
    try:
        with job_context(quiet=quiet):
            yield
    finally:
        if started:
            ray.shutdown()


#: What Ray Data appends to the message of an exception raised in a task (advice on its own retry
#: settings, which do not apply: vecbridge's policy retries what can be retried).
_RAY_RETRY_NOTE = re.compile(r"\nFailed to .+? after \d+/\d+ attempts \(total backoff [\d.]+s\)\..*\Z", re.S)


def typed_error(exc: BaseException) -> BaseException:
    """The vecbridge error behind a Ray task failure, with its own message, or ``exc`` itself
    when there is none."""
    if not (isinstance(exc, RayTaskError) and isinstance(exc.cause, VecbridgeError)):
        return exc
    error = exc.cause
    if error.args and isinstance(error.args[0], str):
        error.args = (_RAY_RETRY_NOTE.sub("", error.args[0]), *error.args[1:])
    return error


def typed_errors(dataset: ray.data.Dataset) -> ray.data.Dataset:
    """``dataset`` (one vecbridge derived from a caller's dataset) set to send a failed task's own
    exception back: a dataset keeps the settings it was made with, not those of the job running it."""
    dataset.context.raise_original_map_exception = True
    return dataset


@contextmanager
def job_context(*, quiet: bool = True) -> Iterator[None]:
    """Ray Data settings for vecbridge's jobs, restored afterwards: the original exception of a
    failed task travels back (and is re-raised here as itself), no progress bars or execution
    banners when ``quiet``."""
    context = ray.data.DataContext.get_current()
    saved = (context.raise_original_map_exception, context.enable_progress_bars, context.print_on_execution_start)
    data_log = logging.getLogger("ray.data")
    saved_level = data_log.level
    context.raise_original_map_exception = True
    if quiet:
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        # Ray Data logs a failed task's traceback itself; the caller gets the typed error instead.
        data_log.setLevel(logging.CRITICAL)
    try:
        yield
    except Exception as exc:
        error = typed_error(exc)
        if error is exc:
            raise
        raise error from None
    finally:
        context.raise_original_map_exception, context.enable_progress_bars, context.print_on_execution_start = saved
        data_log.setLevel(saved_level)
