"""What `backaudit serve` adds to uvicorn against slow clients (benchmarks/faults.py measures it).

uvicorn times out an idle keep-alive connection, but not one that is sending a request's headers:
a client that sends one byte a second (slowloris) holds its connection, and a file descriptor,
for as long as it likes. With the common default of 1,024 open files, 1,100 such connections
stopped the server answering anyone (a health check waited 4.4 s, until they left).
"""

from __future__ import annotations

import asyncio
import resource

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .config import get_settings


class HeadersTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol, but a request's headers must be complete within
    ``HEADERS_TIMEOUT`` seconds of its first byte (or of the connection opening): if not, the
    connection is closed. What comes after the headers is the application's business (bodies
    have a size limit)."""

    _headers_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_headers_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._headers_timer is None:
            self._start_headers_timer()

    def on_headers_complete(self) -> None:
        self._stop_headers_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_headers_timer()
        super().connection_lost(exc)

    def _start_headers_timer(self) -> None:
        self._headers_timer = self.loop.call_later(
            get_settings().http.headers_timeout, self._headers_too_slow
        )

    def _stop_headers_timer(self) -> None:
        if self._headers_timer is not None:
            self._headers_timer.cancel()
            self._headers_timer = None

    def _headers_too_slow(self) -> None:
        self._headers_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def raise_open_files_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit (as Go programs and
    nginx's worker_rlimit_nofile do): each connection is a file. The limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (OSError, ValueError):
            return soft
        return hard
    return soft
