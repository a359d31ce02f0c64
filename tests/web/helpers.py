"""Driving the patient form with the TestClient: answers go in as form fields, exactly as a
browser would send them (every answer on every post; the server reads only the page's own)."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.fixtures import EXAMPLE_ANSWERS, SAFETY_ALL_NO

FIRST_PAGE = "about_you"  # the age: the rules read it, so it comes first
EMERGENCY_PAGE = "emergency_signs"  # every sign that alone means an emergency


def self_care_answers() -> dict[str, Any]:
    """A complete interview that ends in self-care, with a plan."""
    return copy.deepcopy(EXAMPLE_ANSWERS)


def safety_answers(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(SAFETY_ALL_NO), **changes}


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no form with a CSRF field"
    return match.group(1)


def form_fields(answers: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in answers.items():
        if isinstance(value, bool):
            fields[key] = "yes" if value else "no"
        elif isinstance(value, list):
            fields[key] = value
        else:
            fields[key] = str(value)
    return fields


def post_page(
    client: TestClient, url: str, fields: Mapping[str, Any], *, csrf: str | None = None
) -> httpx.Response:
    """Open a page (as a browser does, which gives the CSRF field), then send the form."""
    if csrf is None:
        page = client.get(url)
        assert page.status_code == 200, (url, page.status_code)
        csrf = csrf_of(page.text)
    return client.post(url, data={**fields, "csrf_token": csrf}, follow_redirects=False)


def answer(
    client: TestClient, prefix: str, page_id: str, answers: Mapping[str, Any]
) -> httpx.Response:
    return post_page(client, f"{prefix}/questions/{page_id}", form_fields(answers))


def run_interview(
    client: TestClient,
    answers: Mapping[str, Any],
    *,
    prefix: str = "",
    on_advice: str = "continue",
    until: str | None = None,
) -> tuple[str, list[str]]:
    """Answer page after page, following the server's redirects, until a result page (or the
    page ``until``). Returns the last location and every location visited."""
    location = f"{prefix}/questions/{FIRST_PAGE}"
    visited: list[str] = []
    for _ in range(60):
        visited.append(location)
        if is_result(location) or (until and until in location):
            return location, visited
        if "/advice" in location:
            page = client.get(location)
            assert page.status_code == 200
            if on_advice == "stop":
                response = post_page(client, f"{prefix}/stop", {}, csrf=csrf_of(page.text))
            else:
                continue_url = re.search(
                    r'href="([^"]+)"[^>]*>Answer the rest of the questions<', page.text
                )
                assert continue_url
                location = continue_url.group(1).replace("&amp;", "&")
                continue
        elif location.endswith("/check"):
            response = post_page(client, location, {})
        else:
            response = post_page(client, location, form_fields(answers))
        assert response.status_code == 303, (location, response.status_code, response.text[:2000])
        location = response.headers["location"]
    raise AssertionError(f"the interview did not end: {visited}")


def is_result(location: str) -> bool:
    """A result page (not the pages that correct one, under /result/<token>/change)."""
    return re.fullmatch(r"/result/[^/?#]+", location) is not None


def result_token(location: str) -> str:
    assert is_result(location), location
    return location.removeprefix("/result/")
