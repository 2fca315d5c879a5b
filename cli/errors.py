"""How a ``vecbridge`` command fails: one line that says what to do, never a traceback.

Every error of every command, including those of the command line itself, ends here:

* without ``--json``: ``error: <message>`` as one line on stderr, printed literally;
* with ``--json``: one JSON object on stdout (stdout stays one JSON document for scripts)::

      {"error": {"type": "CollectionNotFound", "message": "...", "exit_code": 1}}

  ``type`` is the vecbridge error class (``InvalidInput``, ``CollectionNotFound``, ``MissingExtra``
  ...), ``UsageError`` for a wrong command line, ``Interrupted``, ``Aborted``, an ``OSError``
  subclass name (``FileNotFoundError``, ``PermissionError`` ...) or ``InternalError``.

Exit status: 2 when the command line is wrong (unknown option, missing argument, an option
value out of range or malformed, such as ``-k 0`` or ``--filter null``), 1 for any other failure
(bad file content, the store, the network, the disk), 130 after Ctrl-C. Anything unexpected is
reported as ``internal error: ... (please report it)`` with status 1; ``VECBRIDGE_DEBUG=1`` adds
the traceback on stderr.

Secrets never reach the output: every message is stripped of the passwords and keys of the
store URLs on the command line (and ``$VECBRIDGE_STORE``), of API keys in the environment, and of
anything shaped like ``//user:password@`` or ``api_key=...``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, unquote_plus

import typer
from typer.core import TyperGroup

from vecbridge.core.errors import VecbridgeError
from vecbridge.core.urls import redact_text

from .output import literal, say

__all__ = ["CliFailure", "Interrupted", "SecretScrubber", "VecbridgeGroup", "describe_failure"]

USAGE = 2
FAILURE = 1
INTERRUPTED = 130

INTERRUPT_MESSAGE = (
    "interrupted: run the same command again; writes are idempotent, so nothing is duplicated "
    "(migrate continues from its checkpoint)"
)

# Environment variables whose values are secrets however they are used.
_SECRET_ENV = re.compile(r"(^|_)(API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$", re.I)
_PASSWORD = re.compile(r"//[^/@\s]*?:([^@/\s]*)@")
_QUERY_SECRET = re.compile(
    r"[?&;][^=&\s]*?(?:key|password|passwd|secret|token|credential|auth)[^=&\s]*=([^&\s#]+)", re.I
)
# Shorter values would scrub ordinary words out of messages; the URL patterns of
# core.urls.redact_text still mask short passwords wherever they appear as part of a URL.
_MIN_SECRET = 4


class Interrupted(Exception):
    """Ctrl-C inside a command (raised instead of KeyboardInterrupt so that click passes it on)."""


@dataclass(frozen=True)
class CliFailure:
    type: str
    message: str
    exit_code: int


class SecretScrubber:
    """Removes known secret values from text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        unique = {s for s in secrets if len(s) >= _MIN_SECRET}
        self.secrets = sorted(unique, key=len, reverse=True)  # longest first: no partial leftovers

    @classmethod
    def from_command_line(cls, argv: Sequence[str], environ: Mapping[str, str]) -> SecretScrubber:
        found: list[str] = []
        for arg in [*argv, environ.get("VECBRIDGE_STORE", "")]:
            if "://" in arg:
                found.extend(_url_secrets(arg))
        found.extend(value for name, value in environ.items() if _SECRET_ENV.search(name))
        return cls(found)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return redact_text(text)


def _url_secrets(text: str) -> list[str]:
    """The passwords and secret query values of the URLs in ``text``, as typed and decoded."""
    found = _PASSWORD.findall(text) + _QUERY_SECRET.findall(text)
    return [*found, *(unquote(v) for v in found), *(unquote_plus(v) for v in found)]


