"""In-process emulator of Pinecone's REST API (control and data planes), reached like Pinecone Local.

>>> from tests.emulators.pinecone import PineconeEmulator
>>> with PineconeEmulator() as emu:  # doctest: +SKIP
...     store = connect(emu.url)  # pinecone+local://127.0.0.1:PORT

What it does not cover is listed in ``NOT_COVERED`` (server.py).
"""

from .server import NOT_COVERED, Fault, PineconeEmulator, ReceivedRequest

__all__ = ["NOT_COVERED", "Fault", "PineconeEmulator", "ReceivedRequest"]
