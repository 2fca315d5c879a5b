"""The emulator itself must behave like the real endpoint, or the other Gemini tests prove nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("google.genai")

from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from tests.emulators.gemini import NOT_COVERED, expected_values
from tests.emulators.gemini.fixtures import TEST_KEY, emulator_fixture  # noqa: F401


def post(url: str, body: object, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_v1beta_paths_work_as_the_sdk_2x_sends_them(emulator):
    client = genai.Client(api_key=TEST_KEY,
                          http_options=types.HttpOptions(base_url=emulator.base_url, api_version="v1beta"))
    reply = client.models.embed_content(model="gemini-embedding-001", contents=["x"],
                                        config=types.EmbedContentConfig(output_dimensionality=128))
    assert len(reply.embeddings[0].values) == 128
    assert emulator.requests[0].path == "/v1beta/models/gemini-embedding-001:batchEmbedContents"


def test_single_embed_content_and_key_as_query_parameter(emulator):
    status, body = post(f"{emulator.base_url}/v1/models/gemini-embedding-001:embedContent?key={TEST_KEY}",
                        {"content": {"parts": [{"text": "hi"}]}, "taskType": "CLUSTERING",
                         "outputDimensionality": 256})
    assert status == 200
    assert body["embedding"]["values"] == pytest.approx(expected_values("hi", task="CLUSTERING", dimension=256),
                                                        abs=1e-7)


def test_errors_look_like_the_real_api(emulator):
    base = f"{emulator.base_url}/v1/models"
    one = {"requests": [{"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "x"}]}}]}
    status, body = post(f"{base}/gemini-embedding-001:batchEmbedContents", one)
    assert (status, body["error"]["status"]) == (403, "PERMISSION_DENIED")  # no key at all
    status, body = post(f"{base}/gemini-embedding-001:batchEmbedContents", one, {"x-goog-api-key": "wrong"})
    assert (status, body["error"]["details"][0]["reason"]) == (400, "API_KEY_INVALID")
    status, body = post(f"{base}/no-such-model:batchEmbedContents", one, {"x-goog-api-key": TEST_KEY})
    assert status == 404 and "is not found" in body["error"]["message"]
    empty = {"requests": [{"content": {"parts": [{"text": ""}]}}]}
    status, body = post(f"{base}/gemini-embedding-001:batchEmbedContents", empty, {"x-goog-api-key": TEST_KEY})
    assert status == 400 and "requests[0].content" in body["error"]["message"]


def test_rate_limits_carry_retry_info(emulator):
    emulator.rate_limit_every = 2
    emulator.rate_limit_delay = "7s"
    client = genai.Client(api_key=TEST_KEY, http_options=types.HttpOptions(base_url=emulator.base_url))
    client.models.embed_content(model="gemini-embedding-001", contents=["a"])
    with pytest.raises(genai_errors.ClientError) as info:
        client.models.embed_content(model="gemini-embedding-001", contents=["b"])
    assert info.value.code == 429 and info.value.status == "RESOURCE_EXHAUSTED"
    kinds = [d["@type"].rsplit(".", 1)[-1] for d in info.value.details["error"]["details"]]
    assert "QuotaFailure" in kinds and "RetryInfo" in kinds
    assert info.value.details["error"]["details"][-1]["retryDelay"] == "7s"


def test_it_runs_as_its_own_process_with_a_readable_log():
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen([sys.executable, "-m", "tests.emulators.gemini", "--key", TEST_KEY], cwd=root,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        client = genai.Client(api_key=TEST_KEY, http_options=types.HttpOptions(base_url=base_url))
        client.models.embed_content(model="gemini-embedding-001", contents=["a", "b"])
        with urllib.request.urlopen(f"{base_url}/_emulator/requests") as reply:
            [logged] = json.loads(reply.read())
        assert logged["texts"] == ["a", "b"] and logged["status"] == 200
    finally:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()


def test_the_limits_of_the_emulator_are_written_down():
    assert any("Vertex" in item for item in NOT_COVERED)
    assert any("token" in item for item in NOT_COVERED)
