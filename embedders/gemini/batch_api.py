"""The Gemini Batch API for large embedding jobs: half the price, results in minutes to hours.

Flow: cut the inputs into jobs that fit the 20 MB inline-request limit, submit each
(``batches.create_embeddings``, wire ``models/{m}:asyncBatchEmbedContent``), write the job names
to a small JSON state file *as soon as each job exists*, poll ``batches.get`` until every job is
terminal, and put the vectors back in input order.

The state file is keyed by a hash of everything that shapes the vectors (model, dimension, task,
title, every text), so a restarted run with the same inputs picks up its jobs instead of paying
twice, while a run with other inputs gets jobs of its own. A job that failed is forgotten (the
next run resubmits just that part); the entry is removed once everything came back.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from google import genai
from google.genai import _common as _genai_common
from google.genai import types

from vecbridge.core.errors import EmbeddingFailed, InvalidInput, VecbridgeError
from vecbridge.core.paths import write_private

from .errors import GeminiAPIError, MalformedReply, translate
from .replies import unit_vectors
from .retrying import GeminiRetryPolicy

__all__ = ["BatchJobPending", "BatchProgress", "BatchStateFile", "inputs_key", "plan_jobs", "run_batch_embedding"]

log = logging.getLogger("vecbridge.gemini")
T = TypeVar("T")

#: The Batch API takes inline requests up to 20 MB per job; 2 MB stay free for JSON framing.
MAX_JOB_BYTES = 18 * 1024 * 1024
_PER_REQUEST_OVERHEAD = 160  # {"request": {"content": {"parts": [{"text": ...}]}, "taskType": ..., ...}}
_SUCCEEDED = "JOB_STATE_SUCCEEDED"
_FAILED = {"JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"}


@dataclass(frozen=True)
class BatchProgress:
    """Passed to ``progress`` after every poll: where each job stands."""

    job_names: tuple[str, ...]
    states: tuple[str, ...]
    jobs_done: int
    jobs_total: int
    texts_total: int
    elapsed: float
    resumed: bool

    def __str__(self) -> str:
        return (f"{self.jobs_done}/{self.jobs_total} batch job(s) done, {self.texts_total} texts, "
                f"{self.elapsed:.0f}s{' (resumed)' if self.resumed else ''}")


class BatchJobPending(VecbridgeError):
    """Stopped waiting (``timeout``) while jobs still run; call again with the same texts to resume."""

    def __init__(self, message: str, job_names: Sequence[str]) -> None:
        self.job_names = list(job_names)
        super().__init__(message)


class BatchStateFile:
    """A small JSON file: inputs hash -> the jobs submitted for those inputs. Written atomically."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise InvalidInput(f"state_path {str(self.path)!r} is a directory: pass a file path such as "
                               f"{str(self.path / 'gemini-batch-state.json')!r}")

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"version": 1, "runs": {}}
        except ValueError as exc:
            raise InvalidInput(f"batch state file {str(self.path)!r} is not valid JSON ({exc}): move it aside; "
                               "jobs it named can be found with client.batches.list()") from None
        data.setdefault("runs", {})
        return dict(data)

    def _save(self, data: dict[str, Any]) -> None:
        # Atomic (a crash mid-write never leaves half a file) and private (0600, folders 0700).
        write_private(self.path, json.dumps(data, indent=1, sort_keys=True))

    def get(self, key: str) -> dict[str, Any] | None:
        run = self._load()["runs"].get(key)
        return dict(run) if run else None

    def put(self, key: str, run: dict[str, Any]) -> None:
        data = self._load()
        data["runs"][key] = run
        self._save(data)

    def drop(self, key: str) -> None:
        data = self._load()
        if data["runs"].pop(key, None) is not None:
            self._save(data)


def inputs_key(*, model: str, dimension: int, task: str | None, title: str | None, texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([model, dimension, task, title, len(texts)]).encode())
    for t in texts:
        data = t.encode("utf-8")
        h.update(len(data).to_bytes(8, "little"))  # length-prefixed: ["ab","c"] != ["a","bc"]
        h.update(data)
    return h.hexdigest()


def plan_jobs(texts: Sequence[str], max_bytes: int | None = None) -> list[tuple[int, int]]:
    """Contiguous [start, end) ranges whose inline requests stay under ``max_bytes``."""
    max_bytes = max_bytes or MAX_JOB_BYTES
    ranges: list[tuple[int, int]] = []
    start, size = 0, 0
    for i, t in enumerate(texts):
        n = len(json.dumps(t)) + _PER_REQUEST_OVERHEAD
        if n > max_bytes:
            raise InvalidInput(f"text {i} alone is about {n} bytes, more than a batch job's inline limit")
        if i > start and size + n > max_bytes:
            ranges.append((start, i))
            start, size = i, 0
        size += n
    if start < len(texts):
        ranges.append((start, len(texts)))
    return ranges


def _state_of(job: types.BatchJob) -> str:
    state = job.state
    return str(getattr(state, "value", state) or "JOB_STATE_UNSPECIFIED")


