"""Run the Gemini emulator as its own process (benchmarks, manual CLI runs).

    python -m tests.emulators.gemini --latency 0.1 --rate-limit-every 10

Prints its base URL on the first line of stdout, then serves until killed (or stdin closes).
Point the SDK at it with ``GOOGLE_GEMINI_BASE_URL=<url>`` and any non-empty key. The request log
is at ``GET <url>/_emulator/requests``; ``POST <url>/_emulator/reset`` clears it.
"""

from __future__ import annotations

import argparse
import sys

from .server import GeminiEmulator


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.emulators.gemini", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per embedding request")
    parser.add_argument("--rate-limit-every", type=int, default=0, help="every Nth embedding request gets a 429")
    parser.add_argument("--retry-delay", default="1s", help="RetryInfo.retryDelay of those 429s")
    parser.add_argument("--key", action="append", help="accepted API key (repeatable; default: any key)")
    args = parser.parse_args()
    emu = GeminiEmulator(api_keys=args.key, latency=args.latency, rate_limit_every=args.rate_limit_every,
                         rate_limit_delay=args.retry_delay).start()
    print(emu.base_url, flush=True)
    try:
        sys.stdin.read()  # returns when the parent closes our stdin (or dies)
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
