"""A minimal QMP (QEMU Machine Protocol) client over a UNIX socket, standard library only.

QMP is one JSON object per line: the server greets (``{"QMP": {...}}``), the client
negotiates with ``qmp_capabilities``, then each ``{"execute": ...}`` gets one ``return``
or ``error`` answer, with asynchronous ``event`` objects interleaved at any point. Every
command carries an ``id`` so that an answer is never taken for another's; events read on
the way, before the greeting too, are kept in :attr:`QMPClient.events`. Every read has a deadline.
"""

from __future__ import annotations

import itertools
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import HarnessError

MAX_LINE = 1 << 20  # a QMP answer is small; a longer line means the peer is not QMP


class QMPError(HarnessError):
    """The QMP server answered with an error, or the conversation broke."""

    def __init__(self, message: str, error_class: str | None = None) -> None:
        super().__init__(message)
        self.error_class = error_class


class QMPClient:
    """One QMP conversation; use :meth:`connect`, then :meth:`execute`, then :meth:`close`."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self._sock = sock
        self._timeout = timeout
        self._buffer = b""
        self._ids = itertools.count(1)
        self.greeting: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []

    @classmethod
    def connect(
        cls, path: Path, timeout: float = 10.0, alive: Callable[[], bool] = lambda: True
    ) -> QMPClient:
        """Connect to the socket at ``path`` (retrying while QEMU creates it and ``alive()``
        says it runs), read the greeting and negotiate capabilities."""
        deadline = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(path))
                break
            except OSError as exc:
                sock.close()
                if time.monotonic() >= deadline or not alive():
                    raise QMPError(f"cannot connect to QMP at {path}: {exc.strerror}") from exc
                time.sleep(0.05)
        client = cls(sock, timeout)
        try:
            client.greeting = client._read_greeting()
            client.execute("qmp_capabilities")
        except BaseException:
            client.close()
            raise
        return client

    def _read_greeting(self) -> dict[str, Any]:
        """The greeting; events that come before it are kept in :attr:`events`.

        QEMU can write an event before the greeting: a client that connects while the
        guest starts may read ``RESUME`` first (seen with QEMU 7.2, ``-qmp unix:...,wait=off``).
        Anything else first means the peer is not a QMP server.
        """
        deadline = time.monotonic() + self._timeout
        while True:
            message = self._receive(deadline)
            if "QMP" in message:
                return dict(message["QMP"])
            if "event" not in message:
                raise QMPError(f"not a QMP greeting: {json.dumps(message)[:200]}")
            self.events.append(message)

    def execute(self, command: str, arguments: dict[str, Any] | None = None) -> Any:
        """Run ``command`` and return its ``return`` value; an ``error`` answer raises."""
        ident = f"bc-{next(self._ids)}"
        request: dict[str, Any] = {"execute": command, "id": ident}
        if arguments:
            request["arguments"] = arguments
        try:
            self._sock.sendall(json.dumps(request).encode("utf-8") + b"\n")
        except OSError as exc:
            raise QMPError(f"QMP {command}: cannot send: {exc.strerror}") from exc
        deadline = time.monotonic() + self._timeout
        while True:
            message = self._receive(deadline)
            if "event" in message:
                self.events.append(message)
            elif message.get("id") == ident:
                return self._answer(command, message)
            # an answer without our id (another client's, or none): not ours, ignored

    @staticmethod
    def _answer(command: str, message: dict[str, Any]) -> Any:
        if "error" in message:
            error = message["error"] if isinstance(message["error"], dict) else {}
            kind = str(error.get("class", "GenericError"))
            raise QMPError(f"QMP {command}: {kind}: {error.get('desc', 'no description')}", kind)
        if "return" not in message:
            raise QMPError(f"QMP {command}: an answer with neither return nor error")
        return message["return"]

    def _receive(self, deadline: float) -> dict[str, Any]:
        """The next JSON object from the server, before ``deadline``."""
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise QMPError(f"QMP: no answer within {self._timeout:g} s")
            self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(65536)
            except socket.timeout:
                continue
            except OSError as exc:
                raise QMPError(f"QMP: connection lost: {exc.strerror}") from exc
            if not chunk:
                raise QMPError("QMP: the server closed the connection")
            self._buffer += chunk
            if len(self._buffer) > MAX_LINE:
                raise QMPError(f"QMP: a message over {MAX_LINE} bytes; not a QMP server")
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            message = json.loads(line)
        except ValueError as exc:
            raise QMPError(f"QMP: not JSON: {line[:200]!r}") from exc
        if not isinstance(message, dict):
            raise QMPError(f"QMP: not a JSON object: {line[:200]!r}")
        return message

    def balloon(self, target: int) -> None:
        """Ask the guest for a logical memory size of ``target`` bytes."""
        self.execute("balloon", {"value": target})

    def balloon_actual(self) -> int:
        """``query-balloon``'s ``actual``: the guest's memory minus the balloon, in bytes."""
        answer = self.execute("query-balloon")
        if not isinstance(answer, dict) or not isinstance(answer.get("actual"), int):
            raise QMPError(f"QMP query-balloon: no 'actual' in {json.dumps(answer)[:200]}")
        return int(answer["actual"])

    def close(self) -> None:
        """Close the connection (QEMU keeps running)."""
        self._sock.close()

    def __enter__(self) -> QMPClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
