"""Package discovery only; all metadata is in pyproject.toml.

DESIGN.md keeps the source folders short (``core/``, ``connectors/``, ``embedders/``, ``cli/``) and maps them to
``vecbridge.*`` with package-dir. Discovering the sub-packages here means a new connector folder
is packaged without editing a list.
"""

from setuptools import find_namespace_packages, setup

ROOTS = {
    "vecbridge.core": "core",
    "vecbridge.connectors": "connectors",
    "vecbridge.embedders": "embedders",
    "vecbridge.cli": "cli",
    "vecbridge.testing": "testing",
    "vecbridge.integrations": "integrations",
}

packages = []
for name, folder in ROOTS.items():
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_namespace_packages(folder, exclude=["*__pycache__*"])]

setup(packages=packages, package_dir=ROOTS)