def run_batch_embedding(
    client: genai.Client,
    *,
    model: str,
    dimension: int,
    task: str | None,
    title: str | None,
    texts: Sequence[str],
    state_path: str | os.PathLike[str],
    poll_interval: float,
    progress: Callable[[BatchProgress], None] | None,
    timeout: float | None,
    display_name: str | None,
    retry: GeminiRetryPolicy,
    secret: str | None,
) -> list[list[float]]:
    if poll_interval < 0:
        raise InvalidInput("poll_interval must be >= 0 seconds")
    state = BatchStateFile(state_path)
    key = inputs_key(model=model, dimension=dimension, task=task, title=title, texts=texts)
    run = state.get(key)
    resumed = run is not None
    if run is None:
        run = {
            "model": model,
            "dimension": dimension,
            "texts": len(texts),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "jobs": [{"start": s, "end": e, "name": None} for s, e in plan_jobs(texts)],
        }
    jobs: list[dict[str, Any]] = run["jobs"]

    def call(fn: Callable[[], T]) -> T:
        for attempt in retry.retrying():
            with attempt:
                try:
                    return fn()
                except Exception as exc:
                    raise translate(exc, secret=secret) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def submit(j: int) -> None:
        job = jobs[j]
        contents = [types.Content(parts=[types.Part(text=t)]) for t in texts[job["start"] : job["end"]]]
        name = display_name or f"vecbridge-{key[:12]}"

        def create() -> types.BatchJob:
            with warnings.catch_warnings():
                # The SDK flags create_embeddings as experimental; that is known and documented here.
                warnings.simplefilter("ignore", category=getattr(_genai_common, "ExperimentalWarning", Warning))
                return client.batches.create_embeddings(
                    model=model,
                    src=types.EmbeddingsBatchJobSource(inlined_requests=types.EmbedContentBatch(
                        contents=contents,
                        config=types.EmbedContentConfig(task_type=task, title=title, output_dimensionality=dimension),
                    )),
                    config=types.CreateEmbeddingsBatchJobConfig(display_name=f"{name}-{j + 1}of{len(jobs)}"),
                )

        created = call(create)
        if not created.name:
            raise MalformedReply("the Batch API created a job without a name")
        job["name"] = created.name
        state.put(key, run)  # persisted before anything else can go wrong
        log.info("submitted batch job %s (%d texts)", created.name, job["end"] - job["start"])

    for j, job in enumerate(jobs):
        if not job["name"]:
            submit(j)

    vectors: list[list[float] | None] = [None] * len(texts)
    item_errors: dict[int, str] = {}
    job_errors: list[str] = []
    states = ["JOB_STATE_PENDING"] * len(jobs)
    pending = set(range(len(jobs)))
    started = time.monotonic()
    while True:
        for j in sorted(pending):
            job = jobs[j]
            try:
                remote = call(functools.partial(client.batches.get, name=job["name"]))
            except GeminiAPIError as exc:
                if exc.code != 404:
                    raise
                log.warning("batch job %s no longer exists; submitting its texts again", job["name"])
                submit(j)
                continue
            states[j] = _state_of(remote)
            if states[j] == _SUCCEEDED:
                _collect(remote, job, vectors, item_errors, dimension)
                pending.discard(j)
            elif states[j] in _FAILED:
                err = remote.error.message if remote.error and remote.error.message else "no reason given"
                job_errors.append(f"job {job['name']} ended {states[j]}: {err}")
                job["name"] = None  # the next run resubmits just this part
                state.put(key, run)
                pending.discard(j)
        report = BatchProgress(tuple(str(job["name"]) for job in jobs), tuple(states), len(jobs) - len(pending),
                               len(jobs), len(texts), time.monotonic() - started, resumed)
        if progress is not None:
            progress(report)
        else:
            log.info("Gemini Batch API: %s", report)
        if not pending:
            break
        if timeout is not None and time.monotonic() - started >= timeout:
            names = [str(jobs[j]["name"]) for j in sorted(pending)]
            raise BatchJobPending(
                f"{len(names)} batch job(s) still running after {timeout:.0f}s ({', '.join(names)}); their names are "
                f"saved in {str(state.path)!r}: call again with the same texts to resume without paying twice",
                names,
            )
        time.sleep(poll_interval)

    if job_errors:
        raise EmbeddingFailed("; ".join(job_errors) + f" — state kept in {str(state.path)!r}, re-run to resubmit "
                              "only the failed part", vectors)
    state.drop(key)
    if item_errors:
        first = next(iter(item_errors.items()))
        raise EmbeddingFailed(f"the Batch API could not embed {len(item_errors)} text(s) (first: index {first[0]}: "
                              f"{first[1]})", vectors)
    return vectors  # type: ignore[return-value]  # all filled: no job or item failed


def _collect(remote: types.BatchJob, job: dict[str, Any], vectors: list[list[float] | None],
             item_errors: dict[int, str], dimension: int) -> None:
    start, end = job["start"], job["end"]
    responses = remote.dest.inlined_embed_content_responses if remote.dest else None
    if responses is None or len(responses) != end - start:
        got = 0 if responses is None else len(responses)
        for i in range(start, end):
            item_errors[i] = f"job {job['name']} returned {got} results for {end - start} inputs"
        return
    for offset, item in enumerate(responses):
        i = start + offset
        embedding = item.response.embedding if item.response else None
        if item.error is not None or embedding is None or embedding.values is None:
            item_errors[i] = (item.error.message if item.error and item.error.message else "no embedding returned")
            continue
        try:
            vectors[i] = unit_vectors([embedding.values], expected=1, dimension=dimension)[0]
        except MalformedReply as exc:
            item_errors[i] = str(exc)
