"""vecbridge on Ray Data: read, embed, write and migrate collections across a cluster.

Needs the ``ray`` extra (``pip install 'vecbridge[ray]'``); importing this package without it
raises ``MissingExtra`` naming the command. See docs/scale-out.md.

    >>> import ray  # doctest: +SKIP
    >>> from vecbridge.integrations.ray import embed, read_collection, write_collection  # doctest: +SKIP
    >>> data = read_collection("pgvector://user@db/app", "docs")  # doctest: +SKIP
    >>> write_collection(data, "qdrant://localhost:6333", "docs", spec=spec)  # doctest: +SKIP
"""

from vecbridge.core.errors import MissingExtra

try:
    import ray
    import ray.data  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("the Ray engine (--engine ray)", "ray", exc) from exc

from .embedding import REMOTE_PROVIDERS, EmbedStage, embed
from .migration import migrate
from .rate_limit import RateLimit, RateLimiter
from .reading import read_collection
from .session import ClusterUnavailable, ray_session
from .transfer import export_collection, import_file, ingest_texts
from .writing import CollectionDatasink, write_collection

__all__ = [
    "REMOTE_PROVIDERS",
    "ClusterUnavailable",
    "CollectionDatasink",
    "EmbedStage",
    "RateLimit",
    "RateLimiter",
    "embed",
    "export_collection",
    "import_file",
    "ingest_texts",
    "migrate",
    "ray_session",
    "read_collection",
    "write_collection",
]
