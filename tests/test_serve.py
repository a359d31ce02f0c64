"""`backaudit serve` as people run it: a real uvicorn on a free loopback port, spoken to over raw
sockets, for what only the server itself answers (a request it cannot parse)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.middleware import security_headers

ROOT = Path(__file__).resolve().parent.parent
STARTUP_LIMIT = 60.0  # seconds to wait for the server to listen (not a timing assertion)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _exchange(port: int, request: bytes) -> bytes:
    """Sends ``request`` as it is and reads until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def _headers(response: bytes) -> list[tuple[str, str]]:
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    return [
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(":") for line in head.split("\r\n")[1:])
    ]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    folder = tmp_path_factory.mktemp("served")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'served.db'}",
        "ENVIRONMENT": "development",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=folder,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + STARTUP_LIMIT
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("backaudit serve did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_servers_own_400_for_a_request_it_cannot_parse_has_the_security_headers(
    served: int,
) -> None:
    response = _exchange(served, b"NOT A REQUEST\x00\r\n\r\n")

    assert response.startswith(b"HTTP/1.1 400 ")
    got = dict(_headers(response))
    for name, value in security_headers(hsts=False):
        assert got.get(name.decode()) == value.decode(), name
    assert "server" not in got


def test_a_served_page_has_each_security_header_once(served: int) -> None:
    response = _exchange(
        served, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )

    assert response.startswith(b"HTTP/1.1 200 ")
    names = [name for name, _ in _headers(response)]
    for name, _ in security_headers(hsts=False):
        assert names.count(name.decode()) == 1, name
