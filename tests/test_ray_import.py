"""``pip install vecbridge`` without the ``ray`` extra: nothing imports Ray unless ``--engine ray``
asks for it, and asking for it without Ray installed names the extra to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Makes ``import ray`` fail in a child interpreter, as on a machine without the extra.
_NO_RAY = textwrap.dedent(
    """
    import sys
    class _NoRay:
        def find_spec(self, name, path=None, target=None):
            if name == "ray" or name.startswith("ray."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None
    sys.meta_path.insert(0, _NoRay())
    """
)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_the_cli_does_not_import_ray() -> None:
    done = _python("import sys, vecbridge.cli.app; print(sorted(m for m in sys.modules if m.split('.')[0] == 'ray'))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_cli_runs_without_ray_installed() -> None:
    done = _python(_NO_RAY + "sys.argv = ['vecbridge', '--help']\nfrom vecbridge.cli.app import main\nmain()")
    assert done.returncode == 0, done.stderr
    assert "migrate" in done.stdout


def test_the_ray_engine_without_ray_names_the_extra() -> None:
    code = _NO_RAY + textwrap.dedent(
        """
        from vecbridge.core.errors import MissingExtra
        try:
            import vecbridge.integrations.ray.cli
        except MissingExtra as exc:
            print(exc.extra, "|", exc)
        """
    )
    done = _python(code)
    assert done.returncode == 0, done.stderr
    extra, message = done.stdout.split("|", 1)
    assert extra.strip() == "ray"
    assert "pip install 'vecbridge[ray]'" in message
