"""Failure injection and a call log, so tests can see how a client copes with what servers do."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

import grpc


@dataclass
class _Rule:
    message: str
    remaining: int | None  # None: forever
    targets: frozenset[str] | None = None  # uuids (objects) or None for all

    def applies(self, key: str) -> bool:
        return (self.targets is None or key in self.targets) and (self.remaining is None or self.remaining > 0)

    def spend(self) -> None:
        if self.remaining is not None:
            self.remaining -= 1


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[str] = []
        #: Objects in each BatchObjects request, in order.
        self.batch_sizes: list[int] = []
        self._objects: list[_Rule] = []
        self._deletes: list[_Rule] = []
        self._rpcs: dict[str, list[tuple[grpc.StatusCode, _Rule]]] = {}
        self._http: list[tuple[str, str, int, _Rule]] = []

    def record(self, call: str) -> None:
        with self._lock:
            self.calls.append(call)

    def count(self, call: str) -> int:
        with self._lock:
            return sum(1 for c in self.calls if c == call)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.batch_sizes.clear()
            self._objects.clear()
            self._deletes.clear()
            self._rpcs.clear()
            self._http.clear()

    # ----- per-object batch errors ------------------------------------------------------------

    def fail_objects(self, uuids: Iterable[str] | None, message: str, times: int | None = None) -> None:
        """Reject these objects (all if None) in BatchObjects with ``message``, ``times`` times each."""
        with self._lock:
            targets = frozenset(str(u) for u in uuids) if uuids is not None else None
            if targets is not None and times is not None:
                self._objects.extend(_Rule(message, times, frozenset([t])) for t in targets)
            else:
                self._objects.append(_Rule(message, times, targets))

    def object_error(self, uuid: str) -> str | None:
        return self._take(self._objects, uuid)

    def fail_deletes(self, uuids: Iterable[str], message: str, times: int | None = None) -> None:
        """Report these objects as failed (and keep them) in BatchDelete."""
        with self._lock:
            self._deletes.extend(_Rule(message, times, frozenset([str(u)])) for u in uuids)

    def delete_error(self, uuid: str) -> str | None:
        return self._take(self._deletes, uuid)

    def _take(self, rules: list[_Rule], key: str) -> str | None:
        with self._lock:
            for rule in rules:
                if rule.applies(key):
                    rule.spend()
                    return rule.message
        return None

    # ----- whole requests ---------------------------------------------------------------------

    def fail_rpc(self, method: str, code: grpc.StatusCode, message: str, times: int = 1) -> None:
        """Abort the next ``times`` calls of gRPC ``method`` (e.g. "Search") with ``code``."""
        with self._lock:
            self._rpcs.setdefault(method, []).append((code, _Rule(message, times)))

    def take_rpc_fault(self, method: str) -> tuple[grpc.StatusCode, str] | None:
        with self._lock:
            for code, rule in self._rpcs.get(method, []):
                if rule.applies(method):
                    rule.spend()
                    return code, rule.message
        return None

    def fail_http(self, method: str, path_prefix: str, status: int, message: str = "injected", times: int = 1) -> None:
        """Answer the next ``times`` REST requests ``method path_prefix*`` with ``status``."""
        with self._lock:
            self._http.append((method.upper(), path_prefix, status, _Rule(message, times)))

    def take_http_fault(self, method: str, path: str) -> tuple[int, str] | None:
        with self._lock:
            for verb, prefix, status, rule in self._http:
                if verb == method and path.startswith(prefix) and rule.applies(path):
                    rule.spend()
                    return status, rule.message
        return None
