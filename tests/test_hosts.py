"""Requests addressed to a host the site is not (a forged Host header) are refused: nothing the
app builds can then carry another site's name."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.config import Http, Settings
from app.main import create_app
from tests.support.settings import settings_with


def test_a_request_for_another_host_is_a_400_with_the_security_headers(
    client: TestClient,
) -> None:
    for path in ("/", "/staff/login", "/healthz", "/api/v1/questionnaires"):
        response = client.get(path, headers={"Host": "evil.example"})
        assert response.status_code == 400, path
        assert "evil.example" not in response.text
        assert response.headers["x-frame-options"] == "DENY"


def test_by_default_the_public_url_s_host_and_the_local_names_are_allowed(
    settings: Settings,
) -> None:
    public = settings_with(
        settings, public_url="https://backaudit.example.org", http={"allowed_hosts": ""}
    )
    assert public.trusted_hosts == ["backaudit.example.org", "localhost", "127.0.0.1"]
    with TestClient(create_app(public), base_url="https://backaudit.example.org") as browser:
        assert browser.get("/healthz").status_code == 200
        assert browser.get("/healthz", headers={"Host": "127.0.0.1:8000"}).status_code == 200
        assert browser.get("/healthz", headers={"Host": "testserver"}).status_code == 400


def test_allowed_hosts_replaces_the_default_and_takes_subdomain_patterns(
    settings: Settings,
) -> None:
    named = settings_with(settings, http={"allowed_hosts": "Clinic.example, *.backaudit.example"})
    assert named.trusted_hosts == ["clinic.example", "*.backaudit.example"]
    with TestClient(create_app(named), base_url="http://eu.backaudit.example") as browser:
        assert browser.get("/healthz").status_code == 200
        assert browser.get("/healthz", headers={"Host": "localhost"}).status_code == 400


@pytest.mark.parametrize("pattern", ["back*.example", "*backaudit.example", "a.*.example"])
def test_a_malformed_host_pattern_stops_the_app_starting(pattern: str) -> None:
    with pytest.raises(ValidationError, match="ALLOWED_HOSTS"):
        Http(allowed_hosts=pattern)


@pytest.mark.parametrize(
    "host",
    [
        "localhost:1@evil.example",
        "localhost@evil.example",
        "localhost:80:81",
        "localhost/evil.example",
        "localhost:http",
        "localhost evil.example",
        "evil.localhost",
        "",
    ],
)
def test_a_host_header_that_only_starts_like_an_allowed_host_is_a_400(
    client: TestClient, host: str
) -> None:
    # Redirects (a missing or extra trailing slash) are built from the Host header.
    for path in ("/staff", "/api/v1/questionnaires/", "/healthz"):
        response = client.get(path, headers={"Host": host}, follow_redirects=False)
        assert response.status_code == 400, (host, path)
        assert "location" not in response.headers
        assert "evil" not in response.text


def test_an_allowed_host_with_a_port_or_in_capitals_is_still_allowed(client: TestClient) -> None:
    for host in ("localhost:8000", "LOCALHOST", "testserver:443", "localhost."):
        assert client.get("/healthz", headers={"Host": host}).status_code == 200, host
    redirect = client.get("/staff", headers={"Host": "localhost:8000"}, follow_redirects=False)
    assert redirect.headers["location"] == "http://localhost:8000/staff/"


@pytest.mark.parametrize("path", ["/static/%00", "/static/a%00.css", "/r/%00", "/api/v1/%0a"])
def test_a_control_character_in_the_path_is_a_404_not_a_500(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    if path.startswith("/api/"):  # in the API's own problem JSON, as its documents say
        assert answer.json() == {"detail": "Not Found", "problems": []}


def test_proxy_headers_without_forwarded_allow_ips_are_warned_of_once(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    client.get("/healthz")
    assert "FORWARDED_ALLOW_IPS" not in caplog.text
    for _ in range(3):
        client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.7"})
    warnings = [r for r in caplog.records if "FORWARDED_ALLOW_IPS is not set" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelname == "WARNING"
    assert "203.0.113.7" not in caplog.text  # no client address in the log


def test_with_forwarded_allow_ips_set_proxy_headers_are_not_warned_of(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    behind = settings_with(settings, http={"forwarded_allow_ips": "127.0.0.1"})
    with TestClient(create_app(behind)) as browser:
        browser.get("/healthz", headers={"X-Forwarded-For": "203.0.113.7"})
    assert "FORWARDED_ALLOW_IPS" not in caplog.text