def _one_line(text: str) -> str:
    """Messages of several lines (a list of problems) become one: lines joined by a space."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def describe_failure(exc: BaseException) -> CliFailure:
    """What to tell the user about ``exc``, and the exit status."""
    if isinstance(exc, (Interrupted, KeyboardInterrupt)):
        return CliFailure("Interrupted", INTERRUPT_MESSAGE, INTERRUPTED)
    if isinstance(exc, typer.Abort):
        return CliFailure("Aborted", "aborted: nothing was changed", FAILURE)
    if _is_usage_error(exc):
        command = getattr(getattr(exc, "ctx", None), "command_path", None) or "vecbridge"
        message = exc.format_message()  # type: ignore[attr-defined]
        return CliFailure("UsageError", f"{message} (see '{command} --help')", USAGE)
    if isinstance(exc, VecbridgeError):
        return CliFailure(type(exc).__name__, str(exc) or type(exc).__name__, FAILURE)
    if isinstance(exc, UnicodeDecodeError):
        return CliFailure(
            "InvalidInput", f"cannot read text: {exc.reason} at byte {exc.start}; vecbridge reads UTF-8", FAILURE
        )
    if isinstance(exc, RecursionError):
        return CliFailure("InvalidInput", "the input is nested too deeply to process: flatten it", FAILURE)
    if isinstance(exc, OSError):
        return CliFailure(type(exc).__name__, _os_message(exc), FAILURE)
    if isinstance(exc, MemoryError):
        return CliFailure("MemoryError", "out of memory: use a smaller --batch-size or split the input", FAILURE)
    return CliFailure(
        "InternalError",
        f"internal error: {type(exc).__name__}: {exc} (please report it; VECBRIDGE_DEBUG=1 shows the traceback)",
        FAILURE,
    )


def _is_usage_error(exc: BaseException) -> bool:
    # Typer vendors click (typer._click) in recent versions and uses click itself in older ones:
    # recognise click's UsageError by its shape rather than by one of the two classes.
    return getattr(exc, "exit_code", None) == USAGE and callable(getattr(exc, "format_message", None))


def _os_message(exc: OSError) -> str:
    what = exc.strerror or str(exc) or type(exc).__name__
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    return f"{what}: {' -> '.join(names)}" if names else what


class Reporter:
    """Prints the failure of one run of the CLI, once."""

    def __init__(self, argv: Sequence[str], environ: Mapping[str, str]) -> None:
        options = argv[: argv.index("--")] if "--" in argv else argv
        self.json = "--json" in options
        self.scrub = SecretScrubber.from_command_line(argv, environ)
        self.debug = environ.get("VECBRIDGE_DEBUG", "") not in ("", "0")
        self.interrupted = False

    def _print(self, failure: CliFailure) -> None:
        message = literal(_one_line(self.scrub(failure.message)))
        # "interrupted: ..." and "aborted: ..." are not errors of the command
        line = message if failure.type in ("Interrupted", "Aborted") else f"error: {message}"
        try:
            if self.json:
                error = {"type": failure.type, "message": message, "exit_code": failure.exit_code}
                say(json.dumps({"error": error}, ensure_ascii=False))
            else:
                say(line, stderr=True)
        except OSError:  # the output itself is gone (a closed pipe, a full disk): try stderr, then give up
            _discard_stdout()
            with suppress(OSError):
                say(line, stderr=True)

    def announce_interrupt(self) -> None:
        """Say at once that Ctrl-C was seen: closing a store after it can take a while."""
        if not self.interrupted:
            self._print(describe_failure(KeyboardInterrupt()))
            self.interrupted = True

    def fail(self, exc: BaseException) -> int:
        failure = describe_failure(exc)
        if self.interrupted:  # announced already; what failed while stopping is not news
            failure = describe_failure(KeyboardInterrupt())
        else:
            self._print(failure)
        if self.debug:
            say(self.scrub("".join(traceback.format_exception(exc))), stderr=True)
        return failure.exit_code


def _discard_stdout() -> None:
    """Send what is left in stdout's buffer to /dev/null, so that Python's final flush of a broken
    stdout does not print an 'Exception ignored' traceback on the way out."""
    with suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


@contextmanager
def _announce_interrupts(reporter: Reporter) -> Iterator[None]:
    """While a command runs, Ctrl-C prints its line at once, then stops the command as usual."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_interrupt(signum: int, frame: Any) -> None:
        # A signal can arrive while the main thread is inside a write to stderr: then the line
        # would be a reentrant write, and is printed when the command has stopped instead.
        with suppress(RuntimeError):
            reporter.announce_interrupt()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)


class VecbridgeGroup(TyperGroup):
    """The ``vecbridge`` command group, with every error handled in one place (see the module
    docstring) — for the installed script and for ``typer.testing.CliRunner`` alike."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        reporter = Reporter(argv, os.environ)
        try:
            with _announce_interrupts(reporter):
                result = super().main(
                    args=argv,
                    prog_name=prog_name or "vecbridge",
                    complete_var=complete_var,
                    standalone_mode=False,
                    **extra,
                )
            code = result if isinstance(result, int) else 0
        except SystemExit:
            raise
        except BaseException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare 'vecbridge': the help, as click shows it
                exc.show()  # type: ignore[attr-defined]
                code = USAGE
            else:
                code = reporter.fail(exc)
        if standalone_mode:
            sys.exit(code)
        return code

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            # click would print an empty line and turn it into Exit(130) silently.
            raise Interrupted() from exc
