"""gzip for the site's text (app/middleware.py Compress): pages, CSS, JS and SVG, and only them."""

from __future__ import annotations

import asyncio
import gzip
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from app.assets import static_url
from app.middleware import Compress, accepts_gzip

GZIP = {"Accept-Encoding": "gzip"}


def raw(client: TestClient, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """The response as sent: status, headers and the body still compressed."""
    with client.stream("GET", path, headers=headers) as response:
        return response.status_code, dict(response.headers), b"".join(response.iter_raw())


def test_a_page_is_sent_gzipped_and_still_never_cached(client: TestClient) -> None:
    status, headers, body = raw(client, "/", **GZIP)
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert int(headers["content-length"]) == len(body)
    assert b"Check your back pain" in gzip.decompress(body)
    assert headers["cache-control"] == "no-store"
    assert headers["vary"] == "Accept-Encoding"
    assert "default-src 'self'" in headers["content-security-policy"]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (static_url("css/site.css"), "text/css"),
        (static_url("js/enhance.js"), "javascript"),
    ],
)
def test_stylesheets_and_scripts_are_gzipped(client: TestClient, path: str, kind: str) -> None:
    status, headers, body = raw(client, path, **GZIP)
    assert status == 200
    assert kind in headers["content-type"]
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == client.get(path).content
    assert headers["etag"].startswith('W/"')


def test_a_large_svg_is_gzipped_and_a_small_one_is_not(client: TestClient) -> None:
    status, headers, _ = raw(client, "/static/exercises/thoracic_lats-hang_shoulder_rotations.svg")
    assert status == 200
    assert headers["content-type"] == "image/svg+xml"
    assert headers["content-encoding"] == "gzip"
    _, small, body = raw(client, static_url("favicon.svg"), **GZIP)
    assert len(body) < 500
    assert "content-encoding" not in small


def test_a_compressed_file_still_revalidates_by_its_etag(client: TestClient) -> None:
    first = client.get(static_url("css/site.css"), headers=GZIP)
    again = client.get(
        static_url("css/site.css"), headers={**GZIP, "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


def test_nothing_is_compressed_for_a_browser_that_does_not_ask(client: TestClient) -> None:
    status, headers, body = raw(client, "/", **{"Accept-Encoding": "identity"})
    assert status == 200
    assert "content-encoding" not in headers
    assert b"Check your back pain" in body
    assert headers["vary"] == "Accept-Encoding"


def test_a_page_another_site_asked_for_is_not_compressed(client: TestClient) -> None:
    # BREACH: a secret (the CSRF field) compressed beside what another site put in the request.
    _, page, _ = raw(client, "/", **GZIP, **{"Sec-Fetch-Site": "cross-site"})
    assert "content-encoding" not in page
    _, same_site, _ = raw(client, "/", **GZIP, **{"Sec-Fetch-Site": "same-origin"})
    assert same_site["content-encoding"] == "gzip"
    _, css, _ = raw(client, static_url("css/site.css"), **GZIP, **{"Sec-Fetch-Site": "cross-site"})
    assert css["content-encoding"] == "gzip"  # a stylesheet holds no secret


def test_icons_and_json_are_sent_as_they_are(client: TestClient) -> None:
    _, icon, _ = raw(client, "/favicon.ico", **GZIP)
    assert "content-encoding" not in icon
    _, document, _ = raw(client, "/api/v1/openapi.json", **GZIP)
    assert "content-encoding" not in document


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("br;q=1.0, GZIP;q=0.5", True),
        ("x-gzip", True),
        ("gzip;q=0", False),
        ("gzip;q=nonsense", False),
        ("deflate, br", False),
        ("", False),
    ],
)
def test_accept_encoding_is_read_with_its_weights(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


def test_a_streamed_response_is_compressed_part_by_part() -> None:
    parts = [b"<p>" + b"x" * 400 + b"</p>", b"<p>" + b"y" * 400 + b"</p>", b""]

    async def streaming(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/html; charset=utf-8")],
            }
        )
        for i, part in enumerate(parts):
            await send({"type": "http.response.body", "body": part, "more_body": i < 2})

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "headers": [(b"accept-encoding", b"gzip")]}
    # In a thread of its own: a browser test's event loop may be running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, Compress(streaming)(scope, receive, send)).result()

    start = dict(sent[0]["headers"])
    assert start[b"content-encoding"] == b"gzip"
    assert b"content-length" not in start
    body = b"".join(m["body"] for m in sent[1:])
    assert gzip.decompress(body) == b"".join(parts)
    assert len(sent) == 1 + len(parts)
