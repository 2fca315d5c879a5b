"""Build the google-genai client: Gemini API with a key, or Vertex AI with project/location.

The key comes from ``api_key=``, else ``GEMINI_API_KEY``, else ``GOOGLE_API_KEY``. Everything
else is left to the SDK, so its own environment variables keep working
(``GOOGLE_GENAI_USE_VERTEXAI``, ``GOOGLE_CLOUD_PROJECT``, ``GOOGLE_CLOUD_LOCATION``,
``GOOGLE_GEMINI_BASE_URL``, ``GOOGLE_GENAI_API_VERSION``). The SDK's retries stay off: vecbridge
retries itself, honouring the server's RetryInfo (see retrying.py).
"""

from __future__ import annotations

import os

from google import genai
from google.genai import types

from vecbridge.core.errors import InvalidInput

from .errors import scrub

__all__ = ["KEY_ENV_VARS", "build_client", "resolve_api_key", "vertex_requested"]

KEY_ENV_VARS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")


def resolve_api_key(explicit: str | None) -> str | None:
    if explicit:
        return explicit.strip()
    for name in KEY_ENV_VARS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def vertex_requested(vertexai: bool | None) -> bool:
    if vertexai is not None:
        return vertexai
    for name in ("GOOGLE_GENAI_USE_ENTERPRISE", "GOOGLE_GENAI_USE_VERTEXAI"):
        value = os.environ.get(name)
        if value is not None:
            return value.strip().lower() in ("true", "1")
    return False


def build_client(
    *,
    api_key: str | None,
    vertexai: bool | None,
    project: str | None,
    location: str | None,
    base_url: str | None,
    timeout: float | None,
) -> tuple[genai.Client, str | None]:
    """Return the client and the secret it uses (kept only to scrub it from messages)."""
    use_vertex = vertex_requested(vertexai)
    http_options = types.HttpOptions(
        base_url=base_url,
        timeout=int(timeout * 1000) if timeout else None,  # the SDK takes milliseconds
    )
    if use_vertex:
        # Vertex authenticates with project/location + Application Default Credentials, or an
        # express-mode key; only an explicit key is passed so the SDK's own precedence rules hold.
        secret = api_key.strip() if api_key else None
        try:
            client = genai.Client(vertexai=True, api_key=secret, project=project, location=location,
                                  http_options=http_options)
        except Exception as exc:
            raise InvalidInput(
                f"could not set up Vertex AI: {scrub(str(exc), secret)}. Pass project= and location= "
                "(or set GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION) and log in with "
                "'gcloud auth application-default login'"
            ) from None
        return client, secret
    if project or location:
        raise InvalidInput("project= and location= are Vertex AI settings: pass vertexai=True as well")
    key = resolve_api_key(api_key)
    if not key:
        raise InvalidInput(
            "no Gemini API key: set GEMINI_API_KEY (or GOOGLE_API_KEY) in the environment or pass api_key=...; "
            "get a key at https://aistudio.google.com/apikey. For Vertex AI pass vertexai=True with project/location"
        )
    try:
        client = genai.Client(api_key=key, http_options=http_options)
    except Exception as exc:
        raise InvalidInput(f"could not set up the Gemini client: {scrub(str(exc), key)}") from None
    return client, key
