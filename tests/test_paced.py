"""benchmarks/paced.py, the fixed-rate client of benchmarks/api.py: it sends what it is given at
the offered rate, tells expected statuses from others, and counts latency from when a request
was due, so a server that falls behind shows in the percentiles (open loop)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from paced import PacedRun, Request, run_paced


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the app's server
    seen: ClassVar[list[tuple[str, str, bytes]]] = []

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Handler.seen.append((self.command, self.path, body))
        if self.path == "/slow":
            time.sleep(0.05)
        status = 404 if self.path == "/missing" else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = _answer  # noqa: N815 - http.server's names

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Handler.seen = []
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def run(port: int, path: str, *, rate: float, connections: int = 4) -> PacedRun:
    # On a thread of its own, as the benchmark runs it from a plain script: in a test process
    # an event loop may be running already (the browser tests' Playwright keeps one).
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(
            run_paced,
            "127.0.0.1",
            port,
            path,
            lambda i: Request("POST", path, (("Content-Type", "text/plain"),), f"n={i}".encode()),
            rate=rate,
            seconds=0.5,
            connections=connections,
            expect=200,
        ).result()


def test_sends_each_request_at_the_offered_rate(port: int) -> None:
    started = time.monotonic()
    result = run(port, "/ok", rate=40)
    assert (result.due, result.ok, result.other, result.errors) == (20, 20, 0, 0)
    assert time.monotonic() - started >= 0.45  # paced, not flat out
    # Each request as made for its number (bodies differ), each answered once.
    assert sorted(body for _, _, body in Handler.seen) == sorted(
        f"n={i}".encode() for i in range(20)
    )
    assert len(result.latencies_ms) == 20


def test_other_statuses_are_counted_by_code(port: int) -> None:
    result = run(port, "/missing", rate=20)
    assert (result.ok, result.other, dict(result.other_statuses)) == (0, 10, {404: 10})


def test_latency_counts_from_when_a_request_was_due(port: int) -> None:
    # One connection to a server that takes 50 ms a request can answer 20 a second; offered 40,
    # the queue grows, and the last requests wait about half a second although each took 50 ms.
    result = run(port, "/slow", rate=40, connections=1)
    assert result.ok == 20
    assert result.percentile(50) >= 100
    assert result.percentile(99) >= 350


def test_percentile_is_the_nearest_rank() -> None:
    result = PacedRun("x", 1, 100, latencies_ms=[float(n) for n in range(100, 0, -1)])
    assert (result.percentile(50), result.percentile(99), result.percentile(100)) == (50, 99, 100)
