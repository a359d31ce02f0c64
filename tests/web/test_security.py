"""CSRF on every form post, cookies, and headers of the patient pages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.assets import static_url
from app.config import Settings
from app.main import create_app
from app.models import Assessment, Draft
from tests.support.settings import settings_with
from tests.web.helpers import (
    FIRST_PAGE,
    form_fields,
    post_page,
    run_interview,
    safety_answers,
    self_care_answers,
)


def test_a_form_post_without_the_csrf_field_is_refused(client: TestClient, db: Session) -> None:
    client.get(f"/questions/{FIRST_PAGE}")  # has the cookie, but sends no field
    response = client.post(
        f"/questions/{FIRST_PAGE}",
        data=form_fields(
            {"saddle_numbness": False, "bladder_change": False, "bowel_change": False}
        ),
    )
    assert response.status_code == 403
    assert "Sorry, we could not save that" in response.text
    assert db.exec(select(Draft)).all() == []


def test_a_csrf_field_from_another_visitor_is_refused(app, db: Session) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as other, TestClient(app) as client:
        page = other.get(f"/questions/{FIRST_PAGE}")
        stolen = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert stolen
        client.get("/")
        response = client.post(
            f"/questions/{FIRST_PAGE}",
            data={**form_fields(safety_answers()), "csrf_token": stolen.group(1)},
        )
    assert response.status_code == 403


def test_a_post_without_any_cookie_is_refused(app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as client:
        response = client.post(f"/questions/{FIRST_PAGE}", data={"csrf_token": "x" * 64})
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/check", "/stop"])
def test_finishing_needs_the_csrf_field(client: TestClient, db: Session, path: str) -> None:
    run_interview(client, self_care_answers(), until="/check")
    assert client.post(path, data={}).status_code == 403
    assert db.exec(select(Assessment)).all() == []


def test_deleting_a_result_needs_the_csrf_field(client: TestClient, db: Session) -> None:
    location, _ = run_interview(client, self_care_answers())
    assert client.post(f"{location}/delete", data={}).status_code == 403
    assert client.get(location).status_code == 200


def test_a_forged_host_header_never_reaches_a_link(settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    """Static files are linked by path: a Host header anyone can send must not point the
    page's stylesheet or script at another site, even where every host is allowed (a forged
    one is refused before this: tests/test_hosts.py)."""
    any_host = settings_with(settings, http={"allowed_hosts": "*"})
    with TestClient(create_app(any_host)) as client:
        pages = [
            client.get(path, headers={"Host": "evil.example"}) for path in ("/", "/staff/login")
        ]
    for page in pages:
        assert page.status_code == 200
        assert "evil.example" not in page.text
        assert f'href="{static_url("css/site.css")}"' in page.text


def test_cookies_are_http_only_same_site_lax_and_for_the_whole_site(client: TestClient) -> None:
    first = client.get("/")
    response = post_page(client, f"/questions/{FIRST_PAGE}", form_fields(safety_answers()))
    for header in (first.headers["set-cookie"], response.headers["set-cookie"]):
        assert "HttpOnly" in header
        assert "SameSite=lax" in header
        assert "Path=/" in header
        assert "Secure" not in header  # plain http in development and tests


def test_cookies_are_secure_in_production(settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    production = settings.model_copy(update={"environment": "production"})
    with TestClient(create_app(production), base_url="https://testserver") as client:
        response = client.get("/")
    assert "Secure" in response.headers["set-cookie"]


def test_patient_pages_are_not_cached_and_use_no_inline_style_or_script(client: TestClient) -> None:
    for path in ("/", f"/questions/{FIRST_PAGE}"):
        response = client.get(path)
        assert response.headers["cache-control"] == "no-store"
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        assert " style=" not in response.text
        assert "<style" not in response.text
        assert re.search(r"<script(?![^>]*\bsrc=)", response.text) is None


def test_a_malformed_form_is_refused_without_echoing_what_was_sent(client: TestClient) -> None:
    """FastAPI's default 422 repeats the input: a 1,260-character password came back."""
    secret = "p" * 1260
    # (The sign-in form takes any length now, and fails a long one like a wrong password.)
    response = client.post("/staff/set-password/x", data={"password": secret})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert secret not in response.text
    assert "problem with that request" in response.text
