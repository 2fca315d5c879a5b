"""Running the CLI in-process for the robustness tests: exit code, stdout and stderr apart."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from typer.testing import CliRunner

from vecbridge.cli.app import app

runner = CliRunner()


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def run_cli(*args: str, env: dict[str, str] | None = None) -> Run:
    res = runner.invoke(app, list(args), env=env)
    return Run(res.exit_code, res.stdout, res.stderr, res.exception)


def memory_store() -> str:
    """A fresh in-memory store, shared by name with every CLI run of this process."""
    return f"memory://robust-{uuid.uuid4().hex[:12]}"
