"""Qdrant backends: Edge (in-process engine), local mode, and a real server when
``VECBRIDGE_QDRANT_URL`` is set (e.g. ``qdrant://localhost:16333`` from docker-compose.test.yml)."""

from __future__ import annotations

import os
import tempfile

from vecbridge.core import connect
from vecbridge.testing import Backend


def _edge():  # type: ignore[no-untyped-def]
    return connect("qdrant+edge://" + tempfile.mkdtemp(prefix="vb-edge-"))


def _local():  # type: ignore[no-untyped-def]
    return connect("qdrant+local://:memory:")


def _server():  # type: ignore[no-untyped-def]
    return connect(os.environ["VECBRIDGE_QDRANT_URL"])


def _server_skip() -> str | None:
    if not os.environ.get("VECBRIDGE_QDRANT_URL"):
        return "VECBRIDGE_QDRANT_URL is not set: no Qdrant server to test (see README, integration tests)"
    return None


EDGE = Backend("qdrant-edge", _edge)
LOCAL = Backend("qdrant-local", _local)
SERVER = Backend("qdrant-server", _server, skip_reason=_server_skip, integration=True)
