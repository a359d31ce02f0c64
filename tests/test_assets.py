"""Static files: links that name their content, long caching for those, a short cache for the
rest, and the favicon (app/assets.py)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.assets import LONG_CACHE, SHORT_CACHE, STATIC_DIR, static_url

STATIC_LINK = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def test_a_static_link_names_the_files_content() -> None:
    digest = hashlib.sha256((STATIC_DIR / "css" / "site.css").read_bytes()).hexdigest()[:12]
    assert static_url("css/site.css") == f"/static/css/site.{digest}.css"


def test_the_hashes_are_computed_once_not_on_every_link(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_reading(self: Path) -> bytes:
        raise AssertionError(f"{self} read while rendering a link")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    assert static_url("js/enhance.js").startswith("/static/js/enhance.")


def test_a_file_that_is_not_there_keeps_its_plain_link() -> None:
    assert static_url("css/missing.css") == "/static/css/missing.css"


@pytest.mark.parametrize("path", ["/", "/staff/login"])
def test_every_static_link_on_a_page_is_fingerprinted_and_kept_for_a_year(
    client: TestClient, path: str
) -> None:
    page = client.get(path)
    links = STATIC_LINK.findall(page.text)
    assert links, "the page links no static file"
    for link in links:
        assert re.search(r"\.[0-9a-f]{12}\.[a-z]+$", link), link
        response = client.get(link)
        assert response.status_code == 200, link
        assert response.headers["cache-control"] == LONG_CACHE


def test_a_fingerprinted_file_is_the_same_file_as_its_plain_name(client: TestClient) -> None:
    hashed = client.get(static_url("js/enhance.js"))
    plain = client.get("/static/js/enhance.js")
    assert hashed.content == plain.content == (STATIC_DIR / "js" / "enhance.js").read_bytes()
    assert hashed.headers["cache-control"] == LONG_CACHE
    assert plain.headers["cache-control"] == SHORT_CACHE


def test_an_old_hash_gets_todays_file_but_only_for_a_short_while(client: TestClient) -> None:
    response = client.get("/static/css/site.000000000000.css")
    assert response.status_code == 200
    assert response.content == (STATIC_DIR / "css" / "site.css").read_bytes()
    assert response.headers["cache-control"] == SHORT_CACHE


def test_a_missing_static_file_is_a_404_that_is_not_cached(client: TestClient) -> None:
    response = client.get("/static/css/missing.css")
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"


def test_a_static_file_keeps_the_security_headers(client: TestClient) -> None:
    response = client.get(static_url("css/site.css"))
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_browsers_automatic_favicon_request_finds_an_icon(client: TestClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an icon file
    assert response.headers["cache-control"] == SHORT_CACHE


@pytest.mark.parametrize("path", ["/", "/staff/login"])
def test_every_page_names_its_icons(client: TestClient, path: str) -> None:
    page = client.get(path).text
    assert '<link rel="icon" href="/favicon.ico" sizes="32x32">' in page
    svg = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert svg is not None
    icon = client.get(svg.group(1))
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/svg+xml"
