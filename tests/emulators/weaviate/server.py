"""``WeaviateEmulator``: the REST and gRPC servers on free local ports, sharing one database."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version as package_version
from types import TracebackType
from typing import Any

import grpc
from weaviate.proto.v1 import weaviate_pb2_grpc

from .database import Database, Settings
from .faults import Faults
from .grpc_api import HealthService, WeaviateService
from .rest_api import RestServer


class WeaviateEmulator:
    """An in-process stand-in for one Weaviate node that the real ``weaviate-client`` can drive.

    >>> with WeaviateEmulator() as emu:  # doctest: +SKIP
    ...     client = weaviate.connect_to_local(port=emu.http_port, grpc_port=emu.grpc_port)

    ``api_key`` makes both APIs demand ``Authorization: Bearer <key>``. ``version`` is what
    ``/v1/meta`` reports and what the emulator behaves as (the client switches wire formats on it;
    below 1.33 the ``Not`` and ``ContainsNone`` filter operators are refused; before 1.38 a stored
    -0.0 is indexed apart from 0.0; from 1.38 usage limits and compression allow-lists apply;
    negated counts include retired doc ids on 1.33-1.36.2, and on any version after
    :meth:`restart`). ``settings`` holds the server's configuration (``Settings``: limits, allowed
    compressions, message size ...). ``faults`` injects failures and logs calls (and the
    consistency level of each request, as ``consistency:<Method>:<LEVEL>``).
    """

    def __init__(
        self,
        *,
        version: str = Settings.version,
        api_key: str | None = None,
        query_maximum_results: int = Settings.query_maximum_results,
        autoschema: bool = True,
        host: str = "127.0.0.1",
        **settings: Any,
    ) -> None:
        self.settings = Settings(
            version=version, query_maximum_results=query_maximum_results, autoschema=autoschema, **settings
        )
        self.db = Database(self.settings)
        self.faults = Faults()
        self.host = host
        self._api_key = api_key
        self._rest: RestServer | None = None
        self._rest_thread: threading.Thread | None = None
        self._grpc: grpc.Server | None = None
        self.http_port = 0
        self.grpc_port = 0

    def __repr__(self) -> str:  # never shows the api key
        return f"WeaviateEmulator(http={self.host}:{self.http_port}, grpc={self.host}:{self.grpc_port})"

    # ----- lifecycle --------------------------------------------------------------------------

    def start(self) -> WeaviateEmulator:
        if self._rest is not None:
            return self
        self._rest = RestServer((self.host, 0), self.db, self.faults, self._api_key)
        self._rest.client_version = package_version("weaviate-client")
        self.http_port = int(self._rest.server_address[1])
        self._rest_thread = threading.Thread(
            target=self._rest.serve_forever, kwargs={"poll_interval": 0.05}, name="weaviate-emulator-rest", daemon=True
        )
        self._rest_thread.start()
        size = self.settings.grpc_max_message_size
        self._grpc = grpc.server(
            ThreadPoolExecutor(max_workers=8, thread_name_prefix="weaviate-emulator-grpc"),
            options=[("grpc.max_receive_message_length", size), ("grpc.max_send_message_length", size)],
        )
        service = WeaviateService(self.db, self.faults, self._api_key)
        weaviate_pb2_grpc.add_WeaviateServicer_to_server(service, self._grpc)  # type: ignore[no-untyped-call]
        self._grpc.add_generic_rpc_handlers((HealthService(self.faults).handler(),))
        self.grpc_port = self._grpc.add_insecure_port(f"{self.host}:0")
        self._grpc.start()
        return self

    def stop(self) -> None:
        if self._grpc is not None:
            self._grpc.stop(grace=None)
            self._grpc = None
        if self._rest is not None:
            self._rest.shutdown()
            self._rest.server_close()
            self._rest = None
        if self._rest_thread is not None:
            self._rest_thread.join(timeout=5)
            self._rest_thread = None

    def __enter__(self) -> WeaviateEmulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ----- addresses --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """A vecbridge store URL for this emulator."""
        return f"weaviate://{self.host}:{self.http_port}?grpc_port={self.grpc_port}"

    @property
    def pypi_url(self) -> str:
        """Stand-in for PyPI's JSON API, which the client asks for its latest version on connect."""
        return f"http://{self.host}:{self.http_port}/pypi/weaviate-client/json"

    # ----- test helpers -----------------------------------------------------------------------

    def object_count(self, class_name: str, tenant: str | None = None) -> int:
        """Live objects of a class (of one tenant, or of all of them)."""
        data = self.db.get_class(class_name)
        if data is None:
            return 0
        shards = [data.shards.get(tenant)] if tenant is not None else list(data.shards.values())
        return sum(len(s.objects) for s in shards if s is not None)

    def restart(self) -> None:
        """What a server restart on the same data changes: the doc id universe a negated filter
        starts from is prefilled from the high-water mark, so counts of negations include every
        doc id a delete retired (weaviate/weaviate#10260, not fixed in 1.38.2)."""
        self.settings.restarted = True

    def reset(self) -> None:
        """Forget every class, object, fault and logged call."""
        with self.db.lock:
            self.db.classes.clear()
        self.settings.restarted = False
        self.faults.reset()
