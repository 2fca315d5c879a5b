"""The one conformance suite, run on every backend in ``BACKENDS``."""

from __future__ import annotations

import pytest

from vecbridge.testing import Backend, StoreConformanceTests

from .backends import BACKENDS


class TestConformance(StoreConformanceTests):
    @pytest.fixture(scope="class", params=[b.param() for b in BACKENDS])
    @classmethod
    def backend(cls, request: pytest.FixtureRequest) -> Backend:
        return request.param  # type: ignore[no-any-return]
