"""`backaudit serve` as people run it: a real uvicorn on a free loopback port, spoken to over raw
sockets, for what only the server itself answers (slow clients, a request it cannot parse)."""

from __future__ import annotations

import http.client
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.middleware import security_headers
from tests.support.network import free_port

ROOT = Path(__file__).resolve().parent.parent
HEADERS_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    tmp = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'served.db'}",
        "ENVIRONMENT": "development",
        "HEADERS_TIMEOUT": str(HEADERS_TIMEOUT),
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1"]
    with (tmp / "server.log").open("w") as log:
        server = subprocess.Popen(
            [*command, "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 30
        while health(port) != 200:
            assert server.poll() is None, "serve stopped while starting"
            assert time.monotonic() < deadline, "serve did not answer within 30 s"
            time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def health(port: int) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def exchange(port: int, request: bytes) -> bytes:
    """Sends ``request`` as it is and reads until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def response_headers(response: bytes) -> list[tuple[str, str]]:
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    return [
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(":") for line in head.split("\r\n")[1:])
    ]


def closed_by_server_within(connection: socket.socket, seconds: float) -> bool:
    """Whether the server closes this connection within so long (what is left of an earlier
    response is read and dropped)."""
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            connection.settimeout(left)
            if connection.recv(4096) == b"":
                return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return False


def test_a_client_that_sends_its_headers_too_slowly_is_disconnected(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never the blank line

        assert closed_by_server_within(slow, HEADERS_TIMEOUT + 2)


def test_a_connection_that_sends_nothing_is_disconnected(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as silent:
        assert closed_by_server_within(silent, HEADERS_TIMEOUT + 2)


def test_a_kept_alive_connection_gets_the_same_time_for_its_next_request(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert connection.recv(4096).startswith(b"HTTP/1.1 200")
        connection.sendall(b"GET /healthz HTTP/1.1\r\n")  # and then one byte a second, say

        assert closed_by_server_within(connection, HEADERS_TIMEOUT + 2)


def test_headers_that_arrive_in_pieces_in_time_are_served(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        for piece in (b"GET /healthz HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"\r\n"):
            connection.sendall(piece)
            time.sleep(HEADERS_TIMEOUT / 4)
        connection.settimeout(5)

        assert connection.recv(4096).startswith(b"HTTP/1.1 200")


def test_a_slow_request_is_not_cut_off_after_its_headers_arrived(port: int) -> None:
    """The timeout is for the headers only: a body may come later (within the body limit)."""
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(
            b"POST /api/v1/questionnaires/low-back-audit/next HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 15\r\n\r\n"
        )
        time.sleep(HEADERS_TIMEOUT * 2)
        connection.sendall(b'{"answers": {}}')
        connection.settimeout(5)

        assert connection.recv(4096).startswith(b"HTTP/1.1 200")


def test_the_servers_own_400_for_a_request_it_cannot_parse_has_the_security_headers(
    port: int,
) -> None:
    response = exchange(port, b"NOT A REQUEST\x00\r\n\r\n")

    assert response.startswith(b"HTTP/1.1 400 ")
    got = dict(response_headers(response))
    for name, value in security_headers(hsts=False):
        assert got.get(name.decode()) == value.decode(), name
    assert "server" not in got


def test_a_served_page_has_each_security_header_once(port: int) -> None:
    response = exchange(
        port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )

    assert response.startswith(b"HTTP/1.1 200 ")
    names = [name for name, _ in response_headers(response)]
    for name, _ in security_headers(hsts=False):
        assert names.count(name.decode()) == 1, name


def test_serve_raises_its_open_files_limit_to_the_hard_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= 256:
        pytest.skip(f"the hard limit ({hard}) leaves nothing to raise")

    def low_soft_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    printed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resource; from app.serving import raise_open_files_limit;"
            " raise_open_files_limit();"
            " print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=low_soft_limit,
    )

    assert int(printed.stdout) == hard
