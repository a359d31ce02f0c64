"""app/middleware.py: the security headers on every response, and request bodies over the limits
refused before anything parses them."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient

from tests.web.helpers import FIRST_PAGE, csrf_of

NEXT = "/api/v1/questionnaires/low-back-audit/next"


def test_an_api_body_over_the_limit_is_a_413_in_the_apis_error_shape(client: TestClient) -> None:
    # 1.25 M unknown keys once came back as a 130 MB list of problems.
    huge = b'{"answers": {' + b",".join(b'"q%d": 1' % i for i in range(20_000)) + b"}}"
    response = client.post(NEXT, content=huge, headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert response.json()["problems"] == [
        {"field": "body", "code": "too_large", "message": "is too large"}
    ]
    assert len(response.content) < 300


def test_a_body_sent_in_chunks_is_counted_as_it_comes(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"answers": {'
        for i in range(20_000):
            yield b'"q%d": 1,' % i

    response = client.post(NEXT, content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_a_form_post_over_its_own_smaller_limit_is_a_413(client: TestClient) -> None:
    page = client.get(f"/questions/{FIRST_PAGE}")
    response = client.post(
        f"/questions/{FIRST_PAGE}",
        data={"csrf_token": csrf_of(page.text), "saddle_numbness": "no", "padding": "x" * 40_000},
    )
    assert response.status_code == 413
    assert "more than this site accepts" in response.text


def test_bodies_under_the_limits_go_through_unchanged(client: TestClient) -> None:
    response = client.post(NEXT, json={"answers": {"saddle_numbness": True}})
    assert response.status_code == 200
    assert response.json()["stopped"] is True


def test_every_response_carries_security_headers(client: TestClient) -> None:
    headers = client.get("/healthz").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
