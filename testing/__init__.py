"""Test helpers published for users and third-party connectors.

Run vecbridge's conformance suite against your own connector in three lines::

    from vecbridge.testing import Backend, StoreConformanceTests

    class TestMyStore(StoreConformanceTests):
        backend = Backend("mystore", lambda: MyStore(...))

Needs pytest (``pip install 'vecbridge[dev]'``).
"""

from .backend import Backend
from .conformance import StoreConformanceTests

__all__ = ["Backend", "StoreConformanceTests"]
