"""In-process emulator of the Gemini API's embedding endpoints (REST wire format).

>>> from tests.emulators.gemini import GeminiEmulator
>>> with GeminiEmulator() as emu:  # doctest: +SKIP
...     client = genai.Client(api_key="test-key", http_options=HttpOptions(base_url=emu.base_url))

What it does not cover is listed in ``NOT_COVERED`` (server.py).
"""

from .faults import Fault
from .server import NOT_COVERED, GeminiEmulator, ReceivedRequest
from .vectors import expected_values, full_vector

__all__ = ["NOT_COVERED", "Fault", "GeminiEmulator", "ReceivedRequest", "expected_values", "full_vector"]
